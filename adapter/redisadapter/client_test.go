package redisadapter_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// client is a minimal Socket.IO client over a WebSocket: tests write and
// read packets as text, as the protocol test suite does.
type client struct {
	t    *testing.T
	conn net.Conn
	rd   *websocket.Reader
}

func dial(t *testing.T, base, host string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := websocket.DialConfig{}
	if host != "" {
		cfg.Header = http.Header{"Host": {host}}
	}
	url := strings.Replace(base, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
	conn, rd, _, _, err := websocket.Dial(ctx, url, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, rd: rd}
	if p := c.next(); !strings.HasPrefix(p, "0{") {
		t.Fatalf("open packet = %q", p)
	}
	return c
}

func (c *client) send(pkt string) {
	c.t.Helper()
	if _, err := c.conn.Write(websocket.AppendClientFrame(nil, websocket.OpText, false, []byte("4"+pkt), [4]byte{1, 2, 3, 4})); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next returns the next text frame, answering pings; "" once closed.
func (c *client) next() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		op, p, err := c.rd.Next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.Fatal("nothing received within 15s")
		}
		if err != nil || op == websocket.OpClose {
			return ""
		}
		if op == websocket.OpText && string(p) == "2" {
			if _, err := c.conn.Write(websocket.AppendClientFrame(nil, websocket.OpText, false, []byte("3"), [4]byte{})); err != nil {
				return ""
			}
			continue
		}
		return string(p)
	}
}

// recv returns the next Socket.IO packet (without the Engine.IO "4").
func (c *client) recv() string {
	c.t.Helper()
	p := c.next()
	if !strings.HasPrefix(p, "4") {
		c.t.Fatalf("received %q, want a Socket.IO packet", p)
	}
	return p[1:]
}

func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.recv(); got != want {
		c.t.Fatalf("received %q, want %q", got, want)
	}
}

// connect joins a namespace and returns the socket id.
func (c *client) connect(nsp string) string {
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
