package engineio

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

func v3Config() *Config {
	cfg := conformanceConfig()
	cfg.AllowEIO3 = true
	return cfg
}

func TestV3Refused(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	if code, body, _ := s.do("GET", "EIO=3&transport=polling", ""); code != 400 || body != `{"code":5,"message":"Unsupported protocol version"}` {
		t.Errorf("v3 handshake = %d %s", code, body)
	}
}

func TestV3Polling(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, v3Config())
	code, body, _ := s.do("GET", "EIO=3&transport=polling&b64=1", "")
	n, pkt, ok := strings.Cut(body, ":")
	if code != 200 || !ok {
		t.Fatalf("handshake = %d %q", code, body)
	}
	o := parseOpen(t, pkt)
	if n != strconv.Itoa(len(pkt)) {
		t.Errorf("length prefix %s for a %d-byte packet", n, len(pkt))
	}
	q := "EIO=3&transport=polling&b64=1&sid=" + o.SID
	if code, body, _ := s.do("POST", q, "6:4hello2:4é"); code != 200 || body != "ok" {
		t.Fatalf("post = %d %q", code, body)
	}
	if _, body, _ := s.do("GET", q, ""); body != "6:4hello2:4é" {
		t.Errorf("poll = %q, want 6:4hello2:4é (UTF-16 lengths)", body)
	}
	// v3 clients ping; the server answers with a pong.
	s.do("POST", q, "1:2")
	if _, body, _ := s.do("GET", q, ""); body != "1:3" {
		t.Errorf("poll after ping = %q, want 1:3", body)
	}
	// Binary to a b64 client goes base64 with the type digit after b.
	s.eng.Session(o.SID).Write(Binary, []byte{1, 2, 3})
	if _, body, _ := s.do("GET", q, ""); body != "6:b4AQID" {
		t.Errorf("binary poll = %q, want 6:b4AQID", body)
	}
}

func TestV3BinaryPolling(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, v3Config())
	_, body, _ := s.do("GET", "EIO=3&transport=polling", "")
	_, pkt, _ := strings.Cut(body, ":")
	sid := parseOpen(t, pkt).SID
	q := "EIO=3&transport=polling&sid=" + sid
	s.eng.Session(sid).Write(Binary, []byte{1, 2, 3})
	code, body, hdr := s.do("GET", q, "")
	if code != 200 || hdr.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("binary poll = %d %v", code, hdr)
	}
	if want := "\x01\x04\xff\x04\x01\x02\x03"; body != want {
		t.Errorf("binary payload = %q, want %q", body, want)
	}
	// A binary POST body (XHR2 form) from a v3 client.
	code, _, _ = s.do("POST", q, "\x01\x04\xff\x04\x09\x08\x07", "Content-Type", "application/octet-stream")
	if code != 200 {
		t.Fatalf("binary post = %d", code)
	}
	s.h.next("open")
	if e := s.h.next("message"); e.typ != Binary || e.data != "\x09\x08\x07" {
		t.Errorf("message = %+v", e)
	}
}

func TestV3PingTimeout(t *testing.T) {
	t.Parallel()
	cfg := heartbeatConfig()
	cfg.AllowEIO3 = true
	s := newTestServer(t, cfg)
	c := s.dial("EIO=3&transport=websocket", nil)
	c.read()
	for range 3 {
		time.Sleep(100 * time.Millisecond)
		c.sendText("2")
		c.expect("3")
	}
	// No ping for pingInterval+pingTimeout: closed.
	c.expectClosed()
	if e := s.h.next("close"); e.reason != ReasonPingTimeout {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestV3WebSocketBinary(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, v3Config())
	c := s.dial("EIO=3&transport=websocket", nil)
	c.read()
	c.send(websocket.OpBinary, "\x04\x01\x02")
	if op, p := c.read(); op != websocket.OpBinary || p != "\x04\x01\x02" {
		t.Errorf("binary echo = %v %q", op, p)
	}
	c.sendText("4text")
	c.expect("4text")
}

func TestJSONPPolling(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, v3Config())
	code, body, _ := s.do("GET", "EIO=3&transport=polling&j=0&b64=1", "")
	inner, ok := strings.CutPrefix(body, `___eio[0]("`)
	if code != 200 || !ok || !strings.HasSuffix(inner, `");`) {
		t.Fatalf("JSONP handshake = %d %q", code, body)
	}
	inner = strings.ReplaceAll(strings.TrimSuffix(inner, `");`), `\"`, `"`)
	_, pkt, _ := strings.Cut(inner, ":")
	sid := parseOpen(t, pkt).SID
	q := "EIO=3&transport=polling&j=1&b64=1&sid=" + sid
	// The client escapes newlines as \n and a literal backslash-n as \\n.
	form := "d=" + url.QueryEscape(`12:4line1\nline2`)
	code, body, _ = s.do("POST", q, form, "Content-Type", "application/x-www-form-urlencoded")
	if code != 200 || body != "ok" {
		t.Fatalf("JSONP post = %d %q", code, body)
	}
	s.h.next("open")
	if e := s.h.next("message"); e.data != "line1\nline2" {
		t.Errorf("message = %q, want line1\\nline2", e.data)
	}
	// The echo comes back as a JavaScript string, newline and U+2028 escaped.
	s.eng.Session(sid).Write(Text, []byte("a\u2028b"))
	if _, body, _ := s.do("GET", q, ""); body != `___eio[1]("12:4line1\nline24:4a\u2028b");` {
		t.Errorf("JSONP poll = %q", body)
	}
}
