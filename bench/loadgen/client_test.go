package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// fakeServer accepts one WebSocket connection on loopback and runs script
// on it with a frame reader over what the client sends.
func fakeServer(t *testing.T, script func(conn net.Conn, rd *websocket.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan struct{})
	t.Cleanup(func() { <-done })
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(conn)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Errorf("server: %v", err)
			return
		}
		key, err := websocket.CheckRequest(req)
		if err != nil || req.URL.RequestURI() != "/socket.io/?EIO=4&transport=websocket" {
			t.Errorf("server: request %s: %v", req.URL.RequestURI(), err)
			return
		}
		// The open packet comes in the same write as the 101 response: the
		// client must take it from what it read past the response head.
		out := websocket.AppendResponse(nil, key, "", nil)
		out = websocket.AppendFrame(out, websocket.OpText, false, []byte(`0{"sid":"x","pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
		if _, err := conn.Write(out); err != nil {
			t.Errorf("server: %v", err)
			return
		}
		rd := websocket.NewReader(br, websocket.ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
		script(conn, rd)
	}()
	return ln.Addr().String()
}

func expectText(t *testing.T, rd *websocket.Reader, want string) {
	t.Helper()
	op, p, err := rd.Next()
	if err != nil || op != websocket.OpText || string(p) != want {
		t.Errorf("server read %v %q %v, want %q", op, p, err, want)
	}
}

// A client connects over the lean handshake, answers a ping, times acks,
// and writes the echoes that a batch of acks released together.
func TestClientQueueWritesOncePerBatch(t *testing.T) {
	echoes := make(chan string, 1)
	addr := fakeServer(t, func(conn net.Conn, rd *websocket.Reader) {
		expectText(t, rd, "40")
		conn.Write(websocket.AppendFrame(nil, websocket.OpText, false, []byte(`40{"sid":"y"}`)))
		conn.Write(websocket.AppendFrame(nil, websocket.OpText, false, []byte("2")))
		expectText(t, rd, "3")
		// Three acks in one write: the client owes three echoes after one
		// read, and sends them in one write.
		var acks []byte
		for i := range 3 {
			pl := TextPayload(nil, Now(), 20)
			acks = websocket.AppendFrame(acks, websocket.OpText, false, append([]byte{'4', '3', byte('1' + i), '['}, append(pl, ']')...))
		}
		conn.Write(acks)
		buf := make([]byte, 4096)
		n, err := conn.Read(buf)
		if err != nil {
			t.Errorf("server: %v", err)
		}
		echoes <- string(buf[:n])
	})
	sink := &Sink{}
	sink.OnAck = func(c *Client) {
		c.Queue(EventPacket(nil, c.NextAckID(), "echo", TextPayload(nil, c.ReadTime(), 20)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, NewDialer(2), addr, DialOptions{Timeout: 5 * time.Second}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got string
	select {
	case got = <-echoes:
	case <-ctx.Done():
		t.Fatal("no echoes")
	}
	// One read on the server side saw three masked frames.
	rd := websocket.NewReader(strings.NewReader(got), websocket.ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
	for i := range 3 {
		op, p, err := rd.Next()
		if err != nil || op != websocket.OpText || !bytes.HasPrefix(p, []byte(`42`)) || !bytes.Contains(p, []byte(`["echo","T`)) {
			t.Fatalf("echo %d in the first write: %v %q %v (the write held %d bytes)", i, op, p, err, len(got))
		}
	}
	if n := sink.Acks.Load(); n != 3 || sink.Lat.Count() != 3 || sink.Errors.Load() != 0 {
		t.Errorf("acks %d, latencies %d, errors %d; want 3, 3, 0", n, sink.Lat.Count(), sink.Errors.Load())
	}
}

// A server that does not switch protocols is reported with its status line.
func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		http.ReadRequest(bufio.NewReader(conn))
		conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
	}()
	_, err = Dial(context.Background(), NewDialer(1), ln.Addr().String(), DialOptions{Timeout: 5 * time.Second}, nil)
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request") {
		t.Fatalf("Dial error = %v, want the 400 status line", err)
	}
}
