package engineio

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/dynamicio/dynamicio/engineio/packet"
	"github.com/dynamicio/dynamicio/internal/httpcomp"
)

// Transport errors of the polling transport; the official server uses the
// same words.
var (
	errPollOverlap    = errors.New("engineio: overlap from client")
	errPostOverlap    = errors.New("engineio: data request overlap from client")
	errPollPremature  = errors.New("engineio: poll connection closed prematurely")
	errPostPremature  = errors.New("engineio: data request connection closed prematurely")
	errInvalidContent = errors.New("engineio: invalid content")
	errBodyTooLarge   = errors.New("engineio: request body too large")

	errHeartbeatDirection = errors.New("engineio: invalid heartbeat direction")
)

// wakePollLocked releases the waiting GET, if any. s.mu held.
func (s *Session) wakePollLocked() {
	if !s.pollWaiting {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// servePoll answers a GET of a polling session: at once with whatever is
// queued, else when something is queued, the session closes, or the upgrade
// needs the poll released.
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.pollWaiting {
		s.mu.Unlock()
		// The official server answers the second GET 400 and closes the
		// session; the first GET receives the close packet.
		w.WriteHeader(http.StatusBadRequest)
		s.closeWith(ReasonTransportError, errPollOverlap, closeAbort)
		return
	}
	if s.state == stateClosed || s.transport != TransportPolling {
		s.mu.Unlock()
		s.srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "TRANSPORT_MISMATCH"}, false)
		return
	}
	for s.state == stateOpen && len(s.queue) == 0 && !s.noopPending {
		if s.wake == nil {
			s.wake = make(chan struct{}, 1)
		}
		s.pollWaiting = true
		s.mu.Unlock()
		select {
		case <-s.wake:
			s.mu.Lock()
			s.pollWaiting = false
		case <-r.Context().Done():
			s.mu.Lock()
			s.pollWaiting = false
			s.mu.Unlock()
			s.closeWith(ReasonTransportError, errPollPremature, closeAbort)
			return
		}
	}
	items := s.takeLocked()
	pk := make([]packet.Packet, 0, len(items)+2)
	compress := false
	for i := range items {
		it := &items[i]
		switch {
		case it.msg != nil:
			pk = append(pk, it.msg.packet())
			compress = compress || it.msg.compress
		case it.wsFrame == nil:
			pk = append(pk, packet.Packet{Type: it.typ, Data: it.data})
		}
	}
	if s.closePacket {
		if len(pk) == 0 && s.finalizeOnPoll {
			// What the official server answers a poll after a close.
			pk = append(pk, packet.Packet{Type: packet.Noop})
		}
		pk = append(pk, packet.Packet{Type: packet.Close})
	} else if len(pk) == 0 {
		pk = append(pk, packet.Packet{Type: packet.Noop})
	}
	s.noopPending = s.noopPending && s.upgrading // keep releasing polls until the upgrade ends
	finalize := s.finalizeOnPoll
	s.mu.Unlock()

	s.writePayload(w, r, pk, compress)

	s.mu.Lock()
	s.recycleLocked(items)
	s.mu.Unlock()
	if finalize {
		s.finalize()
	}
}

// writePayload encodes packets for this session's protocol and writes them.
func (s *Session) writePayload(w http.ResponseWriter, r *http.Request, pk []packet.Packet, compress bool) {
	buf := getBuf()
	defer putBuf(buf)
	contentType := "text/plain; charset=UTF-8"
	b := (*buf)[:0]
	jsonp, isJSONP := jsonpIndex(r.URL.RawQuery)
	switch {
	case s.protocol == 4:
		b = packet.AppendPayload(b, pk)
	case s.handshake.supportsBinary && !isJSONP && packet.PayloadV3NeedsBinary(pk):
		b = packet.AppendPayloadV3Binary(b, pk)
		contentType = "application/octet-stream"
	default:
		b = packet.AppendPayloadV3String(b, pk)
	}
	if isJSONP {
		wrapped := appendJSONP(make([]byte, 0, len(b)+len(b)/8+32), jsonp, b)
		b = append(b[:0], wrapped...)
	}
	*buf = b
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if ua := r.Header.Get("User-Agent"); strings.Contains(ua, ";MSIE") || strings.Contains(ua, "Trident/") {
		h.Set("X-XSS-Protection", "0")
	}
	s.srv.addHeaders(h, r, false)
	cfg := &s.srv.cfg.HTTPCompression
	if compress && !cfg.Disabled && len(b) >= cfg.Threshold {
		if c := httpcomp.Negotiate(r.Header.Values("Accept-Encoding")); c != httpcomp.Identity {
			if z, err := httpcomp.Compress(c, gzip.BestSpeed, b); err == nil {
				h.Set("Content-Type", contentType)
				h.Set("Content-Encoding", c.String())
				h.Add("Vary", "Accept-Encoding")
				h.Set("Content-Length", strconv.Itoa(len(z)))
				w.WriteHeader(http.StatusOK)
				w.Write(z)
				return
			}
		}
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// servePost reads a polling POST and delivers its packets.
func (s *Session) servePost(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.postActive {
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		s.closeWith(ReasonTransportError, errPostOverlap, closeAbort)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.mu.Unlock()
	}()

	binaryBody := r.Header.Get("Content-Type") == "application/octet-stream"
	if binaryBody && s.protocol == 4 {
		// Binary bodies exist only in v3; answer and end the request, so a
		// flood of them cannot hold connections open (CVE-2026-59725).
		w.WriteHeader(http.StatusBadRequest)
		s.closeWith(ReasonTransportError, errInvalidContent, closeAbort)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	body, err := readBody(r, s.srv.cfg.MaxHTTPBufferSize, (*buf)[:0])
	*buf = body[:0]
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			s.closeWith(ReasonTransportError, errBodyTooLarge, closeAbort)
			return
		}
		s.closeWith(ReasonTransportError, errPostPremature, closeAbort)
		return
	}
	if _, ok := jsonpIndex(r.URL.RawQuery); ok {
		if body, ok = jsonpData(body); !ok {
			w.WriteHeader(http.StatusBadRequest)
			s.closeWith(ReasonParseError, errInvalidContent, closeAbort)
			return
		}
		binaryBody = false
	}
	var pk []packet.Packet
	if s.protocol == 4 {
		pk, err = packet.DecodePayload(body, s.srv.cfg.MaxPayloadPackets)
	} else {
		pk, err = packet.DecodePayloadV3(body, binaryBody, s.srv.cfg.MaxPayloadPackets)
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		s.closeWith(ReasonParseError, err, closeAbort)
		return
	}
	for _, p := range pk {
		s.deliver(p)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	s.srv.addHeaders(h, r, false)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "ok")
}

// readBody reads a request body of at most max bytes into dst, failing with
// errBodyTooLarge as soon as it is known to be larger: from Content-Length
// before reading anything, else while reading.
func readBody(r *http.Request, max int64, dst []byte) ([]byte, error) {
	if r.ContentLength > max {
		return dst, errBodyTooLarge
	}
	if r.ContentLength >= 0 {
		n := int(r.ContentLength)
		if cap(dst) < n {
			dst = make([]byte, n)
		}
		dst = dst[:n]
		_, err := io.ReadFull(r.Body, dst)
		return dst, err
	}
	lr := io.LimitReader(r.Body, max+1)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := lr.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > max {
			return dst, errBodyTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// bufPool recycles polling bodies. Buffers that grew past maxPooledBuf are
// left to the garbage collector so a few large bodies do not pin memory.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}
