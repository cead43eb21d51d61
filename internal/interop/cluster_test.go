package interop

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynamicio/dynamicio"
	"github.com/dynamicio/dynamicio/adapter/redisadapter"
	"github.com/dynamicio/dynamicio/internal/redistest"
)

// TestMixedCluster runs a Go server (adapter/redisadapter) and a Node
// socket.io 4.8 server (@socket.io/redis-adapter 8, classic and sharded)
// on one real Redis, with
// socket.io-client 4.8 clients on both, and checks every cross-node
// operation both ways, then @socket.io/redis-emitter reaching the Go
// server (testdata/cluster.mjs drives the Node side).
func TestMixedCluster(t *testing.T) {
	t.Run("classic", func(t *testing.T) { testMixedCluster(t, false, 29) })
	// The sharded protocol has no allRooms request and no emitter.
	t.Run("sharded", func(t *testing.T) { testMixedCluster(t, true, 22) })
}

func testMixedCluster(t *testing.T, sharded bool, wantSteps int) {
	requireNode(t)
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { rdb.Close() })
	cl, err := redisadapter.New(context.Background(), redisadapter.Config{Client: rdb, RequestTimeout: 3 * time.Second, Sharded: sharded})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	srv := dynamicio.NewServer(&dynamicio.Config{Adapter: cl.Factory()})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	ns := srv.Of("/")
	var fromEmitter atomic.Int64
	ns.OnServerSideEmit("hello", dynamicio.TypedAck(func(ctx context.Context, _ *dynamicio.Socket, who string) (string, error) {
		return "hi " + who + " from go", nil
	}))
	ns.OnServerSideEmit("from-emitter", func(ctx context.Context, e *dynamicio.Event) error {
		fromEmitter.Add(1)
		return nil
	})
	ns.OnConnection(func(so *dynamicio.Socket) { serveCluster(ns, so, &fromEmitter) })

	run := runNode(t, map[string]any{"script": "cluster.mjs", "redis": rs.URL(), "go": ts.URL, "timeoutMs": 90000, "sharded": sharded})
	steps := run.all("step")
	for _, s := range steps {
		if !s.OK {
			t.Errorf("%s: %s", s.Event, s.Error)
		}
	}
	if !run.ok() || len(steps) != wantSteps { // every check of cluster.mjs ran
		t.Fatalf("driver did not pass (%d steps):\n%s", len(steps), run)
	}
	if st := cl.Stats(); st.Dropped != 0 {
		t.Errorf("messages from Node dropped: %+v", st)
	}
}

// serveCluster answers the driver's requests by acting through the
// server's adapter, so each runs the cluster path from Go.
// firstStrings is the first argument of each reply, as a string.
func firstStrings(replies []*dynamicio.Args) []string {
	out := []string{}
	for _, r := range replies {
		var s string
		r.Bind(0, &s)
		out = append(out, s)
	}
	return out
}

func serveCluster(ns *dynamicio.Namespace, so *dynamicio.Socket, fromEmitter *atomic.Int64) {
	ack := func(e *dynamicio.Event, v any, err error) error {
		if err != nil {
			return e.Ack("error: " + err.Error())
		}
		return e.Ack(v)
	}
	timeout := func(ctx context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, 6*time.Second)
	}
	so.On("join", func(ctx context.Context, e *dynamicio.Event) error {
		var room string
		e.Bind(0, &room)
		so.Join(room)
		return e.Ack(true)
	})
	so.On("bcast", func(ctx context.Context, e *dynamicio.Event) error {
		var room, ev string
		e.Bind(0, &room)
		e.Bind(1, &ev)
		arg, _ := e.Value(2)
		if arg == "$bytes" {
			arg = []byte{7, 8, 9}
		}
		b := ns.Broadcast()
		if room != "" {
			b = b.To(room)
		}
		return ack(e, true, b.Emit(ev, arg))
	})
	for _, op := range []string{"sjoin", "sleave"} {
		so.On(op, func(ctx context.Context, e *dynamicio.Event) error {
			var target, room string
			e.Bind(0, &target)
			e.Bind(1, &room)
			ctx, cancel := timeout(ctx)
			defer cancel()
			if op == "sjoin" {
				return ack(e, true, ns.In(target).SocketsJoin(ctx, room))
			}
			return ack(e, true, ns.In(target).SocketsLeave(ctx, room))
		})
	}
	so.On("fetch", func(ctx context.Context, e *dynamicio.Event) error {
		ctx, cancel := timeout(ctx)
		defer cancel()
		socks, err := ns.FetchSockets(ctx)
		ids := []string{}
		for _, s := range socks {
			ids = append(ids, s.ID)
		}
		return ack(e, ids, err)
	})
	so.On("sse", func(ctx context.Context, e *dynamicio.Event) error {
		ctx, cancel := timeout(ctx)
		defer cancel()
		replies, err := ns.ServerSideEmitWithAck(ctx, "hello", "go")
		return ack(e, firstStrings(replies), err)
	})
	so.On("allrooms", func(ctx context.Context, e *dynamicio.Event) error {
		ctx, cancel := timeout(ctx)
		defer cancel()
		rooms, err := ns.AllRooms(ctx)
		return ack(e, rooms, err)
	})
	so.On("count", func(ctx context.Context, e *dynamicio.Event) error {
		n, err := ns.ServerCount(ctx)
		return ack(e, n, err)
	})
	so.On("ackbcast", func(ctx context.Context, e *dynamicio.Event) error {
		replies, err := ns.Broadcast().Timeout(5*time.Second).EmitWithAck(ctx, "q")
		return ack(e, firstStrings(replies), err)
	})
	so.On("disc", func(ctx context.Context, e *dynamicio.Event) error {
		var target string
		e.Bind(0, &target)
		ctx, cancel := timeout(ctx)
		defer cancel()
		return ack(e, true, ns.In(target).DisconnectSockets(ctx, false))
	})
	so.On("myrooms", func(ctx context.Context, e *dynamicio.Event) error {
		return e.Ack(so.Rooms())
	})
	so.On("emittercount", func(ctx context.Context, e *dynamicio.Event) error {
		return e.Ack(fromEmitter.Load())
	})
}
