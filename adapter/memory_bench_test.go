package adapter_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/adapter/adaptertest"
)

// countingSocket is the cheapest realistic socket: it asks for the shared
// encoded form, as a real socket does, and counts.
type countingSocket struct {
	id string
	n  atomic.Int64
}

func (s *countingSocket) ID() string { return s.id }

func (s *countingSocket) Send(out *adapter.Outgoing) {
	out.Encoded(encodeBench)
	s.n.Add(1)
}

func encodeBench(o *adapter.Outgoing) any { return o.Packet.Data }

func sockID(i int) string { return fmt.Sprintf("sock%016d", i) }

// newBenchAdapter registers n sockets, each in its own room and in the
// rooms roomsOf(i) returns.
func newBenchAdapter(b *testing.B, n int, cow bool, roomsOf func(i int) []string) (*adapter.Memory, []*countingSocket) {
	a := adapter.NewWithHooks(adaptertest.Namespace("/"), adapter.Hooks{})
	if cow {
		adapter.SetCopyOnWrite(a)
	}
	socks := make([]*countingSocket, n)
	for i := range socks {
		s := &countingSocket{id: sockID(i)}
		socks[i] = s
		a.AddAll(s, append([]string{s.id}, roomsOf(i)...)...)
	}
	return a, socks
}

func noRooms(int) []string { return nil }

// benchBroadcast broadcasts with opts in a loop and reports the cost per
// recipient.
func benchBroadcast(b *testing.B, a *adapter.Memory, socks []*countingSocket, opts adapter.Options) {
	ctx := context.Background()
	out := newOut()
	if err := a.Broadcast(ctx, out, opts); err != nil { // builds the snapshots
		b.Fatal(err)
	}
	var before int64
	for _, s := range socks {
		before += s.n.Load()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := a.Broadcast(ctx, out, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var after int64
	for _, s := range socks {
		after += s.n.Load()
	}
	recipients := float64(after-before) / float64(b.N)
	b.ReportMetric(recipients, "recipients/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/recipients, "ns/recipient")
}

func BenchmarkBroadcastAll_1000Sockets(b *testing.B) {
	a, socks := newBenchAdapter(b, 1000, false, noRooms)
	benchBroadcast(b, a, socks, adapter.Options{})
}

func BenchmarkBroadcastRoom_1000Sockets(b *testing.B) {
	a, socks := newBenchAdapter(b, 1000, false, func(int) []string { return []string{"room"} })
	benchBroadcast(b, a, socks, adapter.Options{Rooms: []string{"room"}})
}

// BenchmarkBroadcastRoom_1000Sockets_ExceptSender is socket.to(room).emit
// by a member: one room minus the sender's own room.
func BenchmarkBroadcastRoom_1000Sockets_ExceptSender(b *testing.B) {
	a, socks := newBenchAdapter(b, 1000, false, func(int) []string { return []string{"room"} })
	benchBroadcast(b, a, socks, adapter.Options{Rooms: []string{"room"}, Except: []string{sockID(0)}})
}

// threeRooms puts 2000 sockets in three rooms of 1000 that overlap by
// half, and the first 100 in the room "muted".
func threeRooms(i int) []string {
	var r []string
	if i < 1000 {
		r = append(r, "r0")
	}
	if i >= 500 && i < 1500 {
		r = append(r, "r1")
	}
	if i >= 1000 {
		r = append(r, "r2")
	}
	if i < 100 {
		r = append(r, "muted")
	}
	return r
}

func BenchmarkBroadcastRooms_3x1000_Except(b *testing.B) {
	a, socks := newBenchAdapter(b, 2000, false, threeRooms)
	benchBroadcast(b, a, socks, adapter.Options{
		Rooms:  []string{"r0", "r1", "r2"},
		Except: []string{"muted", sockID(1000)},
	})
}

// BenchmarkDedup compares the slot bitmap Broadcast uses to deduplicate a
// union of rooms with a (reused, cleared) map of slots.
func BenchmarkDedup(b *testing.B) {
	rooms := []string{"r0", "r1", "r2"}
	b.Run("bitmap", func(b *testing.B) {
		a, socks := newBenchAdapter(b, 2000, false, threeRooms)
		benchBroadcast(b, a, socks, adapter.Options{Rooms: rooms})
	})
	b.Run("map", func(b *testing.B) {
		a, _ := newBenchAdapter(b, 2000, false, threeRooms)
		out := newOut()
		seen := make(map[uint32]struct{})
		adapter.MapDedupBroadcast(a, out, rooms, seen)
		b.ReportAllocs()
		for b.Loop() {
			adapter.MapDedupBroadcast(a, out, rooms, seen)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2000, "ns/recipient")
	})
}

// BenchmarkJoinLeave_WhileBroadcasting measures a join and a leave (one
// op) from parallel goroutines while another goroutine broadcasts to a
// room of 500 without pause. In "other-rooms" the joins and leaves touch
// 64 other rooms, in "same-room" the room being broadcast to: the worst
// case for snapshots, which then go stale between broadcasts.
func BenchmarkJoinLeave_WhileBroadcasting(b *testing.B) {
	for _, mode := range []string{"lazy", "cow"} {
		for _, target := range []string{"other-rooms", "same-room"} {
			b.Run(mode+"/"+target, func(b *testing.B) {
				a, socks := newBenchAdapter(b, 1000, mode == "cow", func(i int) []string {
					if i < 500 {
						return []string{"hot"}
					}
					return nil
				})
				var (
					stop       atomic.Bool
					broadcasts atomic.Int64
					wg         sync.WaitGroup
				)
				wg.Go(func() {
					ctx, out := context.Background(), newOut()
					opts := adapter.Options{Rooms: []string{"hot"}}
					for !stop.Load() {
						_ = a.Broadcast(ctx, out, opts)
						broadcasts.Add(1)
					}
				})
				var next atomic.Int64
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					g := int(next.Add(1))
					i := g * 7919
					for pb.Next() {
						i++
						s := socks[500+i%500] // never a member of hot
						room := "hot"
						if target == "other-rooms" {
							room = fmt.Sprint("r", i%64)
						}
						a.AddAll(s, room)
						a.Del(s.id, room)
					}
				})
				b.StopTimer()
				stop.Store(true)
				wg.Wait()
				b.ReportMetric(float64(broadcasts.Load())/b.Elapsed().Seconds(), "broadcasts/s")
			})
		}
	}
}

// BenchmarkSnapshotStrategy compares lazy rebuilds (invalidate on join or
// leave, rebuild on the next broadcast) with copy-on-write (rebuild on
// every join or leave).
func BenchmarkSnapshotStrategy(b *testing.B) {
	for _, mode := range []string{"lazy", "cow"} {
		cow := mode == "cow"
		// Filling a room of 1000 from empty, then emptying it (one op), no
		// broadcast: what a big room costs to build.
		b.Run(mode+"/fill-room-1000", func(b *testing.B) {
			a, socks := newBenchAdapter(b, 1000, cow, noRooms)
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range socks {
					a.AddAll(s, "big")
				}
				for _, s := range socks {
					a.Del(s.id, "big")
				}
			}
		})
		// One join and one leave in a room of 1000 between broadcasts to
		// it: the worst case for lazy rebuilds.
		b.Run(mode+"/churn-1-per-broadcast-1000", func(b *testing.B) {
			a, socks := newBenchAdapter(b, 1001, cow, func(i int) []string {
				if i < 1000 {
					return []string{"room"}
				}
				return nil
			})
			ctx, out := context.Background(), newOut()
			opts := adapter.Options{Rooms: []string{"room"}}
			extra := socks[1000]
			b.ReportAllocs()
			for b.Loop() {
				a.AddAll(extra, "room")
				a.Del(extra.id, "room")
				_ = a.Broadcast(ctx, out, opts)
			}
		})
		// Ten joins and ten leaves between broadcasts.
		b.Run(mode+"/churn-10-per-broadcast-1000", func(b *testing.B) {
			a, socks := newBenchAdapter(b, 1010, cow, func(i int) []string {
				if i < 1000 {
					return []string{"room"}
				}
				return nil
			})
			ctx, out := context.Background(), newOut()
			opts := adapter.Options{Rooms: []string{"room"}}
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range socks[1000:] {
					a.AddAll(s, "room")
				}
				for _, s := range socks[1000:] {
					a.Del(s.id, "room")
				}
				_ = a.Broadcast(ctx, out, opts)
			}
		})
	}
}

// BenchmarkConnectDisconnect measures registering a socket in its own room
// and one more, then DelAll, in a namespace of 10000.
func BenchmarkConnectDisconnect(b *testing.B) {
	a, _ := newBenchAdapter(b, 10000, false, func(i int) []string { return []string{fmt.Sprint("r", i%16)} })
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := &countingSocket{id: sockID(100000 + int(next.Add(1)))}
			a.AddAll(s, s.id, "lobby")
			a.DelAll(s.id)
		}
	})
}
