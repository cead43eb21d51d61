package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dynamicio/dynamicio/engineio/packet"
	"github.com/dynamicio/dynamicio/internal/websocket"
)

// Server is an Engine.IO server: an http.Handler that speaks the Engine.IO
// protocol (v4, and v3 with AllowEIO3) over HTTP long-polling and WebSocket,
// and hands each session's messages to a Handler. It is safe for concurrent
// use.
type Server struct {
	cfg     *settings
	handler Handler
	wheel   *wheel
	writers []writer
	// sendInline: one CPU, so WriteShared skips the session's queue.
	sendInline bool
	// rings: writers send through io_uring (uring_linux.go).
	rings bool

	mu       sync.RWMutex
	sessions map[string]*Session
	emptied  chan struct{} // closed when sessions empties during Shutdown

	closed        atomic.Bool
	wg            sync.WaitGroup // session goroutines: readers and flushers
	slowConsumers atomic.Int64
	stalledWrites atomic.Int64 // writer passes that found a connection full (tests)
	ringSubmits   atomic.Int64 // batches of sends made through a ring (tests)
}

// NewServer returns a server that serves h. A nil cfg means the defaults.
func NewServer(h Handler, cfg *Config) *Server {
	st := newSettings(cfg)
	srv := &Server{cfg: st, handler: h, sessions: make(map[string]*Session)}
	srv.writers = newWriters(srv)
	srv.sendInline = len(srv.writers) == 1
	srv.rings = ringsAvailable()
	srv.wheel = newWheel(min(st.PingInterval, st.PingTimeout), func(s *Session) { s.heartbeatDue() })
	return srv
}

// Path returns the URL path prefix the server answers on.
func (srv *Server) Path() string { return srv.cfg.Path }

// Count returns the number of open sessions.
func (srv *Server) Count() int {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return len(srv.sessions)
}

// Session returns the open session with the given id, or nil.
func (srv *Server) Session(id string) *Session {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.sessions[id]
}

// SlowConsumers returns how many sessions were closed because their client
// did not read fast enough.
func (srv *Server) SlowConsumers() int64 { return srv.slowConsumers.Load() }

// ServeHTTP serves the Engine.IO protocol. Requests outside the configured
// path get 404.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, srv.cfg.Path) && r.URL.Path+"/" != srv.cfg.Path {
		http.NotFound(w, r)
		return
	}
	if !srv.checkOrigin(w, r) {
		return
	}
	if r.Method == http.MethodOptions && srv.cfg.CORS != nil && r.Header.Get("Access-Control-Request-Method") != "" {
		srv.preflight(w, r)
		return
	}
	q := r.URL.RawQuery
	transport := lastQuery(q, "transport")
	upgrade := websocket.IsUpgrade(r)
	if !srv.cfg.transportEnabled(transport) {
		srv.refuse(w, r, &RequestError{Code: CodeUnknownTransport, Context: "transport=" + transport}, upgrade)
		return
	}
	tenant := ""
	if srv.cfg.Tenant != nil {
		var err error
		if tenant, err = srv.cfg.Tenant(r); err != nil {
			srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "INVALID_TENANT"}, upgrade)
			return
		}
	}
	if sid := lastQuery(q, "sid"); sid != "" {
		s := srv.Session(sid)
		if s == nil || s.tenant != tenant {
			srv.refuse(w, r, &RequestError{Code: CodeUnknownSID}, upgrade)
			return
		}
		if protocolOf(q) != int(s.protocol) {
			// A session's protocol revision never changes (CVE-2026-102599).
			srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "PROTOCOL_MISMATCH"}, upgrade)
			return
		}
		if upgrade {
			if transport != TransportWebSocket {
				srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "TRANSPORT_MISMATCH"}, true)
				return
			}
			srv.startUpgrade(w, r, s)
			return
		}
		if transport != TransportPolling || s.Transport() != TransportPolling {
			srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "TRANSPORT_MISMATCH"}, false)
			return
		}
		switch r.Method {
		case http.MethodGet:
			s.servePoll(w, r)
		case http.MethodPost:
			s.servePost(w, r)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
		return
	}

	// A handshake.
	if r.Method != http.MethodGet {
		srv.refuse(w, r, &RequestError{Code: CodeBadHandshakeMethod}, upgrade)
		return
	}
	if (transport == TransportWebSocket) != upgrade {
		srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "TRANSPORT_HANDSHAKE_ERROR"}, upgrade)
		return
	}
	if srv.closed.Load() {
		srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Status: http.StatusServiceUnavailable, Message: "Server shutting down"}, upgrade)
		return
	}
	if srv.cfg.AllowRequest != nil {
		if err := srv.cfg.AllowRequest(r); err != nil {
			re, ok := err.(*RequestError)
			if !ok {
				re = &RequestError{Code: CodeForbidden, Message: err.Error()}
			}
			srv.refuse(w, r, re, upgrade)
			return
		}
	}
	protocol := protocolOf(q)
	if protocol == 3 && !srv.cfg.AllowEIO3 {
		srv.refuse(w, r, &RequestError{Code: CodeUnsupportedProtocolVersion}, upgrade)
		return
	}
	srv.handshake(w, r, transport, protocol, tenant)
}

// protocolOf reads the EIO query parameter: "4" is v4, anything else v3,
// as the official server decides.
func protocolOf(rawQuery string) int {
	if lastQuery(rawQuery, "EIO") == "4" {
		return 4
	}
	return 3
}

// handshake opens a session.
func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, transport string, protocol int, tenant string) {
	id, err := srv.newID(r)
	if err != nil {
		srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "ID_GENERATION_ERROR"}, transport == TransportWebSocket)
		return
	}
	// transport is a substring of the request line (lastQuery does not
	// copy): the session keeps the constant, not 64 bytes of request.
	if transport == TransportWebSocket {
		transport = TransportWebSocket
	} else {
		transport = TransportPolling
	}
	s := &Session{
		srv:        srv,
		id:         id,
		tenant:     tenant,
		protocol:   int8(protocol),
		transport:  transport,
		delivering: true, // until OnOpen returns; see open
		handshake:  newHandshake(r),
	}
	s.recvMu.Lock() // until OnOpen returns: see Session.open
	opened := false
	defer func() {
		if !opened {
			s.recvMu.Unlock()
		}
	}()
	open := srv.openPacket(id, transport)

	if transport == TransportWebSocket {
		// The open packet (and the initial packet) leave in the same write
		// as the 101 response: one system call, no flusher.
		first := s.frameOf(&outItem{typ: packet.Open, data: open}, &wsTransport{})
		if srv.cfg.InitialPacket != nil {
			first = append(first, NewMessage(Text, srv.cfg.InitialPacket, true).wsFrame(protocol, true, nil)...)
		}
		// Registered before the client can learn its sid, as for polling.
		if !srv.add(s, true) {
			srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Status: http.StatusServiceUnavailable, Message: "Server shutting down"}, true)
			return
		}
		t, ok := srv.acceptWebSocket(w, r, true, first)
		if !ok {
			srv.remove(s)
			srv.wg.Done() // the reader that will not run
			return
		}
		s.mu.Lock()
		s.ws = t
		s.mu.Unlock()
		srv.startHeartbeat(s)
		opened = true
		s.open()
		s.mu.Lock()
		s.startFlushLocked()
		s.mu.Unlock()
		go s.readWS(t, false, false)
		return
	}

	// Polling: the handshake GET answers with the open packet (and the
	// initial packet); what OnOpen writes goes out with the next poll.
	if !srv.add(s, false) {
		srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "ID_GENERATION_ERROR"}, false)
		return
	}
	if c := srv.cfg.Cookie; c != nil {
		http.SetCookie(w, c.cookie(id))
	}
	pk := []packet.Packet{{Type: packet.Open, Data: open}}
	if srv.cfg.InitialPacket != nil {
		pk = append(pk, packet.Packet{Type: packet.Message, Data: srv.cfg.InitialPacket})
	}
	// The heartbeat starts before the client can see the open packet, so its
	// deadlines are never later than the client expects them.
	srv.startHeartbeat(s)
	srv.addHeaders(w.Header(), r, true)
	s.writePayload(w, r, pk, false)
	opened = true
	s.open()
}

func (srv *Server) startHeartbeat(s *Session) {
	if s.protocol == 3 {
		s.armHeartbeat(hbAwaitPing, srv.cfg.PingInterval+srv.cfg.PingTimeout)
	} else {
		s.armHeartbeat(hbSendPing, srv.cfg.PingInterval)
	}
}

// openPacket is the JSON of the open packet, keys in the official order.
func (srv *Server) openPacket(id, transport string) []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"sid":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"upgrades":[`...)
	for i, u := range srv.cfg.upgradesFor(transport) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, u)
	}
	b = append(b, `],"pingInterval":`...)
	b = strconv.AppendInt(b, srv.cfg.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, srv.cfg.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, srv.cfg.MaxHTTPBufferSize, 10)
	return append(b, '}')
}

func (srv *Server) newID(r *http.Request) (string, error) {
	if srv.cfg.GenerateID != nil {
		return srv.cfg.GenerateID(r)
	}
	var b [15]byte
	rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:]), nil
}

// add registers a new session; false if its id is taken or the server
// closed. With reader, it also counts the session's reading goroutine, under
// the same lock that Shutdown sets closed with, so Shutdown's wait never
// misses it.
func (srv *Server) add(s *Session, reader bool) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if _, dup := srv.sessions[s.id]; dup || srv.closed.Load() {
		return false
	}
	srv.sessions[s.id] = s
	if reader {
		srv.wg.Add(1)
	}
	return true
}

// track counts one more session goroutine unless the server is closed.
func (srv *Server) track() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed.Load() {
		return false
	}
	srv.wg.Add(1)
	return true
}

// remove forgets a session.
func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
		if len(srv.sessions) == 0 && srv.emptied != nil {
			close(srv.emptied)
			srv.emptied = nil
		}
	}
}

// refuse answers a refused request the way the official server does:
// {"code":n,"message":"…"} as JSON for HTTP requests, the bare message for
// WebSocket upgrades. The response is always finished.
func (srv *Server) refuse(w http.ResponseWriter, r *http.Request, e *RequestError, upgrade bool) {
	if srv.cfg.OnRequestError != nil {
		srv.cfg.OnRequestError(r, e)
	}
	h := w.Header()
	if upgrade {
		msg := e.message()
		h.Set("Connection", "close")
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(msg)))
		w.WriteHeader(e.status())
		w.Write([]byte(msg))
		return
	}
	body := e.body()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status())
	w.Write(body)
}

// addHeaders runs the header hooks.
func (srv *Server) addHeaders(h http.Header, r *http.Request, initial bool) {
	if initial && srv.cfg.InitialHeaders != nil {
		srv.cfg.InitialHeaders(h, r)
	}
	if srv.cfg.Headers != nil {
		srv.cfg.Headers(h, r)
	}
}

// lastQuery returns the last value of key in a raw query string, like the
// official server (which keeps the last of duplicate keys). Malformed
// escapes yield "".
func lastQuery(rawQuery, key string) string {
	var val string
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			if uk, err := url.QueryUnescape(k); err != nil || uk != key {
				continue
			}
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			uv = ""
		}
		val = uv
	}
	return val
}

// cookie builds the session cookie.
func (c *Cookie) cookie(sid string) *http.Cookie {
	ck := &http.Cookie{
		Name:     c.Name,
		Value:    sid,
		Path:     c.Path,
		Domain:   c.Domain,
		Secure:   c.Secure,
		HttpOnly: !c.AllowScript,
		SameSite: c.SameSite,
		MaxAge:   c.MaxAge,
	}
	if ck.Name == "" {
		ck.Name = "io"
	}
	switch ck.Path {
	case "":
		ck.Path = "/"
	case "-":
		ck.Path = ""
	}
	if ck.SameSite == 0 {
		ck.SameSite = http.SameSiteLaxMode
	}
	return ck
}

// Shutdown closes the server gracefully: it refuses new sessions, closes
// every session after sending what is queued to it (WebSocket clients get
// close code 1001, a pending poll gets the close packet), and waits for the
// sessions to end and their goroutines to exit. When ctx ends first, the
// remaining sessions are cut and ctx's error is returned.
//
// http.Server.Shutdown does not close hijacked WebSocket connections; call
// this as well.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	srv.closed.Store(true)
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	var emptied chan struct{}
	if len(srv.sessions) > 0 {
		emptied = make(chan struct{})
		srv.emptied = emptied
	}
	srv.mu.Unlock()
	for _, s := range all {
		s.closeWith(ReasonForcedClose, ErrServerClosed, closeShutdown)
	}
	var err error
	if emptied != nil {
		select {
		case <-emptied:
		case <-ctx.Done():
			err = ctx.Err()
			srv.cutAll()
		}
	}
	srv.wg.Wait()
	srv.wheel.wg.Wait()
	srv.closeRings()
	return err
}

// Close closes the server at once: every session is cut without flushing.
func (srv *Server) Close() error {
	srv.mu.Lock()
	srv.closed.Store(true)
	srv.mu.Unlock()
	srv.cutAll()
	srv.wg.Wait()
	srv.wheel.wg.Wait()
	srv.closeRings()
	return nil
}

// closeRings gives back the writers' rings once their goroutines are gone
// (a writer still running closes its own when it ends).
func (srv *Server) closeRings() {
	for i := range srv.writers {
		w := &srv.writers[i]
		w.mu.Lock()
		w.closeRingLocked()
		w.mu.Unlock()
	}
}

func (srv *Server) cutAll() {
	srv.mu.RLock()
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.RUnlock()
	for _, s := range all {
		s.closeWith(ReasonForcedClose, ErrServerClosed, closeAbort)
	}
}
