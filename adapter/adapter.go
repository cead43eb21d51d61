package adapter

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/dynamicio/dynamicio/parser"
)

// Socket is a connected local socket as an adapter sees it. The server
// implements it.
type Socket interface {
	// ID returns the socket id (also the name of its own room).
	ID() string
	// Send queues out for the socket. It must not block: the socket queues
	// the packet's shared encoded form (see Outgoing.Encoded) and returns.
	Send(out *Outgoing)
}

// SocketDetails describes a socket for FetchSockets, wherever it lives.
// A cluster adapter carries it between servers as JSON.
type SocketDetails struct {
	ID        string   `json:"id"`
	Handshake any      `json:"handshake"`
	Rooms     []string `json:"rooms"`
	Data      any      `json:"data"`
}

// Describer is implemented by sockets that can describe themselves for
// FetchSockets (the server's sockets do).
type Describer interface {
	Details() SocketDetails
}

// Disconnecter is implemented by sockets that can be disconnected (the
// server's are): DisconnectSockets uses it. With close, the socket's whole
// connection is closed.
type Disconnecter interface {
	Disconnect(close bool)
}

// AckBroadcaster is implemented by namespaces that can ask their local
// sockets to acknowledge a broadcast (the server's do). A cluster adapter
// uses it to serve another server's broadcast with acknowledgements.
type AckBroadcaster interface {
	// LocalBroadcastWithAck sends out (an event whose ack id the namespace
	// assigns) to the local sockets opts selects, each asked to
	// acknowledge. It calls clientCount once, before returning, with the
	// number of sockets asked, then ack with the JSON text of the first
	// argument of each acknowledgement (and the attachments it refers
	// to), from any goroutine, until timeout.
	LocalBroadcastWithAck(out *Outgoing, opts Options, timeout time.Duration,
		clientCount func(n int), ack func(arg []byte, atts [][]byte))
}

// Namespace is what an adapter needs from the namespace it serves. The
// server implements it.
type Namespace interface {
	// Name returns the namespace's full name; it keys every channel of a
	// cluster adapter, so tenants never mix.
	Name() string
	// ServerSideEvent delivers an event another server sent with
	// ServerSideEmit (data is its JSON array: event name, then arguments).
	// ack, when not nil, answers it with the JSON array of the reply's
	// arguments. A cluster adapter calls it; the in-memory one never does.
	ServerSideEvent(p *parser.Packet, ack func(args []byte))
}

// Factory creates the adapter of a namespace. The server calls it once per
// namespace instance and closes the adapter when the namespace goes away.
type Factory func(ns Namespace) Adapter

// Options select the sockets an operation reaches, as the official
// adapter's BroadcastOptions do: every socket in any of Rooms (every socket
// of the namespace when Rooms is empty), minus every socket in any of
// Except; each socket at most once.
type Options struct {
	Rooms  []string
	Except []string
	// Local keeps the operation on this server (no cluster traffic).
	Local bool
}

// Outgoing is a packet on its way to sockets. It is encoded at most once,
// by the first recipient that needs its wire form, and every other
// recipient shares that form: a broadcast costs one encoding whatever its
// audience.
type Outgoing struct {
	Packet *parser.Packet
	// Volatile packets may be dropped for a socket that cannot take them
	// now; Compress allows transport compression.
	Volatile bool
	Compress bool

	encoded atomic.Pointer[encodedBox]
}

type encodedBox struct{ v any }

// Encoded returns the wire form of the packet, calling build the first
// time. Concurrent first calls may both build; one result wins and every
// caller gets it.
func (o *Outgoing) Encoded(build func(*Outgoing) any) any {
	if b := o.encoded.Load(); b != nil {
		return b.v
	}
	b := &encodedBox{v: build(o)}
	if o.encoded.CompareAndSwap(nil, b) {
		return b.v
	}
	return o.encoded.Load().v
}

// Adapter keeps the rooms of one namespace and delivers broadcasts. The
// in-memory adapter (New) serves a single server; a cluster adapter (Redis)
// also forwards operations to the other servers. Methods are safe for
// concurrent use. Local operations never block on the network; the methods
// that take a context may.
type Adapter interface {
	// AddAll adds the socket to the rooms (and registers it, so that
	// broadcasts to everyone reach it, when it is in no room yet).
	AddAll(s Socket, rooms ...string)
	// Del removes the socket from one room.
	Del(id, room string)
	// DelAll removes the socket from every room and forgets it.
	DelAll(id string)

	// Broadcast sends out to the sockets opts selects. The local ones are
	// sent out itself, not a copy, so that they share its encoded form,
	// before Broadcast returns.
	Broadcast(ctx context.Context, out *Outgoing, opts Options) error

	// Sockets returns the ids of the local sockets in any of rooms (every
	// local socket when rooms is empty).
	Sockets(rooms ...string) []string
	// FetchSockets describes the sockets opts selects, on every server (only
	// this one's with Local or in memory).
	FetchSockets(ctx context.Context, opts Options) ([]SocketDetails, error)
	// LocalSockets returns the local sockets opts selects (except rooms
	// applied). It is the local half of fetching, disconnecting and
	// broadcasting with acknowledgements.
	LocalSockets(opts Options) []Socket
	// SocketRooms returns the rooms of a local socket, nil if unknown.
	SocketRooms(id string) []string
	// Rooms returns the names of the local rooms.
	Rooms() []string

	// AddSockets makes the sockets opts selects join rooms; DelSockets makes
	// them leave rooms.
	AddSockets(ctx context.Context, opts Options, rooms ...string) error
	DelSockets(ctx context.Context, opts Options, rooms ...string) error

	// BroadcastWithAck forwards a broadcast whose recipients are asked to
	// acknowledge it to the other servers (there are none in memory) and
	// returns how many servers will answer. Each of them calls clientCount
	// once with the number of its sockets asked, and ack once per
	// acknowledgement with the JSON text of its first argument, until ctx
	// ends. out's packet carries no ack id: every server assigns its own.
	// The local half is the caller's (LocalSockets).
	BroadcastWithAck(ctx context.Context, out *Outgoing, opts Options,
		clientCount func(n int), ack func(arg []byte, atts [][]byte)) (int, error)
	// DisconnectSockets disconnects the sockets opts selects, on every
	// server (see Disconnecter).
	DisconnectSockets(ctx context.Context, opts Options, close bool) error
	// AllRooms returns the names of the rooms of every server, each once.
	AllRooms(ctx context.Context) ([]string, error)

	// ServerSideEmit sends an event to the other servers of the cluster,
	// never to clients. The in-memory adapter has no other server.
	ServerSideEmit(ctx context.Context, p *parser.Packet) error
	// ServerSideEmitWithAck also waits for the other servers' replies (each
	// a JSON array of arguments) until all answered or ctx ends.
	ServerSideEmitWithAck(ctx context.Context, p *parser.Packet) ([][]byte, error)
	// ServerCount returns the number of servers, this one included.
	ServerCount(ctx context.Context) (int, error)

	// Close releases the adapter (cluster subscriptions).
	Close() error
}

// ErrClosed is returned by operations on a closed adapter.
var ErrClosed = errors.New("adapter: closed")
