package dynamicio

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// floodNames is how many distinct names the flood tests connect to:
// 100,000 by default, DYNAMICIO_FLOOD=1000000 for the full million.
func floodNames(t *testing.T) int {
	if s := os.Getenv("DYNAMICIO_FLOOD"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("DYNAMICIO_FLOOD=%q", s)
		}
		return n
	}
	return 100_000
}

// floodResult is what the server answered to a flood of CONNECTs.
type floodResult struct {
	connected, tooMany, invalid, other atomic.Int64
}

func (r *floodResult) total() int64 {
	return r.connected.Load() + r.tooMany.Load() + r.invalid.Load() + r.other.Load()
}

// flood connects one connection to n distinct names, keeping at most
// window replies outstanding so the test measures the server, not a queue
// the client let grow. It returns when every CONNECT was answered.
func flood(t *testing.T, url string, n int, done chan<- error, res *floodResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, rd, _, _, err := websocket.Dial(ctx, url, websocket.DialConfig{})
	if err != nil {
		done <- err
		return
	}
	defer conn.Close()
	readErr := make(chan error, 1)
	go func() {
		for res.total() < int64(n) {
			op, p, err := rd.Next()
			if err != nil || op == websocket.OpClose {
				readErr <- fmt.Errorf("connection closed after %d replies: %v", res.total(), err)
				return
			}
			s := string(p)
			switch {
			case s == "2":
				conn.Write(websocket.AppendClientFrame(nil, websocket.OpText, false, []byte("3"), [4]byte{}))
			case strings.HasPrefix(s, "40/f-"):
				res.connected.Add(1)
			case strings.HasPrefix(s, "44/f-") && strings.HasSuffix(s, `,{"message":"Too many namespaces"}`):
				res.tooMany.Add(1)
			case strings.HasPrefix(s, "44/f-") && strings.HasSuffix(s, `,{"message":"Invalid namespace"}`):
				res.invalid.Add(1)
			case strings.HasPrefix(s, "0{"):
			default:
				res.other.Add(1)
			}
		}
		readErr <- nil
	}()
	const batch, window = 500, 5000
	var buf []byte
	for sent := 0; sent < n; {
		for int64(sent)-res.total() > window {
			select {
			case err := <-readErr:
				done <- err
				return
			case <-time.After(time.Millisecond):
			}
		}
		buf = buf[:0]
		for end := min(sent+batch, n); sent < end; sent++ {
			buf = websocket.AppendClientFrame(buf, websocket.OpText, false, []byte("40/f-"+strconv.Itoa(sent)+","), [4]byte{1, 2, 3, 4})
		}
		conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := conn.Write(buf); err != nil {
			done <- fmt.Errorf("write after %d: %v", sent, err)
			return
		}
	}
	select {
	case err := <-readErr:
		done <- err
	case <-time.After(5 * time.Minute):
		done <- fmt.Errorf("%d of %d CONNECTs answered", res.total(), n)
	}
}

// TestNamespaceFlood: one connection asks for a great many distinct
// namespace names. The server creates what the caps allow, refuses the
// rest with a CONNECT_ERROR, keeps its memory and goroutines bounded, and
// keeps answering another client throughout.
func TestNamespaceFlood(t *testing.T) {
	n := floodNames(t)
	for _, tc := range []struct {
		name  string
		setup func(srv *Server)
		// what the flood must get: created namespaces and the refusal
		created int64
		refusal string
	}{
		{"setup for every name", func(srv *Server) {
			srv.SetupNamespace("*", func(ns *Namespace, _ []string) bool { return true })
		}, DefaultMaxNamespacesPerConnection, "Too many namespaces"},
		{"slow parent matcher refusing", func(srv *Server) {
			srv.OfFunc(func(ctx context.Context, name string, _ json.RawMessage) bool {
				time.Sleep(2 * time.Millisecond)
				return false
			})
		}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := newTestServer(t, nil)
			srv.OnConnection(func(s *Socket) {
				s.On("ping", func(ctx context.Context, e *Event) error { return e.Ack("pong") })
			})
			tc.setup(srv)
			probe := dial(t, url)
			probe.connect("/")

			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			baseGoroutines := runtime.NumGoroutine()

			var res floodResult
			done := make(chan error, 1)
			start := time.Now()
			go flood(t, url, n, done, &res)

			// The other client is answered throughout.
			var worst time.Duration
			maxGoroutines := 0
			for i := 0; ; i++ {
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
					goto finished
				default:
				}
				t0 := time.Now()
				probe.send(`2` + strconv.Itoa(i) + `["ping"]`)
				probe.expect(`3` + strconv.Itoa(i) + `["pong"]`)
				worst = max(worst, time.Since(t0))
				maxGoroutines = max(maxGoroutines, runtime.NumGoroutine())
				time.Sleep(10 * time.Millisecond)
			}
		finished:
			elapsed := time.Since(start)
			t.Logf("%d CONNECTs answered in %v (%.0f/s): %d created, %d too many, %d invalid; worst probe round trip %v; at most %d goroutines (%d before)",
				n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), res.connected.Load(), res.tooMany.Load(), res.invalid.Load(),
				worst.Round(time.Microsecond), maxGoroutines, baseGoroutines)

			if res.other.Load() != 0 {
				t.Errorf("%d unexpected replies", res.other.Load())
			}
			if got := res.connected.Load(); got != tc.created {
				t.Errorf("%d namespaces joined, want %d", got, tc.created)
			}
			wantRefused := int64(n) - tc.created
			if tc.refusal == "Too many namespaces" && res.tooMany.Load() != wantRefused ||
				tc.refusal == "" && res.invalid.Load()+res.tooMany.Load() != wantRefused {
				t.Errorf("refusals: %d too many, %d invalid; want %d", res.tooMany.Load(), res.invalid.Load(), wantRefused)
			}
			if live := len(srv.Status("").Namespaces); live > 1+int(tc.created) {
				t.Errorf("%d live namespaces after the flood, want at most %d", live, 1+tc.created)
			}
			// A second of probe latency on two loaded cores is still an
			// answer; an unresponsive server takes the test's timeout.
			if worst > 2*time.Second {
				t.Errorf("the other client waited %v for an answer during the flood", worst)
			}
			// Bounded whatever n: a goroutine per created socket (32), per
			// name being resolved (32 at once), the connections' own, and
			// the event-loop workers the server keeps idle (maxIdleWorkers).
			if maxGoroutines > baseGoroutines+3*DefaultMaxNamespacesPerConnection+maxIdleWorkers {
				t.Errorf("%d goroutines during the flood (%d before)", maxGoroutines, baseGoroutines)
			}
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("heap grew by %d KB over the flood", growth>>10)
			// The created namespaces (about 1.4 KB each) and the connection
			// itself; anything kept per refused name would show as n times
			// its size (100,000 × 80 bytes = 8 MB).
			if growth > 8<<20 {
				t.Errorf("heap grew by %d KB after %d refused names", growth>>10, wantRefused)
			}
		})
	}
}
