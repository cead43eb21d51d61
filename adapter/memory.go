package adapter

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dynamicio/dynamicio/parser"
)

// Hooks are called when the rooms of an in-memory adapter change, like the
// create-room, delete-room, join-room and leave-room events of the official
// adapter (the Admin UI listens to them). Nil hooks are skipped.
//
// Hooks run on the goroutine that made the change, after it, before the
// method that made it returns, and without any adapter lock held: a hook may
// call the adapter. Hooks of changes the caller sequences (one after the
// other) run in order; hooks of changes that race each other may run in
// either order.
type Hooks struct {
	// OnCreateRoom runs when a room gets its first member, before the
	// OnJoinRoom of that member.
	OnCreateRoom func(room string)
	// OnDeleteRoom runs when a room loses its last member, after the
	// OnLeaveRoom of that member.
	OnDeleteRoom func(room string)
	// OnJoinRoom and OnLeaveRoom run for every membership that starts or
	// ends.
	OnJoinRoom  func(room, id string)
	OnLeaveRoom func(room, id string)
}

// Memory is the in-memory adapter: the rooms of one namespace on one
// server. It is safe for concurrent use.
//
// Rooms live in sharded maps (by hash of the room name, and of the socket
// id for the registry of sockets), each shard with its own lock, so joins
// and leaves of unrelated rooms do not contend. A broadcast takes no lock
// that joins and leaves take: it finds a room in a lock-free index and
// iterates an immutable snapshot of its members, rebuilt by the first
// broadcast after a join or leave. Socket.Send is always called without
// any lock held, so it may call the adapter back.
//
// Broadcasts, joins and leaves that race each other are unordered: a
// broadcast concurrent with a join or leave may or may not reach the socket
// that joins or leaves, but always reaches every other selected socket
// exactly once.
type Memory struct {
	ns       Namespace
	hooks    Hooks
	hasHooks bool
	// cow rebuilds a room's snapshot on every join and leave instead of
	// lazily (copy-on-write); tests set it to compare the two strategies.
	cow bool

	// rooms and sockets have the same power-of-two number of shards;
	// mask selects one from a hash.
	rooms   []roomShard
	sockets []socketShard
	mask    uint32

	// all is the snapshot of every registered socket, valid while its gen
	// equals allGen. allGen is bumped after every registration change;
	// allMu serialises rebuilds (only broadcasters take it).
	all    atomic.Pointer[snapshot]
	allGen atomic.Uint64
	allMu  sync.Mutex

	closed atomic.Bool
}

var _ Factory = New

// New returns an in-memory adapter for ns. It is the default Factory.
func New(ns Namespace) Adapter { return NewWithHooks(ns, Hooks{}) }

// NewWithHooks returns an in-memory adapter for ns that calls hooks when
// its rooms change.
func NewWithHooks(ns Namespace, hooks Hooks) *Memory {
	m := &Memory{ns: ns, hooks: hooks}
	m.hasHooks = hooks.OnCreateRoom != nil || hooks.OnDeleteRoom != nil ||
		hooks.OnJoinRoom != nil || hooks.OnLeaveRoom != nil
	n := shardCount(runtime.GOMAXPROCS(0))
	m.rooms = make([]roomShard, n)
	m.sockets = make([]socketShard, n)
	m.mask = uint32(n - 1)
	return m
}

// shardCount returns the number of shards for procs processors: four per
// processor, so that joins and leaves on different processors rarely meet
// on a shard, between 8 and 64. It is a power of two. A fixed count would
// cost small servers, which may have thousands of namespaces (one adapter
// each), kilobytes per namespace for nothing.
func shardCount(procs int) int {
	n := 8
	for n < 4*procs && n < 64 {
		n *= 2
	}
	return n
}

// shardOf returns the shard of key: FNV-1a, inlined so it does not allocate.
func (m *Memory) shardOf(key string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return h & m.mask
}

// member is one socket as snapshots hold it. slot is a small number unique
// among the registered sockets of the adapter; broadcasts that deduplicate
// use it as an index into a bitmap.
type member struct {
	s    Socket
	slot uint32
}

// snapshot is an immutable list of sockets. gen is only used by the
// snapshot of all sockets.
type snapshot struct {
	gen     uint64
	members []member
}

// room is a non-empty room. list holds its members densely, so that a
// snapshot is one copy of it; index maps a member's slot to its position
// in list, once the room has more than smallRoom members (below that a
// scan of list is as fast, and an idle socket's own room does not pay for
// a map). Both are guarded by the lock of the room's shard. snap is nil
// when a join or leave made it stale.
//
// Members are keyed by slot, not id: a socket torn down by DelAll and a new
// registration of its id are different members, and a slot is reused only
// once its socket has left every room.
type room struct {
	list  []member
	index map[uint32]int32
	snap  atomic.Pointer[snapshot]
}

// smallRoom is the most members a room holds without an index.
const smallRoom = 8

// add adds x to r; the caller holds the shard lock and knows x is not in r.
func (r *room) add(x member) {
	switch {
	case r.index != nil:
		r.index[x.slot] = int32(len(r.list))
	case len(r.list) == smallRoom:
		r.index = make(map[uint32]int32, 2*smallRoom)
		for i, m := range r.list {
			r.index[m.slot] = int32(i)
		}
		r.index[x.slot] = int32(len(r.list))
	}
	r.list = append(r.list, x)
}

// find returns the position of the member of slot in list.
func (r *room) find(slot uint32) (int32, bool) {
	if r.index != nil {
		i, ok := r.index[slot]
		return i, ok
	}
	for i := range r.list {
		if r.list[i].slot == slot {
			return int32(i), true
		}
	}
	return 0, false
}

// remove removes the member of slot from r and reports whether it was
// there; the caller holds the shard lock. A room keeps its index once it
// has one, so one that shrinks and grows around smallRoom does not rebuild
// it every time.
func (r *room) remove(slot uint32) bool {
	i, ok := r.find(slot)
	if !ok {
		return false
	}
	last := len(r.list) - 1
	if r.index != nil {
		delete(r.index, slot)
		if int(i) != last {
			r.index[r.list[last].slot] = i
		}
	}
	if int(i) != last {
		r.list[i] = r.list[last]
	}
	r.list[last] = member{}
	r.list = r.list[:last]
	if cap(r.list) > 64 && len(r.list) < cap(r.list)/4 {
		r.list = slices.Clone(r.list) // a room that shrank lets go of its old list
	}
	return true
}

type roomShard struct {
	mu sync.Mutex
	// index maps a room name to its *room. It is written only under mu and
	// read without it, so a broadcast finds a room without locking.
	index sync.Map
}

// entry is a registered socket: its member fields, flattened so that dead
// fits in slot's padding (64 bytes, not 80, per socket).
type entry struct {
	s     Socket
	slot  uint32
	dead  bool // guarded by mu; set once DelAll has run
	mu    sync.Mutex
	rooms roomSet // guarded by mu
}

func (e *entry) member() member { return member{s: e.s, slot: e.slot} }

// roomSet is the set of rooms of a socket: a slice while it is small, as
// it nearly always is (a few rooms, a quarter of the memory of a map), and
// a map beyond.
type roomSet struct {
	small []string
	big   map[string]struct{}
}

const smallRoomSet = 16

// add adds name and reports whether it was not in the set.
func (s *roomSet) add(name string) bool {
	if s.big != nil {
		if _, ok := s.big[name]; ok {
			return false
		}
		s.big[name] = struct{}{}
		return true
	}
	if slices.Contains(s.small, name) {
		return false
	}
	if len(s.small) < smallRoomSet {
		s.small = append(s.small, name)
		return true
	}
	s.big = make(map[string]struct{}, 2*smallRoomSet)
	for _, r := range s.small {
		s.big[r] = struct{}{}
	}
	s.big[name] = struct{}{}
	s.small = nil
	return true
}

// del removes name and reports whether it was in the set.
func (s *roomSet) del(name string) bool {
	if s.big != nil {
		if _, ok := s.big[name]; ok {
			delete(s.big, name)
			return true
		}
		return false
	}
	i := slices.Index(s.small, name)
	if i < 0 {
		return false
	}
	last := len(s.small) - 1
	s.small[i] = s.small[last]
	s.small[last] = ""
	s.small = s.small[:last]
	return true
}

func (s *roomSet) len() int { return len(s.small) + len(s.big) }

// appendTo appends the rooms to dst.
func (s *roomSet) appendTo(dst []string) []string {
	dst = append(dst, s.small...)
	for r := range s.big {
		dst = append(dst, r)
	}
	return dst
}

type socketShard struct {
	mu   sync.Mutex
	m    map[string]*entry
	free []uint32 // slots released by DelAll, for reuse
	next uint32   // the number of slots this shard has handed out
}

func (m *Memory) roomShard(room string) *roomShard { return &m.rooms[m.shardOf(room)] }

// lookup returns the room named name, nil if it has no members. It takes no
// lock.
func (sh *roomShard) lookup(name string) *room {
	v, ok := sh.index.Load(name)
	if !ok {
		return nil
	}
	return v.(*room)
}

// roomSnapshot returns the members of a room, nil if it has none.
func (m *Memory) roomSnapshot(name string) *snapshot {
	sh := m.roomShard(name)
	r := sh.lookup(name)
	if r == nil {
		return nil
	}
	if s := r.snap.Load(); s != nil {
		return s
	}
	// Stale: rebuild under the shard lock, so that a join or leave (which
	// invalidates under that lock too) cannot be overwritten by an older
	// list.
	sh.mu.Lock()
	s := r.snap.Load()
	if s == nil {
		s = r.build()
		r.snap.Store(s)
	}
	sh.mu.Unlock()
	return s
}

// build returns a new snapshot of r's members; the caller holds the shard
// lock.
func (r *room) build() *snapshot {
	return &snapshot{members: slices.Clone(r.list)}
}

// changed records a join or leave of r; the caller holds the shard lock.
func (m *Memory) changed(r *room) {
	if m.cow {
		r.snap.Store(r.build())
	} else {
		r.snap.Store(nil)
	}
}

// allSnapshot returns every registered socket.
func (m *Memory) allSnapshot() *snapshot {
	if s := m.all.Load(); s != nil && s.gen == m.allGen.Load() {
		return s
	}
	m.allMu.Lock()
	defer m.allMu.Unlock()
	// Read the generation before the shards: a registration bumps it after
	// changing its shard, so a change this rebuild misses leaves the result
	// stale and the next broadcast rebuilds again.
	gen := m.allGen.Load()
	old := m.all.Load()
	if old != nil && old.gen == gen {
		return old
	}
	n := 0
	if old != nil {
		n = len(old.members)
	}
	s := &snapshot{gen: gen, members: make([]member, 0, n+n/8)}
	for i := range m.sockets {
		sh := &m.sockets[i]
		sh.mu.Lock()
		for _, e := range sh.m {
			s.members = append(s.members, e.member())
		}
		sh.mu.Unlock()
	}
	m.all.Store(s)
	return s
}

// entry returns the registered entry of id, nil if there is none.
func (m *Memory) entry(id string) *entry {
	sh := &m.sockets[m.shardOf(id)]
	sh.mu.Lock()
	e := sh.m[id]
	sh.mu.Unlock()
	return e
}

// register returns the entry of s, creating it if needed.
func (m *Memory) register(s Socket, id string) *entry {
	i := m.shardOf(id)
	sh := &m.sockets[i]
	sh.mu.Lock()
	e := sh.m[id]
	if e == nil {
		var local uint32
		if n := len(sh.free); n > 0 {
			local = sh.free[n-1]
			sh.free = sh.free[:n-1]
		} else {
			local = sh.next
			sh.next++
		}
		e = &entry{s: s, slot: local*uint32(len(m.sockets)) + i}
		if sh.m == nil {
			sh.m = make(map[string]*entry)
		}
		sh.m[id] = e
		m.allGen.Add(1)
	}
	sh.mu.Unlock()
	return e
}

// AddAll registers s, keeping this Socket handle until DelAll (a later
// AddAll with another handle for the same id keeps the first one), and adds
// it to rooms.
func (m *Memory) AddAll(s Socket, rooms ...string) {
	id := s.ID()
	var ev events
	for {
		e := m.register(s, id)
		e.mu.Lock()
		if e.dead {
			// DelAll took it out of the registry after we found it; the
			// next register creates a new entry.
			e.mu.Unlock()
			continue
		}
		m.joinLocked(e, id, rooms, &ev)
		e.mu.Unlock()
		break
	}
	m.fire(ev)
}

// joinLocked adds e to rooms; the caller holds e.mu.
func (m *Memory) joinLocked(e *entry, id string, rooms []string, ev *events) {
	for _, name := range rooms {
		if !e.rooms.add(name) {
			continue
		}
		sh := m.roomShard(name)
		sh.mu.Lock()
		r := sh.lookup(name)
		created := r == nil
		if created {
			r = &room{}
		}
		r.add(e.member())
		m.changed(r)
		if created {
			sh.index.Store(name, r)
		}
		sh.mu.Unlock()
		if created {
			ev.add(m, evCreate, name, "")
		}
		ev.add(m, evJoin, name, id)
	}
}

// Del removes the socket id from room. The socket stays registered.
func (m *Memory) Del(id, room string) {
	e := m.entry(id)
	if e == nil {
		return
	}
	var ev events
	e.mu.Lock()
	if !e.dead && e.rooms.del(room) {
		m.leave(e, id, room, &ev)
	}
	e.mu.Unlock()
	m.fire(ev)
}

// leave removes e from room, deleting the room when it empties. The caller
// holds e.mu (not the shard lock).
func (m *Memory) leave(e *entry, id, name string, ev *events) {
	sh := m.roomShard(name)
	sh.mu.Lock()
	r := sh.lookup(name)
	// e.rooms and the rooms' members change together under e.mu, so the
	// room exists and lists e; the checks are for safety only.
	left, deleted := false, false
	if r != nil {
		if r.remove(e.slot) {
			left = true
			if len(r.list) == 0 {
				sh.index.Delete(name)
				deleted = true
			}
			m.changed(r)
		}
	}
	sh.mu.Unlock()
	if left {
		ev.add(m, evLeave, name, id)
	}
	if deleted {
		ev.add(m, evDelete, name, "")
	}
}

// DelAll removes the socket id from every room and forgets it.
func (m *Memory) DelAll(id string) {
	sh := &m.sockets[m.shardOf(id)]
	sh.mu.Lock()
	e := sh.m[id]
	if e == nil {
		sh.mu.Unlock()
		return
	}
	delete(sh.m, id)
	sh.mu.Unlock()
	m.allGen.Add(1)

	var ev events
	e.mu.Lock()
	e.dead = true
	for _, name := range e.rooms.small {
		m.leave(e, id, name, &ev)
	}
	for name := range e.rooms.big {
		m.leave(e, id, name, &ev)
	}
	e.rooms = roomSet{}
	e.mu.Unlock()

	// The slot is free only now that no room lists the entry, so that two
	// live sockets never share a slot.
	sh.mu.Lock()
	sh.free = append(sh.free, e.slot/uint32(len(m.sockets)))
	sh.mu.Unlock()
	m.fire(ev)
}

// Broadcast sends out to the sockets opts selects, each at most once. It
// returns ctx.Err() if ctx is already done and ErrClosed after Close; it
// does not otherwise look at ctx, since it never waits.
func (m *Memory) Broadcast(ctx context.Context, out *Outgoing, opts Options) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Fast paths: no except and at most one room need no deduplication.
	if len(opts.Except) == 0 {
		switch len(opts.Rooms) {
		case 0:
			for _, x := range m.allSnapshot().members {
				x.s.Send(out)
			}
			return nil
		case 1:
			if s := m.roomSnapshot(opts.Rooms[0]); s != nil {
				for _, x := range s.members {
					x.s.Send(out)
				}
			}
			return nil
		}
	}
	m.visit(opts, func(x member) { x.s.Send(out) })
	return nil
}

// visit calls fn for each socket opts selects, once, without any lock held.
func (m *Memory) visit(opts Options, fn func(member)) {
	var buf [8]*snapshot
	snaps := buf[:0] // the snapshots whose slots mark the bitmap
	var bm *bitmap
	if len(opts.Except) > 0 || len(opts.Rooms) > 1 {
		bm = bitmaps.Get().(*bitmap)
	}
	for _, name := range opts.Except {
		if s := m.roomSnapshot(name); s != nil {
			snaps = append(snaps, s)
			for _, x := range s.members {
				bm.set(x.slot)
			}
		}
	}
	switch len(opts.Rooms) {
	case 0, 1:
		// One source: no duplicates, only the except bits to test.
		var s *snapshot
		if len(opts.Rooms) == 0 {
			s = m.allSnapshot()
		} else {
			s = m.roomSnapshot(opts.Rooms[0])
		}
		if s != nil {
			for _, x := range s.members {
				if bm == nil || !bm.has(x.slot) {
					fn(x)
				}
			}
		}
	default:
		for _, name := range opts.Rooms {
			s := m.roomSnapshot(name)
			if s == nil {
				continue
			}
			snaps = append(snaps, s)
			for _, x := range s.members {
				if bm.testAndSet(x.slot) {
					fn(x)
				}
			}
		}
	}
	if bm != nil {
		bm.reset(snaps)
		bitmaps.Put(bm)
	}
}

// bitmap is a set of slots, one bit each. Pooled bitmaps are all zero.
type bitmap struct{ w []uint64 }

var bitmaps = sync.Pool{New: func() any { return new(bitmap) }}

func (b *bitmap) set(slot uint32) {
	i := int(slot >> 6)
	if i >= len(b.w) {
		b.grow(i)
	}
	b.w[i] |= 1 << (slot & 63)
}

func (b *bitmap) has(slot uint32) bool {
	i := int(slot >> 6)
	return i < len(b.w) && b.w[i]&(1<<(slot&63)) != 0
}

// testAndSet sets slot and reports whether it was clear.
func (b *bitmap) testAndSet(slot uint32) bool {
	i := int(slot >> 6)
	if i >= len(b.w) {
		b.grow(i)
	}
	bit := uint64(1) << (slot & 63)
	if b.w[i]&bit != 0 {
		return false
	}
	b.w[i] |= bit
	return true
}

func (b *bitmap) grow(i int) {
	w := make([]uint64, max(i+1, 2*len(b.w)))
	copy(w, b.w)
	b.w = w
}

// reset clears the bits the snapshots set: word by word when they are
// fewer than the words, else all at once.
func (b *bitmap) reset(snaps []*snapshot) {
	n := 0
	for _, s := range snaps {
		n += len(s.members)
	}
	if n >= len(b.w) {
		clear(b.w)
		return
	}
	for _, s := range snaps {
		for _, x := range s.members {
			if i := int(x.slot >> 6); i < len(b.w) {
				b.w[i] = 0
			}
		}
	}
}

// Sockets returns the ids of the sockets in any of rooms, every registered
// socket when rooms is empty. The slice is the caller's.
func (m *Memory) Sockets(rooms ...string) []string {
	var ids []string
	m.visit(Options{Rooms: rooms}, func(x member) { ids = append(ids, x.s.ID()) })
	return ids
}

// LocalSockets returns the sockets opts selects (Local is irrelevant in
// memory). It is the local half of FetchSockets and DisconnectSockets; the
// slice is the caller's.
func (m *Memory) LocalSockets(opts Options) []Socket {
	var out []Socket
	m.visit(opts, func(x member) { out = append(out, x.s) })
	return out
}

// SocketRooms returns the rooms of the socket id, nil if it is not
// registered (empty, not nil, if it is registered in no room).
func (m *Memory) SocketRooms(id string) []string {
	e := m.entry(id)
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dead {
		return nil
	}
	return e.rooms.appendTo(make([]string, 0, e.rooms.len()))
}

// Rooms returns the names of the rooms that have members, including each
// socket's own room. The slice is the caller's.
func (m *Memory) Rooms() []string {
	var names []string
	for i := range m.rooms {
		m.rooms[i].index.Range(func(k, _ any) bool {
			names = append(names, k.(string))
			return true
		})
	}
	return names
}

// AddSockets makes the sockets opts selects join rooms. Sockets that
// DelAll forgets meanwhile are not registered again.
func (m *Memory) AddSockets(ctx context.Context, opts Options, rooms ...string) error {
	return m.apply(ctx, opts, rooms, true)
}

// DelSockets makes the sockets opts selects leave rooms.
func (m *Memory) DelSockets(ctx context.Context, opts Options, rooms ...string) error {
	return m.apply(ctx, opts, rooms, false)
}

func (m *Memory) apply(ctx context.Context, opts Options, rooms []string, join bool) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(rooms) == 0 {
		return nil
	}
	var ids []string
	m.visit(opts, func(x member) { ids = append(ids, x.s.ID()) })
	for _, id := range ids {
		if join {
			m.join(id, rooms)
		} else {
			for _, r := range rooms {
				m.Del(id, r)
			}
		}
	}
	return nil
}

// join adds the registered socket id to rooms; it does nothing if id is
// not registered.
func (m *Memory) join(id string, rooms []string) {
	e := m.entry(id)
	if e == nil {
		return
	}
	var ev events
	e.mu.Lock()
	if !e.dead {
		m.joinLocked(e, id, rooms, &ev)
	}
	e.mu.Unlock()
	m.fire(ev)
}

// Close marks the adapter closed: Broadcast, AddSockets and DelSockets then
// return ErrClosed. The rooms stay readable and AddAll, Del and DelAll keep
// working, so sockets can be torn down in any order. Close always returns
// nil.
// FetchSockets describes the local sockets opts selects; sockets that are
// not Describers are described by their id.
func (m *Memory) FetchSockets(ctx context.Context, opts Options) ([]SocketDetails, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	socks := m.LocalSockets(opts)
	out := make([]SocketDetails, 0, len(socks))
	for _, s := range socks {
		if d, ok := s.(Describer); ok {
			out = append(out, d.Details())
		} else {
			out = append(out, SocketDetails{ID: s.ID(), Rooms: m.SocketRooms(s.ID())})
		}
	}
	return out, nil
}

// ServerSideEmit has no other server to reach in memory.
func (m *Memory) ServerSideEmit(ctx context.Context, p *parser.Packet) error { return ctx.Err() }

// ServerSideEmitWithAck has no other server to hear from in memory: it
// returns no reply at once (the official in-memory adapter never answers).
func (m *Memory) ServerSideEmitWithAck(ctx context.Context, p *parser.Packet) ([][]byte, error) {
	return nil, ctx.Err()
}

// BroadcastWithAck has no other server to forward to in memory.
func (m *Memory) BroadcastWithAck(ctx context.Context, out *Outgoing, opts Options,
	clientCount func(int), ack func([]byte, [][]byte)) (int, error) {
	return 0, ctx.Err()
}

// DisconnectSockets disconnects the local sockets opts selects that are
// Disconnecters.
func (m *Memory) DisconnectSockets(ctx context.Context, opts Options, close bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, s := range m.LocalSockets(opts) {
		if d, ok := s.(Disconnecter); ok {
			d.Disconnect(close)
		}
	}
	return nil
}

// AllRooms is Rooms in memory.
func (m *Memory) AllRooms(ctx context.Context) ([]string, error) { return m.Rooms(), ctx.Err() }

// ServerCount is 1 in memory.
func (m *Memory) ServerCount(ctx context.Context) (int, error) { return 1, ctx.Err() }

func (m *Memory) Close() error {
	m.closed.Store(true)
	return nil
}

// Room change events, collected under locks and fired after.
const (
	evCreate = iota
	evJoin
	evLeave
	evDelete
)

type event struct {
	kind     uint8
	room, id string
}

type events []event

func (ev *events) add(m *Memory, kind uint8, room, id string) {
	if m.hasHooks {
		*ev = append(*ev, event{kind, room, id})
	}
}

func (m *Memory) fire(ev events) {
	h := &m.hooks
	for _, e := range ev {
		switch e.kind {
		case evCreate:
			if h.OnCreateRoom != nil {
				h.OnCreateRoom(e.room)
			}
		case evJoin:
			if h.OnJoinRoom != nil {
				h.OnJoinRoom(e.room, e.id)
			}
		case evLeave:
			if h.OnLeaveRoom != nil {
				h.OnLeaveRoom(e.room, e.id)
			}
		case evDelete:
			if h.OnDeleteRoom != nil {
				h.OnDeleteRoom(e.room)
			}
		}
	}
}
