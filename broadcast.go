package dynamicio

import (
	"context"
	"slices"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
)

// Broadcast selects sockets of a namespace and sends to them. Its methods
// return modified copies and never change the value they are called on, so
// a Broadcast may be kept and shared between goroutines.
//
//	ns.To("room1", "room2").Except("muted").Volatile().Emit("tick", n)
type Broadcast struct {
	ns       *Namespace
	rooms    []string
	except   []string
	volatile bool
	noCompr  bool
	local    bool
	timeout  time.Duration
}

// To adds rooms: the broadcast reaches sockets in any of them.
func (b Broadcast) To(rooms ...string) Broadcast {
	b.rooms = append(slices.Clip(b.rooms), rooms...)
	return b
}

// In is To.
func (b Broadcast) In(rooms ...string) Broadcast { return b.To(rooms...) }

// Except leaves out the sockets in any of the rooms.
func (b Broadcast) Except(rooms ...string) Broadcast {
	b.except = append(slices.Clip(b.except), rooms...)
	return b
}

// Volatile lets the packet be dropped for clients that cannot take it at
// once.
func (b Broadcast) Volatile() Broadcast {
	b.volatile = true
	return b
}

// Compress allows (the default) or forbids transport compression.
func (b Broadcast) Compress(on bool) Broadcast {
	b.noCompr = !on
	return b
}

// Timeout bounds EmitWithAck (on top of its context), like the official
// timeout(ms).
func (b Broadcast) Timeout(d time.Duration) Broadcast {
	b.timeout = d
	return b
}

// Local keeps the broadcast on this server.
func (b Broadcast) Local() Broadcast {
	b.local = true
	return b
}

func (b Broadcast) options() adapter.Options {
	return adapter.Options{Rooms: b.rooms, Except: b.except, Local: b.local}
}

// Emit sends an event to the selected sockets. The packet is encoded once
// for all of them.
func (b Broadcast) Emit(event string, args ...any) error {
	p, err := eventPacket(b.ns.name, event, args)
	if err != nil {
		return err
	}
	if b.ns.recov != nil && !b.volatile {
		b.ns.recov.Record(p, b.options())
	}
	out := &adapter.Outgoing{Packet: p, Volatile: b.volatile, Compress: !b.noCompr}
	return b.ns.adapter.Broadcast(context.Background(), out, b.options())
}

// SocketsJoin makes the selected sockets join rooms.
func (b Broadcast) SocketsJoin(ctx context.Context, rooms ...string) error {
	return b.ns.adapter.AddSockets(ctx, b.options(), rooms...)
}

// SocketsLeave makes the selected sockets leave rooms.
func (b Broadcast) SocketsLeave(ctx context.Context, rooms ...string) error {
	return b.ns.adapter.DelSockets(ctx, b.options(), rooms...)
}

// Sockets returns the ids of the selected local sockets.
func (b Broadcast) Sockets() []string {
	ids := b.ns.adapter.Sockets(b.rooms...)
	if len(b.except) == 0 {
		return ids
	}
	out := ids[:0]
	for _, id := range ids {
		rooms := b.ns.adapter.SocketRooms(id)
		if !slices.ContainsFunc(rooms, func(r string) bool { return slices.Contains(b.except, r) }) {
			out = append(out, id)
		}
	}
	return out
}

// DisconnectSockets disconnects the selected sockets, on every server of
// the cluster; with close, their whole connections.
func (b Broadcast) DisconnectSockets(ctx context.Context, close bool) error {
	return b.ns.adapter.DisconnectSockets(ctx, b.options(), close)
}
