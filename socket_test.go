package dynamicio

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
)

// TestSocketContext: the context handlers get is Socket.Context, alive in
// the disconnect handlers and canceled after them; a socket nobody asked
// for a context has one already canceled once it is gone.
func TestSocketContext(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	type result struct {
		same       bool
		aliveInOff bool
		ctx        context.Context
	}
	results := make(chan result, 1)
	srv.Of("/used").OnConnection(func(s *Socket) {
		var handlerCtx context.Context
		s.On("ping", func(ctx context.Context, e *Event) error {
			handlerCtx = ctx
			return e.Ack("pong")
		})
		s.OnDisconnect(func(DisconnectReason) {
			results <- result{same: handlerCtx == s.Context(), aliveInOff: s.Context().Err() == nil, ctx: s.Context()}
		})
	})
	idle := make(chan *Socket, 1)
	srv.Of("/idle").OnConnection(func(s *Socket) { idle <- s })

	c := dial(t, url)
	c.connect("/used")
	c.send(`2/used,1["ping"]`)
	c.expect(`3/used,1["pong"]`)
	c.send("1/used,")
	r := <-results
	if !r.same || !r.aliveInOff {
		t.Errorf("handler got Socket.Context: %v; alive in OnDisconnect: %v", r.same, r.aliveInOff)
	}
	select {
	case <-r.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the context did not end after the disconnect")
	}
	if !errors.Is(r.ctx.Err(), context.Canceled) {
		t.Errorf("Err() = %v", r.ctx.Err())
	}

	c.connect("/idle")
	s := <-idle
	s.mu.Lock()
	ctx, hooks := s.ctx, s.hooks
	s.mu.Unlock()
	if ctx != nil || hooks != nil {
		t.Errorf("an idle socket keeps a context (%v) or listeners (%v)", ctx, hooks)
	}
	s.Disconnect(false)
	waitFor(t, "the idle socket's context to end", func() bool { return s.Context().Err() != nil })
	<-s.Context().Done()
}

// TestSocketListenersAllKinds: every kind of listener, kept together
// since the first registration, is called.
func TestSocketListenersAllKinds(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	calls := make(chan string, 16)
	srv.OnConnection(func(s *Socket) {
		s.Use(func(ctx context.Context, e *Event) error {
			calls <- "use"
			if e.Name == "bad" {
				return errors.New("refused")
			}
			return nil
		})
		s.OnAny(func(e *Event) { calls <- "any " + e.Name })
		s.OnAnyOutgoing(func(event string, _ *Args) { calls <- "out " + event })
		s.OnError(func(err error) { calls <- "error " + err.Error() })
		s.OnDisconnecting(func(DisconnectReason) { calls <- "disconnecting" })
		s.OnDisconnect(func(DisconnectReason) { calls <- "disconnect" })
		s.On("hi", func(ctx context.Context, e *Event) error { return s.Emit("hello") })
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`2["hi"]`)
	c.expect(`2["hello"]`)
	c.send(`2["bad"]`)
	c.send("1")
	want := []string{"any hi", "use", "out hello", "any bad", "use", "error refused", "disconnecting", "disconnect"}
	for _, w := range want {
		select {
		case got := <-calls:
			if got != w {
				t.Fatalf("call %q, want %q (in %q)", got, w, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no call %q", w)
		}
	}
}

// blockingAdapter holds AddAll, which a connecting socket calls after it
// counts as connected and before its connection handlers are queued.
type blockingAdapter struct {
	*adapter.Memory
	inWindow chan string // the id of the socket in AddAll
	proceed  chan struct{}
}

func (a *blockingAdapter) AddAll(s adapter.Socket, rooms ...string) {
	a.inWindow <- s.ID()
	<-a.proceed
	a.Memory.AddAll(s, rooms...)
}

// TestDisconnectRacingConnect: a socket disconnected while its connect is
// being completed still runs its connection handlers first, and so the
// OnDisconnect they register.
func TestDisconnectRacingConnect(t *testing.T) {
	t.Parallel()
	ba := &blockingAdapter{inWindow: make(chan string, 1), proceed: make(chan struct{})}
	srv, url := newTestServer(t, &Config{Adapter: func(ns adapter.Namespace) adapter.Adapter {
		ba.Memory = adapter.New(ns).(*adapter.Memory)
		return ba
	}})
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	done := make(chan struct{})
	srv.OnConnection(func(s *Socket) {
		note("connection")
		s.OnDisconnect(func(DisconnectReason) { note("disconnect"); close(done) })
	})
	c := dial(t, url)
	c.send("0")
	id := <-ba.inWindow
	s := srv.Of("/").Socket(id)
	if s == nil {
		t.Fatal("the socket is not in its namespace yet")
	}
	s.Disconnect(false)
	close(ba.proceed)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("OnDisconnect did not run; handlers ran: %q", order)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[0] != "connection" {
		t.Errorf("order = %q, want connection, disconnect", order)
	}
}

// queuedEvents, which tells broadcasts whether the server is behind its
// clients, counts each queued event once and returns to 0: a count left
// over would keep every later broadcast off the fast path.
func TestQueuedEventsBalance(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	handled := make(chan struct{}, 100)
	busy := make(chan struct{})
	var first atomic.Bool
	srv.OnConnection(func(s *Socket) {
		s.On("ev", func(ctx context.Context, e *Event) error {
			if first.CompareAndSwap(false, true) {
				<-busy // the next events wait in the queue meanwhile
			}
			handled <- struct{}{}
			return nil
		})
	})
	c := dial(t, url)
	c.connect("/")
	for range 5 {
		c.send(`2["ev"]`)
	}
	waitFor(t, "4 queued events counted", func() bool { return srv.queuedEvents.Load() == 4 })
	close(busy)
	for range 5 {
		select {
		case <-handled:
		case <-time.After(5 * time.Second):
			t.Fatal("events not handled")
		}
	}
	waitFor(t, "queuedEvents back to 0", func() bool { return srv.queuedEvents.Load() == 0 })
	c.conn.Close() // the disconnect handlers are queued too
	waitFor(t, "no socket left", func() bool { return len(srv.Of("/").Sockets()) == 0 })
	waitFor(t, "queuedEvents back to 0 after the disconnect", func() bool { return srv.queuedEvents.Load() == 0 })
}
