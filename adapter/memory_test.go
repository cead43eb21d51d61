package adapter_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/adapter/adaptertest"
	"github.com/dynamicio/dynamicio/parser"
)

func TestConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, ns adapter.Namespace) adapter.Adapter {
		a := adapter.New(ns)
		t.Cleanup(func() { a.Close() })
		return a
	})
}

// TestConformanceCopyOnWrite runs the suite on the strategy the benchmarks
// compare against, so that the comparison is between correct adapters.
func TestConformanceCopyOnWrite(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, ns adapter.Namespace) adapter.Adapter {
		a := adapter.NewWithHooks(ns, adapter.Hooks{})
		adapter.SetCopyOnWrite(a)
		t.Cleanup(func() { a.Close() })
		return a
	})
}

// TestConformanceWithHooks runs the suite with hooks that call the adapter
// back and check that the change they report is visible.
func TestConformanceWithHooks(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T, ns adapter.Namespace) adapter.Adapter {
		var a *adapter.Memory
		a = adapter.NewWithHooks(ns, adapter.Hooks{
			OnCreateRoom: func(room string) { _ = a.Rooms() },
			OnDeleteRoom: func(room string) { _ = a.Sockets(room) },
			OnJoinRoom:   func(room, id string) { _ = a.SocketRooms(id) },
			OnLeaveRoom:  func(room, id string) { _ = a.Sockets(room) },
		})
		t.Cleanup(func() { a.Close() })
		return a
	})
}

func newOut() *adapter.Outgoing {
	return &adapter.Outgoing{Packet: &parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["x"]`)}}
}

func TestSnapshotInvalidation(t *testing.T) {
	a := adapter.NewWithHooks(adaptertest.Namespace("/"), adapter.Hooks{})
	ctx := context.Background()
	s1 := adaptertest.NewRecorder("s1")
	s2 := adaptertest.NewRecorder("s2")
	room := adapter.Options{Rooms: []string{"r"}}

	a.AddAll(s1, "r", "other")
	if _, cached := adapter.Snapshot(a, "r"); cached {
		t.Fatal("a room has a snapshot before any broadcast")
	}
	must(t, a.Broadcast(ctx, newOut(), room))
	ids, cached := adapter.Snapshot(a, "r")
	if !cached || !slices.Equal(ids, []string{"s1"}) {
		t.Fatalf("after a broadcast, snapshot = %q, %v; want [s1], true", ids, cached)
	}
	p := adapter.SnapshotPointer(a, "r")
	must(t, a.Broadcast(ctx, newOut(), room))
	must(t, a.Broadcast(ctx, newOut(), adapter.Options{Rooms: []string{"r", "other"}}))
	if adapter.SnapshotPointer(a, "r") != p {
		t.Error("a broadcast rebuilt a snapshot nothing changed")
	}

	a.AddAll(s2, "other") // another room
	if adapter.SnapshotPointer(a, "r") != p {
		t.Error("a join to another room invalidated the snapshot")
	}
	a.AddAll(s1, "r") // already a member
	if adapter.SnapshotPointer(a, "r") != p {
		t.Error("joining a room again invalidated its snapshot")
	}

	a.AddAll(s2, "r")
	if _, cached := adapter.Snapshot(a, "r"); cached {
		t.Error("a join left the snapshot cached")
	}
	must(t, a.Broadcast(ctx, newOut(), room))
	ids, _ = adapter.Snapshot(a, "r")
	if slices.Sort(ids); !slices.Equal(ids, []string{"s1", "s2"}) {
		t.Errorf("snapshot after join and broadcast = %q, want [s1 s2]", ids)
	}

	a.Del("s1", "r")
	if _, cached := adapter.Snapshot(a, "r"); cached {
		t.Error("a leave left the snapshot cached")
	}
	must(t, a.Broadcast(ctx, newOut(), room))
	a.DelAll("s2")
	if ids, cached := adapter.Snapshot(a, "r"); cached || ids != nil {
		t.Errorf("DelAll of the last member left %q, %v", ids, cached)
	}

	// The snapshot of all sockets follows registrations only.
	must(t, a.Broadcast(ctx, newOut(), adapter.Options{}))
	if !adapter.AllSnapshotValid(a) {
		t.Fatal("no snapshot of all sockets after a broadcast to all")
	}
	a.AddAll(s1, "r2")
	if !adapter.AllSnapshotValid(a) {
		t.Error("a join of a registered socket invalidated the snapshot of all sockets")
	}
	a.AddAll(s2)
	if adapter.AllSnapshotValid(a) {
		t.Error("a registration left the snapshot of all sockets valid")
	}
	must(t, a.Broadcast(ctx, newOut(), adapter.Options{}))
	a.DelAll("s1")
	if adapter.AllSnapshotValid(a) {
		t.Error("DelAll left the snapshot of all sockets valid")
	}
}

func TestSnapshotCopyOnWrite(t *testing.T) {
	a := adapter.NewWithHooks(adaptertest.Namespace("/"), adapter.Hooks{})
	adapter.SetCopyOnWrite(a)
	a.AddAll(adaptertest.NewRecorder("s1"), "r")
	ids, cached := adapter.Snapshot(a, "r")
	if !cached || !slices.Equal(ids, []string{"s1"}) {
		t.Errorf("copy-on-write snapshot after a join = %q, %v", ids, cached)
	}
}

// TestBroadcastAllocs checks that broadcasts allocate nothing once their
// snapshots are built.
func TestBroadcastAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	a := adapter.New(adaptertest.Namespace("/"))
	for i := range 200 {
		s := &countingSocket{id: fmt.Sprintf("s%d", i)}
		a.AddAll(s, s.id, fmt.Sprintf("r%d", i%3), fmt.Sprintf("q%d", i%5))
	}
	out := newOut()
	ctx := context.Background()
	for _, opts := range []adapter.Options{
		{},
		{Rooms: []string{"r0"}},
		{Rooms: []string{"r0"}, Except: []string{"s0"}},
		{Rooms: []string{"r0", "r1", "q0"}, Except: []string{"q1", "s3"}},
		{Except: []string{"r2"}},
	} {
		n := testing.AllocsPerRun(100, func() {
			if err := a.Broadcast(ctx, out, opts); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("Broadcast(%+v) makes %v allocations, want 0", opts, n)
		}
	}
}

type event struct{ kind, room, id string }

func TestHooks(t *testing.T) {
	var (
		mu     sync.Mutex
		events []event
		a      *adapter.Memory
	)
	record := func(kind, room, id string) {
		// The change is visible to the hook, and the hook may call the
		// adapter.
		members := a.Sockets(room)
		switch kind {
		case "join":
			if !slices.Contains(members, id) {
				t.Errorf("OnJoinRoom(%s, %s): the socket is not in the room yet", room, id)
			}
		case "leave":
			if slices.Contains(members, id) {
				t.Errorf("OnLeaveRoom(%s, %s): the socket is still in the room", room, id)
			}
		case "delete":
			if slices.Contains(a.Rooms(), room) {
				t.Errorf("OnDeleteRoom(%s): the room still exists", room)
			}
		}
		mu.Lock()
		events = append(events, event{kind, room, id})
		mu.Unlock()
	}
	a = adapter.NewWithHooks(adaptertest.Namespace("/"), adapter.Hooks{
		OnCreateRoom: func(room string) { record("create", room, "") },
		OnDeleteRoom: func(room string) { record("delete", room, "") },
		OnJoinRoom:   func(room, id string) { record("join", room, id) },
		OnLeaveRoom:  func(room, id string) { record("leave", room, id) },
	})
	take := func() []event {
		mu.Lock()
		defer mu.Unlock()
		e := events
		events = nil
		return e
	}
	check := func(what string, want ...event) {
		t.Helper()
		if got := take(); !slices.Equal(got, want) {
			t.Errorf("%s: hooks ran %v, want %v", what, got, want)
		}
	}
	s1 := adaptertest.NewRecorder("s1")
	s2 := adaptertest.NewRecorder("s2")
	a.AddAll(s1)
	check("AddAll with no room")
	a.AddAll(s1, "s1", "a")
	check("AddAll(s1, s1, a)",
		event{"create", "s1", ""}, event{"join", "s1", "s1"},
		event{"create", "a", ""}, event{"join", "a", "s1"})
	a.AddAll(s1, "a")
	check("AddAll to a room already joined")
	a.AddAll(s2, "a", "b")
	check("AddAll(s2, a, b)", event{"join", "a", "s2"}, event{"create", "b", ""}, event{"join", "b", "s2"})
	a.Del("s2", "a")
	check("Del(s2, a)", event{"leave", "a", "s2"})
	a.Del("s2", "a")
	a.Del("nobody", "a")
	check("Del of nothing")
	a.Del("s2", "b")
	check("Del(s2, b)", event{"leave", "b", "s2"}, event{"delete", "b", ""})

	ctx := context.Background()
	must(t, a.AddSockets(ctx, adapter.Options{Rooms: []string{"a"}}, "c"))
	check("AddSockets", event{"create", "c", ""}, event{"join", "c", "s1"})
	must(t, a.DelSockets(ctx, adapter.Options{}, "c"))
	check("DelSockets", event{"leave", "c", "s1"}, event{"delete", "c", ""})

	a.AddAll(s2, "a")
	take()
	a.DelAll("s1")
	got := take()
	// DelAll leaves the rooms in no particular order.
	slices.SortFunc(got, func(x, y event) int { return strings.Compare(x.room+x.kind, y.room+y.kind) })
	want := []event{{"leave", "a", "s1"}, {"delete", "s1", ""}, {"leave", "s1", "s1"}}
	if !slices.Equal(got, want) {
		t.Errorf("DelAll(s1): hooks ran %v, want %v in some order", got, want)
	}
	a.DelAll("s1")
	check("DelAll of nothing")
}

func TestLocalSockets(t *testing.T) {
	a := adapter.NewWithHooks(adaptertest.Namespace("/"), adapter.Hooks{})
	s1 := adaptertest.NewRecorder("s1")
	s2 := adaptertest.NewRecorder("s2")
	s3 := adaptertest.NewRecorder("s3")
	a.AddAll(s1, "s1", "a", "b")
	a.AddAll(s2, "s2", "b")
	a.AddAll(s3, "s3")
	for _, tc := range []struct {
		opts adapter.Options
		want []adapter.Socket
	}{
		{adapter.Options{}, []adapter.Socket{s1, s2, s3}},
		{adapter.Options{Rooms: []string{"a", "b"}}, []adapter.Socket{s1, s2}},
		{adapter.Options{Rooms: []string{"b"}, Except: []string{"s1"}}, []adapter.Socket{s2}},
		{adapter.Options{Except: []string{"b"}}, []adapter.Socket{s3}},
		{adapter.Options{Rooms: []string{"nope"}}, nil},
	} {
		got := a.LocalSockets(tc.opts)
		key := func(s adapter.Socket) string { return s.ID() }
		if !slices.Equal(sortedIDs(got, key), sortedIDs(tc.want, key)) {
			t.Errorf("LocalSockets(%+v) = %v, want %v", tc.opts, sortedIDs(got, key), sortedIDs(tc.want, key))
		}
	}
}

func sortedIDs[T any](s []T, key func(T) string) []string {
	var ids []string
	for _, x := range s {
		ids = append(ids, key(x))
	}
	slices.Sort(ids)
	return ids
}

// TestSameIDRace races DelAll of a socket with a new registration of its
// id: the new registration must end up complete.
func TestSameIDRace(t *testing.T) {
	a := adapter.NewWithHooks(adaptertest.Namespace("/"), adapter.Hooks{})
	for range 200 {
		old := adaptertest.NewRecorder("same")
		a.AddAll(old, "same", "a", "b")
		nw := adaptertest.NewRecorder("same")
		var wg sync.WaitGroup
		wg.Go(func() { a.DelAll("same") })
		wg.Go(func() { a.AddAll(nw, "c") })
		wg.Wait()
		// Either DelAll ran last and the socket is gone, or AddAll did and
		// it is in c alone; in both cases the rooms agree.
		rooms := a.SocketRooms("same")
		switch {
		case rooms == nil:
			if r := a.Rooms(); len(r) != 0 {
				t.Fatalf("socket gone but Rooms() = %q", r)
			}
		case slices.Equal(rooms, []string{"c"}):
			if r := a.Rooms(); !slices.Equal(r, []string{"c"}) || !slices.Equal(a.Sockets("c"), []string{"same"}) {
				t.Fatalf("socket in c but Rooms() = %q, Sockets(c) = %q", r, a.Sockets("c"))
			}
		default:
			t.Fatalf("SocketRooms = %q, want nil or [c]", rooms)
		}
		a.DelAll("same")
		if r := a.Rooms(); len(r) != 0 {
			t.Fatalf("Rooms() = %q after DelAll, want none", r)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestShardCount(t *testing.T) {
	for procs, want := range map[int]int{1: 8, 2: 8, 3: 16, 4: 16, 8: 32, 16: 64, 64: 64, 1000: 64} {
		if got := adapter.ShardCount(procs); got != want {
			t.Errorf("shardCount(%d) = %d, want %d", procs, got, want)
		}
	}
}

// TestRoomShrinks empties most of a big room, which makes it trade its
// member list for a smaller one, and checks the members left.
func TestRoomShrinks(t *testing.T) {
	a := adapter.New(adaptertest.Namespace("/"))
	var socks []*adaptertest.Recorder
	for i := range 300 {
		s := adaptertest.NewRecorder(fmt.Sprintf("s%03d", i))
		socks = append(socks, s)
		a.AddAll(s, "big")
	}
	var want []string
	for i, s := range socks {
		if i%30 == 7 {
			want = append(want, s.ID())
			continue
		}
		a.Del(s.ID(), "big")
	}
	got := a.Sockets("big")
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Sockets(big) = %q, want %q", got, want)
	}
	out := newOut()
	must(t, a.Broadcast(context.Background(), out, adapter.Options{Rooms: []string{"big"}}))
	for _, s := range socks {
		if n, w := s.Count(out), slices.Contains(want, s.ID()); n != map[bool]int{true: 1}[w] {
			t.Errorf("%s got the broadcast %d times", s.ID(), n)
		}
	}
	for _, id := range want {
		a.Del(id, "big")
	}
	if r := a.Rooms(); len(r) != 0 {
		t.Errorf("Rooms() = %q, want none", r)
	}
}

// TestRoomMembershipAcrossSizes joins and leaves a room in a shuffled order
// while it grows past the size at which a room starts indexing its members
// and shrinks again, checking the members and a broadcast after each step.
func TestRoomMembershipAcrossSizes(t *testing.T) {
	a := adapter.New(adaptertest.Namespace("/"))
	ctx := context.Background()
	var socks []*adaptertest.Recorder
	for i := range 24 {
		socks = append(socks, adaptertest.NewRecorder(fmt.Sprintf("s%02d", i)))
	}
	in := map[string]bool{}
	check := func(step string) {
		t.Helper()
		var want []string
		for id, ok := range in {
			if ok {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		got := a.Sockets("r")
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: Sockets(r) = %q, want %q", step, got, want)
		}
		out := newOut()
		must(t, a.Broadcast(ctx, out, adapter.Options{Rooms: []string{"r"}}))
		for _, s := range socks {
			if n, w := s.Count(out), in[s.ID()]; n != map[bool]int{true: 1}[w] {
				t.Fatalf("%s: %s got the broadcast %d times (member: %v)", step, s.ID(), n, w)
			}
		}
	}
	// A fixed permutation-like walk: i*7 mod 24 visits every socket.
	for round := range 3 {
		for i := range socks {
			s := socks[(i*7+round)%len(socks)]
			a.AddAll(s, "r")
			in[s.ID()] = true
			check(fmt.Sprintf("round %d join %s", round, s.ID()))
		}
		for i := range socks {
			s := socks[(i*5+round)%len(socks)]
			if i%3 == round {
				continue // some stay for the next round
			}
			a.Del(s.ID(), "r")
			in[s.ID()] = false
			check(fmt.Sprintf("round %d leave %s", round, s.ID()))
		}
	}
}
