package dynamicio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/engineio"
	"github.com/dynamicio/dynamicio/internal/websocket"
	"github.com/dynamicio/dynamicio/parser"
)

func TestConnectAndEmit(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		s.Emit("auth", s.Handshake().Auth)
	})
	c := dial(t, url)
	c.connect("/")
	c.expect(`2["auth",{}]`)

	c2 := dial(t, url)
	c2.send(`0{"token":"123"}`)
	if got := c2.recv(); !strings.HasPrefix(got, `0{"sid":"`) {
		t.Fatalf("connect reply = %q", got)
	}
	c2.expect(`2["auth",{"token":"123"}]`)
}

func TestCustomNamespaceAndInvalidNamespace(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.Of("/custom").OnConnection(func(s *Socket) { s.Emit("auth", s.Handshake().Auth) })
	c := dial(t, url)
	c.connect("/custom")
	c.expect(`2/custom,["auth",{}]`)
	c.send("0/random")
	c.expect(`4/random,{"message":"Invalid namespace"}`)
	// The connection stays open, and other namespaces still work.
	c.connect("/")
}

func TestEventsAndAcks(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		s.On("message", func(ctx context.Context, e *Event) error {
			args := make([]any, e.Len())
			for i := range args {
				args[i] = e.Raw(i)
			}
			return s.Emit("message-back", args...)
		})
		s.On("message-with-ack", func(ctx context.Context, e *Event) error {
			args := make([]any, e.Len())
			for i := range args {
				args[i] = e.Raw(i)
			}
			return e.Ack(args...)
		})
		s.On("double", TypedAck(func(ctx context.Context, s *Socket, n int) (int, error) { return 2 * n, nil }))
		s.On("fail", TypedAck(func(ctx context.Context, s *Socket, n int) (int, error) {
			return 0, &AckError{Message: "no", Data: n}
		}))
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`2["message",1,"2",{"3":[true]}]`)
	c.expect(`2["message-back",1,"2",{"3":[true]}]`)
	c.send(`2456["message-with-ack",1,"2",{"3":[false]}]`)
	c.expect(`3456[1,"2",{"3":[false]}]`)
	c.send(`27["double",21]`)
	c.expect(`37[42]`)
	c.send(`28["fail",5]`)
	c.expect(`38[{"message":"no","data":5}]`)
}

func TestBinaryEventsAndAcks(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		s.On("message", func(ctx context.Context, e *Event) error {
			var a, b []byte
			if err := e.Bind(0, &a); err != nil {
				return err
			}
			if err := e.Bind(1, &b); err != nil {
				return err
			}
			if e.HasAck() {
				return e.Ack(a, b)
			}
			return s.Emit("message-back", a, b)
		})
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.sendBinary([]byte{4, 5, 6})
	c.expect(`52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	for _, want := range []string{"\x01\x02\x03", "\x04\x05\x06"} {
		if op, p := c.next(); op != websocket.OpBinary || p != want {
			t.Fatalf("attachment = %v %q, want %q", op, p, want)
		}
	}
	c.send(`52-789["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1})
	c.sendBinary([]byte{2})
	c.expect(`62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
}

func TestEmitWithAck(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	got := make(chan string, 1)
	srv.OnConnection(func(s *Socket) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			a, err := s.EmitWithAck(ctx, "question", "ping?")
			if err != nil {
				got <- err.Error()
				return
			}
			var answer string
			a.Bind(0, &answer)
			got <- answer
		}()
	})
	c := dial(t, url)
	c.connect("/")
	// Ack ids are counted per namespace, from 0.
	c.expect(`20["question","ping?"]`)
	c.send(`30["pong!"]`)
	if a := <-got; a != "pong!" {
		t.Errorf("ack = %q", a)
	}
	// An ack nobody waits for is ignored.
	c.send(`3999["late"]`)
	c.send(`2["still","fine"]`)
}

func TestAckTimeout(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	errc := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := s.EmitWithAck(ctx, "question")
			errc <- err
		}()
	})
	c := dial(t, url)
	c.connect("/")
	c.recv()
	if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
}

func TestMiddlewares(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	admin := srv.Of("/admin")
	var order []string
	var mu sync.Mutex
	admin.Use(func(ctx context.Context, s *Socket) error {
		mu.Lock()
		order = append(order, "first")
		mu.Unlock()
		s.Join("joined-in-middleware")
		return nil
	})
	admin.Use(func(ctx context.Context, s *Socket) error {
		var auth struct{ Token string }
		json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "secret" {
			return &ConnectError{Message: "nope", Data: map[string]int{"code": 42}}
		}
		return nil
	})
	admin.OnConnection(func(s *Socket) { s.Emit("welcome") })
	c := dial(t, url)
	c.send(`0/admin,{"token":"wrong"}`)
	c.expect(`4/admin,{"message":"nope","data":{"code":42}}`)
	if rooms := admin.adapter.Rooms(); slices.Contains(rooms, "joined-in-middleware") {
		t.Errorf("a refused socket stayed in the rooms it joined: %v", rooms)
	}
	c.send(`0/admin,{"token":"secret"}`)
	if got := c.recv(); !strings.HasPrefix(got, `0/admin,{"sid":"`) {
		t.Fatalf("connect reply = %q", got)
	}
	c.expect(`2/admin,["welcome"]`)
}

func TestRoomsAndBroadcast(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		s.On("join", Typed(func(ctx context.Context, s *Socket, room string) error {
			s.Join(room)
			return s.Emit("joined", room)
		}))
		s.On("shout", Typed(func(ctx context.Context, s *Socket, msg string) error {
			return s.To("a").Emit("shout", msg)
		}))
	})
	var cs []*rawClient
	for range 3 {
		c := dial(t, url)
		c.connect("/")
		cs = append(cs, c)
	}
	for _, c := range cs[:2] {
		c.send(`2["join","a"]`)
		c.expect(`2["joined","a"]`)
	}
	// From a member: the other member gets it, not the sender nor outsiders.
	cs[0].send(`2["shout","hi"]`)
	cs[1].expect(`2["shout","hi"]`)
	// From the namespace: both members.
	srv.To("a").Emit("news", 1)
	cs[0].expect(`2["news",1]`)
	cs[1].expect(`2["news",1]`)
	srv.Of("/").Except("a").Emit("others")
	cs[2].expect(`2["others"]`)
	srv.Emit("all")
	for _, c := range cs {
		c.expect(`2["all"]`)
	}
}

func TestDisconnects(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	reasons := make(chan DisconnectReason, 8)
	var sockets = make(chan *Socket, 8)
	srv.OnConnection(func(s *Socket) {
		s.OnDisconnecting(func(r DisconnectReason) {
			if !slices.Contains(s.Rooms(), s.ID()) {
				t.Error("not in its rooms while disconnecting")
			}
		})
		s.OnDisconnect(func(r DisconnectReason) { reasons <- r })
		sockets <- s
	})
	c := dial(t, url)
	c.connect("/")
	<-sockets
	c.send("1")
	if r := <-reasons; r != ReasonClientNamespaceDisconnect {
		t.Errorf("reason = %q", r)
	}
	// The Engine.IO connection stays open with no namespace.
	c.connect("/")
	s := <-sockets
	s.Disconnect(false)
	c.expect("1")
	if r := <-reasons; r != ReasonServerNamespaceDisconnect {
		t.Errorf("reason = %q", r)
	}
	c.connect("/")
	<-sockets
	c.conn.Close()
	if r := <-reasons; r != ReasonTransportClose {
		t.Errorf("reason = %q", r)
	}

	// Disconnect(true): a DISCONNECT for the namespace, then the
	// connection closes.
	c2 := dial(t, url)
	c2.connect("/")
	s = <-sockets
	s.Disconnect(true)
	c2.expect("1")
	c2.expectClosed()
	if r := <-reasons; r != ReasonServerNamespaceDisconnect {
		t.Errorf("reason = %q", r)
	}
}

func TestProtocolViolationsClose(t *testing.T) {
	t.Parallel()
	_, url := newTestServer(t, nil)
	for _, pkts := range [][]string{
		{`2["x"]`},                // event before connect
		{"0", "0"},                // duplicate connect
		{"0", "abc"},              // unknown packet type
		{"0", `2{}`},              // event payload not an array
		{"0", `2["connect"]`},     // reserved event name
		{"0", `2abc["x"]`},        // garbage ack id
		{"0", `4{"message":"x"}`}, // CONNECT_ERROR from a client
		{"0", "511-[]"},           // too many attachments
	} {
		c := dial(t, url)
		for _, p := range pkts {
			c.send(p)
		}
		c.expectClosed()
	}
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	_, url := newTestServer(t, &Config{ConnectTimeout: 100 * time.Millisecond})
	c := dial(t, url)
	c.expectClosed()
}

func TestErrorEventIsOrdinary(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	got := make(chan string, 1)
	srv.OnConnection(func(s *Socket) {
		s.On("error", Typed(func(ctx context.Context, s *Socket, m string) error { got <- m; return nil }))
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`2["error","boom"]`)
	if m := <-got; m != "boom" {
		t.Errorf("error event = %q", m)
	}
}

func TestHandlersRunInOrderOffTheReader(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	var mu sync.Mutex
	var seen []int
	done := make(chan struct{})
	srv.OnConnection(func(s *Socket) {
		s.On("n", Typed(func(ctx context.Context, s *Socket, n int) error {
			if n == 0 {
				// A handler that waits for the same client's ack: the
				// reader must keep reading for this to return.
				ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				if _, err := s.EmitWithAck(ctx, "q"); err != nil {
					t.Errorf("ack: %v", err)
				}
			}
			mu.Lock()
			seen = append(seen, n)
			if len(seen) == 50 {
				close(done)
			}
			mu.Unlock()
			return nil
		}))
	})
	c := dial(t, url)
	c.connect("/")
	for i := range 50 {
		c.send(`2["n",` + strings.TrimSpace(jsonInt(i)) + `]`)
	}
	c.expect(`20["q"]`)
	c.send(`30[]`)
	<-done
	for i, n := range seen {
		if i != n {
			t.Fatalf("handled out of order: %v", seen)
		}
	}
}

func jsonInt(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestShutdownRunsDisconnectHandlers(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	reasons := make(chan DisconnectReason, 1)
	srv.OnConnection(func(s *Socket) { s.OnDisconnect(func(r DisconnectReason) { reasons <- r }) })
	c := dial(t, url)
	c.connect("/")
	waitFor(t, "the socket", func() bool { return len(srv.Of("/").Sockets()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reasons:
		if r != ReasonServerShuttingDown {
			t.Errorf("reason = %q", r)
		}
	default:
		t.Error("Shutdown returned before the disconnect handler ran")
	}
	c.expectClosed()
}

func TestReservedEmit(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := srv.Emit(name); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("Emit(%q) = %v, want ErrReservedEvent", name, err)
		}
	}
}

// Relaying an event's arguments with Value keeps nested binaries binary.
func TestRelayNestedBinary(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		s.On("relay", func(ctx context.Context, e *Event) error {
			v, err := e.Value(0)
			if err != nil {
				return err
			}
			return s.Emit("relayed", v)
		})
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`51-["relay",{"a":[1,{"_placeholder":true,"num":0}],"n":12345678901234567890}]`)
	c.sendBinary([]byte{9, 8})
	c.expect(`51-["relayed",{"a":[1,{"_placeholder":true,"num":0}],"n":12345678901234567890}]`)
	if op, p := c.next(); op != websocket.OpBinary || p != "\x09\x08" {
		t.Fatalf("attachment = %v %q", op, p)
	}
}

func TestParentNamespaces(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Config{CleanupEmptyChildNamespaces: true})
	parent := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	parent.Use(func(ctx context.Context, s *Socket) error {
		if strings.Contains(string(s.Handshake().Auth), "deny") {
			return &ConnectError{Message: "denied"}
		}
		return nil
	})
	parent.OnConnection(func(s *Socket) { s.Emit("hello", s.Namespace().Name()) })
	// A slow matcher must not hold up the connection's other namespaces.
	srv.OfFunc(func(ctx context.Context, name string, auth json.RawMessage) bool {
		time.Sleep(200 * time.Millisecond)
		return name == "/slow"
	}).OnConnection(func(s *Socket) { s.Emit("slow") })
	srv.OnConnection(func(s *Socket) {
		s.On("ping", func(ctx context.Context, e *Event) error { return s.Emit("pong") })
	})

	c := dial(t, url)
	c.connect("/dyn-1")
	c.expect(`2/dyn-1,["hello","/dyn-1"]`)
	c.send("0/dyn-x,")
	c.expect(`4/dyn-x,{"message":"Invalid namespace"}`)
	c.send(`0/dyn-2,{"deny":true}`)
	c.expect(`4/dyn-2,{"message":"denied"}`)
	if srv.namespace("/dyn-2") != nil {
		t.Error("a child whose only connection was refused was kept")
	}

	c.connect("/")
	c.send("0/slow,")
	c.send(`2["ping"]`)
	c.expect(`2["pong"]`) // answered while /slow is still being matched
	if got := c.recv(); !strings.HasPrefix(got, `0/slow,{"sid":"`) {
		t.Fatalf("slow connect reply = %q", got)
	}
	c.expect(`2/slow,["slow"]`)

	if err := parent.Emit("to-children", 1); err != nil {
		t.Fatal(err)
	}
	c.expect(`2/dyn-1,["to-children",1]`)

	// The child retires with its last socket and comes back on demand.
	c.send("1/dyn-1,")
	waitFor(t, "the empty child to go", func() bool { return srv.namespace("/dyn-1") == nil })
	c.connect("/dyn-1")
	c.expect(`2/dyn-1,["hello","/dyn-1"]`)
	if n := len(parent.Children()); n != 1 {
		t.Errorf("%d children, want 1", n)
	}
}

// A parent's children retire through the namespace retirement path: with
// CleanupEmptyChildNamespaces at once, otherwise after a retirement set on
// them; either way OnExpire runs and the parent forgets them.
func TestChildRetirement(t *testing.T) {
	t.Parallel()
	for _, cleanup := range []bool{true, false} {
		srv, url := newTestServer(t, &Config{CleanupEmptyChildNamespaces: cleanup})
		expired := make(chan string, 1)
		registered := make(chan struct{})
		parent := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
		parent.OnConnection(func(s *Socket) {
			ns := s.Namespace()
			if !cleanup {
				ns.SetRetirement(50 * time.Millisecond)
			}
			ns.OnExpire(func(ns *Namespace) { expired <- ns.Name() })
			close(registered)
		})
		c := dial(t, url)
		c.connect("/room-1")
		// The CONNECT reply may reach the client before the connection
		// handler runs (as upstream); leave only once it has registered.
		select {
		case <-registered:
		case <-time.After(5 * time.Second):
			t.Fatalf("cleanup=%v: the connection handler did not run", cleanup)
		}
		if n := len(parent.Children()); n != 1 {
			t.Fatalf("cleanup=%v: %d children, want 1", cleanup, n)
		}
		c.send("1/room-1,")
		select {
		case name := <-expired:
			if name != "/room-1" {
				t.Errorf("cleanup=%v: expired %q", cleanup, name)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("cleanup=%v: OnExpire did not run", cleanup)
		}
		if n := len(parent.Children()); n != 0 || srv.namespace("/room-1") != nil {
			t.Errorf("cleanup=%v: retired child still known (%d children)", cleanup, n)
		}
	}
}

func TestBroadcastWithAcksAndFetch(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) { s.Join("team") })
	var cs []*rawClient
	for range 3 {
		c := dial(t, url)
		c.connect("/")
		cs = append(cs, c)
	}
	waitFor(t, "three members", func() bool { return len(srv.To("team").Sockets()) == 3 })
	infos, err := srv.Of("/").FetchSockets(context.Background())
	if err != nil || len(infos) != 3 {
		t.Fatalf("FetchSockets = %d, %v", len(infos), err)
	}
	if !slices.Contains(infos[0].Rooms, "team") {
		t.Errorf("rooms = %v", infos[0].Rooms)
	}
	type result struct {
		args []*Args
		err  error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		a, err := srv.To("team").EmitWithAck(ctx, "vote")
		done <- result{a, err}
	}()
	for i, c := range cs {
		got := c.recv()
		id, ok := strings.CutSuffix(strings.TrimPrefix(got, "2"), `["vote"]`)
		if !ok {
			t.Fatalf("got %q", got)
		}
		if i < 2 { // the third never answers
			c.send("3" + id + `["yes",` + jsonInt(i) + `]`)
		}
	}
	r := <-done
	if !errors.Is(r.err, context.DeadlineExceeded) || len(r.args) != 2 {
		t.Fatalf("EmitWithAck = %d replies, %v; want 2 and a deadline", len(r.args), r.err)
	}
	if r.args[0].Len() != 1 {
		t.Errorf("an ack keeps only its first argument; got %d", r.args[0].Len())
	}
	// Acting on a fetched socket.
	infos[0].Emit("direct")
	var reached int
	for _, c := range cs {
		c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if op, p, err := c.rd.Next(); err == nil && op == websocket.OpText && p != nil && string(p) == `42["direct"]` {
			reached++
		}
	}
	if reached != 1 {
		t.Errorf("the fetched socket's Emit reached %d clients, want 1", reached)
	}
}

func TestSocketMiddlewareAndOutgoingListeners(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	outgoing := make(chan string, 8)
	errs := make(chan error, 8)
	srv.OnConnection(func(s *Socket) {
		s.Use(func(ctx context.Context, e *Event) error {
			if e.Name == "forbidden" {
				return errors.New("not allowed")
			}
			return nil
		})
		s.OnError(func(err error) { errs <- err })
		s.OnAnyOutgoing(func(event string, args *Args) { outgoing <- event })
		s.On("forbidden", func(ctx context.Context, e *Event) error { t.Error("a refused event reached its handler"); return nil })
		s.On("ok", func(ctx context.Context, e *Event) error { return s.Emit("fine") })
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`2["forbidden"]`)
	if err := <-errs; err == nil || err.Error() != "not allowed" {
		t.Errorf("error = %v", err)
	}
	c.send(`2["ok"]`)
	c.expect(`2["fine"]`)
	srv.Emit("broadcast")
	c.expect(`2["broadcast"]`)
	for _, want := range []string{"fine", "broadcast"} {
		if got := <-outgoing; got != want {
			t.Errorf("outgoing = %q, want %q", got, want)
		}
	}
}

// A server bound to an Engine.IO server of the application's own.
func TestEngineHandlerBindsToOwnEngine(t *testing.T) {
	t.Parallel()
	srv := NewServer(nil)
	srv.OnConnection(func(s *Socket) { s.Emit("bound") })
	eng := engineio.NewServer(srv.EngineHandler(), &engineio.Config{Path: "/custom/"})
	ts := httptest.NewServer(eng)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		eng.Shutdown(ctx)
		srv.Shutdown(ctx)
	})
	c := dial(t, strings.Replace(ts.URL, "http", "ws", 1)+"/custom/?EIO=4&transport=websocket")
	c.connect("/")
	c.expect(`2["bound"]`)
}

func TestServerSideEmit(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	ctx := context.Background()
	if err := srv.ServerSideEmit(ctx, "hello", 1); err != nil {
		t.Errorf("ServerSideEmit = %v", err)
	}
	if replies, err := srv.Of("/").ServerSideEmitWithAck(ctx, "q"); err != nil || len(replies) != 0 {
		t.Errorf("ServerSideEmitWithAck on one server = %v, %v; want no reply at once", replies, err)
	}
	for _, name := range []string{"connect", "connection", "new_namespace"} {
		if err := srv.ServerSideEmit(ctx, name); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("ServerSideEmit(%q) = %v", name, err)
		}
	}
	if n, _ := srv.Of("/").ServerCount(ctx); n != 1 {
		t.Errorf("ServerCount = %d", n)
	}
	// What a cluster adapter does when another server emits with an ack.
	srv.OnServerSideEmit("q", TypedAck(func(ctx context.Context, s *Socket, n int) (int, error) { return n + 1, nil }))
	got := make(chan string, 1)
	srv.Of("/").ServerSideEvent(&parser.Packet{Type: parser.Event, Data: []byte(`["q",41]`)}, func(args []byte) { got <- string(args) })
	if a := <-got; a != "[42]" {
		t.Errorf("server-side ack = %s", a)
	}
}

// A volatile packet is dropped for a client that cannot take it at once (a
// polling client with no GET waiting); the others are queued.
func TestVolatileDroppedWhenNotWritable(t *testing.T) {
	t.Parallel()
	srv, wsURL := newTestServer(t, nil)
	base := strings.Replace(strings.TrimSuffix(wsURL, "&transport=websocket"), "ws://", "http://", 1) + "&transport=polling"
	get := func(q string) string {
		resp, err := http.Get(base + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	open := get("")
	sid, _, _ := strings.Cut(strings.TrimPrefix(open, `0{"sid":"`), `"`)
	resp, err := http.Post(base+"&sid="+sid, "text/plain", strings.NewReader("40"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := get("&sid=" + sid); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("connect reply = %q", got)
	}
	waitFor(t, "the socket", func() bool { return len(srv.Of("/").Sockets()) == 1 })
	srv.Broadcast().Volatile().Emit("volatile")
	srv.Emit("kept")
	if got := get("&sid=" + sid); got != `42["kept"]` {
		t.Errorf("poll = %q, want only the non-volatile event", got)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestHandshakeJSONRoundTrip(t *testing.T) {
	h := Handshake{
		Header:  http.Header{"User-Agent": {"x"}, "Accept": {"a", "b"}},
		Time:    time.UnixMilli(1700000000123),
		Address: "127.0.0.1", Secure: true, URL: "/socket.io/?EIO=4",
		Query: url.Values{"EIO": {"4"}, "t": {"1", "2"}},
		Auth:  json.RawMessage(`{"token":"k"}`),
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// The official server's field names and forms.
	if m["headers"].(map[string]any)["accept"] != "a, b" || m["issued"] != float64(1700000000123) ||
		m["query"].(map[string]any)["EIO"] != "4" || m["address"] != "127.0.0.1" {
		t.Fatalf("not the official form: %s", b)
	}
	var back Handshake
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(h.Time) || back.Header.Get("User-Agent") != "x" || back.Query["t"][1] != "2" ||
		string(back.Auth) != `{"token":"k"}` || !back.Secure || back.URL != h.URL {
		t.Fatalf("round trip: %+v", back)
	}
}
