package engineio

import (
	"context"
	"sync"
	"time"

	"github.com/dynamicio/dynamicio/engineio/packet"
	"github.com/dynamicio/dynamicio/internal/websocket"
)

// Handler receives the events of the sessions of a Server. Its methods are
// called for one session in order and never concurrently: OnOpen first, then
// OnMessage for each message, then OnClose exactly once, after the last
// OnMessage has returned. Different sessions are served concurrently.
//
// The engine calls OnMessage on the goroutine that read the message (the
// WebSocket reader or the polling request), so a slow OnMessage delays that
// session's next message; hand long work to another goroutine.
type Handler interface {
	// OnOpen is called when a session has been established, before its
	// first message. Writes made here reach the client after the open
	// packet.
	OnOpen(s *Session)
	// OnMessage is called for every message. data is valid only until
	// OnMessage returns; copy what you keep.
	OnMessage(s *Session, typ MessageType, data []byte)
	// OnClose is called once when the session closes. err, when not nil,
	// says more about the reason (a protocol violation, ErrSlowConsumer…).
	OnClose(s *Session, reason CloseReason, err error)
}

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // graceful close: flushing what is queued
	stateClosed
)

// clientCloseGrace is how long a polling session closed by its client waits
// for the poll that may have crossed the close packet.
const clientCloseGrace = time.Second

// heartbeat phases: what the wheel does when the session's deadline passes.
type hbPhase uint8

const (
	hbSendPing    hbPhase = iota // v4: time to ping
	hbAwaitPong                  // v4: the pong is late
	hbAwaitPing                  // v3: the client's ping is late
	hbCloseFinish                // a graceful polling close waited long enough
)

// outItem is one queued outbound packet.
type outItem struct {
	msg  *Message    // a message; nil for control packets
	typ  packet.Type // control packet type
	data []byte      // control packet data
	// wsFrame, when set, is a complete WebSocket control frame (pong,
	// close) with no Engine.IO meaning; it is never sent over polling.
	wsFrame []byte
	// last marks the close frame: the flusher closes the connection after it.
	last bool
}

func (it *outItem) size() int {
	if it.msg != nil {
		return len(it.msg.data) + 16
	}
	return len(it.data) + len(it.wsFrame) + 16
}

// Session is one Engine.IO connection; it survives the upgrade from polling
// to WebSocket. Its methods are safe for concurrent use, and writing never
// waits for the network: messages are queued and flushed by the transport.
//
// Lock order: recvMu, then mu, then the server's wheel.mu. Server.mu is
// never held with mu. Handler methods are called with no lock held but
// recvMu (OnMessage), so a handler may call any Session method.
type Session struct {
	srv       *Server
	id        string
	tenant    string // Config.Tenant at the handshake; every request must match
	handshake Handshake

	// recvMu serialises delivery to the Handler, across transports.
	recvMu sync.Mutex

	mu         sync.Mutex
	state      sessionState
	protocol   int8   // 3 or 4, fixed at the handshake
	transport  string // TransportPolling or TransportWebSocket
	queue      []outItem
	spare      []outItem // the previous batch, reused as the next queue
	queued     int       // bytes in queue
	hbPhase    hbPhase
	delivering bool // an OnMessage call is in progress
	notify     bool // OnClose is owed once delivering ends
	reason     CloseReason
	closeErr   error
	done       chan struct{} // see Done; nil until asked for

	// polling
	pollWaiting    bool          // a GET is waiting for packets
	postActive     bool          // a POST is being read
	wake           chan struct{} // signals the waiting GET
	closePacket    bool          // the next poll ends with a close packet
	noopPending    bool          // the next poll must answer at once (upgrade, client close)
	upgrading      bool          // the probe succeeded; polls are released with noops
	finalizeOnPoll bool          // remove the session after the next poll

	// websocket
	ws       *wsTransport // current WebSocket transport, after upgrade or for WS sessions
	probing  *wsTransport // WebSocket being probed for an upgrade
	flushing bool         // ws writes are under way: in a writer's list, or a goroutine's
	wr       *writer      // the writer of this session, chosen at its first write

	hb hbNode // guarded by srv.wheel.mu

	value any // see SetValue
}

// ID returns the session id.
func (s *Session) ID() string { return s.id }

// Tenant returns what Config.Tenant named at the handshake ("" without it).
func (s *Session) Tenant() string { return s.tenant }

// Protocol returns the Engine.IO protocol revision of the session: 3 or 4.
func (s *Session) Protocol() int { return int(s.protocol) }

// Handshake returns what the session kept of its handshake request. The
// caller must not modify it.
func (s *Session) Handshake() *Handshake { return &s.handshake }

// Transport returns the current transport: "polling" or "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Done returns a channel closed when the session closes.
func (s *Session) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		// Made on first use: most sessions never need one (96 bytes).
		if s.state != stateOpen {
			return closedChan
		}
		s.done = make(chan struct{})
	}
	return s.done
}

// closedChan is the Done channel of a session that closed before anyone
// asked for it.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Context returns a context canceled when the session closes. It costs no
// goroutine and no allocation beyond its small value.
func (s *Session) Context() context.Context { return sessionContext{s} }

type sessionContext struct{ s *Session }

func (sessionContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c sessionContext) Done() <-chan struct{}     { return c.s.Done() }
func (sessionContext) Value(any) any               { return nil }
func (c sessionContext) Err() error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.state != stateOpen {
		return context.Canceled
	}
	return nil
}

// Write queues a message. The session keeps data; do not modify it
// afterwards. It returns ErrClosed once the session is closing.
func (s *Session) Write(typ MessageType, data []byte) error {
	return s.WriteMessage(NewMessage(typ, data, true))
}

// WriteMessage queues a prepared message. The same Message may be written
// to many sessions; its wire forms are built once for all of them.
func (s *Session) WriteMessage(m *Message) error {
	return s.enqueue(outItem{msg: m})
}

// WriteMessages queues messages as one unit: no other write comes between
// them (a Socket.IO packet with binary attachments is several messages that
// must stay together).
func (s *Session) WriteMessages(ms ...*Message) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	for _, m := range ms {
		if !s.pushLocked(outItem{msg: m}) {
			s.mu.Unlock()
			s.closeWith(ReasonTransportError, ErrSlowConsumer, closeAbort)
			return ErrClosed
		}
	}
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// Close closes the session gracefully: what is already queued is still sent,
// then the transport closes. The reason reported to OnClose is
// ReasonForcedClose.
func (s *Session) Close() error {
	s.closeWith(ReasonForcedClose, nil, closeFlush)
	return nil
}

// enqueue adds an item to the queue and wakes the transport.
func (s *Session) enqueue(it outItem) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	if !s.pushLocked(it) {
		s.mu.Unlock()
		s.closeWith(ReasonTransportError, ErrSlowConsumer, closeAbort)
		return ErrClosed
	}
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// pushLocked appends it unless the queue would exceed its cap. s.mu held.
func (s *Session) pushLocked(it outItem) bool {
	n := it.size()
	if s.queued+n > s.srv.cfg.MaxQueueBytes {
		s.srv.slowConsumers.Add(1)
		return false
	}
	if s.queue == nil && s.spare != nil {
		s.queue, s.spare = s.spare, nil
	}
	s.queue = append(s.queue, it)
	s.queued += n
	return true
}

// kickLocked makes the current transport send what is queued. s.mu held.
func (s *Session) kickLocked() {
	if s.transport == TransportWebSocket {
		s.startFlushLocked()
		return
	}
	s.wakePollLocked()
}

// takeLocked removes and returns the queued items. The returned slice stays
// the caller's until it passes it to recycleLocked. s.mu held.
func (s *Session) takeLocked() []outItem {
	items := s.queue
	s.queue = nil
	s.queued = 0
	return items
}

// recycleLocked keeps a sent batch's slice for the next queue, unless it grew
// large, so an idle session does not pin a big array. s.mu held.
func (s *Session) recycleLocked(items []outItem) {
	clear(items)
	// A lone item's slice is kept too: it costs an idle session 64 bytes,
	// and a session that sends one message at a time (an ack, a broadcast)
	// an allocation per message otherwise.
	if cap(items) <= 64 && s.spare == nil {
		s.spare = items[:0]
	}
}

// closeMode says how closeWith ends the transport.
type closeMode uint8

const (
	// closeAbort cuts the transport at once; queued packets are dropped.
	closeAbort closeMode = iota
	// closeFlush sends what is queued, then closes (Session.Close).
	closeFlush
	// closeShutdown is closeFlush for a server going away: WebSocket
	// clients get close code 1001, and polling sessions with no GET to
	// answer are dropped rather than waited for.
	closeShutdown
	// closeEcho answers a client's WebSocket close frame with one of ours
	// (code wsCode) and drops what is queued.
	closeEcho
)

// closeWith closes the session. OnClose runs on the caller's goroutine, or,
// if an OnMessage call is in progress, right after it returns.
func (s *Session) closeWith(reason CloseReason, err error, mode closeMode) {
	s.closeWithCode(reason, err, mode, 0)
}

func (s *Session) closeWithCode(reason CloseReason, err error, mode closeMode, wsCode int) {
	s.mu.Lock()
	if s.state != stateOpen {
		// A graceful close in progress becomes immediate when asked to, or
		// when the server shuts down and it waits for a poll that may not
		// come (a WebSocket close in progress ends by itself, bounded by
		// WriteTimeout).
		if s.state == stateClosing && (mode == closeAbort || mode == closeShutdown && s.transport == TransportPolling) {
			s.state = stateClosed
			s.srv.wheel.cancel(s)
			s.abortTransportsLocked()
			s.queue, s.spare, s.queued = nil, nil, 0
			s.mu.Unlock()
			s.srv.remove(s)
			return
		}
		s.mu.Unlock()
		return
	}
	s.reason, s.closeErr = reason, err
	if s.done != nil {
		close(s.done)
	}
	s.srv.wheel.cancel(s)
	// A graceful close of a polling session whose client is mid-upgrade
	// (its polling paused, no GET to answer) lets the upgrade finish and
	// closes over the WebSocket, as the official server does; every other
	// close ends the probe.
	probe := s.probing
	if s.transport == TransportPolling && mode == closeFlush && !s.pollWaiting {
		probe = nil
	} else {
		s.probing = nil
	}

	finalize := true
	keepQueue := false
	if s.transport == TransportWebSocket {
		switch mode {
		case closeAbort:
			s.state = stateClosed
			s.abortTransportsLocked()
		default:
			code := websocket.CloseNormal
			switch mode {
			case closeShutdown:
				code = websocket.CloseGoingAway
			case closeEcho:
				code = wsCode
				s.queue, s.queued = s.queue[:0], 0
			}
			s.state = stateClosing
			s.queue = append(s.queue, outItem{wsFrame: websocket.AppendClose(nil, code, ""), last: true})
			s.startFlushLocked()
			finalize = false // the flusher finalizes after the close frame
			keepQueue = true
		}
	} else {
		switch {
		case s.pollWaiting:
			// The waiting GET carries the end: a noop if the client closed,
			// else the close packet (what the official server sends).
			s.state = stateClosed
			keepQueue = mode != closeAbort
			if reason == ReasonTransportClose {
				keepQueue = false
				s.noopPending = true
			} else {
				s.closePacket = true
			}
			if !keepQueue {
				s.queue, s.queued = s.queue[:0], 0
			}
			s.wakePollLocked()
		case reason == ReasonTransportClose:
			// The client closed with a POST while its GET was on the way:
			// answer that GET with a noop, as if it had been waiting (the
			// official server, serving requests in order, usually sees the
			// GET first). The wheel finishes the close if it never comes.
			s.state = stateClosing
			s.noopPending = true
			s.finalizeOnPoll = true
			s.hbPhase = hbCloseFinish
			s.srv.wheel.schedule(s, clientCloseGrace)
			finalize = false
		case mode == closeFlush:
			// No GET to answer: the next one gets the queue and a close
			// packet; the wheel finishes the close if it never comes.
			s.state = stateClosing
			s.closePacket = true
			s.finalizeOnPoll = true
			s.hbPhase = hbCloseFinish
			s.srv.wheel.schedule(s, DefaultCloseTimeout)
			finalize = false
			keepQueue = true
		default:
			s.state = stateClosed
		}
	}
	if !keepQueue {
		s.queue, s.spare, s.queued = nil, nil, 0
	}
	owed := !s.delivering
	if !owed {
		s.notify = true
	}
	s.mu.Unlock()

	if probe != nil {
		probe.close()
	}
	if finalize {
		s.srv.remove(s)
	}
	if owed {
		s.srv.handler.OnClose(s, reason, err)
	}
}

// finalize ends a graceful close: the session leaves the server.
func (s *Session) finalize() {
	s.mu.Lock()
	s.state = stateClosed
	s.queue, s.spare, s.queued = nil, nil, 0
	s.mu.Unlock()
	s.srv.wheel.cancel(s)
	s.srv.remove(s)
}

// abortTransportsLocked cuts the WebSocket connection(s) at once. s.mu held.
func (s *Session) abortTransportsLocked() {
	if s.ws != nil {
		s.ws.close()
	}
	if s.probing != nil {
		s.probing.close()
		s.probing = nil
	}
	if s.pollWaiting {
		s.closePacket = true
		s.wakePollLocked()
	}
}

// deliver hands a packet received on any transport to the session.
func (s *Session) deliver(p packet.Packet) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	switch p.Type {
	case packet.Message:
		s.mu.Lock()
		if s.state != stateOpen {
			s.mu.Unlock()
			return
		}
		s.delivering = true
		s.mu.Unlock()
		typ := Text
		if p.Binary {
			typ = Binary
		}
		s.srv.handler.OnMessage(s, typ, p.Data)
		s.endDelivery()
	case packet.Ping:
		if s.protocol != 3 {
			s.closeWith(ReasonTransportError, errHeartbeatDirection, closeAbort)
			return
		}
		// v3: the client pings, we answer and wait for the next one.
		if s.enqueue(outItem{typ: packet.Pong}) == nil {
			s.armHeartbeat(hbAwaitPing, s.srv.cfg.PingInterval+s.srv.cfg.PingTimeout)
		}
	case packet.Pong:
		if s.protocol == 3 {
			s.closeWith(ReasonTransportError, errHeartbeatDirection, closeAbort)
			return
		}
		s.mu.Lock()
		waiting := s.state == stateOpen && s.hbPhase == hbAwaitPong
		s.mu.Unlock()
		if waiting {
			s.armHeartbeat(hbSendPing, s.srv.cfg.PingInterval)
		}
	case packet.Close:
		s.closeWith(ReasonTransportClose, nil, closeAbort)
	}
	// open, upgrade and noop from a client mean nothing outside an upgrade;
	// the official server ignores them too.
}

// endDelivery ends an OnOpen or OnMessage call and runs the OnClose that a
// close during the call deferred.
func (s *Session) endDelivery() {
	s.mu.Lock()
	s.delivering = false
	owed := s.notify
	s.notify = false
	reason, err := s.reason, s.closeErr
	s.mu.Unlock()
	if owed {
		s.srv.handler.OnClose(s, reason, err)
	}
}

// open runs OnOpen. A session is created "delivering", so a close that
// races the handshake (Shutdown) reports OnClose only after OnOpen; and
// recvMu is held (locked by the handshake before the client can know the
// session), so no message is delivered before OnOpen returns.
func (s *Session) open() {
	s.srv.handler.OnOpen(s)
	s.endDelivery()
	s.recvMu.Unlock()
}

// SetValue attaches a value to the session for the Handler's own use (the
// Socket.IO layer keeps its connection state there). Set it in OnOpen: the
// engine guarantees OnMessage and OnClose see it.
func (s *Session) SetValue(v any) { s.value = v }

// Value returns what SetValue stored.
func (s *Session) Value() any { return s.value }

// Writable reports whether the transport would send a message at once:
// nothing is waiting in the session's queue. Volatile messages are dropped
// when it is false, as the official server drops them when its transport
// is not writable.
func (s *Session) Writable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateOpen && len(s.queue) == 0 && (s.transport != TransportPolling || s.pollWaiting)
}

// armHeartbeat sets the next heartbeat deadline. It schedules under s.mu,
// like closeWith cancels, so a closed session never stays in the wheel.
func (s *Session) armHeartbeat(phase hbPhase, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return
	}
	s.hbPhase = phase
	s.srv.wheel.schedule(s, d)
}

// heartbeatDue runs when the session's wheel deadline passes.
func (s *Session) heartbeatDue() {
	s.mu.Lock()
	phase, state := s.hbPhase, s.state
	s.mu.Unlock()
	switch {
	case phase == hbCloseFinish && state == stateClosing:
		s.closeWith(ReasonForcedClose, nil, closeAbort)
	case state != stateOpen:
	case phase == hbSendPing:
		// Wait for the pong before the ping can reach the client, under
		// the same lock: a pong that came back before the phase changed
		// would be ignored, and the session would time out.
		s.mu.Lock()
		if s.state != stateOpen || s.hbPhase != hbSendPing {
			s.mu.Unlock()
			return
		}
		s.hbPhase = hbAwaitPong
		s.srv.wheel.schedule(s, s.srv.cfg.PingTimeout)
		ok := s.pushLocked(outItem{typ: packet.Ping})
		if ok {
			s.kickLocked()
		}
		s.mu.Unlock()
		if !ok {
			s.closeWith(ReasonTransportError, ErrSlowConsumer, closeAbort)
		}
	case phase == hbAwaitPong, phase == hbAwaitPing:
		s.closeWith(ReasonPingTimeout, nil, closeAbort)
	}
}
