package dynamicio

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/parser"
)

// EmitWithAck sends an event to the selected sockets, each of which is
// asked to acknowledge it, and waits for every acknowledgement or for ctx
// to end. It returns the first argument of each acknowledgement received,
// as the official server does; when ctx ends first, it returns what came
// and ctx's error. With no socket selected it returns at once.
//
// In a cluster the other servers ask their sockets too and report how many
// they asked; EmitWithAck waits for every server's count and every
// acknowledgement, at most 5 s when neither ctx nor Timeout sets a
// deadline (a remote client that goes away never answers). If the adapter
// cannot reach the other servers, the local acknowledgements are still
// collected and returned with its error.
func (b Broadcast) EmitWithAck(ctx context.Context, event string, args ...any) ([]*Args, error) {
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	p, err := eventPacket(b.ns.name, event, args)
	if err != nil {
		return nil, err
	}
	rc := &remoteAcks{notify: make(chan struct{}, 1)}
	var remoteErr error
	if !b.local {
		// The other servers get the packet without an id: each assigns its own.
		rp := *p
		out := &adapter.Outgoing{Packet: &rp, Volatile: b.volatile, Compress: !b.noCompr}
		rc.servers, remoteErr = b.ns.adapter.BroadcastWithAck(ctx, out, b.options(), rc.count, rc.ack)
		if remoteErr != nil {
			rc.servers = 0
		}
		// Another server's client that goes away never answers, and
		// nothing tells this server: without a deadline, wait for the
		// other servers at most remoteAckWait.
		if _, ok := ctx.Deadline(); !ok && rc.servers > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, remoteAckWait)
			defer cancel()
		}
	}
	p.ID, p.HasID = b.ns.ackIDs.Add(1)-1, true
	var targets []*Socket
	for _, x := range b.ns.adapter.LocalSockets(b.options()) {
		if s, ok := x.(*Socket); ok {
			targets = append(targets, s)
		}
	}
	replies := make(chan *Args, len(targets))
	var waiting []*Socket
	for _, s := range targets {
		if s.registerAck(p.ID, replies) {
			waiting = append(waiting, s)
		}
	}
	out := &adapter.Outgoing{Packet: p, Volatile: b.volatile, Compress: !b.noCompr}
	for _, s := range waiting {
		s.Send(out)
	}
	defer func() {
		for _, s := range waiting {
			s.dropAck(p.ID)
		}
	}()
	var got []*Args
	for pending := len(waiting); pending > 0 || !rc.done(); {
		select {
		case a, ok := <-replies:
			pending--
			if ok && a != nil {
				got = append(got, firstArg(a))
			}
		case <-rc.notify:
		case <-ctx.Done():
			return append(got, rc.got()...), ctx.Err()
		}
	}
	return append(got, rc.got()...), remoteErr
}

// remoteAckWait bounds EmitWithAck in a cluster when neither ctx nor
// Timeout does, as the official server requires a timeout there.
const remoteAckWait = 5 * time.Second

// remoteAcks collects the answers of the other servers to a broadcast with
// acknowledgements; the adapter calls count and ack from its goroutines.
type remoteAcks struct {
	servers int           // servers expected to answer; set before any call
	notify  chan struct{} // one slot: "something changed"

	mu      sync.Mutex
	counted int // servers that reported their client count
	clients int // acknowledgements expected from them
	args    []*Args
	bad     int // acknowledgements that did not decode
}

func (r *remoteAcks) count(n int) {
	r.mu.Lock()
	r.counted++
	r.clients += n
	r.mu.Unlock()
	r.poke()
}

func (r *remoteAcks) ack(arg []byte, atts [][]byte) {
	a, err := newArgs(append(append([]byte{'['}, arg...), ']'), atts)
	r.mu.Lock()
	if err != nil {
		r.bad++
	} else {
		r.args = append(r.args, a)
	}
	r.mu.Unlock()
	r.poke()
}

func (r *remoteAcks) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// done reports whether every server counted and every acknowledgement came.
func (r *remoteAcks) done() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counted >= r.servers && len(r.args)+r.bad >= r.clients
}

func (r *remoteAcks) got() []*Args {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.args)
}

// LocalBroadcastWithAck implements adapter.AckBroadcaster for the adapter's
// view of the namespace.
func (v adapterView) LocalBroadcastWithAck(out *adapter.Outgoing, opts adapter.Options, timeout time.Duration,
	clientCount func(int), ack func(arg []byte, atts [][]byte)) {
	v.ns.localBroadcastWithAck(out, opts, timeout, clientCount, ack)
}

// localBroadcastWithAck serves another server's broadcast with
// acknowledgements: it asks this server's sockets and reports each first
// argument until timeout.
func (ns *Namespace) localBroadcastWithAck(out *adapter.Outgoing, opts adapter.Options, timeout time.Duration,
	clientCount func(int), ack func(arg []byte, atts [][]byte)) {
	p := *out.Packet
	p.ID, p.HasID = ns.ackIDs.Add(1)-1, true
	var waiting []*Socket
	for _, x := range ns.adapter.LocalSockets(opts) {
		if s, ok := x.(*Socket); ok {
			waiting = append(waiting, s)
		}
	}
	replies := make(chan *Args, len(waiting))
	n := 0
	for _, s := range waiting {
		if s.registerAck(p.ID, replies) {
			waiting[n] = s
			n++
		}
	}
	waiting = waiting[:n]
	clientCount(n)
	if n == 0 {
		return
	}
	local := &adapter.Outgoing{Packet: &p, Volatile: out.Volatile, Compress: out.Compress}
	for _, s := range waiting {
		s.Send(local)
	}
	ns.srv.wg.Add(1)
	go func() {
		defer ns.srv.wg.Done()
		t := time.NewTimer(timeout)
		defer t.Stop()
		defer func() {
			for _, s := range waiting {
				s.dropAck(p.ID)
			}
		}()
		for range waiting {
			select {
			case a := <-replies:
				if a == nil {
					continue // the socket went away
				}
				arg, atts := a.firstJSON()
				ack(arg, atts)
			case <-t.C:
				return
			}
		}
	}()
}

// firstJSON returns the first argument as JSON (null when there is none)
// and the attachments it may refer to.
func (a *Args) firstJSON() ([]byte, [][]byte) {
	if len(a.raw) == 0 {
		return []byte("null"), nil
	}
	return a.raw[0], a.atts
}

// firstArg keeps only the first argument of an acknowledgement.
func firstArg(a *Args) *Args {
	if len(a.raw) <= 1 {
		return a
	}
	return &Args{raw: a.raw[:1], atts: a.atts}
}

// registerAck makes the socket deliver its acknowledgement of id to ch.
// A socket that disconnects first sends nil.
func (s *Socket) registerAck(id uint64, ch chan *Args) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return false
	}
	if s.acks == nil {
		s.acks = make(map[uint64]chan *Args)
	}
	s.acks[id] = ch
	return true
}

// SocketInfo is a snapshot of a socket, as FetchSockets returns it: enough
// to inspect it and act on it wherever it lives.
type SocketInfo struct {
	ID        string
	Handshake Handshake
	Rooms     []string
	Data      any
	ns        *Namespace
}

// Emit sends an event to the socket.
func (si *SocketInfo) Emit(event string, args ...any) error {
	return si.ns.To(si.ID).Emit(event, args...)
}

// Join makes the socket join rooms.
func (si *SocketInfo) Join(ctx context.Context, rooms ...string) error {
	return si.ns.To(si.ID).SocketsJoin(ctx, rooms...)
}

// Leave makes the socket leave rooms.
func (si *SocketInfo) Leave(ctx context.Context, rooms ...string) error {
	return si.ns.To(si.ID).SocketsLeave(ctx, rooms...)
}

// Disconnect disconnects the socket, wherever it lives; with close, its
// whole connection.
func (si *SocketInfo) Disconnect(ctx context.Context, close bool) error {
	return si.ns.To(si.ID).DisconnectSockets(ctx, close)
}

// FetchSockets returns the selected sockets, through the adapter: in a
// cluster, those of every server.
func (b Broadcast) FetchSockets(ctx context.Context) ([]*SocketInfo, error) {
	// On error (another server did not answer in time) details may still
	// hold what came: return it with the error, as the issue asks.
	details, err := b.ns.adapter.FetchSockets(ctx, b.options())
	out := make([]*SocketInfo, 0, len(details))
	for _, d := range details {
		si := &SocketInfo{ID: d.ID, Rooms: d.Rooms, Data: d.Data, ns: b.ns}
		if hs, ok := d.Handshake.(Handshake); ok {
			if b.ns.Socket(d.ID) == nil {
				continue // local, but still in its middlewares: not connected yet
			}
			si.Handshake = hs
		} else if raw, ok := d.Handshake.(json.RawMessage); ok {
			_ = json.Unmarshal(raw, &si.Handshake) // another server's: best effort
		}
		out = append(out, si)
	}
	return out, err
}

// Details implements adapter.Describer.
func (s *Socket) Details() adapter.SocketDetails {
	return adapter.SocketDetails{ID: s.id, Handshake: s.peekHandshake(), Rooms: s.Rooms(), Data: s.Data()}
}

// FetchSockets returns the sockets of the namespace.
func (ns *Namespace) FetchSockets(ctx context.Context) ([]*SocketInfo, error) {
	return ns.Broadcast().FetchSockets(ctx)
}

// PacketMiddleware runs for every event a socket receives, before its
// handler (after OnAny listeners, as upstream). Returning an error drops
// the event and reports the error to the socket's OnError handlers.
type PacketMiddleware func(ctx context.Context, e *Event) error

// Use adds a per-event middleware to the socket.
func (s *Socket) Use(m PacketMiddleware) {
	s.mu.Lock()
	h := s.addHooksLocked()
	h.packetMiddlewares = append(h.packetMiddlewares, m)
	s.mu.Unlock()
}

// OnAnyOutgoing registers a listener called for every event sent to the
// socket, directly or by a broadcast, with the event's name and arguments.
func (s *Socket) OnAnyOutgoing(fn func(event string, args *Args)) {
	s.mu.Lock()
	h := s.addHooksLocked()
	h.anyOutgoing = append(h.anyOutgoing, fn)
	s.mu.Unlock()
}

// notifyOutgoing tells the outgoing listeners about an event packet.
func (s *Socket) notifyOutgoing(p *parser.Packet) {
	s.mu.Lock()
	fns := s.hooksLocked().anyOutgoing
	s.mu.Unlock()
	if len(fns) == 0 || p.Type != parser.Event {
		return
	}
	name, args, err := eventArgs(p)
	if err != nil {
		return
	}
	for _, fn := range fns {
		fn(name, &args)
	}
}
