package engineio

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"time"
	"unsafe"

	"github.com/dynamicio/dynamicio/engineio/packet"
	"github.com/dynamicio/dynamicio/internal/websocket"
)

// wsTransport is one WebSocket connection of a session. Exactly one
// goroutine reads it (readWS); at most one writes it at a time (the
// session's flusher, or the reader while probing, when nothing else writes).
type wsTransport struct {
	conn net.Conn
	rd   *websocket.Reader
	// out is the socket the writers send to (writer.go). A connection
	// without one (TLS, pipes) writes from a goroutine of its own (flushWS).
	out            rawOut
	deflate        bool
	supportsBinary bool
}

// close closes the connection. Every close of a transport's connection
// goes through here: the writers send to its descriptor directly, and
// close waits for a send under way (rawOut.close).
func (t *wsTransport) close() {
	t.out.close()
	t.conn.Close()
}

// Pre-built frames for the heartbeat and upgrade packets every session sends.
var (
	framePing       = websocket.AppendFrame(nil, websocket.OpText, false, []byte("2"))
	framePong       = websocket.AppendFrame(nil, websocket.OpText, false, []byte("3"))
	frameNoop       = websocket.AppendFrame(nil, websocket.OpText, false, []byte("6"))
	frameProbePong  = websocket.AppendFrame(nil, websocket.OpText, false, []byte("3probe"))
	probeData       = []byte("probe")
	errUpgradeState = errors.New("engineio: upgrade in a wrong state")
)

// acceptWebSocket completes the WebSocket handshake of r and takes over its
// connection; first, when set, holds frames sent in the same write as the
// 101 response. It answers the request itself on failure.
func (srv *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request, initial bool, first []byte) (*wsTransport, bool) {
	key, err := websocket.CheckRequest(r)
	if err != nil {
		srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "TRANSPORT_HANDSHAKE_ERROR"}, true)
		return nil, false
	}
	var ext string
	deflate := false
	if srv.cfg.PerMessageDeflate != nil && !srv.cfg.PerMessageDeflate.Disabled {
		ext, deflate = websocket.NegotiateDeflate(r.Header)
	}
	extra := http.Header{}
	srv.addHeaders(extra, r, initial)
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		srv.cfg.Logger.Warn("engineio: websocket hijack failed", "err", err)
		http.Error(w, "websocket not supported", http.StatusInternalServerError)
		return nil, false
	}
	// Keep only what net/http already read past the request (Prime copies
	// it); its buffers are dropped with brw.
	var leftover []byte
	if n := brw.Reader.Buffered(); n > 0 {
		leftover, _ = brw.Reader.Peek(n)
	}
	resp := websocket.AppendResponse(make([]byte, 0, 256+len(first)), key, ext, extra)
	resp = append(resp, first...)
	conn.SetDeadline(time.Now().Add(srv.cfg.WriteTimeout))
	if _, err := conn.Write(resp); err != nil {
		conn.Close()
		return nil, false
	}
	conn.SetDeadline(time.Time{})
	raw := rawConnOf(conn)
	rd := websocket.NewReader(readerOf(conn, raw), websocket.ReaderConfig{
		MaxMessageSize: int(srv.cfg.MaxHTTPBufferSize),
		Server:         true,
		Deflate:        deflate,
	})
	if leftover != nil {
		rd.Prime(leftover)
	}
	t := &wsTransport{conn: conn, rd: rd, deflate: deflate, supportsBinary: lastQuery(r.URL.RawQuery, "b64") == ""}
	t.out.init(raw)
	return t, true
}

// frameOf returns the wire bytes of a queued item on WebSocket transport t.
func (s *Session) frameOf(it *outItem, t *wsTransport) []byte {
	switch {
	case it.msg != nil:
		var pmd *Compression
		if t.deflate {
			pmd = s.srv.cfg.PerMessageDeflate
		}
		return it.msg.wsFrame(int(s.protocol), t.supportsBinary, pmd)
	case it.wsFrame != nil:
		return it.wsFrame
	}
	switch it.typ {
	case packet.Ping:
		if it.data == nil {
			return framePing
		}
	case packet.Pong:
		if it.data == nil {
			return framePong
		}
	case packet.Noop:
		return frameNoop
	}
	n := 1 + len(it.data)
	f := websocket.AppendHeader(make([]byte, 0, websocket.HeaderLen(n)+n), websocket.OpText, false, n)
	f = append(f, '0'+byte(it.typ))
	return append(f, it.data...)
}

// startFlushLocked has what is queued sent, unless that is under way: by
// the session's writer (writer.go), or, on a connection that cannot be
// written without waiting, by a flusher goroutine. s.mu held.
func (s *Session) startFlushLocked() {
	if s.flushing || len(s.queue) == 0 || s.ws == nil {
		return
	}
	s.flushing = true
	if s.ws.out.usable() {
		s.writerLocked().add(s)
		return
	}
	s.srv.wg.Add(1)
	go s.flushWS(s.ws)
}

// flushWS writes everything queued to t, for a connection the writers
// cannot serve, in as few system calls as the kernel allows: each round
// takes the whole queue and sends it with one writev. While it writes, new
// items queue up and leave in the next round, so batches grow with the
// load. It exits when the queue is empty; no goroutine stays parked per
// connection.
func (s *Session) flushWS(t *wsTransport) {
	defer s.srv.wg.Done()
	var bufs net.Buffers
	for {
		s.mu.Lock()
		items := s.takeLocked()
		if len(items) == 0 || s.ws != t {
			s.flushing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()

		var last bool
		bufs, _, last = s.framesOf(items, t, bufs[:0])
		t.conn.SetWriteDeadline(time.Now().Add(s.srv.cfg.WriteTimeout))
		out := bufs // WriteTo consumes its receiver
		_, err := out.WriteTo(t.conn)
		clear(bufs)

		s.mu.Lock()
		s.recycleLocked(items)
		if err != nil || last {
			s.flushing = false
		}
		s.mu.Unlock()
		if err != nil {
			s.failWrite(t, err)
			return
		}
		if last {
			t.close()
			s.finalize()
			return
		}
	}
}

// framesOf appends the wire frames of items to bufs; it also returns their
// total size and whether the close frame is among them.
func (s *Session) framesOf(items []outItem, t *wsTransport, bufs net.Buffers) (net.Buffers, int, bool) {
	total, last := 0, false
	for i := range items {
		f := s.frameOf(&items[i], t)
		bufs = append(bufs, f)
		total += len(f)
		last = last || items[i].last
	}
	return bufs, total, last
}

// readWS is the one goroutine reading a WebSocket. For an upgrade it first
// runs the probe; once the session uses t, it delivers the session's packets.
//
// An idle session costs mostly this goroutine's stack, and the runtime only
// shrinks a stack to a few times what it uses while blocked. So the loop
// blocks in Reader.Wait from this small frame, and does the work of a frame
// in readFrame, whose locals are gone by the time it waits again.
//
// A handler that runs deep on this goroutine (Socket.IO's namespace connect
// does) makes the runtime copy its stack to a bigger one, and a reader
// parked in the network poller keeps at least 4 KB: the runtime halves a
// stack only while less than a quarter of it is in use, and the poller's
// frames alone take more than 1 KB. So when the stack has moved (the
// address of a local changed), reading goes on in a fresh goroutine with a
// 2 KB stack, and this one ends. That happens once per session (handedOver):
// a client whose every message needs a deep stack would otherwise pay a
// new goroutine and a stack copy per message.
func (s *Session) readWS(t *wsTransport, probing, handedOver bool) {
	defer s.srv.wg.Done()
	if probing {
		t.conn.SetReadDeadline(time.Now().Add(s.srv.cfg.UpgradeTimeout))
	}
	var mark byte
	base := uintptr(unsafe.Pointer(&mark))
	for {
		t.rd.Wait()
		if !s.readFrame(t, &probing) {
			return
		}
		if !probing && !handedOver && uintptr(unsafe.Pointer(&mark)) != base {
			s.srv.wg.Add(1)
			go s.readWS(t, false, true)
			return
		}
	}
}

// readFrame reads and handles one frame; false means the reader must stop.
//
//go:noinline
func (s *Session) readFrame(t *wsTransport, probing *bool) bool {
	op, payload, err := t.rd.Next()
	if err != nil {
		if *probing {
			s.abortProbe(t)
			return false
		}
		var pe *websocket.ProtocolError
		if errors.As(err, &pe) {
			// Tell the client why (1009 for a message over the cap, …);
			// the flusher closes the connection after the close frame.
			s.closeWithCode(ReasonTransportError, err, closeEcho, pe.Code)
			return false
		}
		s.closeWith(ReasonTransportClose, nil, closeAbort)
		t.close()
		return false
	}
	var p packet.Packet
	switch op {
	case websocket.OpPing:
		if !*probing { // nobody may write the probe yet; ignore pings until then
			s.enqueue(outItem{wsFrame: websocket.AppendFrame(nil, websocket.OpPong, false, payload)})
		}
		return true
	case websocket.OpPong:
		return true
	case websocket.OpClose:
		if *probing {
			s.abortProbe(t)
			return false
		}
		code, _ := websocket.ParseClose(payload)
		if code == 1005 { // no status: answer with an empty close frame
			code = 0
		}
		s.closeWithCode(ReasonTransportClose, nil, closeEcho, code)
		return false
	case websocket.OpText:
		if s.protocol == 3 {
			p, err = packet.DecodeTextV3(payload)
		} else {
			p, err = packet.DecodeText(payload)
		}
	case websocket.OpBinary:
		if s.protocol == 3 {
			p, err = packet.DecodeBinaryV3(payload)
		} else {
			p = packet.DecodeBinary(payload)
		}
	default:
		return true
	}
	if err != nil {
		if *probing {
			s.abortProbe(t)
			return false
		}
		s.closeWith(ReasonParseError, err, closeAbort)
		t.close()
		return false
	}
	if *probing {
		if !s.probePacket(t, p) {
			return false
		}
		*probing = !s.usesWS(t)
		return true
	}
	// A close packet closes the session on WebSocket too (deliver), where
	// the official server ignores it and waits for the ping timeout.
	s.deliver(p)
	return true
}

func (s *Session) usesWS(t *wsTransport) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ws == t
}

// probePacket handles a packet on a WebSocket being probed for an upgrade.
// It returns false when the probe ended (the reader must stop).
func (s *Session) probePacket(t *wsTransport, p packet.Packet) bool {
	switch {
	case p.Type == packet.Ping && bytes.Equal(p.Data, probeData):
		t.conn.SetWriteDeadline(time.Now().Add(s.srv.cfg.WriteTimeout))
		if _, err := t.conn.Write(frameProbePong); err != nil {
			s.abortProbe(t)
			return false
		}
		// The writer's non-blocking writes would fail past the deadline.
		t.conn.SetWriteDeadline(time.Time{})
		s.mu.Lock()
		if s.probing == t {
			// Release the pending poll so the client can pause polling.
			s.upgrading = true
			s.noopPending = true
			s.wakePollLocked()
		}
		s.mu.Unlock()
		return true
	case p.Type == packet.Upgrade:
		s.mu.Lock()
		if s.probing != t || s.state == stateClosed {
			s.mu.Unlock()
			s.abortProbe(t)
			return false
		}
		s.probing = nil
		s.upgrading = false
		s.transport = TransportWebSocket
		s.ws = t
		// The old poll, if one is pending, ends with a noop.
		s.noopPending = true
		s.wakePollLocked()
		if s.state == stateClosing {
			// Closed gracefully during the upgrade: finish the close here.
			s.closePacket, s.finalizeOnPoll = false, false
			s.queue = append(s.queue, outItem{wsFrame: websocket.AppendClose(nil, websocket.CloseNormal, ""), last: true})
		}
		s.startFlushLocked()
		s.mu.Unlock()
		t.conn.SetReadDeadline(time.Time{})
		return true
	default:
		s.abortProbe(t)
		return false
	}
}

// abortProbe gives up an upgrade; the session stays on polling.
func (s *Session) abortProbe(t *wsTransport) {
	s.mu.Lock()
	if s.probing == t {
		s.probing = nil
		s.upgrading = false
		s.noopPending = false
	}
	s.mu.Unlock()
	t.close()
}

// startUpgrade begins probing t as the new transport of polling session s.
func (srv *Server) startUpgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	ok := s.state == stateOpen && s.transport == TransportPolling && s.probing == nil
	s.mu.Unlock()
	if !ok {
		// Already upgraded or upgrading: like the official server, complete
		// the WebSocket handshake and close the new socket at once; the
		// session is untouched.
		if t, ok := srv.acceptWebSocket(w, r, false, websocket.AppendClose(nil, 0, "")); ok {
			t.close()
		}
		return
	}
	t, ok := srv.acceptWebSocket(w, r, false, nil)
	if !ok {
		return
	}
	s.mu.Lock()
	if s.state != stateOpen || s.transport != TransportPolling || s.probing != nil {
		s.mu.Unlock()
		srv.cfg.Logger.Debug("engineio: upgrade raced", "sid", s.id, "err", errUpgradeState)
		t.close()
		return
	}
	s.probing = t
	s.mu.Unlock()
	if !srv.track() {
		s.abortProbe(t)
		return
	}
	go s.readWS(t, true, false)
}
