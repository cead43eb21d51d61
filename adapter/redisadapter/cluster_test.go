package redisadapter_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynamicio/dynamicio"
	"github.com/dynamicio/dynamicio/adapter/redisadapter"
	"github.com/dynamicio/dynamicio/internal/redistest"
)

// node is one Go server of a test cluster.
type node struct {
	srv     *dynamicio.Server
	url     string
	cluster *redisadapter.Cluster
	rdb     *redis.Client
}

func startNode(t *testing.T, rs *redistest.Server, cfg dynamicio.Config) *node {
	t.Helper()
	return startNodeWith(t, rs, cfg, redisadapter.Config{})
}

func startNodeWith(t *testing.T, rs *redistest.Server, cfg dynamicio.Config, rcfg redisadapter.Config) *node {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr(), DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	rcfg.Client, rcfg.RequestTimeout = rdb, 3*time.Second
	cl, err := redisadapter.New(context.Background(), rcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	cfg.Adapter = cl.Factory()
	srv := dynamicio.NewServer(&cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &node{srv: srv, url: ts.URL, cluster: cl, rdb: rdb}
}

// waitServers waits until n servers serve the namespace (its request
// channel has n subscribers), so no broadcast is published before the
// other side listens.
func waitServers(t *testing.T, ns *dynamicio.Namespace, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := ns.ServerCount(context.Background())
		if err == nil && got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server count = %d (%v), want %d", got, err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestTwoGoServers(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  redisadapter.Config
	}{
		{"classic", redisadapter.Config{}},
		{"classic, answers on the requester's channel", redisadapter.Config{PublishOnSpecificResponseChannel: true}},
		{"sharded dynamic", redisadapter.Config{Sharded: true}},
		{"sharded static", redisadapter.Config{Sharded: true, ShardedSubscription: redisadapter.ShardedStatic}},
		{"sharded dynamic-private", redisadapter.Config{Sharded: true, ShardedSubscription: redisadapter.ShardedDynamicPrivate}},
	} {
		t.Run(tc.name, func(t *testing.T) { testTwoGoServers(t, tc.cfg) })
	}
}

func testTwoGoServers(t *testing.T, rcfg redisadapter.Config) {
	rs := redistest.Start(t)
	a := startNodeWith(t, rs, dynamicio.Config{}, rcfg)
	b := startNodeWith(t, rs, dynamicio.Config{}, rcfg)
	nsA, nsB := a.srv.Of("/"), b.srv.Of("/")
	b.srv.Of("/").OnServerSideEmit("hello", func(ctx context.Context, e *dynamicio.Event) error {
		var who string
		e.Bind(0, &who)
		return e.Ack("hi " + who + " from b")
	})
	ca, cb := dial(t, a.url, ""), dial(t, b.url, "")
	ida, idb := ca.connect("/"), cb.connect("/")
	waitServers(t, nsA, 2)
	nsB.Socket(idb).Join("room-b")
	nsA.Socket(ida).Join("room-a")

	t.Run("broadcast reaches both servers", func(t *testing.T) {
		must(t, nsA.Emit("all", 1))
		ca.expect(`2["all",1]`)
		cb.expect(`2["all",1]`)
		must(t, nsB.Emit("bin", []byte{1, 2, 3}))
		ca.expect(`51-["bin",{"_placeholder":true,"num":0}]`)
		if p := ca.next(); p != "\x01\x02\x03" {
			t.Fatalf("attachment = %q", p)
		}
		cb.expect(`51-["bin",{"_placeholder":true,"num":0}]`)
		cb.next()
	})
	t.Run("rooms and except", func(t *testing.T) {
		must(t, nsA.To("room-b").Emit("room", "b"))
		cb.expect(`2["room","b"]`)
		must(t, nsA.To("room-a", "room-b").Except("room-a").Emit("except", "x"))
		cb.expect(`2["except","x"]`)
		must(t, nsB.Except("room-b").Emit("to-a"))
		ca.expect(`2["to-a"]`)
		must(t, nsA.Broadcast().Local().Emit("local"))
		ca.expect(`2["local"]`)
		must(t, nsA.Broadcast().Volatile().Compress(false).Emit("v"))
		ca.expect(`2["v"]`)
		cb.expect(`2["v"]`)
		// None of room-a's, no local one: the next packet is the marker.
		must(t, nsA.Emit("marker"))
		ca.expect(`2["marker"]`)
		cb.expect(`2["marker"]`)
	})
	t.Run("sockets join and leave", func(t *testing.T) {
		must(t, nsA.To(idb).SocketsJoin(ctx(t), "joined"))
		eventually(t, "b's socket in joined", func() bool { return slices.Contains(nsB.Socket(idb).Rooms(), "joined") })
		if rcfg.Sharded && rcfg.ShardedSubscription != redisadapter.ShardedStatic {
			// The room's own channel is subscribed when the room appears
			// on b, asynchronously (as in the JS adapter).
			eventually(t, "b subscribed to the room's channel", func() bool {
				n, err := a.rdb.PubSubShardNumSub(context.Background(), "socket.io#/#joined#").Result()
				return err == nil && n["socket.io#/#joined#"] == 1
			})
		}
		must(t, nsA.To("joined").Emit("j"))
		cb.expect(`2["j"]`)
		must(t, nsA.In("joined").SocketsLeave(ctx(t), "joined"))
		eventually(t, "b's socket out of joined", func() bool { return !slices.Contains(nsB.Socket(idb).Rooms(), "joined") })
	})
	t.Run("fetch sockets, all rooms, server count", func(t *testing.T) {
		socks, err := nsA.FetchSockets(ctx(t))
		must(t, err)
		var ids []string
		for _, s := range socks {
			ids = append(ids, s.ID)
			if s.ID == idb && (s.Handshake.URL == "" || !slices.Contains(s.Rooms, "room-b") || s.Handshake.Time.IsZero()) {
				t.Errorf("b's socket: %+v", s)
			}
		}
		sort.Strings(ids)
		want := []string{ida, idb}
		sort.Strings(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("fetched %v, want %v", ids, want)
		}
		socks, err = nsB.In("room-a").FetchSockets(ctx(t))
		must(t, err)
		if len(socks) != 1 || socks[0].ID != ida {
			t.Fatalf("fetched in room-a: %+v", socks)
		}
		rooms, err := nsA.AllRooms(ctx(t))
		if rcfg.Sharded {
			// The sharded protocol has no such request: local rooms only.
			if !errors.Is(err, redisadapter.ErrUnsupported) || slices.Contains(rooms, "room-b") {
				t.Fatalf("sharded AllRooms: %v %v", rooms, err)
			}
			rooms = append(rooms, nsB.Broadcast().Local().Sockets()...)
			rooms = append(rooms, "room-b")
		} else {
			must(t, err)
		}
		for _, r := range []string{"room-a", "room-b", ida, idb} {
			if !slices.Contains(rooms, r) {
				t.Errorf("all rooms %v lack %q", rooms, r)
			}
		}
		if n, err := nsB.ServerCount(ctx(t)); n != 2 || err != nil {
			t.Errorf("server count = %d, %v", n, err)
		}
	})
	t.Run("server-side emit with ack", func(t *testing.T) {
		replies, err := nsA.ServerSideEmitWithAck(ctx(t), "hello", "a")
		must(t, err)
		var got string
		if len(replies) != 1 || replies[0].Bind(0, &got) != nil || got != "hi a from b" {
			t.Fatalf("replies %v (%q)", replies, got)
		}
		// B answers; a server without the handler never does: the
		// timeout returns what came with ErrTimeout.
		c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		replies, err = nsB.ServerSideEmitWithAck(c, "nobody-listens")
		if !errors.Is(err, redisadapter.ErrTimeout) || len(replies) != 0 {
			t.Fatalf("unanswered: %v, %v", replies, err)
		}
	})
	t.Run("broadcast with acks across servers", func(t *testing.T) {
		type res struct {
			args []*dynamicio.Args
			err  error
		}
		done := make(chan res, 1)
		go func() {
			args, err := nsA.Broadcast().Timeout(10*time.Second).EmitWithAck(context.Background(), "q", "?")
			done <- res{args, err}
		}()
		for i, c := range []*client{ca, cb} {
			p := c.recv()
			id, ok := strings.CutSuffix(strings.TrimPrefix(p, "2"), `["q","?"]`)
			if !ok || id == "" {
				t.Fatalf("client %d got %q", i, p)
			}
			c.send("3" + id + `["ans` + string(rune('0'+i)) + `"]`)
		}
		r := <-done
		must(t, r.err)
		var got []string
		for _, a := range r.args {
			var s string
			must(t, a.Bind(0, &s))
			got = append(got, s)
		}
		sort.Strings(got)
		if !slices.Equal(got, []string{"ans0", "ans1"}) {
			t.Fatalf("acks %v", got)
		}
	})
	if !rcfg.Sharded && !rcfg.PublishOnSpecificResponseChannel { // the root's bound: once is enough
		t.Run("broadcast with acks, a remote client silent", func(t *testing.T) {
			start := time.Now()
			done := make(chan error, 1)
			var got []*dynamicio.Args
			go func() {
				var err error
				got, err = nsA.Broadcast().EmitWithAck(context.Background(), "q2") // no deadline
				done <- err
			}()
			p := ca.recv()
			id, _ := strings.CutSuffix(strings.TrimPrefix(p, "2"), `["q2"]`)
			ca.send("3" + id + `["here"]`)
			if p := cb.recv(); !strings.HasSuffix(p, `["q2"]`) {
				t.Fatalf("b got %q", p)
			}
			// b's client never answers: EmitWithAck ends by itself.
			err := <-done
			if !errors.Is(err, context.DeadlineExceeded) || len(got) != 1 {
				t.Fatalf("got %d acks, %v", len(got), err)
			}
			if took := time.Since(start); took < 4*time.Second || took > 12*time.Second {
				t.Errorf("took %v, want about 5 s", took)
			}
		})
	}
	t.Run("disconnect sockets", func(t *testing.T) {
		must(t, nsA.In("room-b").DisconnectSockets(ctx(t), false))
		cb.expect(`1`)
		eventually(t, "b's socket gone", func() bool { return nsB.Socket(idb) == nil })
	})
	if s := a.cluster.Stats(); s.Dropped != 0 || s.Lost != 0 {
		t.Errorf("stats of a: %+v", s)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
