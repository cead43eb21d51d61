package adapter

// Test hooks into the in-memory adapter.

// SetCopyOnWrite makes m rebuild a room's snapshot on every join and leave
// instead of lazily. Call it before m is used.
func SetCopyOnWrite(m *Memory) { m.cow = true }

// Snapshot returns the ids in the cached snapshot of room and whether there
// is one (false for a stale or unknown room).
func Snapshot(m *Memory, room string) (ids []string, cached bool) {
	r := m.roomShard(room).lookup(room)
	if r == nil {
		return nil, false
	}
	s := r.snap.Load()
	if s == nil {
		return nil, false
	}
	for _, x := range s.members {
		ids = append(ids, x.s.ID())
	}
	return ids, true
}

// SnapshotPointer returns the cached snapshot of room as an opaque value,
// to tell whether a broadcast rebuilt it.
func SnapshotPointer(m *Memory, room string) any {
	if r := m.roomShard(room).lookup(room); r != nil {
		return r.snap.Load()
	}
	return nil
}

// AllSnapshotValid reports whether the snapshot of all sockets is current.
func AllSnapshotValid(m *Memory) bool {
	s := m.all.Load()
	return s != nil && s.gen == m.allGen.Load()
}

// MapDedupBroadcast broadcasts to the union of rooms like Broadcast, but
// deduplicates with a map instead of the slot bitmap: the benchmarks
// compare the two.
func MapDedupBroadcast(m *Memory, out *Outgoing, rooms []string, seen map[uint32]struct{}) {
	for _, name := range rooms {
		s := m.roomSnapshot(name)
		if s == nil {
			continue
		}
		for _, x := range s.members {
			if _, dup := seen[x.slot]; dup {
				continue
			}
			seen[x.slot] = struct{}{}
			x.s.Send(out)
		}
	}
	clear(seen)
}

// ShardCount is shardCount.
var ShardCount = shardCount
