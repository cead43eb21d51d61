package redisadapter

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/adapter/adaptertest"
	"github.com/dynamicio/dynamicio/internal/redistest"
	"github.com/dynamicio/dynamicio/parser"
)

// counter is a socket that counts what it is sent and signals each
// arrival.
type counter struct {
	id   string
	n    atomic.Int64
	sig  chan struct{}
	last atomic.Int64 // arrival time, ns
}

func (c *counter) ID() string { return c.id }
func (c *counter) Send(*adapter.Outgoing) {
	c.n.Add(1)
	c.last.Store(time.Now().UnixNano())
	select {
	case c.sig <- struct{}{}:
	default:
	}
}

// BenchmarkCrossNode measures a broadcast from one server's adapter to a
// socket on another server's, through a real local redis-server: the
// adapter path without WebSockets (encode, publish, Redis, decode, local
// delivery).
//
//	go test -run '^$' -bench CrossNode -benchtime 20000x ./adapter/redisadapter
//
// throughput keeps up to 1000 broadcasts in flight and reports msgs/s;
// latency sends one at a time and reports p50 and p99 in µs.
func BenchmarkCrossNode(b *testing.B) {
	rs := redistest.Start(b)
	ca, cb := newCluster(b, rs, Config{}), newCluster(b, rs, Config{})
	ns := adaptertest.Namespace("/bench")
	aa, ab := ca.Factory()(ns), cb.Factory()(ns)
	b.Cleanup(func() { aa.Close(); ab.Close() })
	sock := &counter{id: "receiver-socket-id-01", sig: make(chan struct{}, 1)}
	ab.AddAll(sock, sock.id)
	eventually(b, "both servers subscribed", func() bool {
		n, err := aa.ServerCount(context.Background())
		return err == nil && n == 2
	})
	out := func() *adapter.Outgoing {
		return &adapter.Outgoing{Packet: &parser.Packet{Type: parser.Event, Namespace: "/bench",
			Data: []byte(`["tick",{"seq":12345,"text":"a short chat message of some 40 bytes"}]`)}, Compress: true}
	}
	wait := func(want int64) {
		deadline := time.Now().Add(30 * time.Second)
		for sock.n.Load() < want {
			select {
			case <-sock.sig:
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				b.Fatalf("received %d of %d; stats %+v", sock.n.Load(), want, ca.Stats())
			}
		}
	}

	b.Run("throughput", func(b *testing.B) {
		base := sock.n.Load()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			for int64(i)-(sock.n.Load()-base) > 1000 {
				<-sock.sig
			}
			if err := aa.Broadcast(context.Background(), out(), adapter.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		wait(base + int64(b.N))
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	})
	b.Run("latency", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			want := sock.n.Load() + 1
			t0 := time.Now()
			if err := aa.Broadcast(context.Background(), out(), adapter.Options{}); err != nil {
				b.Fatal(err)
			}
			wait(want)
			lat = append(lat, time.Duration(sock.last.Load()-t0.UnixNano()))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
	if s := ca.Stats(); s.Lost != 0 {
		b.Errorf("lost %d", s.Lost)
	}
}
