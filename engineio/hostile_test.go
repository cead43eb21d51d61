package engineio

import (
	"encoding/binary"

	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// Bytes that are not a valid frame right after the 101 close that
// connection only (CVE-2022-21676 crashed the Node server this way).
func TestGarbageAfterUpgrade(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	inputs := map[string][]byte{
		"rsv2 set":       {0xA1, 0x80, 1, 2, 3, 4},
		"opcode 0xF":     {0x8F, 0x80, 1, 2, 3, 4},
		"unmasked":       {0x81, 0x01, '4'},
		"len 2^63-1":     append(binary.BigEndian.AppendUint64([]byte{0x82, 0xFF}, 1<<63-1), 1, 2, 3, 4),
		"len 2^32+1":     append(binary.BigEndian.AppendUint64([]byte{0x82, 0xFF}, 1<<32+1), 1, 2, 3, 4),
		"ping too long":  append([]byte{0x89, 0xFE, 0x01, 0x00}, make([]byte, 4+256)...),
		"http garbage":   []byte("GET / HTTP/1.1\r\n\r\n"),
		"continuation 1": {0x80, 0x80, 1, 2, 3, 4},
	}
	for name, in := range inputs {
		c := s.dial("EIO=4&transport=websocket", nil)
		c.read()
		c.conn.Write(in)
		c.expectClosed()
		if e := s.h.next("close"); e.reason != ReasonTransportError {
			t.Errorf("%s: reason %q, want transport error", name, e.reason)
		}
	}
	// The server still serves.
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read()
	c.sendText("4still here")
	c.expect("4still here")
}

// Malformed Engine.IO packets close their session with a parse error, over
// both transports, and leave nothing behind.
func TestMalformedPacketsReplay(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, &Config{PingInterval: time.Minute})
	bad := []string{"abc", "9", "bAQID$", "b!!!", "", "x4hello", "\xff", "4\x1e9"}
	before := runtime.NumGoroutine()
	for i := range 200 {
		p := bad[i%len(bad)]
		if i%2 == 0 {
			if p == "" {
				continue // an empty WebSocket message is not a packet at all
			}
			c := s.dial("EIO=4&transport=websocket", nil)
			c.read()
			c.sendText(p)
			c.expectClosed()
			c.conn.Close()
		} else {
			sid := s.handshake().SID
			if code, _ := s.post(sid, p); code != 400 {
				t.Fatalf("post %q = %d, want 400", p, code)
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.eng.Count() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.eng.Count(); n != 0 {
		t.Errorf("%d sessions left after malformed packets", n)
	}
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+5 {
		t.Errorf("goroutines: %d before, %d after", before, g)
	}
}

// A polling body of 500,000 tiny packets is refused by the packet cap
// before any packet is handled.
func TestPayloadPacketCap(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	sid := s.handshake().SID
	body := strings.Repeat("6\x1e", 499_999) + "6"
	start := time.Now()
	if code, _ := s.post(sid, body); code != 400 {
		t.Errorf("post of 500,000 packets = %d, want 400", code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing it took %v", d)
	}
	if e := s.h.next("close"); e.reason != ReasonParseError {
		t.Errorf("reason = %q", e.reason)
	}
}

// A fragmented message past the cap, and a ping flood, close only the
// offending connection, with the right WebSocket close code.
func TestWebSocketLimits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, &Config{MaxHTTPBufferSize: 1000})
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read()
	key := [4]byte{1, 2, 3, 4}
	var b []byte
	b = append(b, appendClientFragment(nil, websocket.OpText, false, []byte("4"+strings.Repeat("x", 600)), key)...)
	b = append(b, appendClientFragment(nil, websocket.OpContinuation, true, []byte(strings.Repeat("x", 600)), key)...)
	c.conn.Write(b)
	op, p := c.read()
	if code, _ := websocket.ParseClose([]byte(p)); op != websocket.OpClose || code != websocket.CloseMessageTooBig {
		t.Errorf("fragmented over-cap message: %v %q, want close 1009", op, p)
	}
	s.h.next("close")

	// 10,000 pings from a client that never reads its pongs: the pongs share
	// the bounded queue, so the client is cut rather than growing memory.
	s2 := newTestServer(t, &Config{MaxQueueBytes: 32 << 10, WriteTimeout: 200 * time.Millisecond})
	c2 := s2.dial("EIO=4&transport=websocket", nil)
	ping := websocket.AppendClientFrame(nil, websocket.OpPing, false, []byte(strings.Repeat("p", 125)), key)
	flood := []byte{}
	for range 100 {
		flood = append(flood, ping...)
	}
	c2.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	for i := 0; i < 100; i++ {
		if _, err := c2.conn.Write(flood); err != nil {
			break
		}
	}
	if e := s2.h.next("close"); e.reason != ReasonTransportError {
		t.Errorf("ping flood: reason %q", e.reason)
	}
}

func appendClientFragment(dst []byte, op websocket.Opcode, fin bool, payload []byte, key [4]byte) []byte {
	f := websocket.AppendClientFrame(dst, op, false, payload, key)
	if !fin {
		f[len(dst)] &^= 0x80
	}
	return f
}
