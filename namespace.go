package dynamicio

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/parser"
)

// Middleware runs for every connection to a namespace, in the order they
// were added, before the connection handlers. Returning an error refuses
// the connection: a *ConnectError reaches the client with its message and
// data, any other error with its text. ctx ends if the client goes away.
type Middleware func(ctx context.Context, s *Socket) error

// Namespace is a communication channel: the sockets that connected to the
// same name, their rooms, and the handlers that serve them. It is safe for
// concurrent use.
type Namespace struct {
	srv     *Server
	name    string           // as clients name it: "/chat"
	host    string           // "" for the main host
	full    string           // the key: "/chat", or "//otherhost.com/chat"
	parent  *ParentNamespace // for a child created on demand
	adapter adapter.Adapter
	ackIDs  atomic.Uint64        // shared by every socket and broadcast, as in the official server
	recov   adapter.SessionStore // nil without connection state recovery

	mu          sync.RWMutex
	sockets     map[string]*Socket
	connecting  int // sockets on their way in: they keep the namespace alive
	middlewares []Middleware
	onConnect   []func(*Socket)
	serverSide  map[string]EventFunc

	// retirement (namespaces from SetupNamespace)
	setupDone bool
	retire    time.Duration // <= 0: permanent
	retireGen uint64        // bumped by every hold and schedule: stale expiries are skipped
	expiresAt time.Time
	onExpire  []func(*Namespace)
}

func newNamespace(srv *Server, host, name string) *Namespace {
	ns := &Namespace{srv: srv, name: name, host: host, full: fullName(host, name), sockets: make(map[string]*Socket)}
	ns.adapter = srv.cfg.Adapter(adapterView{ns})
	if r := srv.cfg.ConnectionStateRecovery; r != nil {
		ns.recov = sessionStore(ns.adapter, r)
	}
	return ns
}

// Name returns the namespace name as clients use it, such as "/" or "/chat".
func (ns *Namespace) Name() string { return ns.name }

// Host returns the virtual host of the namespace, "" for the main host.
func (ns *Namespace) Host() string { return ns.host }

// FullName returns the name that tells the namespace apart from every
// other: "/chat" for the main host, "//otherhost.com/chat" for another.
func (ns *Namespace) FullName() string { return ns.full }

// adapterView is the namespace as its adapter sees it: named by its full
// name, so a cluster adapter keys its channels per host and tenants never
// mix.
type adapterView struct{ ns *Namespace }

func (v adapterView) Name() string { return v.ns.full }

func (v adapterView) ServerSideEvent(p *parser.Packet, ack func(args []byte)) {
	v.ns.ServerSideEvent(p, ack)
}

// Use adds a connection middleware.
func (ns *Namespace) Use(m Middleware) {
	ns.mu.Lock()
	ns.middlewares = append(ns.middlewares, m)
	ns.mu.Unlock()
}

// OnConnection registers a handler called for every socket that connected.
// It runs on the socket's event goroutine before any event of the socket,
// so handlers it registers with Socket.On miss nothing.
func (ns *Namespace) OnConnection(fn func(s *Socket)) {
	ns.mu.Lock()
	ns.onConnect = append(ns.onConnect, fn)
	ns.mu.Unlock()
}

// Sockets returns the connected sockets.
func (ns *Namespace) Sockets() []*Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	out := make([]*Socket, 0, len(ns.sockets))
	for _, s := range ns.sockets {
		out = append(out, s)
	}
	return out
}

// Socket returns the connected socket with the id, or nil.
func (ns *Namespace) Socket(id string) *Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.sockets[id]
}

// Broadcast selects every socket of the namespace.
func (ns *Namespace) Broadcast() Broadcast { return Broadcast{ns: ns} }

// To selects the sockets in any of the rooms.
func (ns *Namespace) To(rooms ...string) Broadcast { return ns.Broadcast().To(rooms...) }

// In is To.
func (ns *Namespace) In(rooms ...string) Broadcast { return ns.To(rooms...) }

// Except selects every socket not in any of the rooms.
func (ns *Namespace) Except(rooms ...string) Broadcast { return ns.Broadcast().Except(rooms...) }

// Emit sends an event to every socket of the namespace.
func (ns *Namespace) Emit(event string, args ...any) error {
	return ns.Broadcast().Emit(event, args...)
}

// connect runs the middlewares for a new socket, off the reading
// goroutine, then connects it or refuses it. The namespace was held for it.
func (ns *Namespace) connect(s *Socket) {
	ns.mu.Lock()
	mws := ns.middlewares
	ns.mu.Unlock()
	if p := ns.parent; p != nil {
		p.mu.RLock()
		mws = append(slices.Clip(mws), p.middlewares...)
		p.mu.RUnlock()
	}
	if len(mws) == 0 || s.recovered && !ns.srv.cfg.ConnectionStateRecovery.RunMiddlewares {
		ns.doConnect(s)
		return
	}
	ns.srv.wg.Add(1)
	go func() {
		defer ns.srv.wg.Done()
		ctx := s.Context()
		for _, m := range mws {
			if err := m(ctx, s); err != nil {
				var ce *ConnectError
				if !errors.As(err, &ce) {
					ce = &ConnectError{Message: err.Error()}
				}
				ns.mu.Lock()
				ns.connecting--
				ns.mu.Unlock()
				s.refuse(ce)
				ns.released()
				return
			}
		}
		ns.doConnect(s)
	}()
}

func (ns *Namespace) doConnect(s *Socket) {
	ok := s.markConnected()
	ns.mu.Lock()
	ns.connecting--
	if ok {
		ns.sockets[s.id] = s
	}
	handlers := ns.onConnect
	ns.mu.Unlock()
	if !ok {
		ns.released() // the connection closed meanwhile
		return
	}
	if p := ns.parent; p != nil {
		p.mu.RLock()
		handlers = append(slices.Clip(handlers), p.onConnect...)
		p.mu.RUnlock()
	}
	if r := s.rec; r != nil && len(r.rooms) > 0 {
		ns.adapter.AddAll(s, append([]string{s.id}, r.rooms...)...)
	} else {
		ns.adapter.AddAll(s, s.id)
	}
	s.client.connectedSocket()
	// A recovered socket gets what it missed before the CONNECT reply, as
	// upstream does.
	if r := s.rec; r != nil {
		for _, m := range r.missed {
			m.Namespace = ns.name
			s.client.write(m, false)
		}
		r.rooms, r.missed = nil, nil
	}
	s.sendConnect()
	// The connection handlers go first in the socket's queue, which runs
	// only from now on: a disconnect that raced this connect (its handlers
	// are queued as soon as the socket counts as connected, above) or an
	// event the reader got meanwhile (with middlewares, this runs on
	// another goroutine) waits for them, so the handlers they register are
	// not missed.
	s.qmu.Lock()
	s.queue = append([]queued{{f: func() {
		for _, fn := range handlers {
			fn(s)
		}
	}}}, s.queue...)
	s.started = true
	ns.srv.queuedEvents.Add(int64(len(s.queue)))
	s.startLocked()
	s.qmu.Unlock()
}

func (ns *Namespace) remove(s *Socket) {
	ns.mu.Lock()
	if ns.sockets[s.id] == s {
		delete(ns.sockets, s.id)
	}
	ns.mu.Unlock()
	ns.released()
}
