package adaptertest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/parser"
)

// Run runs the conformance suite against the adapters newAdapter returns.
// newAdapter is called at least once per subtest, each time with a
// namespace of a name no other call used, except where a subtest serves
// one namespace again after closing its adapter; it should register the
// adapter's Close with t.Cleanup (the suite closes some adapters itself,
// so Close must tolerate a second call).
func Run(t *testing.T, newAdapter func(t *testing.T, ns adapter.Namespace) adapter.Adapter) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"Register", testRegister},
		{"JoinLeave", testJoinLeave},
		{"DelAll", testDelAll},
		{"Sockets", testSockets},
		{"FetchSockets", testFetchSockets},
		{"ServerSideAndCount", testServerSide},
		{"QueriesReturnCopies", testCopies},
		{"ManyRooms", testManyRooms},
		{"BroadcastAll", testBroadcastAll},
		{"BroadcastRoom", testBroadcastRoom},
		{"BroadcastRooms", testBroadcastRooms},
		{"BroadcastExcept", testBroadcastExcept},
		{"BroadcastNobody", testBroadcastNobody},
		{"BroadcastLocal", testBroadcastLocal},
		{"BroadcastSeesChanges", testBroadcastSeesChanges},
		{"EncodeOnce", testEncodeOnce},
		{"AddSockets", testAddSockets},
		{"DelSockets", testDelSockets},
		{"DoneContext", testDoneContext},
		{"Close", testClose},
		{"ServeAgainAfterClose", testServeAgain},
		{"NamespacesApart", testNamespacesApart},
		{"SendMayCallAdapter", testReentrant},
		{"Model", testModel},
		{"Concurrent", testConcurrent},
		{"ExactAfterRaces", testExactAfterRaces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newEnv(t, newAdapter))
		})
	}
}

// env is the state of one subtest: its adapter, its namespace and the
// sockets it made.
type env struct {
	t          *testing.T
	newAdapter func(*testing.T, adapter.Namespace) adapter.Adapter
	ns         Namespace
	a          adapter.Adapter
	builds     atomic.Int64 // calls of encode
	packets    atomic.Uint64
	mu         sync.Mutex
	socks      []*Recorder
	next       int
}

func newEnv(t *testing.T, newAdapter func(*testing.T, adapter.Namespace) adapter.Adapter) *env {
	e := &env{t: t, newAdapter: newAdapter, ns: uniqueNamespace(t)}
	e.a = e.adapterFor(e.ns)
	return e
}

func uniqueNamespace(t *testing.T) Namespace {
	return Namespace("/" + t.Name() + "-" + rand.Text()[:10])
}

func (e *env) adapterFor(ns Namespace) adapter.Adapter {
	e.t.Helper()
	a := e.newAdapter(e.t, ns)
	if a == nil {
		e.t.Fatal("newAdapter returned nil")
	}
	return a
}

func (e *env) encode(o *adapter.Outgoing) any {
	e.builds.Add(1)
	return string(o.Packet.Data)
}

// recorder returns a new socket that is not registered anywhere. Its id
// is 20 characters long, like the ids of the official server.
func (e *env) recorder() *Recorder {
	e.mu.Lock()
	e.next++
	id := fmt.Sprintf("sock%016d", e.next)
	r := NewRecorder(id)
	r.Encode = e.encode
	e.socks = append(e.socks, r)
	e.mu.Unlock()
	return r
}

// connect returns a new socket registered with a, in its own room (as the
// server does) and in rooms.
func (e *env) connect(a adapter.Adapter, rooms ...string) *Recorder {
	r := e.recorder()
	a.AddAll(r, append([]string{r.ID()}, rooms...)...)
	return r
}

// outgoing returns a new packet; its data tells packets apart in failures.
func (e *env) outgoing() *adapter.Outgoing {
	n := e.packets.Add(1)
	return &adapter.Outgoing{Packet: &parser.Packet{
		Type:      parser.Event,
		Namespace: "/",
		Data:      []byte(`["test",` + strconv.FormatUint(n, 10) + `]`),
	}}
}

// broadcast broadcasts a new packet with opts on a and returns it.
func (e *env) broadcast(a adapter.Adapter, opts adapter.Options) *adapter.Outgoing {
	e.t.Helper()
	out := e.outgoing()
	if err := a.Broadcast(context.Background(), out, opts); err != nil {
		e.t.Fatalf("Broadcast(%+v): %v", opts, err)
	}
	return out
}

// expect checks that each of want got out exactly once and every other
// socket of the subtest never.
func (e *env) expect(what string, out *adapter.Outgoing, want ...*Recorder) {
	e.t.Helper()
	e.mu.Lock()
	socks := slices.Clone(e.socks)
	e.mu.Unlock()
	for _, r := range socks {
		n := r.Count(out)
		w := 0
		if slices.Contains(want, r) {
			w = 1
		}
		if n != w {
			e.t.Errorf("%s: socket %s got the packet %d times, want %d", what, r.ID(), n, w)
		}
	}
}

// send broadcasts with opts and checks that exactly want got it.
func (e *env) send(opts adapter.Options, want ...*Recorder) {
	e.t.Helper()
	out := e.broadcast(e.a, opts)
	e.expect(fmt.Sprintf("Broadcast(%+v)", opts), out, want...)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func ids(rs ...*Recorder) []string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.ID()
	}
	return sorted(s)
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := sorted(got), sorted(want)
	if w == nil {
		w = []string{}
	}
	if g == nil {
		g = []string{}
	}
	if !slices.Equal(g, w) {
		t.Errorf("%s = %q, want %q", what, g, w)
	}
}

func testRegister(t *testing.T, e *env) {
	a := e.a
	s := e.recorder()
	a.AddAll(s) // registered, in no room
	sameSet(t, "Sockets()", a.Sockets(), []string{s.ID()})
	if r := a.SocketRooms(s.ID()); len(r) != 0 {
		t.Errorf("SocketRooms of a socket in no room = %q, want none", r)
	}
	sameSet(t, "Rooms()", a.Rooms(), nil)
	e.send(adapter.Options{}, s)

	if r := a.SocketRooms("nobody-is-called-so!"); r != nil {
		t.Errorf("SocketRooms(unknown) = %q, want nil", r)
	}
	a.DelAll(s.ID())
	sameSet(t, "Sockets() after DelAll", a.Sockets(), nil)
	if r := a.SocketRooms(s.ID()); r != nil {
		t.Errorf("SocketRooms after DelAll = %q, want nil", r)
	}
	e.send(adapter.Options{})
}

func testJoinLeave(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-b")
	sameSet(t, "SocketRooms(s1)", a.SocketRooms(s1.ID()), []string{s1.ID(), "room-a", "room-b"})
	sameSet(t, "Rooms()", a.Rooms(), []string{s1.ID(), s2.ID(), "room-a", "room-b"})
	sameSet(t, "Sockets(room-a)", a.Sockets("room-a"), ids(s1))
	sameSet(t, "Sockets(room-b)", a.Sockets("room-b"), ids(s1, s2))
	sameSet(t, "Sockets(own room)", a.Sockets(s2.ID()), ids(s2))

	a.AddAll(s1, "room-a", "room-a") // already in it
	sameSet(t, "SocketRooms(s1) after joining again", a.SocketRooms(s1.ID()), []string{s1.ID(), "room-a", "room-b"})
	sameSet(t, "Sockets(room-a) after joining again", a.Sockets("room-a"), ids(s1))

	a.Del(s1.ID(), "room-a")
	sameSet(t, "SocketRooms(s1) after Del", a.SocketRooms(s1.ID()), []string{s1.ID(), "room-b"})
	sameSet(t, "Sockets(room-a) after Del", a.Sockets("room-a"), nil)
	sameSet(t, "Rooms() after the last member left room-a", a.Rooms(), []string{s1.ID(), s2.ID(), "room-b"})

	// Leaving a room one is not in, or as an unknown socket, does nothing.
	a.Del(s1.ID(), "room-a")
	a.Del(s1.ID(), "room-never")
	a.Del("nobody-is-called-so!", "room-b")
	sameSet(t, "Sockets(room-b)", a.Sockets("room-b"), ids(s1, s2))

	// Leaving every room keeps the socket registered.
	a.Del(s2.ID(), "room-b")
	a.Del(s2.ID(), s2.ID())
	if r := a.SocketRooms(s2.ID()); len(r) != 0 {
		t.Errorf("SocketRooms(s2) after leaving all = %q, want none", r)
	}
	sameSet(t, "Sockets() after s2 left all its rooms", a.Sockets(), ids(s1, s2))
	sameSet(t, "Rooms()", a.Rooms(), []string{s1.ID(), "room-b"})
	e.send(adapter.Options{}, s1, s2)
}

func testDelAll(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-b")
	a.DelAll(s1.ID())
	sameSet(t, "Sockets()", a.Sockets(), ids(s2))
	sameSet(t, "Sockets(room-b)", a.Sockets("room-b"), ids(s2))
	sameSet(t, "Rooms()", a.Rooms(), []string{s2.ID(), "room-b"})
	if r := a.SocketRooms(s1.ID()); r != nil {
		t.Errorf("SocketRooms after DelAll = %q, want nil", r)
	}
	e.send(adapter.Options{}, s2)
	e.send(adapter.Options{Rooms: []string{"room-a", "room-b", s1.ID()}}, s2)

	a.DelAll(s1.ID())
	a.DelAll("nobody-is-called-so!")
	sameSet(t, "Sockets() after more DelAll", a.Sockets(), ids(s2))

	// A forgotten socket can come back.
	a.AddAll(s1, "room-c")
	sameSet(t, "SocketRooms after coming back", a.SocketRooms(s1.ID()), []string{"room-c"})
	e.send(adapter.Options{}, s1, s2)
	e.send(adapter.Options{Rooms: []string{"room-a", "room-c"}}, s1)
}

func testSockets(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-b")
	s3 := e.connect(a, "room-c")
	s4 := e.recorder()
	a.AddAll(s4)
	sameSet(t, "Sockets()", a.Sockets(), ids(s1, s2, s3, s4))
	sameSet(t, "Sockets(room-a, room-b)", a.Sockets("room-a", "room-b"), ids(s1, s2))
	sameSet(t, "Sockets(room-b, room-b)", a.Sockets("room-b", "room-b"), ids(s1, s2))
	sameSet(t, "Sockets(room-a, room-nope)", a.Sockets("room-a", "room-nope"), ids(s1))
	sameSet(t, "Sockets(room-nope)", a.Sockets("room-nope"), nil)
	sameSet(t, "Sockets(room-c, s1)", a.Sockets("room-c", s1.ID()), ids(s1, s3))
}

func testFetchSockets(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a")
	s2 := e.connect(a, "room-a", "room-b")
	e.connect(a, "room-c")
	ctx := context.Background()
	got, err := a.FetchSockets(ctx, adapter.Options{Rooms: []string{"room-a"}, Except: []string{"room-b"}})
	if err != nil {
		t.Fatalf("FetchSockets: %v", err)
	}
	var gotIDs []string
	for _, d := range got {
		gotIDs = append(gotIDs, d.ID)
		if d.ID == s1.ID() {
			sameSet(t, "FetchSockets rooms of s1", d.Rooms, []string{s1.ID(), "room-a"})
		}
	}
	sameSet(t, "FetchSockets(room-a except room-b)", gotIDs, ids(s1))
	all, err := a.FetchSockets(ctx, adapter.Options{})
	if err != nil || len(all) != 3 {
		t.Errorf("FetchSockets(all) = %d sockets, %v; want 3", len(all), err)
	}
	_ = s2
}

// testServerSide checks the calls a single server can make: a cluster
// adapter running the suite alone is one server too.
func testServerSide(t *testing.T, e *env) {
	ctx := context.Background()
	p := &parser.Packet{Type: parser.Event, Namespace: e.ns.Name(), Data: []byte(`["hello"]`)}
	if err := e.a.ServerSideEmit(ctx, p); err != nil {
		t.Errorf("ServerSideEmit: %v", err)
	}
	if n, err := e.a.ServerCount(ctx); err != nil || n < 1 {
		t.Errorf("ServerCount = %d, %v", n, err)
	}
}

func testManyRooms(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a)
	s2 := e.connect(a, "room-0")
	var rooms []string
	for i := range 100 {
		rooms = append(rooms, "room-"+strconv.Itoa(i))
	}
	a.AddAll(s1, rooms...)
	a.AddAll(s1, rooms[:50]...)
	sameSet(t, "SocketRooms(s1)", a.SocketRooms(s1.ID()), append([]string{s1.ID()}, rooms...))
	sameSet(t, "Rooms()", a.Rooms(), append([]string{s1.ID(), s2.ID()}, rooms...))
	e.send(adapter.Options{Rooms: rooms}, s1, s2)
	e.send(adapter.Options{Rooms: rooms[1:]}, s1)
	for _, r := range rooms[:90] {
		a.Del(s1.ID(), r)
	}
	sameSet(t, "SocketRooms(s1) after leaving 90", a.SocketRooms(s1.ID()), append([]string{s1.ID()}, rooms[90:]...))
	e.send(adapter.Options{Rooms: rooms}, s1, s2)
	e.send(adapter.Options{Rooms: rooms[:90]}, s2)
	a.DelAll(s1.ID())
	sameSet(t, "Rooms() after DelAll", a.Rooms(), []string{s2.ID(), "room-0"})
}

func testCopies(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a")
	e.connect(a, "room-a")
	for _, got := range [][]string{a.Sockets(), a.Sockets("room-a"), a.SocketRooms(s1.ID()), a.Rooms()} {
		for i := range got {
			got[i] = "scribbled"
		}
	}
	if slices.Contains(a.Sockets(), "scribbled") || slices.Contains(a.Sockets("room-a"), "scribbled") ||
		slices.Contains(a.SocketRooms(s1.ID()), "scribbled") || slices.Contains(a.Rooms(), "scribbled") {
		t.Error("writing into a returned slice changed the adapter")
	}
}

func testBroadcastAll(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-b")
	s3 := e.connect(a)
	s4 := e.recorder()
	a.AddAll(s4) // in no room at all
	e.send(adapter.Options{}, s1, s2, s3, s4)
	e.send(adapter.Options{Rooms: []string{}}, s1, s2, s3, s4)
}

func testBroadcastRoom(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-b")
	e.connect(a, "room-c")
	e.send(adapter.Options{Rooms: []string{"room-a"}}, s1)
	e.send(adapter.Options{Rooms: []string{"room-b"}}, s1, s2)
	e.send(adapter.Options{Rooms: []string{s2.ID()}}, s2)
}

func testBroadcastRooms(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-b", "room-c")
	s3 := e.connect(a, "room-c")
	e.connect(a, "room-d")
	e.send(adapter.Options{Rooms: []string{"room-a", "room-b"}}, s1, s2)
	e.send(adapter.Options{Rooms: []string{"room-a", "room-c"}}, s1, s2, s3)
	e.send(adapter.Options{Rooms: []string{"room-a", "room-b", "room-c"}}, s1, s2, s3)
	e.send(adapter.Options{Rooms: []string{"room-b", "room-b"}}, s1, s2)
	e.send(adapter.Options{Rooms: []string{"room-nope", "room-a", "room-nope2"}}, s1)
	e.send(adapter.Options{Rooms: []string{s1.ID(), "room-a", s3.ID()}}, s1, s3)
}

func testBroadcastExcept(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-b", "room-c")
	s3 := e.connect(a, "room-c")
	s4 := e.recorder()
	a.AddAll(s4)
	for _, tc := range []struct {
		opts adapter.Options
		want []*Recorder
	}{
		// socket.broadcast.emit from s1
		{adapter.Options{Except: []string{s1.ID()}}, []*Recorder{s2, s3, s4}},
		// socket.to("room-b").emit from s1
		{adapter.Options{Rooms: []string{"room-b"}, Except: []string{s1.ID()}}, []*Recorder{s2}},
		{adapter.Options{Rooms: []string{"room-a", "room-c"}, Except: []string{"room-b"}}, []*Recorder{s3}},
		{adapter.Options{Rooms: []string{"room-b", "room-c"}, Except: []string{"room-a"}}, []*Recorder{s2, s3}},
		{adapter.Options{Rooms: []string{"room-b"}, Except: []string{"room-b"}}, nil},
		{adapter.Options{Except: []string{"room-b", "room-c"}}, []*Recorder{s4}},
		{adapter.Options{Except: []string{"room-nope"}}, []*Recorder{s1, s2, s3, s4}},
		{adapter.Options{Rooms: []string{"room-c"}, Except: []string{"room-nope", s3.ID()}}, []*Recorder{s2}},
		{adapter.Options{Rooms: []string{"room-nope"}, Except: []string{"room-a"}}, nil},
	} {
		e.send(tc.opts, tc.want...)
	}
}

func testBroadcastNobody(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a")
	s2 := e.connect(a, "room-b")
	e.send(adapter.Options{Rooms: []string{"room-nope"}})
	e.send(adapter.Options{Rooms: []string{"room-nope", "room-nope2"}})
	a.Del(s1.ID(), "room-a") // room-a is empty now
	e.send(adapter.Options{Rooms: []string{"room-a"}})
	a.DelAll(s2.ID()) // and room-b
	e.send(adapter.Options{Rooms: []string{"room-b"}})
	e.send(adapter.Options{Rooms: []string{"room-a", "room-b"}})
	a.DelAll(s1.ID()) // nobody is left
	e.send(adapter.Options{})
	e.send(adapter.Options{Except: []string{"room-a"}})
}

func testBroadcastLocal(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a")
	s2 := e.connect(a, "room-b")
	e.send(adapter.Options{Local: true}, s1, s2)
	e.send(adapter.Options{Rooms: []string{"room-a"}, Local: true}, s1)
	e.send(adapter.Options{Rooms: []string{"room-a", "room-b"}, Except: []string{"room-a"}, Local: true}, s2)
}

// testBroadcastSeesChanges checks that a broadcast after a join or leave
// sees it, whatever the adapter caches.
func testBroadcastSeesChanges(t *testing.T, e *env) {
	a := e.a
	a1 := adapter.Options{Rooms: []string{"room-a"}}
	ab := adapter.Options{Rooms: []string{"room-a", "room-b"}}
	all := adapter.Options{}
	s1 := e.connect(a, "room-a")
	e.send(a1, s1)
	e.send(ab, s1)
	e.send(all, s1)
	s2 := e.connect(a, "room-b")
	e.send(a1, s1)
	e.send(ab, s1, s2)
	e.send(all, s1, s2)
	a.AddAll(s2, "room-a")
	e.send(a1, s1, s2)
	a.Del(s1.ID(), "room-a")
	e.send(a1, s2)
	e.send(ab, s2)
	e.send(all, s1, s2)
	a.DelAll(s2.ID())
	e.send(a1)
	e.send(ab)
	e.send(all, s1)
	a.AddAll(s2, "room-a")
	e.send(a1, s2)
	e.send(all, s1, s2)
}

// testEncodeOnce checks that local recipients share the Outgoing they are
// given, so that it is encoded once.
func testEncodeOnce(t *testing.T, e *env) {
	a := e.a
	var socks []*Recorder
	for i := range 60 {
		socks = append(socks, e.connect(a, "room-"+strconv.Itoa(i%3), "room-"+strconv.Itoa(i%4)))
	}
	for _, opts := range []adapter.Options{
		{},
		{Rooms: []string{"room-0"}},
		{Rooms: []string{"room-0", "room-1", "room-3"}},
		{Rooms: []string{"room-1"}, Except: []string{"room-2"}},
		{Except: []string{socks[0].ID()}},
	} {
		before := e.builds.Load()
		out := e.broadcast(a, opts)
		n := 0
		for _, s := range socks {
			n += s.Count(out)
		}
		if n < 2 {
			t.Fatalf("Broadcast(%+v) reached %d sockets, want many", opts, n)
		}
		if b := e.builds.Load() - before; b != 1 {
			t.Errorf("Broadcast(%+v) to %d sockets encoded the packet %d times, want 1", opts, n, b)
		}
	}
}

func testAddSockets(t *testing.T, e *env) {
	a := e.a
	ctx := context.Background()
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-b")
	s3 := e.connect(a, "room-c")
	must(t, a.AddSockets(ctx, adapter.Options{Rooms: []string{"room-b"}, Except: []string{"room-a"}}, "room-x", "room-y"))
	sameSet(t, "Sockets(room-x)", a.Sockets("room-x"), ids(s2))
	sameSet(t, "SocketRooms(s2)", a.SocketRooms(s2.ID()), []string{s2.ID(), "room-b", "room-x", "room-y"})

	must(t, a.AddSockets(ctx, adapter.Options{Rooms: []string{"room-a", "room-c"}}, "room-x"))
	sameSet(t, "Sockets(room-x)", a.Sockets("room-x"), ids(s1, s2, s3))

	must(t, a.AddSockets(ctx, adapter.Options{}, "room-all"))
	sameSet(t, "Sockets(room-all)", a.Sockets("room-all"), ids(s1, s2, s3))

	must(t, a.AddSockets(ctx, adapter.Options{Except: []string{s3.ID()}, Local: true}, "room-z"))
	sameSet(t, "Sockets(room-z)", a.Sockets("room-z"), ids(s1, s2))

	must(t, a.AddSockets(ctx, adapter.Options{Rooms: []string{"room-nope"}}, "room-w"))
	must(t, a.AddSockets(ctx, adapter.Options{}))
	sameSet(t, "Rooms()", a.Rooms(), []string{s1.ID(), s2.ID(), s3.ID(),
		"room-a", "room-b", "room-c", "room-x", "room-y", "room-all", "room-z"})
	e.send(adapter.Options{Rooms: []string{"room-y"}}, s2)
	e.send(adapter.Options{Rooms: []string{"room-x", "room-all"}}, s1, s2, s3)
}

func testDelSockets(t *testing.T, e *env) {
	a := e.a
	ctx := context.Background()
	s1 := e.connect(a, "room-a", "room-b", "room-x")
	s2 := e.connect(a, "room-b", "room-x", "room-y")
	s3 := e.connect(a, "room-c", "room-x")
	must(t, a.DelSockets(ctx, adapter.Options{Rooms: []string{"room-b"}, Except: []string{"room-a"}}, "room-x", "room-y"))
	sameSet(t, "Sockets(room-x)", a.Sockets("room-x"), ids(s1, s3))
	sameSet(t, "SocketRooms(s2)", a.SocketRooms(s2.ID()), []string{s2.ID(), "room-b"})
	sameSet(t, "Rooms()", a.Rooms(), []string{s1.ID(), s2.ID(), s3.ID(), "room-a", "room-b", "room-c", "room-x"})

	must(t, a.DelSockets(ctx, adapter.Options{Rooms: []string{"room-nope"}}, "room-x"))
	sameSet(t, "Sockets(room-x)", a.Sockets("room-x"), ids(s1, s3))

	must(t, a.DelSockets(ctx, adapter.Options{Local: true}, "room-x", "room-nope"))
	sameSet(t, "Sockets(room-x)", a.Sockets("room-x"), nil)

	// Leaving one's own room.
	must(t, a.DelSockets(ctx, adapter.Options{Rooms: []string{s1.ID()}}, s1.ID()))
	sameSet(t, "SocketRooms(s1)", a.SocketRooms(s1.ID()), []string{"room-a", "room-b"})
	// Leaving every room keeps the sockets registered.
	must(t, a.DelSockets(ctx, adapter.Options{}, "room-a", "room-b", "room-c", s2.ID(), s3.ID()))
	sameSet(t, "Rooms()", a.Rooms(), nil)
	sameSet(t, "Sockets()", a.Sockets(), ids(s1, s2, s3))
	e.send(adapter.Options{}, s1, s2, s3)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testDoneContext(t *testing.T, e *env) {
	a := e.a
	e.connect(a, "room-a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Broadcast(ctx, e.outgoing(), adapter.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Broadcast with a cancelled context = %v, want context.Canceled", err)
	}
	if err := a.AddSockets(ctx, adapter.Options{}, "room-b"); !errors.Is(err, context.Canceled) {
		t.Errorf("AddSockets with a cancelled context = %v, want context.Canceled", err)
	}
	if err := a.DelSockets(ctx, adapter.Options{}, "room-a"); !errors.Is(err, context.Canceled) {
		t.Errorf("DelSockets with a cancelled context = %v, want context.Canceled", err)
	}
}

func testClose(t *testing.T, e *env) {
	a := e.a
	s := e.connect(a, "room-a")
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := context.Background()
	out := e.outgoing()
	if err := a.Broadcast(ctx, out, adapter.Options{}); !errors.Is(err, adapter.ErrClosed) {
		t.Errorf("Broadcast after Close = %v, want ErrClosed", err)
	}
	if s.Count(out) != 0 {
		t.Error("Broadcast after Close reached a socket")
	}
	if err := a.AddSockets(ctx, adapter.Options{}, "room-b"); !errors.Is(err, adapter.ErrClosed) {
		t.Errorf("AddSockets after Close = %v, want ErrClosed", err)
	}
	if err := a.DelSockets(ctx, adapter.Options{}, "room-a"); !errors.Is(err, adapter.ErrClosed) {
		t.Errorf("DelSockets after Close = %v, want ErrClosed", err)
	}
	// Tearing sockets down after Close must not panic or block.
	a.Del(s.ID(), "room-a")
	a.DelAll(s.ID())
	_ = a.Close()
}

// testServeAgain checks that a namespace retired and created again (a new
// adapter for the same name) works, and that the closed adapter's sockets
// are not reached.
func testServeAgain(t *testing.T, e *env) {
	old := e.a
	s1 := e.connect(old, "room-a")
	if err := old.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	a := e.adapterFor(e.ns)
	e.a = a
	s2 := e.connect(a, "room-a")
	e.send(adapter.Options{}, s2)
	e.send(adapter.Options{Rooms: []string{"room-a"}}, s2)
	sameSet(t, "Sockets()", a.Sockets(), ids(s2))
	_ = s1
}

func testNamespacesApart(t *testing.T, e *env) {
	a := e.a
	b := e.adapterFor(uniqueNamespace(t))
	s1 := e.connect(a, "room-a")
	s2 := e.connect(b, "room-a")
	sameSet(t, "a.Sockets()", a.Sockets(), ids(s1))
	sameSet(t, "b.Sockets()", b.Sockets(), ids(s2))
	sameSet(t, "a.Rooms()", a.Rooms(), []string{s1.ID(), "room-a"})
	out := e.broadcast(a, adapter.Options{})
	e.expect("a.Broadcast to all", out, s1)
	out = e.broadcast(b, adapter.Options{Rooms: []string{"room-a"}})
	e.expect("b.Broadcast to room-a", out, s2)
	must(t, b.AddSockets(context.Background(), adapter.Options{}, "room-b"))
	sameSet(t, "a.Rooms() after b.AddSockets", a.Rooms(), []string{s1.ID(), "room-a"})
}

// testReentrant checks that Send is called without adapter locks held: a
// socket calls the adapter back from Send.
func testReentrant(t *testing.T, e *env) {
	a := e.a
	s1 := e.connect(a, "room-a", "room-b")
	s2 := e.connect(a, "room-a")
	s3 := e.connect(a, "room-c")
	nested := e.outgoing()
	s1.OnSend = func(out *adapter.Outgoing) {
		if out == nested {
			return
		}
		a.Del(s1.ID(), "room-a")
		a.AddAll(s1, "room-d")
		a.DelAll(s2.ID())
		a.AddAll(s2, s2.ID())
		_ = a.Sockets("room-a", "room-b")
		_ = a.SocketRooms(s1.ID())
		_ = a.Rooms()
		_ = a.Broadcast(context.Background(), nested, adapter.Options{Rooms: []string{"room-c", "room-d"}})
		_ = a.AddSockets(context.Background(), adapter.Options{Rooms: []string{"room-c"}}, "room-e")
		_ = a.DelSockets(context.Background(), adapter.Options{Rooms: []string{"room-c"}}, "room-e")
	}
	for _, opts := range []adapter.Options{
		{Rooms: []string{"room-a"}},
		{Rooms: []string{"room-b", "room-a"}},
		{},
		{Except: []string{s3.ID()}},
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.AddAll(s1, "room-a")
			_ = a.Broadcast(context.Background(), e.outgoing(), opts)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Broadcast(%+v) with a socket calling the adapter from Send did not return: deadlock?", opts)
		}
	}
	if n := s3.Count(nested); n < 1 {
		t.Errorf("nested broadcasts reached s3 %d times, want some", n)
	}
}

// model is what the adapter should hold: the rooms of every registered
// socket.
type model map[string]map[string]bool

func (m model) selects(opts adapter.Options) map[string]bool {
	in := func(id string, rooms []string) bool {
		for _, r := range rooms {
			if m[id][r] {
				return true
			}
		}
		return false
	}
	sel := map[string]bool{}
	for id := range m {
		if (len(opts.Rooms) == 0 || in(id, opts.Rooms)) && !in(id, opts.Except) {
			sel[id] = true
		}
	}
	return sel
}

func (m model) rooms() []string {
	set := map[string]bool{}
	for _, rs := range m {
		for r := range rs {
			set[r] = true
		}
	}
	var names []string
	for r := range set {
		names = append(names, r)
	}
	return names
}

// testModel runs a deterministic random sequence of operations and checks
// every result against a model.
func testModel(t *testing.T, e *env) {
	a := e.a
	ctx := context.Background()
	rng := mrand.New(mrand.NewPCG(1, 2))
	var socks []*Recorder
	byID := map[string]*Recorder{}
	for range 24 {
		s := e.recorder()
		socks = append(socks, s)
		byID[s.ID()] = s
	}
	m := model{}
	roomNames := []string{"room-0", "room-1", "room-2", "room-3", "room-4", "room-nope"}
	pickRoom := func() string {
		if rng.IntN(5) == 0 {
			return socks[rng.IntN(len(socks))].ID()
		}
		return roomNames[rng.IntN(len(roomNames))]
	}
	pickRooms := func(max int) []string {
		var rs []string
		for range rng.IntN(max + 1) {
			rs = append(rs, pickRoom())
		}
		return rs
	}
	pickOpts := func() adapter.Options {
		return adapter.Options{Rooms: pickRooms(3), Except: pickRooms(2), Local: rng.IntN(4) == 0}
	}
	join := func(id string, rooms []string) {
		if m[id] == nil {
			m[id] = map[string]bool{}
		}
		for _, r := range rooms {
			m[id][r] = true
		}
	}
	for step := range 1500 {
		s := socks[rng.IntN(len(socks))]
		id := s.ID()
		switch op := rng.IntN(10); op {
		case 0: // connect
			if m[id] == nil {
				a.AddAll(s, id)
				join(id, []string{id})
			}
		case 1, 2: // join
			rs := pickRooms(3)
			a.AddAll(s, rs...)
			join(id, rs)
		case 3: // leave
			r := pickRoom()
			if rs := a.SocketRooms(id); len(rs) > 0 && rng.IntN(2) == 0 {
				r = rs[rng.IntN(len(rs))]
			}
			a.Del(id, r)
			if m[id] != nil {
				delete(m[id], r)
			}
		case 4: // disconnect
			if rng.IntN(3) == 0 {
				a.DelAll(id)
				delete(m, id)
			}
		case 5: // socketsJoin
			opts, rs := pickOpts(), pickRooms(2)
			must(t, a.AddSockets(ctx, opts, rs...))
			for sid := range m.selects(opts) {
				join(sid, rs)
			}
		case 6: // socketsLeave
			opts, rs := pickOpts(), pickRooms(2)
			must(t, a.DelSockets(ctx, opts, rs...))
			for sid := range m.selects(opts) {
				for _, r := range rs {
					delete(m[sid], r)
				}
			}
		case 7, 8: // broadcast
			opts := pickOpts()
			out := e.broadcast(a, opts)
			var want []*Recorder
			for sid := range m.selects(opts) {
				want = append(want, byID[sid])
			}
			e.expect(fmt.Sprintf("step %d: Broadcast(%+v)", step, opts), out, want...)
		case 9: // queries
			rs := pickRooms(3)
			var want []string
			for sid := range m.selects(adapter.Options{Rooms: rs}) {
				want = append(want, sid)
			}
			sameSet(t, fmt.Sprintf("step %d: Sockets(%q)", step, rs), a.Sockets(rs...), want)
			sameSet(t, fmt.Sprintf("step %d: Rooms()", step), a.Rooms(), m.rooms())
			got := a.SocketRooms(id)
			if m[id] == nil {
				if got != nil {
					t.Errorf("step %d: SocketRooms of an unregistered socket = %q, want nil", step, got)
				}
			} else {
				var want []string
				for r := range m[id] {
					want = append(want, r)
				}
				sameSet(t, fmt.Sprintf("step %d: SocketRooms(%s)", step, id), got, want)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

// testConcurrent races joins, leaves, registrations and broadcasts. Sockets
// that nobody moves must get every broadcast that selects them exactly
// once, whatever the others do; nobody may get a broadcast twice; and the
// rooms must be right at the end.
func testConcurrent(t *testing.T, e *env) {
	a := e.a
	ctx := context.Background()
	const (
		stable       = 8
		churners     = 6
		iterations   = 400
		broadcasters = 3
		broadcasts   = 300
	)
	var inA, inAB []*Recorder
	for i := range stable {
		if i%2 == 0 {
			inAB = append(inAB, e.connect(a, "st-a", "st-b"))
		} else {
			inA = append(inA, e.connect(a, "st-a"))
		}
	}
	// Stable sockets are in st-a, half of them in st-b too, never in ch-*.
	selections := []struct {
		opts adapter.Options
		want []*Recorder
	}{
		{adapter.Options{Rooms: []string{"st-a"}}, append(slices.Clone(inA), inAB...)},
		{adapter.Options{Rooms: []string{"st-a", "st-b", "ch-x"}}, append(slices.Clone(inA), inAB...)},
		{adapter.Options{}, append(slices.Clone(inA), inAB...)},
		{adapter.Options{Rooms: []string{"st-b", "ch-x"}, Except: []string{"ch-y"}}, inAB},
		{adapter.Options{Except: []string{"ch-y", "st-b"}}, inA},
	}
	var churn []*Recorder
	for range churners {
		churn = append(churn, e.connect(a))
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	start := make(chan struct{}) // lets every goroutine start at once
	sent := make([][]*adapter.Outgoing, len(selections))
	for b := range broadcasters {
		wg.Go(func() {
			<-start
			for i := range broadcasts {
				k := (b + i) % len(selections)
				out := e.outgoing()
				if err := a.Broadcast(ctx, out, selections[k].opts); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				sent[k] = append(sent[k], out)
				mu.Unlock()
			}
		})
	}
	for c, s := range churn {
		wg.Go(func() {
			<-start
			id := s.ID()
			for i := range iterations {
				switch (c + i) % 6 {
				case 0:
					a.AddAll(s, "ch-x", "st-a")
				case 1:
					a.AddAll(s, "ch-y", "st-b")
					a.Del(id, "st-a")
				case 2:
					a.Del(id, "ch-x")
					a.Del(id, "st-b")
				case 3:
					a.DelAll(id)
					a.AddAll(s, id, "ch-x")
				case 4:
					_ = a.AddSockets(ctx, adapter.Options{Rooms: []string{"ch-x"}}, "ch-z")
					_ = a.DelSockets(ctx, adapter.Options{Rooms: []string{"ch-z"}, Except: []string{"ch-y"}}, "ch-z")
				case 5:
					_ = a.Sockets("st-a", "ch-x")
					_ = a.SocketRooms(id)
					_ = a.Rooms()
					a.Del(id, "ch-y")
				}
			}
		})
	}
	close(start)
	wg.Wait()

	for k, sel := range selections {
		for _, out := range sent[k] {
			e.mu.Lock()
			socks := slices.Clone(e.socks)
			e.mu.Unlock()
			for _, s := range socks {
				n := s.Count(out)
				switch {
				case slices.Contains(sel.want, s) && n != 1:
					t.Errorf("Broadcast(%+v): untouched socket %s got it %d times, want 1", sel.opts, s.ID(), n)
				case n > 1:
					t.Errorf("Broadcast(%+v): socket %s got it %d times", sel.opts, s.ID(), n)
				}
			}
		}
		if t.Failed() {
			return
		}
	}

	for _, s := range churn {
		a.DelAll(s.ID())
	}
	var want []string
	for _, s := range append(slices.Clone(inA), inAB...) {
		want = append(want, s.ID())
	}
	sameSet(t, "Sockets() after the churn", a.Sockets(), want)
	sameSet(t, "Rooms() after the churn", a.Rooms(), append(want, "st-a", "st-b"))
	sameSet(t, "Sockets(st-b) after the churn", a.Sockets("st-b"), ids(inAB...))
	e.send(adapter.Options{Rooms: []string{"st-a", "ch-x", "ch-y", "ch-z"}}, append(slices.Clone(inA), inAB...)...)
}

// testExactAfterRaces races broadcasts with one join or leave at a time and
// checks that, once they are done, the next broadcast sees the change: no
// broadcast may leave a stale view of a room behind.
func testExactAfterRaces(t *testing.T, e *env) {
	a := e.a
	ctx := context.Background()
	s1 := e.connect(a, "room-a")
	x := e.connect(a)
	opts := []adapter.Options{
		{Rooms: []string{"room-a"}},
		{Rooms: []string{"room-a", "room-b"}},
		{Rooms: []string{"room-a"}, Except: []string{"room-c"}},
		{},
	}
	y := e.recorder()
	race := func(change func()) {
		// Make the views of room-a and of all sockets stale, so that the
		// broadcasts rebuild them while change runs.
		a.AddAll(y, "room-a")
		a.DelAll(y.ID())
		var wg sync.WaitGroup
		for _, o := range opts {
			wg.Go(func() { _ = a.Broadcast(ctx, e.outgoing(), o) })
		}
		wg.Go(change)
		wg.Wait()
	}
	for i := range 300 {
		race(func() { a.AddAll(x, "room-a") })
		e.send(opts[i%3], s1, x)
		race(func() { a.Del(x.ID(), "room-a") })
		e.send(opts[i%3], s1)
		race(func() { a.DelAll(x.ID()) })
		e.send(opts[3], s1)
		race(func() { a.AddAll(x, x.ID()) })
		e.send(opts[3], s1, x)
		if t.Failed() {
			return
		}
	}
}
