package dynamicio

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dynamicio/dynamicio/engineio"
	"github.com/dynamicio/dynamicio/status"
)

// Server is a Socket.IO server: an http.Handler (mount it at its Path,
// "/socket.io/" by default) that serves the official clients over
// Engine.IO. Namespaces hold the sockets; Of("/") is the main one, and the
// Server's own Use, OnConnection, To, Emit… act on it. A Server is safe for
// concurrent use.
type Server struct {
	cfg    Config
	engine *engineio.Server

	mu         sync.RWMutex
	nsps       map[string]*Namespace // by full name
	hostCounts map[string]int        // live namespaces per host
	parents    []*ParentNamespace
	setups     setups
	creating   map[string]*creation // namespaces being set up
	main       *Namespace
	expiry     expiry // retires idle dynamic namespaces

	closing atomic.Bool
	wg      sync.WaitGroup // socket dispatchers and connect middlewares
	workers workers        // goroutines that run the sockets' event loops
	// queuedEvents counts the entries of the running sockets' event queues
	// not yet taken: the server is behind its clients when it is above 0,
	// and broadcasts then leave through the writers, which coalesce them
	// (Socket.Send).
	queuedEvents atomic.Int64
	clientFiles  clientCache // the client bundle, read once (Config.ClientFS)
	statusPath   string      // Config.PublicStatus
	statusPage   http.Handler
}

// NewServer returns a server. A nil cfg means the defaults.
func NewServer(cfg *Config) *Server {
	srv := &Server{cfg: cfg.withDefaults(), nsps: make(map[string]*Namespace), hostCounts: make(map[string]int)}
	srv.expiry.srv = srv
	if srv.cfg.MainHost != nil && srv.cfg.EngineIO.Tenant == nil {
		// Virtual hosts: each Engine.IO session belongs to its host.
		srv.cfg.EngineIO.Tenant = srv.tenantOf
	}
	srv.statusPath = strings.TrimSuffix(srv.cfg.Path, "/") + "/status"
	srv.statusPage = status.Handler(srv.requestStatus)
	srv.engine = engineio.NewServer(engineHandler{srv}, &srv.cfg.EngineIO)
	srv.main = srv.Of("/")
	return srv
}

// ServeHTTP serves the Socket.IO protocol (and the client bundle when
// Config.ClientFS is set).
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.cfg.ClientFS != nil && srv.serveClient(w, r) {
		return
	}
	if srv.cfg.PublicStatus && r.URL.Path == srv.statusPath {
		srv.statusPage.ServeHTTP(w, r)
		return
	}
	srv.engine.ServeHTTP(w, r)
}

// Engine returns the underlying Engine.IO server.
func (srv *Server) Engine() *engineio.Server { return srv.engine }

// EngineHandler returns the engineio.Handler that serves this server's
// sockets, to bind the server to an Engine.IO server of your own (the
// official io.bind(engine)):
//
//	eng := engineio.NewServer(srv.EngineHandler(), &engineio.Config{Path: "/socket.io/"})
//	mux.Handle("/socket.io/", eng)
//
// Then serve and shut down eng yourself; Config.EngineIO and srv's own
// ServeHTTP are not used for those sessions.
func (srv *Server) EngineHandler() engineio.Handler { return engineHandler{srv} }

// Of returns the namespace with the given name, creating it if needed.
// "chat" and "/chat" are the same namespace; "" is "/". A name of the form
// //<host>/<name> is the namespace of a virtual host (see Config.MainHost).
// Namespaces created by Of are permanent.
func (srv *Server) Of(name string) *Namespace {
	host, name := splitFullName(name)
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	full := fullName(host, name)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if ns, ok := srv.nsps[full]; ok {
		return ns
	}
	ns := newNamespace(srv, host, name)
	srv.addLocked(ns)
	return ns
}

// addLocked registers a namespace. srv.mu held.
func (srv *Server) addLocked(ns *Namespace) {
	srv.nsps[ns.full] = ns
	srv.hostCounts[ns.host]++
}

// forgetLocked unregisters a namespace. srv.mu held.
func (srv *Server) forgetLocked(ns *Namespace) {
	delete(srv.nsps, ns.full)
	srv.unreserveLocked(nil, ns.host)
}

// acquire returns the namespace full, held for one socket on its way in
// (so it cannot retire meanwhile), or nil.
func (srv *Server) acquire(full string) *Namespace {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	ns := srv.nsps[full]
	if ns != nil {
		ns.hold()
	}
	return ns
}

// namespace returns an existing namespace.
func (srv *Server) namespace(name string) *Namespace {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.nsps[name]
}

// Use adds a connection middleware to the main namespace.
func (srv *Server) Use(m Middleware) { srv.main.Use(m) }

// OnConnection registers a connection handler on the main namespace.
func (srv *Server) OnConnection(fn func(s *Socket)) { srv.main.OnConnection(fn) }

// To selects the sockets of the main namespace in the rooms.
func (srv *Server) To(rooms ...string) Broadcast { return srv.main.To(rooms...) }

// In is To.
func (srv *Server) In(rooms ...string) Broadcast { return srv.main.To(rooms...) }

// Except selects the sockets of the main namespace not in the rooms.
func (srv *Server) Except(rooms ...string) Broadcast { return srv.main.Except(rooms...) }

// Broadcast selects every socket of the main namespace, for the other
// selectors: srv.Broadcast().Volatile().Emit(…).
func (srv *Server) Broadcast() Broadcast { return srv.main.Broadcast() }

// Emit sends an event to every socket of the main namespace.
func (srv *Server) Emit(event string, args ...any) error { return srv.main.Emit(event, args...) }

// Shutdown disconnects every socket (reason "server shutting down"), runs
// their disconnect handlers, closes the Engine.IO sessions, and returns when
// all of it is done or ctx ends.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.closing.Store(true)
	srv.mu.RLock()
	nsps := make([]*Namespace, 0, len(srv.nsps))
	for _, ns := range srv.nsps {
		nsps = append(nsps, ns)
	}
	srv.mu.RUnlock()
	for _, ns := range nsps {
		for _, s := range ns.Sockets() {
			s.closeWith(ReasonServerShuttingDown, false)
		}
	}
	err := srv.engine.Shutdown(ctx)
	done := make(chan struct{})
	go func() {
		srv.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	srv.expiry.stop()
	srv.workers.close()
	for _, ns := range nsps {
		ns.adapter.Close()
	}
	return err
}

// Close shuts the server down at once: Shutdown with a context that is
// already done, so nothing waits.
func (srv *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv.Shutdown(ctx)
	return nil
}

// engineHandler connects the Engine.IO sessions to Socket.IO clients.
type engineHandler struct{ srv *Server }

func (h engineHandler) OnOpen(s *engineio.Session) {
	c := newClient(h.srv, s)
	s.SetValue(c)
	c.start()
}

func (h engineHandler) OnMessage(s *engineio.Session, typ engineio.MessageType, data []byte) {
	s.Value().(*client).onMessage(typ == engineio.Binary, data)
}

func (h engineHandler) OnClose(s *engineio.Session, reason engineio.CloseReason, _ error) {
	if c, ok := s.Value().(*client); ok {
		c.onEngineClose(DisconnectReason(reason))
	}
}
