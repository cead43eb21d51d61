package engineio

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) != "" {
		runBenchServer() // the child of the process benchmarks
		return
	}
	goleak.VerifyTestMain(m)
}

// event is something a recordingHandler saw.
type event struct {
	kind   string // "open", "message", "close"
	typ    MessageType
	data   string
	reason CloseReason
	err    error
}

// recordingHandler echoes every message back (unless noEcho) and records
// what happens, checking the Handler contract as it goes.
type recordingHandler struct {
	t      testing.TB
	noEcho bool
	events chan event

	mu     sync.Mutex
	closed map[*Session]bool
	active map[*Session]bool
}

func newRecorder(t testing.TB) *recordingHandler {
	return &recordingHandler{t: t, events: make(chan event, 4096), closed: map[*Session]bool{}, active: map[*Session]bool{}}
}

func (h *recordingHandler) OnOpen(s *Session) { h.events <- event{kind: "open"} }

func (h *recordingHandler) OnMessage(s *Session, typ MessageType, data []byte) {
	h.mu.Lock()
	if h.closed[s] {
		h.t.Errorf("OnMessage after OnClose")
	}
	if h.active[s] {
		h.t.Errorf("concurrent OnMessage")
	}
	h.active[s] = true
	h.mu.Unlock()
	h.events <- event{kind: "message", typ: typ, data: string(data)}
	if !h.noEcho {
		s.Write(typ, []byte(string(data)))
	}
	h.mu.Lock()
	h.active[s] = false
	h.mu.Unlock()
}

func (h *recordingHandler) OnClose(s *Session, reason CloseReason, err error) {
	h.mu.Lock()
	if h.closed[s] {
		h.t.Errorf("OnClose twice")
	}
	if h.active[s] {
		h.t.Errorf("OnClose during OnMessage")
	}
	h.closed[s] = true
	h.mu.Unlock()
	h.events <- event{kind: "close", reason: reason, err: err}
}

// next waits for the next event of kind.
func (h *recordingHandler) next(kind string) event {
	h.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-h.events:
			if e.kind == kind {
				return e
			}
		case <-timeout:
			h.t.Fatalf("no %s event within 5s", kind)
		}
	}
}

// testServer is an engine behind httptest, torn down after the test.
type testServer struct {
	t   testing.TB
	eng *Server
	ts  *httptest.Server
	h   *recordingHandler
	url string // http://127.0.0.1:port/engine.io/
}

func newTestServer(t testing.TB, cfg *Config) *testServer {
	t.Helper()
	h := newRecorder(t)
	eng := NewServer(h, cfg)
	ts := httptest.NewServer(eng)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { eng.Close() })
	return &testServer{t: t, eng: eng, ts: ts, h: h, url: ts.URL + eng.Path()}
}

// do sends a request and returns the status and body.
func (s *testServer) do(method, query, body string, hdr ...string) (int, string, http.Header) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+"?"+query, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := s.ts.Client().Do(req.WithContext(ctx))
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, query, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// openPayload is the decoded open packet.
type openPayload struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t testing.TB, pkt string) openPayload {
	t.Helper()
	if !strings.HasPrefix(pkt, "0") {
		t.Fatalf("open packet = %q, want 0{…}", pkt)
	}
	var o openPayload
	if err := json.Unmarshal([]byte(pkt[1:]), &o); err != nil {
		t.Fatalf("open packet %q: %v", pkt, err)
	}
	return o
}

// handshake opens a polling session and returns its open packet.
func (s *testServer) handshake() openPayload {
	s.t.Helper()
	code, body, _ := s.do("GET", "EIO=4&transport=polling", "")
	if code != 200 {
		s.t.Fatalf("handshake: %d %q", code, body)
	}
	return parseOpen(s.t, body)
}

func (s *testServer) poll(sid string) (int, string) {
	s.t.Helper()
	code, body, _ := s.do("GET", "EIO=4&transport=polling&sid="+sid, "")
	return code, body
}

func (s *testServer) post(sid, body string) (int, string) {
	s.t.Helper()
	code, b, _ := s.do("POST", "EIO=4&transport=polling&sid="+sid, body)
	return code, b
}

// wsClient is a raw WebSocket client for the tests.
type wsClient struct {
	t    testing.TB
	conn net.Conn
	rd   *websocket.Reader
}

func (s *testServer) dial(query string, hdr http.Header) *wsClient {
	s.t.Helper()
	c, err := s.tryDial(query, hdr)
	if err != nil {
		s.t.Fatalf("dial %s: %v", query, err)
	}
	return c
}

func (s *testServer) tryDial(query string, hdr http.Header) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, rd, _, _, err := websocket.Dial(ctx, strings.Replace(s.url, "http", "ws", 1)+"?"+query, websocket.DialConfig{Header: hdr})
	if err != nil {
		return nil, err
	}
	c := &wsClient{t: s.t, conn: conn, rd: rd}
	s.t.Cleanup(func() { conn.Close() })
	return c, nil
}

func (c *wsClient) send(op websocket.Opcode, p string) {
	c.t.Helper()
	f := websocket.AppendClientFrame(nil, op, false, []byte(p), [4]byte{1, 2, 3, 4})
	if _, err := c.conn.Write(f); err != nil {
		c.t.Fatalf("ws write: %v", err)
	}
}

func (c *wsClient) sendText(p string) { c.t.Helper(); c.send(websocket.OpText, p) }

// read returns the next data message, skipping control frames; a close
// frame or error returns op OpClose.
func (c *wsClient) read() (websocket.Opcode, string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		op, p, err := c.rd.Next()
		if err != nil {
			return websocket.OpClose, err.Error()
		}
		switch op {
		case websocket.OpText, websocket.OpBinary, websocket.OpClose:
			return op, string(p)
		}
	}
}

func (c *wsClient) expect(want string) {
	c.t.Helper()
	op, got := c.read()
	if op == websocket.OpClose || got != want {
		c.t.Fatalf("ws read = %v %q, want %q", op, got, want)
	}
}

// expectClosed waits for the server to close the connection.
func (c *wsClient) expectClosed() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		op, _, err := c.rd.Next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.Fatal("the server did not close the connection within 5s")
		}
		if err != nil || op == websocket.OpClose {
			return
		}
	}
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func gzipReader(r io.Reader) (string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(zr)
	return string(b), err
}
