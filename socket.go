package dynamicio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/engineio"
	"github.com/dynamicio/dynamicio/parser"
)

// Handshake describes how a socket connected: the first HTTP request of its
// connection and the auth payload of its CONNECT.
//
// A socket builds its Handshake on the first call of Socket.Handshake (the
// connection keeps the request compactly until then), so a socket nobody
// asks about pays for no header map and no parsed query.
type Handshake struct {
	Header  http.Header
	Time    time.Time // when the connection was opened
	Address string    // remote address
	XDomain bool      // the request carried an Origin header
	Secure  bool      // TLS
	URL     string    // request URI of the first request
	Query   url.Values
	Auth    json.RawMessage // the CONNECT payload; {} when none
}

// Socket is one client's connection to one namespace. Its methods are safe
// for concurrent use; Emit never waits for the network.
//
// Events of one socket are handled one at a time, in the order they
// arrived, on a goroutine of the socket's own (not the connection's reading
// goroutine), so a handler that waits, even for an ack of the same client,
// delays only this socket's later events.
type Socket struct {
	id        string
	ns        *Namespace
	client    *client
	auth      json.RawMessage           // the CONNECT payload
	handshake atomic.Pointer[Handshake] // built by the first Handshake call

	mu        sync.Mutex
	ctx       context.Context    // nil until first needed: see contextLocked
	cancel    context.CancelFunc // nil once ended
	connected bool
	closed    bool
	recovered bool // set before the socket is shared (connection state recovery)
	running   bool // guarded by qmu: the event goroutine runs (here, with the other flags, to save a word)
	started   bool // guarded by qmu: the connection handlers are queued, the queue may run
	handlers  smallMap[EventFunc]
	hooks     *socketHooks // nil until a listener of another kind is added
	acks      map[uint64]chan *Args
	data      any

	// connection state recovery: nil without it
	rec *socketRecovery

	// the socket's event queue, run by a goroutine that exists while it
	// has work (running, above)
	qmu   sync.Mutex
	queue []queued
}

func newSocket(ns *Namespace, c *client, auth json.RawMessage) *Socket {
	s := &Socket{ns: ns, client: c, auth: auth}
	switch {
	case !c.v2():
		s.id = newID()
	case ns.name == "/":
		s.id = c.conn.ID()
	default:
		s.id = ns.name + "#" + c.conn.ID()
	}
	if ns.recov != nil {
		s.rec = &socketRecovery{pid: newID()}
		if pid, offset, ok := recoveryAuth(auth); ok {
			if ss, missed := ns.recov.RestoreSession(pid, offset); ss != nil {
				s.id, s.data, s.recovered = ss.SID, ss.Data, true
				s.rec = &socketRecovery{pid: ss.PID, rooms: ss.Rooms, missed: missed}
			}
		}
	}
	return s
}

// Recovered reports whether the socket was restored by connection state
// recovery: same id, rooms and data as before the disconnection, and the
// events missed meanwhile already delivered.
func (s *Socket) Recovered() bool { return s.recovered }

// newID returns a socket id like the official base64id: 15 random bytes,
// 20 URL-safe characters.
func newID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

// ID returns the socket id; it is also the name of a room holding only
// this socket.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns how the socket connected. The caller must not modify it.
// The first call builds it from what the connection kept of its request
// (parsing the header fields and the query); later calls return the same.
func (s *Socket) Handshake() *Handshake {
	if h := s.handshake.Load(); h != nil {
		return h
	}
	h := s.buildHandshake()
	if s.handshake.CompareAndSwap(nil, h) {
		return h
	}
	return s.handshake.Load()
}

// peekHandshake returns the socket's Handshake without keeping it: the
// built one if there is one, else a fresh copy, so that describing many
// sockets (FetchSockets) does not make each of them hold its handshake.
func (s *Socket) peekHandshake() Handshake {
	if h := s.handshake.Load(); h != nil {
		return *h
	}
	return *s.buildHandshake()
}

func (s *Socket) buildHandshake() *Handshake {
	hs := s.client.conn.Handshake()
	return &Handshake{
		Header:  hs.Header(),
		Time:    hs.Time,
		Address: hs.RemoteAddr,
		XDomain: hs.HeaderValue("Origin") != "",
		Secure:  hs.Secure,
		URL:     hs.URL,
		Query:   hs.Query(),
		Auth:    s.auth,
	}
}

// Context returns a context that ends when the socket disconnects.
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contextLocked()
}

// contextLocked returns the socket's context, creating it on first use: an
// idle socket that no handler or middleware has run for keeps none (a
// cancelable context is about 100 bytes). s.mu held.
func (s *Socket) contextLocked() context.Context {
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
	return s.ctx
}

// endContext cancels the socket's context; a socket that never had one
// gets one already canceled.
func (s *Socket) endContext() {
	s.mu.Lock()
	cancel := s.cancel
	if s.ctx == nil {
		s.ctx = canceledContext
	}
	s.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// canceledContext is the context of a socket that ended before anyone
// asked for its context.
var canceledContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// Conn returns the underlying Engine.IO session (transport, protocol).
func (s *Socket) Conn() *engineio.Session { return s.client.conn }

// SetData stores application data on the socket.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Data returns what SetData stored.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool { return s.isConnected() }

func (s *Socket) isConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) {
	if !s.isOpen() {
		return
	}
	s.ns.adapter.AddAll(s, rooms...)
}

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) { s.ns.adapter.Del(s.id, room) }

// Rooms returns the rooms the socket is in, its own included.
func (s *Socket) Rooms() []string { return s.ns.adapter.SocketRooms(s.id) }

func (s *Socket) isOpen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closed
}

// On registers the handler of an event; a later call replaces it.
func (s *Socket) On(event string, h EventFunc) {
	s.mu.Lock()
	s.handlers.set(event, h)
	s.mu.Unlock()
}

// OnAny registers a handler called for every incoming event, before the
// event's own handler.
func (s *Socket) OnAny(fn func(e *Event)) {
	s.mu.Lock()
	h := s.addHooksLocked()
	h.anyHandlers = append(h.anyHandlers, fn)
	s.mu.Unlock()
}

// OnDisconnecting registers a handler called when the socket is about to
// leave: it is still in its rooms.
func (s *Socket) OnDisconnecting(fn func(reason DisconnectReason)) {
	s.mu.Lock()
	h := s.addHooksLocked()
	h.onDisconnecting = append(h.onDisconnecting, fn)
	s.mu.Unlock()
}

// OnDisconnect registers a handler called once the socket has left.
func (s *Socket) OnDisconnect(fn func(reason DisconnectReason)) {
	s.mu.Lock()
	h := s.addHooksLocked()
	h.onDisconnect = append(h.onDisconnect, fn)
	s.mu.Unlock()
}

// OnError registers a handler for the errors of the socket's event
// handlers. Without one they are logged.
func (s *Socket) OnError(fn func(err error)) {
	s.mu.Lock()
	h := s.addHooksLocked()
	h.onError = append(h.onError, fn)
	s.mu.Unlock()
}

// Emit sends an event to this socket. []byte arguments travel as binary
// attachments; the others as JSON. It returns ErrReservedEvent for reserved
// names and ErrSocketClosed once the socket is gone; it never waits for the
// network.
func (s *Socket) Emit(event string, args ...any) error {
	p, err := eventPacket(s.ns.name, event, args)
	if err != nil {
		return err
	}
	if !s.isConnected() {
		return ErrSocketClosed
	}
	if s.ns.recov != nil {
		s.ns.recov.Record(p, adapter.Options{Rooms: []string{s.id}})
	}
	s.notifyOutgoing(p)
	return s.client.write(p, false)
}

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx ends. Use context.WithTimeout for the official timeout(ms).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*Args, error) {
	p, err := eventPacket(s.ns.name, event, args)
	if err != nil {
		return nil, err
	}
	id := s.ns.ackIDs.Add(1) - 1
	p.ID, p.HasID = id, true
	ch := make(chan *Args, 1)
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return nil, ErrSocketClosed
	}
	if s.acks == nil {
		s.acks = make(map[uint64]chan *Args)
	}
	s.acks[id] = ch
	s.mu.Unlock()
	if err := s.client.write(p, false); err != nil {
		s.dropAck(id)
		return nil, err
	}
	select {
	case a := <-ch:
		if a == nil {
			return nil, ErrSocketClosed
		}
		return a, nil
	case <-ctx.Done():
		s.dropAck(id)
		return nil, ctx.Err()
	}
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// To selects the sockets in the rooms, this one excepted.
func (s *Socket) To(rooms ...string) Broadcast { return s.Broadcast().To(rooms...) }

// In is To.
func (s *Socket) In(rooms ...string) Broadcast { return s.To(rooms...) }

// Except selects every socket but this one and those in the rooms.
func (s *Socket) Except(rooms ...string) Broadcast { return s.Broadcast().Except(rooms...) }

// Volatile returns an emitter to this socket whose events may be dropped
// when the client cannot take them at once (s.Volatile().Emit(…)).
func (s *Socket) Volatile() Broadcast { return s.ns.To(s.id).Volatile() }

// Compress returns an emitter to this socket that allows or forbids
// transport compression.
func (s *Socket) Compress(on bool) Broadcast { return s.ns.To(s.id).Compress(on) }

// Timeout returns an emitter to this socket whose EmitWithAck gives up after
// d (its result then holds no reply).
func (s *Socket) Timeout(d time.Duration) Broadcast { return s.ns.To(s.id).Timeout(d) }

// Broadcast selects every socket of the namespace but this one.
func (s *Socket) Broadcast() Broadcast { return s.ns.Broadcast().Except(s.id) }

// Disconnect disconnects the socket from its namespace (the client gets a
// DISCONNECT packet). With close, the whole connection is closed, with every
// namespace on it.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.client.disconnectAll()
		return
	}
	s.closeWith(ReasonServerNamespaceDisconnect, true)
}

// Send implements adapter.Socket: it queues a broadcast packet.
func (s *Socket) Send(out *adapter.Outgoing) {
	if !s.isConnected() {
		return // sockets in middleware get no broadcasts, as upstream
	}
	ms := out.Encoded(func(o *adapter.Outgoing) any {
		ms, err := encodeMessages(s.ns.srv.cfg.Parser, o.Packet, o.Compress)
		if err != nil {
			s.ns.srv.cfg.Logger.Error("dynamicio: encode broadcast", "err", err)
			return []*engineio.Message(nil)
		}
		return ms
	}).([]*engineio.Message)
	if ms != nil {
		s.notifyOutgoing(out.Packet)
		if s.ns.srv.queuedEvents.Load() > 0 {
			// Behind: the writers send this with the next broadcasts.
			s.client.writeMessages(ms, out.Volatile)
		} else {
			s.client.writeShared(ms, out.Volatile)
		}
	}
}

// markConnected makes a socket that passed its middlewares connected.
func (s *Socket) markConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.connected = true
	return true
}

// sendConnect answers the CONNECT.
func (s *Socket) sendConnect() {
	p := &parser.Packet{Type: parser.Connect, Namespace: s.ns.name}
	if !s.client.v2() {
		p.Data = append(append([]byte(`{"sid":`), quoteJSON(s.id)...), '}')
		if s.rec != nil {
			p.Data = append(append(append(p.Data[:len(p.Data)-1], `,"pid":`...), quoteJSON(s.rec.pid)...), '}')
		}
	}
	s.client.write(p, false)
}

func quoteJSON(v string) []byte {
	b, _ := json.Marshal(v)
	return b
}

// refuse answers a CONNECT refused by a middleware.
func (s *Socket) refuse(e *ConnectError) {
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if closed {
		return
	}
	s.ns.adapter.DelAll(s.id) // rooms joined in middlewares
	s.client.remove(s)
	s.endContext()
	s.client.writeConnectError(s.ns.name, e)
}

// onPacket handles a packet for this connected socket (reading goroutine).
func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Event:
		s.onEvent(p)
	case parser.Ack:
		args, err := newArgs(p.Data, p.Attachments)
		if err != nil {
			s.client.close(ReasonForcedClose)
			return
		}
		s.mu.Lock()
		ch := s.acks[p.ID]
		delete(s.acks, p.ID)
		s.mu.Unlock()
		if ch != nil {
			ch <- args // buffered; an unknown id is ignored
		}
	case parser.Disconnect:
		s.closeWith(ReasonClientNamespaceDisconnect, false)
	}
}

func (s *Socket) onEvent(p *parser.Packet) {
	e := &Event{socket: s, ackID: p.ID, hasAck: p.HasID}
	e.atts = p.Attachments
	if p.Data != nil { // an EVENT without payload is accepted upstream
		var err error
		if e.Name, e.raw, err = parser.SplitEvent(p.Data, e.inline[:0]); err != nil {
			s.client.close(ReasonForcedClose)
			return
		}
	}
	if !s.dispatchEvent(e) {
		// The client floods events faster than its handlers run.
		s.ns.srv.cfg.Logger.Warn("dynamicio: event queue full, disconnecting", "socket", s.id)
		s.client.close(ReasonForcedServerClose)
	}
}

// handle runs the handlers of an event (on the socket's event goroutine).
func (s *Socket) handle(e *Event) {
	s.mu.Lock()
	anys := s.hooksLocked().anyHandlers
	mws := s.hooksLocked().packetMiddlewares
	connected := s.connected
	ctx := s.contextLocked()
	s.mu.Unlock()
	for _, fn := range anys {
		fn(e)
	}
	for _, m := range mws {
		if err := m(ctx, e); err != nil {
			s.reportError(err)
			return
		}
	}
	s.mu.Lock()
	h, _ := s.handlers.get(e.Name)
	s.mu.Unlock()
	if h == nil || !connected {
		return
	}
	if err := h(ctx, e); err != nil {
		s.reportError(err)
	}
}

func (s *Socket) reportError(err error) {
	s.mu.Lock()
	fns := s.hooksLocked().onError
	s.mu.Unlock()
	if len(fns) == 0 {
		s.ns.srv.cfg.Logger.Warn("dynamicio: event handler failed", "socket", s.id, "err", err)
	}
	for _, fn := range fns {
		fn(err)
	}
}

// dispatchEvent queues an event for the socket's event goroutine,
// starting it if idle. It returns false when the queue is full.
func (s *Socket) dispatchEvent(e *Event) bool {
	return s.push(queued{e: e})
}

func (s *Socket) push(q queued) bool {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if len(s.queue) >= s.ns.srv.cfg.MaxPendingEvents {
		return false
	}
	s.appendLocked(q)
	s.startLocked()
	return true
}

// appendLocked adds q to the event queue, counted in the server's
// queuedEvents once the queue may run (namespace.go counts what it found
// there when it starts it). s.qmu held.
func (s *Socket) appendLocked(q queued) {
	s.queue = append(s.queue, q)
	if s.started {
		s.ns.srv.queuedEvents.Add(1)
	}
}

// queued is an entry of a socket's event queue: an event to handle, or
// other work.
type queued struct {
	e *Event
	f func()
}

// startLocked starts the event goroutine unless it runs, or the socket's
// connection handlers are not queued yet. s.qmu held.
func (s *Socket) startLocked() {
	if !s.running && s.started {
		s.running = true
		s.ns.srv.wg.Add(1)
		s.ns.srv.workers.run(s)
	}
}

func (s *Socket) run() {
	defer s.ns.srv.wg.Done()
	for {
		s.qmu.Lock()
		if len(s.queue) == 0 {
			s.running = false
			s.queue = nil
			s.qmu.Unlock()
			return
		}
		q := s.queue[0]
		s.queue[0] = queued{}
		s.queue = s.queue[1:]
		s.qmu.Unlock()
		s.ns.srv.queuedEvents.Add(-1)
		if q.e != nil {
			s.handle(q.e)
		} else {
			q.f()
		}
	}
}

// closeWith disconnects the socket; notify sends the client a DISCONNECT.
// The disconnecting and disconnect handlers run on the event goroutine,
// after the events already queued.
func (s *Socket) closeWith(reason DisconnectReason, notify bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	wasConnected := s.connected
	s.connected = false
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()
	for _, ch := range acks {
		ch <- nil // buffered: one slot per waiting socket
	}
	if notify && wasConnected {
		s.client.write(&parser.Packet{Type: parser.Disconnect, Namespace: s.ns.name}, false)
	}
	s.client.remove(s)
	if !wasConnected {
		s.ns.adapter.DelAll(s.id)
		s.endContext()
		return
	}
	// Always queued, even past the cap: the disconnect must run.
	s.qmu.Lock()
	s.appendLocked(queued{f: func() {
		s.mu.Lock()
		before, after := s.hooksLocked().onDisconnecting, s.hooksLocked().onDisconnect
		s.mu.Unlock()
		for _, fn := range before {
			fn(reason)
		}
		if s.ns.recov != nil && recoverable(reason) {
			s.ns.recov.PersistSession(&adapter.Session{SID: s.id, PID: s.rec.pid, Rooms: s.Rooms(), Data: s.Data()})
		}
		s.ns.adapter.DelAll(s.id)
		s.ns.remove(s)
		for _, fn := range after {
			fn(reason)
		}
		s.endContext()
	}})
	s.startLocked()
	s.qmu.Unlock()
}

// socketHooks holds the listeners a socket may have besides its event
// handlers. Most sockets have none, so a Socket keeps only a pointer,
// allocated by the first registration: 136 bytes less per idle socket.
type socketHooks struct {
	anyHandlers       []func(e *Event)
	onDisconnecting   []func(reason DisconnectReason)
	onDisconnect      []func(reason DisconnectReason)
	onError           []func(err error)
	packetMiddlewares []PacketMiddleware
	anyOutgoing       []func(event string, args *Args)
}

// noHooks is what hooksLocked returns for a socket without any.
var noHooks socketHooks

// hooksLocked returns the socket's listeners, to read; s.mu held.
func (s *Socket) hooksLocked() *socketHooks {
	if s.hooks == nil {
		return &noHooks
	}
	return s.hooks
}

// addHooksLocked returns the socket's listeners, to add one; s.mu held.
func (s *Socket) addHooksLocked() *socketHooks {
	if s.hooks == nil {
		s.hooks = new(socketHooks)
	}
	return s.hooks
}

// socketRecovery is a socket's connection state recovery: its private id
// (pid), and what a restored socket gets back before it connects, its
// rooms and the packets it missed (cleared then). Behind a pointer, so
// sockets of namespaces without recovery pay 8 bytes for it.
type socketRecovery struct {
	pid    string
	rooms  []string
	missed []*parser.Packet
}
