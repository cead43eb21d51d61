package dynamicio

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestServer serves srv on 127.0.0.1 and tears it down after the test.
func newTestServer(t *testing.T, cfg *Config) (*Server, string) {
	t.Helper()
	srv := NewServer(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv, strings.Replace(ts.URL, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
}

// rawClient speaks Engine.IO v4 over WebSocket and lets tests write and
// read Socket.IO packets as text, like the protocol test suite.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	rd   *websocket.Reader
}

func dial(t *testing.T, url string) *rawClient {
	t.Helper()
	return dialHost(t, url, "")
}

// dialHost dials with a Host header of host (the URL's when "").
func dialHost(t *testing.T, url, host string) *rawClient {
	t.Helper()
	cfg := websocket.DialConfig{}
	if host != "" {
		cfg.Header = http.Header{"Host": {host}}
	}
	return dialConfig(t, url, cfg)
}

// dialConfig dials url with cfg and reads the open packet.
func dialConfig(t *testing.T, url string, cfg websocket.DialConfig) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, rd, _, _, err := websocket.Dial(ctx, url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawClient{t: t, conn: conn, rd: rd}
	if op, p := c.next(); op != websocket.OpText || !strings.HasPrefix(p, "0{") {
		t.Fatalf("open packet = %q", p)
	}
	return c
}

// send writes one Socket.IO packet (the Engine.IO "4" is added).
func (c *rawClient) send(pkt string) {
	c.t.Helper()
	c.write(websocket.OpText, "4"+pkt)
}

func (c *rawClient) sendBinary(b []byte) {
	c.t.Helper()
	c.write(websocket.OpBinary, string(b))
}

func (c *rawClient) write(op websocket.Opcode, p string) {
	c.t.Helper()
	if _, err := c.conn.Write(websocket.AppendClientFrame(nil, op, false, []byte(p), [4]byte{7, 7, 7, 7})); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next data frame, answering pings; OpClose when closed.
func (c *rawClient) next() (websocket.Opcode, string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		op, p, err := c.rd.Next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.Fatal("nothing received within 5s")
		}
		if err != nil || op == websocket.OpClose {
			return websocket.OpClose, ""
		}
		if op == websocket.OpText && string(p) == "2" {
			c.write(websocket.OpText, "3")
			continue
		}
		if op == websocket.OpText || op == websocket.OpBinary {
			return op, string(p)
		}
	}
}

// expect reads the next Socket.IO packet and compares it.
func (c *rawClient) expect(want string) {
	c.t.Helper()
	if got := c.recv(); got != want {
		c.t.Fatalf("received %q, want %q", got, want)
	}
}

// recv returns the next Socket.IO packet as text (without the "4").
func (c *rawClient) recv() string {
	c.t.Helper()
	op, p := c.next()
	if op != websocket.OpText || !strings.HasPrefix(p, "4") {
		c.t.Fatalf("received %v %q, want a Socket.IO packet", op, p)
	}
	return p[1:]
}

// connect joins a namespace and returns the socket id.
func (c *rawClient) connect(nsp string) string {
	c.t.Helper()
	prefix := "0"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix)
	got := c.recv()
	sid, ok := strings.CutPrefix(got, prefix+`{"sid":"`)
	if !ok || len(sid) != 22 {
		c.t.Fatalf("connect reply = %q", got)
	}
	return sid[:20]
}

func (c *rawClient) expectClosed() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		op, p, err := c.rd.Next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.Fatal("the connection was not closed within 5s")
		}
		if err != nil || op == websocket.OpClose {
			return
		}
		_ = p
	}
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
