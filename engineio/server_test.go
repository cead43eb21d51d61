package engineio

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// conformanceConfig is the configuration the official protocol test suite
// expects of the server under test, except for the heartbeat: tests that are
// not about heartbeats must not see pings or ping timeouts, whatever the
// load on the machine. Heartbeat tests set their own timings.
func conformanceConfig() *Config {
	return &Config{
		PingInterval: time.Minute,
		PingTimeout:  time.Minute,
		CORS:         &CORS{AllowedOrigins: []string{"*"}},
	}
}

func TestHandshakePolling(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.PingInterval, cfg.PingTimeout = 300*time.Millisecond, 200*time.Millisecond
	s := newTestServer(t, cfg)
	code, body, hdr := s.do("GET", "EIO=4&transport=polling", "")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	o := parseOpen(t, body)
	if len(o.SID) != 20 || o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1e6 {
		t.Errorf("open = %+v", o)
	}
	if len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
		t.Errorf("upgrades = %v, want [websocket]", o.Upgrades)
	}
	// The keys come in the official order.
	want := `0{"sid":"` + o.SID + `","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`
	if body != want {
		t.Errorf("open packet = %q, want %q", body, want)
	}
	s.h.next("open")
}

func TestHandshakeWebSocket(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	c := s.dial("EIO=4&transport=websocket", nil)
	_, p := c.read()
	o := parseOpen(t, p)
	if len(o.Upgrades) != 0 {
		t.Errorf("upgrades = %v, want []", o.Upgrades)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	tests := []struct {
		method, query string
		status        int
		body          string
	}{
		{"GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=abc&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=4", 400, `{"code":0,"message":"Transport unknown"}`},
		{"GET", "EIO=4&transport=abc", 400, `{"code":0,"message":"Transport unknown"}`},
		{"GET", "EIO=4&transport=__proto__", 400, `{"code":0,"message":"Transport unknown"}`},
		{"GET", "EIO=4&transport=constructor", 400, `{"code":0,"message":"Transport unknown"}`},
		{"POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"PUT", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"GET", "EIO=4&transport=polling&sid=__proto__", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
	}
	for _, tt := range tests {
		code, body, hdr := s.do(tt.method, tt.query, "")
		if code != tt.status || body != tt.body {
			t.Errorf("%s ?%s = %d %s, want %d %s", tt.method, tt.query, code, body, tt.status, tt.body)
		}
		if ct := hdr.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s ?%s: Content-Type %q", tt.method, tt.query, ct)
		}
	}
}

func TestBadWebSocketHandshakesAreRefused(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	for _, q := range []string{"transport=websocket", "EIO=abc&transport=websocket", "EIO=4&transport=abc", "EIO=4&transport=__proto__", "EIO=4"} {
		if _, err := s.tryDial(q, nil); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("dial ?%s: err = %v, want a 400 refusal", q, err)
		}
	}
}

func TestPathIsAPrefix(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	code, body, _ := s.do("GET", "EIO=4&transport=polling", "")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	req, _ := http.NewRequest("GET", s.ts.URL+"/engine.io/foo/bar/?EIO=4&transport=polling", nil)
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/engine.io/foo/bar/: %d, want 200 (prefix match)", resp.StatusCode)
	}
	resp, err = s.ts.Client().Get(s.ts.URL + "/other/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/other/: %d, want 404", resp.StatusCode)
	}
}

func TestPollingMessages(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	if code, body := s.post(sid, "4hello"); code != 200 || body != "ok" {
		t.Fatalf("post = %d %q", code, body)
	}
	if code, body := s.poll(sid); code != 200 || body != "4hello" {
		t.Fatalf("poll = %d %q, want 4hello", code, body)
	}
	// A batch with binary.
	if code, _ := s.post(sid, "4hello\x1ebAQIDBA==\x1e4world"); code != 200 {
		t.Fatal(code)
	}
	if code, body := s.poll(sid); code != 200 || body != "4hello\x1ebAQIDBA==\x1e4world" {
		t.Fatalf("poll = %d %q", code, body)
	}
	s.h.next("open")
	if e := s.h.next("message"); e.typ != Text || e.data != "hello" {
		t.Errorf("first message = %+v", e)
	}
	if e := s.h.next("message"); e.typ != Text || e.data != "hello" {
		t.Errorf("message = %+v", e)
	}
	if e := s.h.next("message"); e.typ != Binary || e.data != "\x01\x02\x03\x04" {
		t.Errorf("binary message = %+v", e)
	}
}

func TestPollWaitsForData(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	done := make(chan string, 1)
	go func() {
		_, body := s.poll(sid)
		done <- body
	}()
	time.Sleep(50 * time.Millisecond)
	s.eng.Session(sid).Write(Text, []byte("later"))
	if body := <-done; body != "4later" {
		t.Errorf("poll = %q, want 4later", body)
	}
}

func TestInvalidPacketClosesPollingSession(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	if code, _ := s.post(sid, "abc"); code != 400 {
		t.Errorf("post abc = %d, want 400", code)
	}
	if code, _ := s.poll(sid); code != 400 {
		t.Errorf("poll after parse error = %d, want 400", code)
	}
	if e := s.h.next("close"); e.reason != ReasonParseError {
		t.Errorf("reason = %q, want parse error", e.reason)
	}
}

func TestDuplicatePollClosesSession(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	first := make(chan string, 1)
	go func() {
		_, body := s.poll(sid)
		first <- body
	}()
	time.Sleep(50 * time.Millisecond)
	if code, _ := s.poll(sid); code != 400 && code != 500 {
		t.Errorf("second poll = %d, want 400", code)
	}
	if body := <-first; body != "1" {
		t.Errorf("first poll = %q, want 1", body)
	}
	if code, _ := s.poll(sid); code != 400 {
		t.Errorf("third poll = %d, want 400", code)
	}
	if e := s.h.next("close"); e.reason != ReasonTransportError {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestCancelledPollClosesSession(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	req, _ := http.NewRequest("GET", s.url+"?EIO=4&transport=polling&sid="+sid, nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := contextWithTimeout(50 * time.Millisecond)
	defer cancel()
	if _, err := tr.RoundTrip(req.WithContext(ctx)); err == nil {
		t.Fatal("poll returned before the timeout")
	}
	if e := s.h.next("close"); e.reason != ReasonTransportError || !errors.Is(e.err, errPollPremature) {
		t.Errorf("close = %+v", e)
	}
	if code, _ := s.poll(sid); code != 400 {
		t.Errorf("poll after cancel = %d, want 400", code)
	}
}

// heartbeatConfig pings every 300 ms and gives the pong 1.5 s: quick, yet
// loose enough that a loaded 2-core machine running the race detector and
// Node clients does not miss a pong. (The official suite's 200 ms is
// checked by running that suite.)
func heartbeatConfig() *Config {
	cfg := conformanceConfig()
	cfg.PingInterval, cfg.PingTimeout = 300*time.Millisecond, 1500*time.Millisecond
	return cfg
}

func TestPollingHeartbeat(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, heartbeatConfig())
	sid := s.handshake().SID
	for range 3 {
		if _, body := s.poll(sid); body != "2" {
			t.Fatalf("poll = %q, want ping", body)
		}
		if code, _ := s.post(sid, "3"); code != 200 {
			t.Fatal(code)
		}
	}
	// No pong: the session times out.
	if _, body := s.poll(sid); body != "2" {
		t.Fatalf("poll = %q, want ping", body)
	}
	time.Sleep(2 * time.Second)
	if code, _ := s.poll(sid); code != 400 {
		t.Errorf("poll after ping timeout = %d, want 400", code)
	}
	if e := s.h.next("close"); e.reason != ReasonPingTimeout {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestClientPingIsAnErrorInV4(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	s.post(sid, "2")
	if e := s.h.next("close"); e.reason != ReasonTransportError || !errors.Is(e.err, errHeartbeatDirection) {
		t.Errorf("close = %+v", e)
	}
}

func TestPollingClose(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	pending := make(chan string, 1)
	go func() {
		_, body := s.poll(sid)
		pending <- body
	}()
	time.Sleep(50 * time.Millisecond)
	if code, _ := s.post(sid, "1"); code != 200 {
		t.Errorf("post close = %d", code)
	}
	if body := <-pending; body != "6" {
		t.Errorf("pending poll = %q, want 6 (noop)", body)
	}
	if code, _ := s.poll(sid); code != 400 {
		t.Errorf("poll after close = %d, want 400", code)
	}
	if e := s.h.next("close"); e.reason != ReasonTransportClose {
		t.Errorf("reason = %q", e.reason)
	}
}

// A client's close POST that overtakes its GET still lets that GET finish
// with a noop; the session is gone after it.
func TestClientCloseCrossingPoll(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	if code, _ := s.post(sid, "1"); code != 200 {
		t.Fatalf("post close = %d", code)
	}
	if code, body := s.poll(sid); code != 200 || body != "6" {
		t.Errorf("poll after the close = %d %q, want 200 6", code, body)
	}
	if code, _ := s.poll(sid); code != 400 {
		t.Errorf("next poll = %d, want 400", code)
	}
	if e := s.h.next("close"); e.reason != ReasonTransportClose {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestServerCloseOfPollingSessionWithoutPendingPoll(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	s.eng.Session(sid).Close()
	if _, body := s.poll(sid); body != "6\x1e1" {
		t.Errorf("poll after server close = %q, want 6\\x1e1", body)
	}
	if code, _ := s.poll(sid); code != 400 {
		t.Errorf("next poll = %d, want 400", code)
	}
	if e := s.h.next("close"); e.reason != ReasonForcedClose {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestServerCloseFlushesQueue(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	sess := s.eng.Session(sid)
	sess.Write(Text, []byte("bye"))
	sess.Close()
	if err := sess.Write(Text, []byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close = %v, want ErrClosed", err)
	}
	if _, body := s.poll(sid); body != "4bye\x1e1" {
		t.Errorf("poll = %q, want 4bye then close", body)
	}
}

func TestWebSocketMessages(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read() // open
	c.sendText("4hello")
	c.expect("4hello")
	c.send(websocket.OpBinary, "\x01\x02\x03")
	if op, p := c.read(); op != websocket.OpBinary || p != "\x01\x02\x03" {
		t.Errorf("binary echo = %v %q", op, p)
	}
	c.sendText("abc")
	c.expectClosed()
	if e := s.h.next("close"); e.reason != ReasonParseError {
		t.Errorf("reason = %q, want parse error", e.reason)
	}
}

func TestWebSocketHeartbeat(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, heartbeatConfig())
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read()
	for range 3 {
		c.expect("2")
		c.sendText("3")
	}
	c.expect("2")
	c.expectClosed()
	if e := s.h.next("close"); e.reason != ReasonPingTimeout {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestWebSocketClosePacketClosesAtOnce(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read()
	start := time.Now()
	c.sendText("1")
	c.expectClosed()
	if e := s.h.next("close"); e.reason != ReasonTransportClose {
		t.Errorf("reason = %q", e.reason)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("close took %v; it should not wait for the ping timeout", d)
	}
}

func TestWebSocketCloseFrameIsEchoed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read()
	c.conn.Write(websocket.AppendClientFrame(nil, websocket.OpClose, false, websocket.AppendClose(nil, 1000, "")[2:], [4]byte{9, 9, 9, 9}))
	op, p := c.read()
	if op != websocket.OpClose {
		t.Fatalf("read = %v %q, want close frame", op, p)
	}
	if code, _ := websocket.ParseClose([]byte(p)); code != 1000 {
		t.Errorf("close code = %d, want 1000", code)
	}
	if e := s.h.next("close"); e.reason != ReasonTransportClose {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestUpgrade(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	pending := make(chan string, 1)
	go func() {
		_, body := s.poll(sid)
		pending <- body
	}()
	time.Sleep(30 * time.Millisecond)
	c := s.dial("EIO=4&transport=websocket&sid="+sid, nil)
	c.sendText("2probe")
	c.expect("3probe")
	if body := <-pending; body != "6" {
		t.Errorf("pending poll = %q, want 6", body)
	}
	c.sendText("5")
	c.sendText("4hello")
	c.expect("4hello")
	if tr := s.eng.Session(sid).Transport(); tr != TransportWebSocket {
		t.Errorf("transport = %q", tr)
	}
	// Polling is over for this session, and a second upgrade is refused.
	if code, _ := s.poll(sid); code != 400 {
		t.Errorf("poll after upgrade = %d, want 400", code)
	}
	// Like the official server: the second WebSocket is opened, then closed
	// at once, and the session is untouched.
	second := s.dial("EIO=4&transport=websocket&sid="+sid, nil)
	second.expectClosed()
	c.sendText("4still")
	c.expect("4still")
}

func TestUpgradeKeepsQueuedMessagesInOrder(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	sess := s.eng.Session(sid)
	c := s.dial("EIO=4&transport=websocket&sid="+sid, nil)
	c.sendText("2probe")
	c.expect("3probe")
	for i := range 5 {
		sess.Write(Text, []byte{'a' + byte(i)})
	}
	// Polls during the upgrade are released at once.
	if _, body := s.poll(sid); !strings.HasPrefix(body, "4a") && body != "6" {
		t.Errorf("poll during upgrade = %q", body)
	}
}

func TestUpgradeWithOtherProtocolIsRefused(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.AllowEIO3 = true
	s := newTestServer(t, cfg)
	sid := s.handshake().SID
	for _, q := range []string{"EIO=3&transport=websocket&sid=" + sid, "transport=websocket&sid=" + sid} {
		if _, err := s.tryDial(q, nil); err == nil {
			t.Errorf("upgrade ?%s of a v4 session was accepted", q)
		}
	}
	if code, _, _ := s.do("POST", "EIO=3&transport=polling&sid="+sid, "1:6"); code != 400 {
		t.Errorf("v3 post to a v4 session = %d, want 400", code)
	}
}

func TestUpgradeAbortedByOtherPacket(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	c := s.dial("EIO=4&transport=websocket&sid="+sid, nil)
	c.sendText("4nope")
	c.expectClosed()
	if tr := s.eng.Session(sid).Transport(); tr != TransportPolling {
		t.Errorf("transport = %q, want polling", tr)
	}
	if code, _ := s.post(sid, "4still"); code != 200 {
		t.Errorf("post after aborted upgrade = %d", code)
	}
}

func TestOversizeBody(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.MaxHTTPBufferSize = 100
	s := newTestServer(t, cfg)
	sid := s.handshake().SID
	if code, _ := s.post(sid, "4"+strings.Repeat("x", 100)); code != 413 {
		t.Errorf("oversize post = %d, want 413", code)
	}
	if e := s.h.next("close"); e.reason != ReasonTransportError {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestOversizeChunkedBody(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.MaxHTTPBufferSize = 1000
	s := newTestServer(t, cfg)
	sid := s.handshake().SID
	// An io.Reader of unknown length makes the client send chunked.
	body := struct{ *strings.Reader }{strings.NewReader("4" + strings.Repeat("x", 5000))}
	req, _ := http.NewRequest("POST", s.url+"?EIO=4&transport=polling&sid="+sid, body)
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked oversize post = %d, want 413", resp.StatusCode)
	}
}

func TestBinaryPostRefusedInV4(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	sid := s.handshake().SID
	code, _, _ := s.do("POST", "EIO=4&transport=polling&sid="+sid, "\x04abc", "Content-Type", "application/octet-stream")
	if code != 400 {
		t.Errorf("binary post = %d, want 400", code)
	}
}

func TestOversizeWebSocketMessage(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.MaxHTTPBufferSize = 100
	s := newTestServer(t, cfg)
	c := s.dial("EIO=4&transport=websocket", nil)
	c.read()
	c.sendText("4" + strings.Repeat("x", 200))
	c.expectClosed()
	if e := s.h.next("close"); e.reason != ReasonTransportError {
		t.Errorf("reason = %q", e.reason)
	}
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.PingInterval = time.Minute
	cfg.MaxQueueBytes = 64 << 10
	cfg.WriteTimeout = 200 * time.Millisecond
	s := newTestServer(t, cfg)
	slow := s.dial("EIO=4&transport=websocket", nil) // never reads
	_ = slow
	s.h.next("open")
	var sess *Session
	for _, x := range s.sessions() {
		sess = x
	}
	m := NewMessage(Text, []byte(strings.Repeat("x", 8<<10)), false)
	deadline := time.Now().Add(5 * time.Second)
	for sess.WriteMessage(m) == nil {
		if time.Now().After(deadline) {
			t.Fatal("a client that never reads was not disconnected")
		}
	}
	if e := s.h.next("close"); e.reason != ReasonTransportError || !errors.Is(e.err, ErrSlowConsumer) {
		t.Errorf("close = %+v", e)
	}
	if s.eng.SlowConsumers() == 0 {
		t.Error("slow consumer not counted")
	}
}

func TestAllowRequest(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.AllowRequest = func(r *http.Request) error {
		switch r.URL.Query().Get("who") {
		case "bad":
			return errors.New("Thou shall not pass")
		case "teapot":
			return &RequestError{Code: CodeBadRequest, Status: 418, Message: "short and stout"}
		}
		return nil
	}
	s := newTestServer(t, cfg)
	if code, body, _ := s.do("GET", "EIO=4&transport=polling&who=bad", ""); code != 403 || body != `{"code":4,"message":"Thou shall not pass"}` {
		t.Errorf("refused = %d %s", code, body)
	}
	if code, body, _ := s.do("GET", "EIO=4&transport=polling&who=teapot", ""); code != 418 || body != `{"code":3,"message":"short and stout"}` {
		t.Errorf("custom = %d %s", code, body)
	}
	if code, _, _ := s.do("GET", "EIO=4&transport=polling&who=ok", ""); code != 200 {
		t.Errorf("allowed = %d", code)
	}
	if _, err := s.tryDial("EIO=4&transport=websocket&who=bad", nil); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("websocket refused: err = %v, want 403", err)
	}
}

func TestOriginPolicy(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil) // no CORS: only same-origin and Origin-less requests
	host := strings.TrimPrefix(s.ts.URL, "http://")
	if code, _, _ := s.do("GET", "EIO=4&transport=polling", "", "Origin", "https://evil.example"); code != 403 {
		t.Errorf("cross-origin polling = %d, want 403", code)
	}
	if code, _, _ := s.do("GET", "EIO=4&transport=polling", "", "Origin", "http://"+host); code != 200 {
		t.Errorf("same-origin polling = %d, want 200", code)
	}
	// Go's client refuses to send a control character; write the request by hand.
	if status := s.raw("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: " + host + "\r\nOrigin: http://x\x7fy\r\n\r\n"); !strings.HasPrefix(status, "HTTP/1.1 400") {
		t.Errorf("invalid origin: %q, want 400", status)
	}
	if _, err := s.tryDial("EIO=4&transport=websocket", http.Header{"Origin": {"https://evil.example"}}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("cross-origin websocket: err = %v, want 403", err)
	}
	if _, err := s.tryDial("EIO=4&transport=websocket", http.Header{"Origin": {"http://" + host}}); err != nil {
		t.Errorf("same-origin websocket: %v", err)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, &Config{CORS: &CORS{AllowedOrigins: []string{"https://app.example"}, AllowCredentials: true}})
	code, _, hdr := s.do("GET", "EIO=4&transport=polling", "", "Origin", "https://app.example")
	if code != 200 || hdr.Get("Access-Control-Allow-Origin") != "https://app.example" || hdr.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("allowed origin: %d %v", code, hdr)
	}
	code, _, hdr = s.do("OPTIONS", "EIO=4&transport=polling", "", "Origin", "https://app.example", "Access-Control-Request-Method", "POST")
	if code != 204 || hdr.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", code, hdr)
	}
	if code, _, hdr = s.do("GET", "EIO=4&transport=polling", "", "Origin", "https://other.example"); code != 403 || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin: %d %v", code, hdr)
	}
}

func TestCookieAndHeaderHooks(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, &Config{
		Cookie:         &Cookie{},
		InitialHeaders: func(h http.Header, r *http.Request) { h.Set("X-Initial", "1") },
		Headers:        func(h http.Header, r *http.Request) { h.Set("X-Every", "1") },
	})
	code, body, hdr := s.do("GET", "EIO=4&transport=polling", "")
	o := parseOpen(t, body)
	if code != 200 || hdr.Get("X-Initial") != "1" || hdr.Get("X-Every") != "1" {
		t.Errorf("handshake headers: %v", hdr)
	}
	if c := hdr.Get("Set-Cookie"); c != "io="+o.SID+"; Path=/; HttpOnly; SameSite=Lax" {
		t.Errorf("cookie = %q", c)
	}
	s.post(o.SID, "4x")
	_, _, hdr = s.do("GET", "EIO=4&transport=polling&sid="+o.SID, "")
	if hdr.Get("X-Initial") != "" || hdr.Get("X-Every") != "1" || hdr.Get("Set-Cookie") != "" {
		t.Errorf("poll headers: %v", hdr)
	}
}

func TestHTTPCompression(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	sid := s.handshake().SID
	big := strings.Repeat("abc", 1000)
	s.eng.Session(sid).Write(Text, []byte(big))
	req, _ := http.NewRequest("GET", s.url+"?EIO=4&transport=polling&sid="+sid, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := s.ts.Client().Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzipReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if zr != "4"+big {
		t.Errorf("decompressed body differs (%d bytes)", len(zr))
	}
}

func TestInitialPacket(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, &Config{InitialPacket: []byte("welcome")})
	_, body, _ := s.do("GET", "EIO=4&transport=polling", "")
	if _, after, ok := strings.Cut(body, "\x1e"); !ok || after != "4welcome" {
		t.Errorf("handshake body = %q, want open then 4welcome", body)
	}
}

func TestConcurrentWritesAndBroadcast(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	const n = 8
	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = s.dial("EIO=4&transport=websocket", nil)
		clients[i].read()
	}
	m := NewMessage(Text, []byte("to all"), false)
	var wg sync.WaitGroup
	for _, sess := range s.sessions() {
		for range 10 {
			wg.Go(func() { sess.WriteMessage(m) })
		}
	}
	wg.Wait()
	for _, c := range clients {
		for range 10 {
			c.expect("4to all")
		}
	}
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	ws := s.dial("EIO=4&transport=websocket", nil)
	ws.read()
	sid := s.handshake().SID
	pending := make(chan string, 1)
	go func() {
		_, body := s.poll(sid)
		pending <- body
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := contextWithTimeout(5 * time.Second)
	defer cancel()
	if err := s.eng.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	op, p := ws.read()
	if code, _ := websocket.ParseClose([]byte(p)); op != websocket.OpClose || code != websocket.CloseGoingAway {
		t.Errorf("websocket got %v %q, want close 1001", op, p)
	}
	if body := <-pending; body != "1" {
		t.Errorf("pending poll = %q, want 1", body)
	}
	if code, body, _ := s.do("GET", "EIO=4&transport=polling", ""); code != 503 {
		t.Errorf("handshake after shutdown = %d %s, want 503", code, body)
	}
	if n := s.eng.Count(); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

func (s *testServer) sessions() []*Session {
	s.eng.mu.RLock()
	defer s.eng.mu.RUnlock()
	var out []*Session
	for _, x := range s.eng.sessions {
		out = append(out, x)
	}
	return out
}

// raw sends a hand-written request and returns the status line.
func (s *testServer) raw(req string) string {
	s.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.ts.URL, "http://"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		s.t.Fatal(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

// Shutdown does not wait for a polling session that is closing gracefully
// and waiting for a poll that may never come.
func TestShutdownDoesNotWaitForAbsentPolls(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	sid := s.handshake().SID
	s.eng.Session(sid).Write(Text, []byte("queued"))
	s.eng.Session(sid).Close() // closing: waits up to 30 s for the next poll
	ctx, cancel := contextWithTimeout(5 * time.Second)
	defer cancel()
	start := time.Now()
	if err := s.eng.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Shutdown took %v", d)
	}
}

// A session belongs to the tenant of its handshake: its id is refused on
// requests from another tenant, polling and upgrade alike.
func TestTenantBindsSessions(t *testing.T) {
	t.Parallel()
	cfg := conformanceConfig()
	cfg.Tenant = func(r *http.Request) (string, error) {
		if r.Header.Get("X-Tenant") == "bad" {
			return "", errors.New("no such tenant")
		}
		return r.Header.Get("X-Tenant"), nil
	}
	s := newTestServer(t, cfg)
	code, body, _ := s.do("GET", "EIO=4&transport=polling", "", "X-Tenant", "a")
	if code != 200 {
		t.Fatalf("handshake = %d", code)
	}
	sid := parseOpen(t, body).SID
	if s.eng.Session(sid).Tenant() != "a" {
		t.Errorf("Tenant() = %q", s.eng.Session(sid).Tenant())
	}
	if code, body, _ := s.do("POST", "EIO=4&transport=polling&sid="+sid, "4x", "X-Tenant", "b"); code != 400 || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Errorf("post from another tenant = %d %s", code, body)
	}
	if _, err := s.tryDial("EIO=4&transport=websocket&sid="+sid, http.Header{"X-Tenant": {"b"}}); err == nil {
		t.Error("upgrade from another tenant accepted")
	}
	if code, _, _ := s.do("POST", "EIO=4&transport=polling&sid="+sid, "4x", "X-Tenant", "a"); code != 200 {
		t.Errorf("post from the same tenant = %d", code)
	}
	if code, _, _ := s.do("GET", "EIO=4&transport=polling", "", "X-Tenant", "bad"); code != 400 {
		t.Errorf("refused tenant = %d", code)
	}
}
