package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	next  atomic.Uint32
	addrs int
}

// NewDialer rotates over n source addresses 127.0.0.2…127.0.0.(n+1).
func NewDialer(n int) *Dialer { return &Dialer{addrs: max(n, 1)} }

func (d *Dialer) netDialer(rcvbuf int) *net.Dialer {
	i := int(d.next.Add(1)) % d.addrs
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}, Timeout: 10 * time.Second}
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

// Client is one Socket.IO connection over WebSocket.
type Client struct {
	conn net.Conn
	rd   *websocket.Reader
	wmu  sync.Mutex
	wbuf []byte
	sink atomic.Pointer[Sink]
	// paused: the reader stops reading (a slow consumer) until resumed.
	paused   atomic.Bool
	resume   chan struct{}
	done     chan struct{}
	binary   bool // the next binary frame is an attachment of an event
	ackID    atomic.Uint64
	Closed   atomic.Bool // the server closed the connection (EOF or error)
	closeReq atomic.Bool
}

// DialOptions selects the transport path of a connection.
type DialOptions struct {
	Upgrade bool // handshake over polling, then upgrade to WebSocket
	RcvBuf  int  // SO_RCVBUF of the socket, 0 for the system default
}

// Dial connects a client to the Socket.IO server at addr (host:port, path
// /socket.io/) and completes the connect to the main namespace. sink may be
// nil (then nothing is counted until SetSink).
func Dial(ctx context.Context, d *Dialer, addr string, opt DialOptions, sink *Sink) (*Client, error) {
	c := &Client{resume: make(chan struct{}, 1), done: make(chan struct{})}
	c.sink.Store(sink)
	var err error
	if opt.Upgrade {
		err = c.dialUpgrade(ctx, d, addr, opt)
	} else {
		err = c.dialWS(ctx, d, addr, opt)
	}
	if err != nil {
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

func (c *Client) dialWS(ctx context.Context, d *Dialer, addr string, opt DialOptions) error {
	conn, rd, err := c.dialSocket(ctx, d, addr, "", opt)
	if err != nil {
		return err
	}
	op, p, err := rd.Next()
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
// upgrade of session sid; the connection keeps ctx's deadline until the
// caller clears it.
func (c *Client) dialSocket(ctx context.Context, d *Dialer, addr, sid string, opt DialOptions) (net.Conn, *websocket.Reader, error) {
	url := "ws://" + addr + "/socket.io/?EIO=4&transport=websocket"
	if sid != "" {
		url += "&sid=" + sid
	}
	conn, rd, _, _, err := websocket.Dial(ctx, url, websocket.DialConfig{NetDialer: d.netDialer(opt.RcvBuf), MaxMessageSize: 2 << 20})
	if err != nil {
		return nil, nil, err
	}
	c.conn, c.rd = conn, rd
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	return conn, rd, nil
}

// connectNamespace sends the connect packet and waits for its answer.
func (c *Client) connectNamespace() error {
	if err := c.sendText([]byte("40")); err != nil {
		return err
	}
	for {
		op, p, err := c.rd.Next()
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
func (c *Client) dialUpgrade(ctx context.Context, d *Dialer, addr string, opt DialOptions) error {
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
	conn, rd, err := c.dialSocket(ctx, d, addr, sid, opt)
	if err != nil {
		return err
	}
	if err := c.sendText([]byte("2probe")); err != nil {
		conn.Close()
		return err
	}
	for {
		op, p, err := rd.Next()
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
func (c *Client) Pause() { c.paused.Store(true) }

// Resume makes a paused client read again.
func (c *Client) Resume() {
	c.paused.Store(false)
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
	c.conn.Close()
	c.Resume()
}

func (c *Client) sendText(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = websocket.AppendClientFrame(c.wbuf[:0], websocket.OpText, false, p, [4]byte{})
	_, err := c.conn.Write(c.wbuf)
	return err
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
	_, err := c.conn.Write(c.wbuf)
	return err
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
	}
}

func (c *Client) handle(op websocket.Opcode, p []byte) {
	s := c.sink.Load()
	switch op {
	case websocket.OpBinary:
		if c.binary {
			c.binary = false
			if ts, ok := binaryStamp(p); ok && s != nil && !s.Disabled.Load() {
				s.Lat.Record(time.Duration(Now() - ts))
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
		c.sendText([]byte("3"))
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
			s.Lat.Record(time.Duration(Now() - ts))
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
				s.Lat.Record(time.Duration(Now() - ts))
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
