package loadgen

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// Sink counts and times what a group of clients receives. Safe for
// concurrent use.
type Sink struct {
	Lat      Hist          // latency of each delivery (events and acks)
	Events   atomic.Uint64 // "all"/"room" events received (binary: attachments)
	Acks     atomic.Uint64 // acks received
	Errors   atomic.Uint64 // packets the client could not make sense of
	OnAck    func(c *Client)
	Disabled atomic.Bool // when set, deliveries are not counted (warm-up)
}

// Reset clears counts and latencies.
func (s *Sink) Reset() {
	s.Lat.Reset()
	s.Events.Store(0)
	s.Acks.Store(0)
	s.Errors.Store(0)
}

// Dialer hands out loopback source addresses in turn.
type Dialer struct {
	next    atomic.Uint32
	dialers []*net.Dialer // one per source address, for the default receive buffer
}

// NewDialer rotates over n source addresses 127.0.0.2…127.0.0.(n+1).
func NewDialer(n int) *Dialer {
	d := &Dialer{dialers: make([]*net.Dialer, max(n, 1))}
	for i := range d.dialers {
		d.dialers[i] = newNetDialer(i, 0)
	}
	return d
}

func newNetDialer(i, rcvbuf int) *net.Dialer {
	// No TCP keep-alive: four setsockopt calls fewer per connect, and
	// no connection here lives long enough to need it.
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}, Timeout: 10 * time.Second, KeepAlive: -1}
	if rcvbuf > 0 {
		nd.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	return nd
}

func (d *Dialer) netDialer(rcvbuf int) *net.Dialer {
	i := int(d.next.Add(1)) % len(d.dialers)
	if rcvbuf > 0 {
		return newNetDialer(i, rcvbuf)
	}
	return d.dialers[i]
}

// Client is one Socket.IO connection over WebSocket.
type Client struct {
	conn net.Conn
	// Read by the shared poller (poll set), or by a goroutine of the
	// client's own through rd.
	poll *poller
	fd   int
	rd   *websocket.Reader
	// in holds received bytes not yet parsed (the handshake, and the
	// incomplete tail of the last read under the poller); off is where the
	// handshake's next frame starts in it.
	in    []byte
	off   int
	inMsg bool // a fragmented message is being reassembled in msg
	msgOp websocket.Opcode
	msg   []byte
	wmu   sync.Mutex
	wbuf  []byte
	// out holds the frames queued by the reader goroutine (Queue), written
	// in one write once no complete frame is left in the read buffer.
	out  []byte
	sink atomic.Pointer[Sink]
	// rtime is Now() when the last read from the connection returned bytes:
	// the arrival time of every message parsed from them (reader only).
	rtime int64
	// paused: the reader stops reading (a slow consumer) until resumed.
	paused   atomic.Bool
	resume   chan struct{}
	done     chan struct{}
	binary   bool // the next binary frame is an attachment of an event
	ackID    atomic.Uint64
	Closed   atomic.Bool // the server closed the connection (EOF or error)
	closeReq atomic.Bool
}

// timedReader is what the Reader reads from: the connection, stamping the
// client's rtime once per read rather than once per message.
type timedReader struct{ c *Client }

func (t timedReader) Read(p []byte) (int, error) {
	n, err := t.c.conn.Read(p)
	if n > 0 {
		t.c.rtime = Now()
	}
	return n, err
}

// DialOptions selects the transport path of a connection.
type DialOptions struct {
	Upgrade bool          // handshake over polling, then upgrade to WebSocket
	RcvBuf  int           // SO_RCVBUF of the socket, 0 for the system default
	Timeout time.Duration // bound on the whole connect, besides ctx; 0 for none
	// OwnReader reads the connection on a goroutine of its own through
	// websocket.Reader, instead of the process's shared poller.
	OwnReader bool
}

// Dial connects a client to the Socket.IO server at addr (host:port, path
// /socket.io/) and completes the connect to the main namespace. sink may be
// nil (then nothing is counted until SetSink).
func Dial(ctx context.Context, d *Dialer, addr string, opt DialOptions, sink *Sink) (*Client, error) {
	c := &Client{resume: make(chan struct{}, 1), done: make(chan struct{})}
	c.sink.Store(sink)
	dl, _ := ctx.Deadline()
	if opt.Timeout > 0 {
		if t := time.Now().Add(opt.Timeout); dl.IsZero() || t.Before(dl) {
			dl = t
		}
	}
	var err error
	if opt.Upgrade {
		if !dl.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl)
			defer cancel()
		}
		err = c.dialUpgrade(ctx, d, addr, dl, opt)
	} else {
		// The deadline goes on the connection: no timer of a context
		// per connect on this path.
		err = c.dialWS(ctx, d, addr, dl, opt)
	}
	if err != nil {
		return nil, err
	}
	// What arrived after the handshake's last message is read first.
	c.in = append(c.in[:0], c.in[c.off:]...)
	c.off = 0
	if opt.OwnReader {
		c.rd = websocket.NewReader(timedReader{c}, websocket.ReaderConfig{MaxMessageSize: maxMessage})
		c.rd.Prime(c.in)
		c.in = nil
		go c.readLoop()
		return c, nil
	}
	if err := c.startPolling(); err != nil {
		c.closeConn()
		return nil, err
	}
	return c, nil
}

func (c *Client) startPolling() error {
	p, err := sharedPoller()
	if err != nil {
		return err
	}
	sc, ok := c.conn.(syscall.Conn)
	if !ok {
		return errors.New("loadgen: connection without a descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	// The poller reads a duplicate of the descriptor, and the original is
	// closed: that takes it out of the runtime's netpoller, which would
	// otherwise be woken for every message too. Writes go straight to the
	// duplicate (writeLocked).
	var dupErr error
	err = rc.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		c.fd = int(r)
		if e != 0 {
			dupErr = e
		}
	})
	if err = errors.Join(err, dupErr); err != nil {
		return err
	}
	c.conn.Close()
	c.conn = nil
	rest, err := c.consume(c.in)
	if err != nil {
		return err
	}
	c.in = append(c.in[:0], rest...)
	if len(c.out) > 0 {
		c.flush()
	}
	c.poll = p
	return p.add(c)
}

// nextMessage returns the next data message during the handshake, reading
// with the connection's deadline; the payload is valid until the next
// call. Control frames are skipped (a close ends the handshake).
func (c *Client) nextMessage() (websocket.Opcode, []byte, error) {
	for {
		op, fin, p, n, err := parseFrame(c.in[c.off:])
		if err != nil {
			return 0, nil, err
		}
		if n > 0 {
			c.off += n
			switch {
			case op == websocket.OpClose:
				return 0, nil, errServerClose
			case op >= websocket.OpClose:
				continue
			case !fin || op == websocket.OpContinuation:
				return 0, nil, errors.New("loadgen: fragmented message in the handshake")
			}
			return op, p, nil
		}
		if c.off > 0 {
			c.in = append(c.in[:0], c.in[c.off:]...)
			c.off = 0
		}
		if cap(c.in)-len(c.in) < 512 {
			c.in = append(make([]byte, 0, 2*cap(c.in)+512), c.in...)
		}
		k, err := c.conn.Read(c.in[len(c.in):cap(c.in)])
		c.in = c.in[:len(c.in)+k]
		if k == 0 && err != nil {
			return 0, nil, err
		}
	}
}

func (c *Client) dialWS(ctx context.Context, d *Dialer, addr string, dl time.Time, opt DialOptions) error {
	conn, err := c.dialSocket(ctx, d, addr, "", dl, opt)
	if err != nil {
		return err
	}
	op, p, err := c.nextMessage()
	if err != nil || op != websocket.OpText || len(p) == 0 || p[0] != '0' {
		conn.Close()
		return fmt.Errorf("loadgen: no open packet (%q, %v)", p, err)
	}
	if err := c.connectNamespace(); err != nil {
		conn.Close()
		return err
	}
	conn.SetDeadline(time.Time{})
	return nil
}

// dialSocket opens the WebSocket of a new session (sid "") or of the
// upgrade of session sid; the connection keeps the deadline dl (none when
// zero) until the caller clears it.
//
// The handshake is done here rather than by websocket.Dial, for cost: the
// request is one fixed string, and the response head is read into a pooled
// buffer and checked for the status and the accept key only (the servers
// under test are trusted), without net/http's parser, its header maps and
// its bufio reader. The bytes after the head start the frame stream.
func (c *Client) dialSocket(ctx context.Context, d *Dialer, addr, sid string, dl time.Time, opt DialOptions) (net.Conn, error) {
	conn, err := d.netDialer(opt.RcvBuf).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: dial: %w", err)
	}
	if !dl.IsZero() {
		conn.SetDeadline(dl)
	}
	hb := headPool.Get().(*[headSize]byte)
	defer headPool.Put(hb)
	key := newKey()
	req := append(hb[:0], "GET /socket.io/?EIO=4&transport=websocket"...)
	if sid != "" {
		req = append(append(req, "&sid="...), sid...)
	}
	req = append(append(req, " HTTP/1.1\r\nHost: "...), addr...)
	req = append(req, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	req = append(append(req, key[:]...), "\r\n\r\n"...)
	if _, err := conn.Write(req); err != nil {
		conn.Close()
		return nil, fmt.Errorf("loadgen: handshake: %w", err)
	}
	n, end := 0, -1
	for end < 0 {
		if n == len(hb) {
			conn.Close()
			return nil, fmt.Errorf("loadgen: handshake: response head over %d bytes", len(hb))
		}
		k, err := conn.Read(hb[n:])
		n += k
		if end = bytes.Index(hb[:n], []byte("\r\n\r\n")); end < 0 && err != nil {
			conn.Close()
			return nil, fmt.Errorf("loadgen: handshake: %w", err)
		}
	}
	head := hb[:end+2]
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101 ")) || !bytes.Equal(headerValue(head, "sec-websocket-accept"), acceptKey(key)) {
		conn.Close()
		line, _, _ := bytes.Cut(head, []byte("\r\n"))
		return nil, fmt.Errorf("loadgen: handshake refused or bad accept key: %q", line)
	}
	c.conn = conn
	c.in = append(make([]byte, 0, 512), hb[end+4:n]...)
	return conn, nil
}

const headSize = 4096

var headPool = sync.Pool{New: func() any { return new([headSize]byte) }}

var keySeq atomic.Uint64

// newKey returns a Sec-WebSocket-Key: base64 of 16 bytes, unique per
// connection of this process (the servers need no randomness from us).
func newKey() (k [24]byte) {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:], uint64(Now()))
	binary.BigEndian.PutUint64(raw[8:], keySeq.Add(1))
	base64.StdEncoding.Encode(k[:], raw[:])
	return k
}

const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func acceptKey(key [24]byte) []byte {
	h := sha1.New()
	h.Write(key[:])
	h.Write([]byte(acceptGUID))
	var sum [sha1.Size]byte
	out := make([]byte, 28)
	base64.StdEncoding.Encode(out, h.Sum(sum[:0]))
	return out
}

// headerValue returns the trimmed value of the first header line of head
// named name (lower case), or nil.
func headerValue(head []byte, name string) []byte {
	for len(head) > 0 {
		line, rest, _ := bytes.Cut(head, []byte("\r\n"))
		head = rest
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && len(k) == len(name) && strings.EqualFold(string(k), name) {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}

// connectNamespace sends the connect packet and waits for its answer.
func (c *Client) connectNamespace() error {
	if err := c.sendText([]byte("40")); err != nil {
		return err
	}
	for {
		op, p, err := c.nextMessage()
		if err != nil {
			return fmt.Errorf("loadgen: connect: %w", err)
		}
		if op != websocket.OpText {
			continue
		}
		switch {
		case bytes.HasPrefix(p, []byte("40")):
			return nil
		case len(p) == 1 && p[0] == '2':
			c.sendText([]byte("3"))
		case bytes.HasPrefix(p, []byte("44")):
			return fmt.Errorf("loadgen: connect refused: %s", p)
		}
	}
}

// dialUpgrade follows the default client path: polling handshake, namespace
// connect over polling, then the WebSocket probe and upgrade.
func (c *Client) dialUpgrade(ctx context.Context, d *Dialer, addr string, dl time.Time, opt DialOptions) error {
	nd := d.netDialer(0)
	tr := &http.Transport{DialContext: nd.DialContext, MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	base := "http://" + addr + "/socket.io/?EIO=4&transport=polling"
	body, err := pollDo(ctx, hc, http.MethodGet, base, nil)
	if err != nil {
		return err
	}
	sid, err := openSID(body)
	if err != nil {
		return err
	}
	q := base + "&sid=" + sid
	if _, err := pollDo(ctx, hc, http.MethodPost, q, []byte("40")); err != nil {
		return err
	}
	if body, err = pollDo(ctx, hc, http.MethodGet, q, nil); err != nil {
		return err
	}
	if !bytes.Contains(body, []byte("40{")) {
		return fmt.Errorf("loadgen: no connect answer over polling: %q", body)
	}
	conn, err := c.dialSocket(ctx, d, addr, sid, dl, opt)
	if err != nil {
		return err
	}
	if err := c.sendText([]byte("2probe")); err != nil {
		conn.Close()
		return err
	}
	for {
		op, p, err := c.nextMessage()
		if err != nil {
			conn.Close()
			return fmt.Errorf("loadgen: probe: %w", err)
		}
		if op == websocket.OpText && string(p) == "3probe" {
			break
		}
	}
	if err := c.sendText([]byte("5")); err != nil {
		conn.Close()
		return err
	}
	conn.SetDeadline(time.Time{})
	return nil
}

func openSID(body []byte) (string, error) {
	i := bytes.Index(body, []byte(`"sid":"`))
	if len(body) == 0 || body[0] != '0' || i < 0 {
		return "", fmt.Errorf("loadgen: no open packet: %q", body)
	}
	rest := body[i+7:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", fmt.Errorf("loadgen: bad open packet: %q", body)
	}
	return string(rest[:j]), nil
}

func pollDo(ctx context.Context, hc *http.Client, method, url string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadgen: %s: %s %q", method, resp.Status, b)
	}
	return b, nil
}

// SetSink routes what the client receives to s.
func (c *Client) SetSink(s *Sink) { c.sink.Store(s) }

// Pause makes the client stop reading, like a consumer that cannot keep up.
func (c *Client) Pause() {
	c.paused.Store(true)
	if c.poll != nil {
		c.poll.setReading(c, false)
	}
}

// Resume makes a paused client read again.
func (c *Client) Resume() {
	c.paused.Store(false)
	if c.poll != nil {
		c.poll.setReading(c, true)
		return
	}
	select {
	case c.resume <- struct{}{}:
	default:
	}
}

// Done is closed when the client's reader stopped.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close closes the connection.
func (c *Client) Close() {
	c.closeReq.Store(true)
	if c.poll != nil {
		c.poll.drop(c)
		return
	}
	c.conn.Close()
	c.Resume()
}

func (c *Client) sendText(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = websocket.AppendClientFrame(c.wbuf[:0], websocket.OpText, false, p, [4]byte{})
	return c.writeLocked(c.wbuf)
}

// Send sends a Socket.IO packet (its text form without the Engine.IO "4").
func (c *Client) Send(packet []byte) error {
	return c.sendText(packet)
}

// SendBinary sends an event with one binary attachment: the placeholder
// packet and the attachment in one write.
func (c *Client) SendBinary(packet []byte, att []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = websocket.AppendClientFrame(c.wbuf[:0], websocket.OpText, false, packet, [4]byte{})
	c.wbuf = websocket.AppendClientFrame(c.wbuf, websocket.OpBinary, false, att, [4]byte{})
	return c.writeLocked(c.wbuf)
}

// Queue adds a Socket.IO packet to what the client owes the server and
// writes nothing yet: the reader writes everything queued in one write once
// it has consumed every complete frame it already has buffered. Call it only
// from the reader goroutine, i.e. from Sink.OnAck.
func (c *Client) Queue(packet []byte) {
	c.out = websocket.AppendClientFrame(c.out, websocket.OpText, false, packet, [4]byte{})
}

// ReadTime is Now() when the bytes of the message being handled arrived
// (the end of the read that returned them). Only from the reader goroutine.
func (c *Client) ReadTime() int64 { return c.rtime }

// writeLocked writes b whole, with wmu held.
func (c *Client) writeLocked(b []byte) error {
	if c.conn != nil {
		_, err := c.conn.Write(b)
		return err
	}
	// The poller's duplicate descriptor, non-blocking: when the socket's
	// buffer is full, retry for a bounded time (rare: the servers read).
	deadline := time.Now().Add(10 * time.Second)
	for len(b) > 0 {
		if c.fd < 0 {
			return net.ErrClosed
		}
		n, err := syscall.Write(c.fd, b)
		switch {
		case err == syscall.EAGAIN:
			if time.Now().After(deadline) {
				return os.ErrDeadlineExceeded
			}
			time.Sleep(100 * time.Microsecond)
			continue
		case err == syscall.EINTR:
			continue
		case err != nil:
			return err
		}
		b = b[n:]
	}
	return nil
}

// closeConn closes the connection, whichever form it has.
func (c *Client) closeConn() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.conn != nil {
		c.conn.Close()
	} else if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
}

func (c *Client) flush() {
	c.wmu.Lock()
	c.writeLocked(c.out) // an error shows in the reader
	c.wmu.Unlock()
	c.out = c.out[:0]
}

// NextAckID returns a fresh ack id for this client.
func (c *Client) NextAckID() uint64 { return c.ackID.Add(1) }

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		if c.paused.Load() {
			<-c.resume
			continue
		}
		op, p, err := c.rd.Next()
		if err != nil {
			if !c.closeReq.Load() {
				c.Closed.Store(true)
			}
			c.conn.Close()
			return
		}
		c.handle(op, p)
		if len(c.out) > 0 && c.rd.Buffered() == 0 {
			c.flush()
		}
	}
}

func (c *Client) handle(op websocket.Opcode, p []byte) {
	s := c.sink.Load()
	switch op {
	case websocket.OpBinary:
		if c.binary {
			c.binary = false
			if ts, ok := binaryStamp(p); ok && s != nil && !s.Disabled.Load() {
				s.Lat.Record(time.Duration(c.rtime - ts))
				s.Events.Add(1)
			}
		}
		return
	case websocket.OpText:
	default:
		return
	}
	if len(p) == 0 {
		return
	}
	switch p[0] {
	case '2': // ping
		c.Queue([]byte("3"))
		return
	case '4':
	default:
		return
	}
	if len(p) < 2 {
		return
	}
	switch p[1] {
	case '2': // event
		if s == nil || s.Disabled.Load() {
			return
		}
		if ts, ok := textStamp(p); ok {
			s.Lat.Record(time.Duration(c.rtime - ts))
			s.Events.Add(1)
		} else {
			s.Errors.Add(1)
		}
	case '3': // ack
		if s == nil {
			return
		}
		if !s.Disabled.Load() {
			if ts, ok := textStamp(p); ok {
				s.Lat.Record(time.Duration(c.rtime - ts))
				s.Acks.Add(1)
			} else if bytes.HasSuffix(p, []byte("[true]")) {
				s.Acks.Add(1)
			} else {
				s.Errors.Add(1)
			}
		}
		if s.OnAck != nil {
			s.OnAck(c)
		}
	case '5': // binary event: the attachment follows
		c.binary = true
	}
}

// EventPacket returns 2["name",args…] with args already JSON.
func EventPacket(dst []byte, ackID uint64, name string, args ...[]byte) []byte {
	dst = append(dst, '4', '2')
	if ackID > 0 {
		dst = strconv.AppendUint(dst, ackID, 10)
	}
	dst = append(dst, `["`...)
	dst = append(dst, name...)
	dst = append(dst, '"')
	for _, a := range args {
		dst = append(dst, ',')
		dst = append(dst, a...)
	}
	return append(dst, ']')
}

// Quote returns s as a JSON string (s must need no escaping).
func Quote(s string) []byte { return []byte(`"` + strings.ReplaceAll(s, `"`, ``) + `"`) }
