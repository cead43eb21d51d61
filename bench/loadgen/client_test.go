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
	for _, own := range []bool{false, true} {
		t.Run(map[bool]string{false: "poller", true: "own-reader"}[own], func(t *testing.T) { testQueue(t, own) })
	}
}

type batch struct {
	data  string
	reads int
}

func testQueue(t *testing.T, own bool) {
	echoes := make(chan batch, 1)
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
		var got []byte
		buf := make([]byte, 4096)
		for reads := 1; ; reads++ {
			n, err := conn.Read(buf)
			if err != nil {
				t.Errorf("server: %v", err)
				return
			}
			got = append(got, buf[:n]...)
			if bytes.Count(got, []byte(`["echo","T`)) >= 3 || reads == 3 {
				echoes <- batch{string(got), reads}
				return
			}
		}
	})
	sink := &Sink{}
	sink.OnAck = func(c *Client) {
		c.Queue(EventPacket(nil, c.NextAckID(), "echo", TextPayload(nil, c.ReadTime(), 20)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, NewDialer(2), addr, DialOptions{Timeout: 5 * time.Second, OwnReader: own}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got batch
	select {
	case got = <-echoes:
	case <-ctx.Done():
		t.Fatal("no echoes")
	}
	// The poller reads the three acks with one read and answers with one
	// write. (A client on its own reader may read them in pieces: its
	// Reader waits for data with a 64-byte buffer.)
	if !own && got.reads != 1 {
		t.Errorf("the echoes came in %d reads of the server, want 1 write", got.reads)
	}
	rd := websocket.NewReader(strings.NewReader(got.data), websocket.ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
	for i := range 3 {
		op, p, err := rd.Next()
		if err != nil || op != websocket.OpText || !bytes.HasPrefix(p, []byte(`42`)) || !bytes.Contains(p, []byte(`["echo","T`)) {
			t.Fatalf("echo %d: %v %q %v (%d bytes in %d reads)", i, op, p, err, len(got.data), got.reads)
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

// The poller reassembles messages cut anywhere by the reads and sent in
// fragments, and reports the server's close.
func TestPollerReassembles(t *testing.T) {
	var stream []byte
	want := 0
	for i := range 20 {
		pl := TextPayload(nil, Now(), 10+i*700) // up to ~13 KB: 16-bit lengths, partial reads
		stream = websocket.AppendFrame(stream, websocket.OpText, false, append(append([]byte(`42["all",`), pl...), ']'))
		want++
	}
	// One fragmented message: text, continuation, final continuation.
	frag := append(append([]byte(`42["all",`), TextPayload(nil, Now(), 100)...), ']')
	stream = append(stream, 0x01, byte(20))
	stream = append(stream, frag[:20]...)
	stream = append(stream, 0x00, byte(30))
	stream = append(stream, frag[20:50]...)
	stream = append(stream, 0x80, byte(len(frag)-50))
	stream = append(stream, frag[50:]...)
	want++
	addr := fakeServer(t, func(conn net.Conn, rd *websocket.Reader) {
		expectText(t, rd, "40")
		conn.Write(websocket.AppendFrame(nil, websocket.OpText, false, []byte(`40{"sid":"y"}`)))
		for b := stream; len(b) > 0; {
			k := min(len(b), 777)
			conn.Write(b[:k])
			b = b[k:]
			time.Sleep(time.Millisecond)
		}
		conn.Write(websocket.AppendClose(nil, 1000, ""))
		time.Sleep(100 * time.Millisecond)
	})
	sink := &Sink{}
	c, err := Dial(context.Background(), NewDialer(1), addr, DialOptions{Timeout: 5 * time.Second}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not see the close")
	}
	if got := sink.Events.Load(); got != uint64(want) || sink.Errors.Load() != 0 || !c.Closed.Load() {
		t.Errorf("events %d (want %d), errors %d, closed %v", got, want, sink.Errors.Load(), c.Closed.Load())
	}
}
