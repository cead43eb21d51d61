package engineio

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// TestHandshakeHeaderRoundTrip: what Header returns is the request's
// header, whatever its values hold (lengths, not separators, delimit them).
func TestHandshakeHeaderRoundTrip(t *testing.T) {
	r := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling&b64=1", nil)
	r.Header = http.Header{
		"Origin":                 {"https://example.com"},
		"Cookie":                 {"a=1", "b=2"},
		"X-Empty":                {""},
		"X-Odd":                  {"line\nbreak\r\n: not a field\x00\xff"},
		"X-Long":                 {strings.Repeat("v", 300)}, // a two-byte length
		strings.Repeat("K", 200): {"long name"},
		"User-Agent":             {"common name", "twice"},
		"":                       {"empty name"},
	}
	h := newHandshake(r)
	if got := h.Header(); !reflect.DeepEqual(got, r.Header) {
		t.Errorf("Header() = %q, want %q", got, r.Header)
	}
	// Header hands out a new map each time: changing one changes nothing kept.
	h.Header().Set("Origin", "changed")
	if got := h.HeaderValue("Origin"); got != "https://example.com" {
		t.Errorf("after changing a copy, HeaderValue(Origin) = %q", got)
	}
	for name, want := range map[string]string{
		"origin": "https://example.com", "COOKIE": "a=1", "X-Empty": "", "x-odd": r.Header["X-Odd"][0],
		"X-Long": strings.Repeat("v", 300), "X-Missing": "",
	} {
		if got := h.HeaderValue(name); got != want {
			t.Errorf("HeaderValue(%q) = %q, want %q", name, got, want)
		}
	}
	var cookies []string
	for k, v := range h.HeaderFields() {
		if k == "Cookie" {
			cookies = append(cookies, v)
		}
	}
	if !slices.Equal(cookies, []string{"a=1", "b=2"}) {
		t.Errorf("HeaderFields Cookie values = %q, want [a=1 b=2] in order", cookies)
	}
	n := 0
	for range h.HeaderFields() {
		n++
		break // stopping early must not panic
	}
	if n != 1 {
		t.Errorf("HeaderFields yielded %d before break", n)
	}
	if h.URL != "/engine.io/?EIO=4&transport=polling&b64=1" || h.supportsBinary {
		t.Errorf("URL %q, supportsBinary %v; want the request URI and false (b64=1)", h.URL, h.supportsBinary)
	}
	if q := h.Query(); q.Get("transport") != "polling" {
		t.Errorf("Query() = %v", q)
	}
}

func TestHandshakeZeroValue(t *testing.T) {
	var h Handshake
	if hd := h.Header(); hd == nil || len(hd) != 0 {
		t.Errorf("Header() of the zero Handshake = %#v, want an empty map", hd)
	}
	if v := h.HeaderValue("Origin"); v != "" {
		t.Errorf("HeaderValue = %q", v)
	}
	r := httptest.NewRequest("GET", "/engine.io/?EIO=4", nil)
	r.Header = http.Header{}
	if h := newHandshake(r); h.header != "" || !h.supportsBinary || h.URL != "/engine.io/?EIO=4" {
		t.Errorf("no header: header %q, supportsBinary %v", h.header, h.supportsBinary)
	}
}

// TestHandshakeCompact: a session keeps its request in one allocation of
// about the size of its fields, common header names taking one byte.
func TestHandshakeCompact(t *testing.T) {
	if len(commonHeaders) >= 128 {
		t.Fatalf("%d common header names: nameLen assumes a one-byte index", len(commonHeaders))
	}
	for i, k := range commonHeaders {
		if http.CanonicalHeaderKey(k) != k || commonHeaderIndex[k] != i {
			t.Errorf("common header %q is not canonical or not indexed", k)
		}
	}
	r := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=websocket", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header = http.Header{"Origin": {"https://example.com"}, "Cookie": {"a=1", "b=2"}, "X-Custom": {"v"}}
	h := newHandshake(r)
	fields := 2 + 19 + 2*(2+3) + (1 + 8 + 1 + 1)
	if got, want := len(h.URL)+len(h.Host)+len(h.RemoteAddr)+len(h.header), len(r.RequestURI)+len(r.Host)+len(r.RemoteAddr)+fields; got != want {
		t.Errorf("kept %d bytes, want %d", got, want)
	}
	if h.URL != r.RequestURI || h.Host != r.Host || h.RemoteAddr != r.RemoteAddr {
		t.Errorf("URL %q Host %q RemoteAddr %q", h.URL, h.Host, h.RemoteAddr)
	}
	if n := testing.AllocsPerRun(100, func() { _ = newHandshake(r) }); n != 1 {
		t.Errorf("newHandshake allocates %v times, want 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = h.HeaderValue("Cookie") }); n != 0 {
		t.Errorf("HeaderValue allocates %v times, want 0", n)
	}
}

// TestSessionHandshakeHeaders: a session, polling or WebSocket, sees the
// header fields of its handshake request.
func TestSessionHandshakeHeaders(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())

	code, body, _ := s.do("GET", "EIO=4&transport=polling", "", "X-Token", "polling-secret")
	if code != 200 {
		t.Fatalf("handshake: %d %q", code, body)
	}
	s.h.next("open")
	sess := s.eng.Session(parseOpen(t, body).SID)
	if sess == nil {
		t.Fatal("no polling session")
	}
	if got := sess.Handshake().HeaderValue("x-token"); got != "polling-secret" {
		t.Errorf("polling: HeaderValue(x-token) = %q", got)
	}
	if got := sess.Handshake().Header().Get("X-Token"); got != "polling-secret" {
		t.Errorf("polling: Header().Get(X-Token) = %q", got)
	}

	c := s.dial("EIO=4&transport=websocket", http.Header{"X-Token": {"ws-secret"}, "Cookie": {"a=1", "b=2"}})
	_, p := c.read()
	s.h.next("open")
	sess = s.eng.Session(parseOpen(t, p).SID)
	if sess == nil {
		t.Fatal("no websocket session")
	}
	hd := sess.Handshake().Header()
	if hd.Get("X-Token") != "ws-secret" || !slices.Equal(hd.Values("Cookie"), []string{"a=1", "b=2"}) ||
		hd.Get("Sec-Websocket-Version") != "13" {
		t.Errorf("websocket: Header() = %q", hd)
	}
	if !maps.EqualFunc(hd, sess.Handshake().Header(), slices.Equal) {
		t.Error("two Header calls differ")
	}
}

// TestSessionKeepsNoRequestBytes: the session's transport name is the
// constant, not a substring of the request line, which it would keep.
func TestSessionKeepsNoRequestBytes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, conformanceConfig())
	o := s.handshake()
	s.h.next("open")
	c := s.dial("EIO=4&transport=websocket", nil)
	_, p := c.read()
	s.h.next("open")
	for id, want := range map[string]string{o.SID: TransportPolling, parseOpen(t, p).SID: TransportWebSocket} {
		sess := s.eng.Session(id)
		if sess == nil {
			t.Fatalf("no session %s", id)
		}
		if got := sess.Transport(); got != want || unsafe.StringData(got) != unsafe.StringData(want) {
			t.Errorf("transport %q is not the constant %q", got, want)
		}
	}
}
