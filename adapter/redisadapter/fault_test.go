package redisadapter_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynamicio/dynamicio"
	"github.com/dynamicio/dynamicio/adapter/redisadapter"
	"github.com/dynamicio/dynamicio/internal/redistest"
)

// Redis killed and restarted in the middle of a stream of broadcasts:
// local delivery goes on, complete and in order; what could not cross is
// counted; requests fail within their timeout while Redis is away; the
// other server resubscribes by itself and cross-node delivery resumes.
func TestRedisRestartDuringBroadcast(t *testing.T) {
	t.Run("classic", func(t *testing.T) { testRestart(t, redisadapter.Config{}) })
	t.Run("sharded", func(t *testing.T) { testRestart(t, redisadapter.Config{Sharded: true}) })
}

func testRestart(t *testing.T, rcfg redisadapter.Config) {
	rs := redistest.Start(t)
	a := startNodeWith(t, rs, dynamicio.Config{}, rcfg)
	b := startNodeWith(t, rs, dynamicio.Config{}, rcfg)
	nsA := a.srv.Of("/")
	ca, cb := dial(t, a.url, ""), dial(t, b.url, "")
	ca.connect("/")
	cb.connect("/")
	waitServers(t, nsA, 2)

	const n, killAt, restartAt = 300, 100, 200
	requestErr := make(chan error, 1)
	var requestTook atomic.Int64
	go func() {
		for i := range n {
			switch i {
			case killAt:
				rs.Kill()
				start := time.Now()
				_, err := nsA.FetchSockets(context.Background())
				requestTook.Store(int64(time.Since(start)))
				requestErr <- err
			case restartAt:
				rs.Restart()
			}
			if err := nsA.Emit("tick", i); err != nil {
				t.Errorf("emit %d: %v", i, err)
			}
			// The outage lasts about 2.5 s: longer than go-redis's dial
			// retries, so publishing fails and is counted.
			if i >= killAt && i < restartAt {
				time.Sleep(25 * time.Millisecond)
			} else {
				time.Sleep(3 * time.Millisecond)
			}
		}
	}()
	for i := range n {
		ca.expect(fmt.Sprintf(`2["tick",%d]`, i))
	}
	if err := <-requestErr; err == nil {
		t.Error("FetchSockets succeeded with Redis down")
	}
	// startNode's RequestTimeout is 3 s; allow as much again on a loaded machine.
	if took := time.Duration(requestTook.Load()); took > 6*time.Second {
		t.Errorf("FetchSockets with Redis down took %v", took)
	}

	// Cross-node delivery resumes once B has resubscribed: A emits a
	// marker every 100 ms (at most 20 s) until B's client has it.
	got := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for range 200 {
			select {
			case <-got:
				return
			case <-time.After(100 * time.Millisecond):
				_ = nsA.Emit("after")
			}
		}
	}()
	last := -1
	for {
		p := cb.recv()
		if p == `2["after"]` {
			break
		}
		var i int
		if _, err := fmt.Sscanf(p, `2["tick",%d]`, &i); err != nil || i <= last {
			t.Fatalf("b received %q after tick %d", p, last)
		}
		last = i
	}
	close(got)
	<-stopped
	sa, sb := a.cluster.Stats(), b.cluster.Stats()
	if sa.Lost == 0 {
		t.Errorf("no message counted lost during the outage: %+v", sa)
	}
	if sb.Reconnects == 0 {
		t.Errorf("b did not count its reconnection: %+v", sb)
	}
	t.Logf("a: %+v; b: %+v; b saw ticks up to %d", sa, sb, last)
}

// Redis unreachable at start-up is a clear error, not a server that
// silently runs alone.
func TestUnreachableAtStart(t *testing.T) {
	rs := redistest.Start(t)
	addr := rs.Addr()
	rs.Kill()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, MaxRetries: -1})
	defer rdb.Close()
	start := time.Now()
	_, err := redisadapter.New(context.Background(), redisadapter.Config{Client: rdb, RequestTimeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "redis unreachable") {
		t.Fatalf("New with Redis down: %v", err)
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("New took %v", took)
	}
}

// Garbage and oversized messages on every channel of a namespace are
// dropped and counted; the adapter goes on serving.
func TestBadMessagesDropped(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprint("sharded=", sharded), func(t *testing.T) {
			rs := redistest.Start(t)
			n := startNodeWith(t, rs, dynamicio.Config{}, redisadapter.Config{Sharded: sharded, MaxMessageSize: 1 << 10})
			ns := n.srv.Of("/")
			c := dial(t, n.url, "")
			c.connect("/")
			waitServers(t, ns, 1)
			bad := [][]byte{
				{}, {0xc1}, {0x93, 0xc0}, []byte("{"), []byte(`{"type":6,"data":"x"}`),
				[]byte(`{"uid":"x","nsp":"/","type":3,"data":{"packet":{"type":2,"data":"nope"}}}`),
				[]byte(strings.Repeat("x", 2<<10)),                                                            // over MaxMessageSize
				{0x93, 0xa1, 'x', 0x82, 0xa4, 't', 'y', 'p', 'e', 0x00, 0xa4, 'd', 'a', 't', 'a', 0x90, 0x80}, // not an event
			}
			channels := []string{"socket.io#/#", "socket.io#/#room#", "socket.io-request#/#", "socket.io-response#/#"}
			publish := n.rdb.Publish
			if sharded {
				channels = []string{"socket.io#/#", "socket.io#/#" + n.cluster.UID() + "#"}
				publish = n.rdb.SPublish
			}
			// Every message is dropped but three of the classic ones,
			// which are well-formed: two answers to a request nobody made
			// and a legacy leave of an unknown socket.
			sent, want := 0, uint64(len(bad)*len(channels))
			if !sharded {
				want -= 3
			}
			for _, ch := range channels {
				for _, b := range bad {
					if err := publish(context.Background(), ch, b).Err(); err != nil {
						t.Fatal(err)
					}
					sent++
				}
			}
			eventually(t, "drops counted", func() bool { return n.cluster.Stats().Dropped >= want })
			time.Sleep(300 * time.Millisecond) // and no more
			if got := n.cluster.Stats().Dropped; got != want {
				t.Errorf("sent %d, dropped %d, want %d", sent, got, want)
			}
			// None crashed anything: the server still delivers.
			must(t, ns.Emit("still", "alive"))
			c.expect(`2["still","alive"]`)
		})
	}
}
