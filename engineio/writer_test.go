package engineio

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// A client that stops reading fills its connection: the writer hands the
// rest of the batch to a goroutine of the session's own, later messages
// wait behind it, and once the client reads again everything arrives in
// order and the session goes back to the shared writer.
func TestStalledWriteKeepsOrder(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.PingInterval = time.Minute
	cfg.MaxQueueBytes = 64 << 20
	cfg.WriteTimeout = time.Second
	s := newTestServer(t, cfg)
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read() // open
	s.h.next("open")
	sess := s.sessions()[0]

	// More than loopback's kernel buffers hold, so some write stalls.
	const n = 2000
	pad := strings.Repeat("x", 8<<10)
	for i := range n {
		if err := sess.Write(Text, []byte(strconv.Itoa(i)+":"+pad)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.eng.stalledWrites.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no write found the connection full; the test proves nothing")
		}
		time.Sleep(time.Millisecond)
	}
	for i := range n {
		c.expect("4" + strconv.Itoa(i) + ":" + pad)
	}

	// Past the stalled write's deadline, writes still go out: the writer's
	// non-blocking writes must not inherit it.
	time.Sleep(cfg.WriteTimeout + 200*time.Millisecond)
	sess.mu.Lock()
	flushing := sess.flushing
	sess.mu.Unlock()
	if flushing {
		t.Error("session still owned by a flusher after its queue drained")
	}
	sess.Write(Text, []byte("after"))
	c.expect("4after")
}

// The deadline of the probe's write is cleared when the WebSocket becomes
// the session's transport; the writer's writes would fail past it.
func TestUpgradedSessionWritesAfterWriteTimeout(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.WriteTimeout = 100 * time.Millisecond
	s := newTestServer(t, cfg)
	sid := s.handshake().SID
	c := s.dial("EIO=4&transport=websocket&sid="+sid, nil)
	c.sendText("2probe")
	c.expect("3probe")
	c.sendText("5")
	time.Sleep(3 * cfg.WriteTimeout)
	for i := range 3 {
		s.eng.Session(sid).Write(Text, []byte{'a' + byte(i)})
		c.expect("4" + string(rune('a'+i)))
	}
}

// Many sessions written at once by many goroutines share the writers;
// every client gets every message, in each writer's order.
func TestWritersServeManySessions(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	const clients, msgs = 50, 40
	cs := make([]*wsClient, clients)
	for i := range cs {
		cs[i] = s.dial("EIO=4&transport=websocket", nil)
		cs[i].read()
	}
	sessions := s.sessions()
	done := make(chan struct{})
	for g := range runtime.GOMAXPROCS(0) + 1 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range msgs {
				for _, sess := range sessions {
					sess.Write(Text, []byte(fmt.Sprintf("%d-%d", g, i)))
				}
			}
		}()
	}
	for range runtime.GOMAXPROCS(0) + 1 {
		<-done
	}
	for _, c := range cs {
		next := map[string]int{}
		for range (runtime.GOMAXPROCS(0) + 1) * msgs {
			_, p := c.read()
			g, i, _ := strings.Cut(strings.TrimPrefix(p, "4"), "-")
			if i != strconv.Itoa(next[g]) {
				t.Fatalf("from writer goroutine %s got message %s, want %d", g, i, next[g])
			}
			next[g]++
		}
	}
}

// A TLS connection has no raw socket to write without waiting: its session
// is flushed by a goroutine of its own (flushWS), in order, and closes
// after its close frame as the writers' sessions do.
func TestWebSocketOverTLSFlushes(t *testing.T) {
	t.Parallel()
	h := newRecorder(t)
	eng := NewServer(h, nil)
	ts := httptest.NewTLSServer(eng)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { eng.Close() })
	tc := ts.Client().Transport.(*http.Transport).TLSClientConfig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, rd, _, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(ts.URL, "https")+eng.Path()+"?EIO=4&transport=websocket", websocket.DialConfig{TLSConfig: tc})
	if err != nil {
		t.Fatalf("dial wss: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn, rd: rd}
	c.read() // open
	h.next("open")
	var sess *Session
	eng.mu.RLock()
	for _, s := range eng.sessions {
		sess = s
	}
	eng.mu.RUnlock()
	if sess.ws.out.usable() {
		t.Fatal("a TLS connection got a raw socket; the test proves nothing")
	}
	for i := range 100 {
		sess.Write(Text, []byte(strconv.Itoa(i)))
	}
	for i := range 100 {
		c.expect("4" + strconv.Itoa(i))
	}
	sess.Close()
	c.expectClosed()
	if e := h.next("close"); e.reason != ReasonForcedClose {
		t.Errorf("close reason = %q, want forced close", e.reason)
	}
}

// With one CPU and no io_uring, a broadcast's message goes to an idle
// session from the caller, without the writer; once the writer has work,
// it queues behind it. Mixed with queued writes, and past a full
// connection, everything arrives in order.
func TestWriteSharedSendsFromTheCallerAndKeepsOrder(t *testing.T) {
	t.Parallel()
	s := oneCPUServer(t, false)
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read() // open
	s.h.next("open")
	sess := s.sessions()[0]
	if !sess.ws.out.usable() {
		t.Skip("no descriptor to send to on this platform")
	}
	sess.mu.Lock()
	if sess.wr == nil { // the open packet left with the handshake
		sess.wr = s.eng.pickWriter()
	}
	w := sess.wr
	sess.mu.Unlock()

	// The writer's lock held: a write that went through the writer would
	// wait for it.
	w.mu.Lock()
	done := make(chan error, 1)
	go func() { done <- sess.WriteShared(NewMessage(Text, []byte("first"), false)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		w.mu.Unlock()
		t.Fatal("WriteShared to an idle session waited for the writer")
	}
	w.mu.Unlock()
	c.expect("4first")

	// A busy writer: the message joins the queue, for its next pass.
	w.mu.Lock()
	w.running.Store(true) // as if its goroutine were between passes
	w.mu.Unlock()
	sess.WriteShared(NewMessage(Text, []byte("queued"), false))
	w.mu.Lock()
	inList := len(w.list) == 1 && w.list[0] == sess
	w.srv.wg.Add(1)
	go w.run() // the goroutine running stood for
	w.mu.Unlock()
	if !inList {
		t.Fatal("WriteShared with the writer busy did not queue behind it")
	}
	c.expect("4queued")

	writeMixedPastAFullConnection(t, s, sess, c)
}

// oneCPUServer returns a test server that writes as with GOMAXPROCS 1 (one
// writer, WriteShared skipping idle sessions' queues), through io_uring or
// not, with room for 64 MB queued per session.
func oneCPUServer(t *testing.T, rings bool) *testServer {
	cfg := conformanceConfig()
	cfg.PingInterval = time.Minute
	cfg.MaxQueueBytes = 64 << 20
	cfg.WriteTimeout = 5 * time.Second
	s := newTestServer(t, cfg)
	s.eng.sendInline = true
	s.eng.rings = rings
	s.eng.writers = s.eng.writers[:1]
	return s
}

// writeMixedPastAFullConnection writes sess 2,000 messages of 8 KB, queued
// and shared in turn, more than the connection takes at once, and checks
// that c gets them all in order.
func writeMixedPastAFullConnection(t *testing.T, s *testServer, sess *Session, c *wsClient) {
	t.Helper()
	const n = 2000
	pad := strings.Repeat("x", 8<<10)
	for i := range n {
		m := NewMessage(Text, []byte(strconv.Itoa(i)+":"+pad), false)
		var err error
		if i%3 == 0 {
			err = sess.WriteMessage(m)
		} else {
			err = sess.WriteShared(m)
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.eng.stalledWrites.Load() == 0 { // the writer may find it later
		if time.Now().After(deadline) {
			t.Fatal("no write found the connection full; the test proves nothing")
		}
		time.Sleep(time.Millisecond)
	}
	for i := range n {
		c.expect("4" + strconv.Itoa(i) + ":" + pad)
	}
}

// With one CPU and io_uring, a broadcast's message to an idle session
// skips its queue and joins the writer's next pass as a ready frame; the
// pass sends to every such session through the ring. Mixed with queued
// writes, and past a full connection, everything arrives in order.
func TestWriteSharedJoinsTheWritersPassAndKeepsOrder(t *testing.T) {
	t.Parallel()
	if !ringsAvailable() {
		t.Skip("io_uring is not available to this process")
	}
	s := oneCPUServer(t, true)
	const clients = 5
	var cs []*wsClient
	var sessions []*Session // sessions[i] is cs[i]'s
	for range clients {
		c := s.dial("EIO=4&transport=websocket", nil)
		c.read() // open
		s.h.next("open")
		cs = append(cs, c)
		for _, x := range s.sessions() {
			if !slices.Contains(sessions, x) {
				sessions = append(sessions, x)
			}
		}
	}
	if !sessions[0].ws.out.usable() {
		t.Skip("no descriptor to send to on this platform")
	}
	sess := sessions[0]
	sess.mu.Lock()
	w := sess.writerLocked()
	sess.mu.Unlock()

	// The writer's lock held, the message waits to join its list, and
	// the session's queue stays empty.
	w.mu.Lock()
	done := make(chan error, 1)
	go func() { done <- sess.WriteShared(NewMessage(Text, []byte("first"), false)) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		sess.mu.Lock()
		flushing, queued := sess.flushing, len(sess.queue)
		sess.mu.Unlock()
		if flushing {
			if queued != 0 {
				w.mu.Unlock()
				t.Fatal("WriteShared to an idle session used its queue")
			}
			break
		}
		if time.Now().After(deadline) {
			w.mu.Unlock()
			t.Fatal("WriteShared never took the session")
		}
		time.Sleep(time.Millisecond)
	}
	w.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cs[0].expect("4first")

	// A broadcast to all: every client gets it, through the ring.
	for i := range 20 {
		m := NewMessage(Text, []byte("all"+strconv.Itoa(i)), false)
		for _, x := range sessions {
			if err := x.WriteShared(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range cs {
		for i := range 20 {
			c.expect("4all" + strconv.Itoa(i))
		}
	}
	if s.eng.ringSubmits.Load() == 0 {
		t.Fatal("no pass sent through the ring")
	}

	writeMixedPastAFullConnection(t, s, sess, cs[0])
}
