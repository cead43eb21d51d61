package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestAcceptKey(t *testing.T) {
	t.Parallel()
	// RFC 6455 section 1.3.
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Fatalf("AcceptKey() = %q, want %q", got, want)
	}
}

func upgradeRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/engine.io/?EIO=4&transport=websocket", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	return r
}

func TestCheckRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(r *http.Request)
		wantErr error
	}{
		{"valid", func(r *http.Request) {}, nil},
		{"POST", func(r *http.Request) { r.Method = http.MethodPost }, ErrBadMethod},
		{"HEAD", func(r *http.Request) { r.Method = http.MethodHead }, ErrBadMethod},
		{"version 8", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }, ErrBadVersion},
		{"version 13,8", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "13, 8") }, ErrBadVersion},
		{"two versions", func(r *http.Request) { r.Header.Add("Sec-WebSocket-Version", "13") }, ErrBadVersion},
		{"no version", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Version") }, ErrBadVersion},
		{"no key", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") }, ErrBadKey},
		{"empty key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "") }, ErrBadKey},
		{"two keys", func(r *http.Request) { r.Header.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, ErrBadKey},
		{"15 bytes", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j") }, ErrBadKey},
		{"17 bytes", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZWU=") }, ErrBadKey},
		{"not base64", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ!!") }, ErrBadKey},
		{"url alphabet", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "-_-_-_-_-_-_-_-_-_-_-w==") }, ErrBadKey},
		{"huge key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", strings.Repeat("A", 1<<20)) }, ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := upgradeRequest()
			tt.edit(r)
			key, err := CheckRequest(r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckRequest() = %q, %v, want %v", key, err, tt.wantErr)
			}
			if err == nil && key != "dGhlIHNhbXBsZSBub25jZQ==" {
				t.Fatalf("CheckRequest() key = %q", key)
			}
		})
	}
}

func TestIsUpgrade(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		upgrade    []string
		connection []string
		want       bool
	}{
		{"canonical", []string{"websocket"}, []string{"Upgrade"}, true},
		{"mixed case", []string{"WebSocket"}, []string{"uPgRaDe"}, true},
		{"connection list", []string{"websocket"}, []string{"keep-alive, Upgrade"}, true},
		{"connection list tabs", []string{"websocket"}, []string{"keep-alive,\tupgrade\t"}, true},
		{"upgrade list", []string{"h2c, websocket"}, []string{"Upgrade"}, true},
		{"second line", []string{"h2c", "websocket"}, []string{"close", "upgrade"}, true},
		{"h2c only", []string{"h2c"}, []string{"Upgrade"}, false},
		{"no connection", []string{"websocket"}, nil, false},
		{"no upgrade", nil, []string{"Upgrade"}, false},
		{"substring", []string{"websockets"}, []string{"Upgrade"}, false},
		{"connection substring", []string{"websocket"}, []string{"upgraded"}, false},
		{"versioned", []string{"websocket/13"}, []string{"Upgrade"}, false},
		{"past scan budget", []string{"websocket"}, []string{strings.Repeat("x,", 4096) + "upgrade"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header["Upgrade"] = tt.upgrade
			r.Header["Connection"] = tt.connection
			if got := IsUpgrade(r); got != tt.want {
				t.Fatalf("IsUpgrade() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAppendResponse(t *testing.T) {
	t.Parallel()
	extra := http.Header{
		"X-Ok":                 {"fine", "second\tvalue"},
		"X-Inject":             {"a\r\nSet-Cookie: evil=1"},
		"X-Lf":                 {"a\nSet-Cookie: evil=2"},
		"X-Nul":                {"a\x00b"},
		"Bad:Name":             {"v"},
		"Bad\r\nName":          {"v"},
		"Upgrade":              {"h2c"},
		"Sec-Websocket-Accept": {"forged"},
	}
	b := AppendResponse([]byte("prefix"), "dGhlIHNhbXBsZSBub25jZQ==", deflateResponse, extra)
	if !bytes.HasPrefix(b, []byte("prefixHTTP/1.1 101 Switching Protocols\r\n")) {
		t.Fatalf("AppendResponse() = %q, want prefix kept and status line", b)
	}
	if !bytes.HasSuffix(b, []byte("\r\n\r\n")) {
		t.Fatalf("AppendResponse() = %q, want blank line at end", b)
	}
	if bytes.Contains(b, []byte("evil")) || bytes.Contains(b, []byte("Bad")) || bytes.Contains(b, []byte("forged")) || bytes.Contains(b, []byte("h2c")) {
		t.Fatalf("AppendResponse() = %q, want injected/reserved headers dropped", b)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b[len("prefix"):])), nil)
	if err != nil {
		t.Fatalf("ReadResponse() error = %v", err)
	}
	want := map[string][]string{
		"Upgrade":                  {"websocket"},
		"Connection":               {"Upgrade"},
		"Sec-Websocket-Accept":     {"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		"Sec-Websocket-Extensions": {deflateResponse},
		"X-Ok":                     {"fine", "second\tvalue"},
	}
	if resp.StatusCode != 101 || len(resp.Header) != len(want) {
		t.Fatalf("response = %d %v, want 101 %v", resp.StatusCode, resp.Header, want)
	}
	for k, v := range want {
		if got := resp.Header[k]; strings.Join(got, "|") != strings.Join(v, "|") {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}

	// No extensions: no Sec-WebSocket-Extensions line.
	if b := AppendResponse(nil, "dGhlIHNhbXBsZSBub25jZQ==", "", nil); bytes.Contains(b, []byte("Extensions")) {
		t.Fatalf("AppendResponse() = %q, want no extensions header", b)
	}
}

func TestNegotiateDeflate(t *testing.T) {
	t.Parallel()
	const (
		base = deflateResponse
		smwb = deflateResponseSMWB
	)
	tests := []struct {
		name   string
		header []string
		want   string // "" means refused
	}{
		{"absent", nil, ""},
		{"browser", []string{"permessage-deflate; client_max_window_bits"}, base},
		{"node ws", []string{"permessage-deflate; client_max_window_bits"}, base},
		{"bare", []string{"permessage-deflate"}, base},
		{"mixed case", []string{"Permessage-Deflate; Client_Max_Window_Bits"}, base},
		{"client bits 10", []string{"permessage-deflate; client_max_window_bits=10"}, base},
		{"client bits quoted", []string{`permessage-deflate; client_max_window_bits="10"`}, base},
		{"client bits quoted escaped", []string{`permessage-deflate; client_max_window_bits="1\5"`}, base},
		{"both no context", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"}, base},
		{"server bits 15", []string{"permessage-deflate; server_max_window_bits=15"}, smwb},
		{"whitespace", []string{" permessage-deflate ;\tclient_max_window_bits = 12 "}, base},
		{"firefox style", []string{"permessage-deflate"}, base},
		{"after unknown ext", []string{"x-webkit-deflate-frame, permessage-deflate"}, base},
		{"after refused offer", []string{"permessage-deflate; server_max_window_bits=10, permessage-deflate"}, base},
		{"second line", []string{"foo", "permessage-deflate; client_max_window_bits"}, base},
		{"empty elements", []string{", ,permessage-deflate,"}, base},
		{"server bits 10", []string{"permessage-deflate; server_max_window_bits=10"}, ""},
		{"server bits 8", []string{"permessage-deflate; server_max_window_bits=8"}, ""},
		{"server bits no value", []string{"permessage-deflate; server_max_window_bits"}, ""},
		{"server bits 16", []string{"permessage-deflate; server_max_window_bits=16"}, ""},
		{"server bits 015", []string{"permessage-deflate; server_max_window_bits=015"}, ""},
		{"client bits 7", []string{"permessage-deflate; client_max_window_bits=7"}, ""},
		{"client bits 16", []string{"permessage-deflate; client_max_window_bits=16"}, ""},
		{"client bits junk", []string{"permessage-deflate; client_max_window_bits=abc"}, ""},
		{"unknown param", []string{"permessage-deflate; foo"}, ""},
		{"duplicate param", []string{"permessage-deflate; client_max_window_bits; client_max_window_bits"}, ""},
		{"duplicate no context", []string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, ""},
		{"no context with value", []string{"permessage-deflate; server_no_context_takeover=1"}, ""},
		{"empty value", []string{"permessage-deflate; client_max_window_bits="}, ""},
		{"unterminated quote", []string{`permessage-deflate; client_max_window_bits="10`}, ""},
		{"malformed then offer", []string{"permessage-deflate;; x, permessage-deflate"}, ""},
		{"malformed line, good line", []string{"@@@", "permessage-deflate"}, base},
		{"prefix name", []string{"permessage-deflatex"}, ""},
		{"constructor", []string{"constructor"}, ""},
		{"__proto__", []string{"__proto__; permessage-deflate"}, ""},
		{"too many params", []string{"permessage-deflate" + strings.Repeat("; a", 9)}, ""},
		{"line over budget", []string{"permessage-deflate, " + strings.Repeat("x", 5000)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("Sec-WebSocket-Extensions", v)
			}
			got, ok := NegotiateDeflate(h)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("NegotiateDeflate(%q) = %q, %v, want %q, %v", tt.header, got, ok, tt.want, tt.want != "")
			}
		})
	}
}

// hostileExtensionHeaders are the inputs from security-and-reliability.md 1.4 and B6.
func hostileExtensionHeaders() map[string]string {
	return map[string]string{
		"constructor":       "constructor",
		"backslash-c 30KB":  `a; b="` + strings.Repeat(`\c`, 15000),
		"backslash-c 4KB":   `a; b="` + strings.Repeat(`\c`, 2040),
		"spaces 32000":      "b" + strings.Repeat(" ", 32000) + "x",
		"spaces 4000":       "b" + strings.Repeat(" ", 4000) + "x",
		"semicolons":        "permessage-deflate" + strings.Repeat(";", 4000),
		"many offers":       strings.Repeat("permessage-deflate; server_max_window_bits=9,", 90),
		"many params":       "permessage-deflate" + strings.Repeat("; client_max_window_bits", 170),
		"quoted commas 4KB": `a; b="` + strings.Repeat(`,\"`, 1300) + `"`,
	}
}

func TestNegotiateDeflateHostile(t *testing.T) {
	t.Parallel()
	for name, v := range hostileExtensionHeaders() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"Sec-Websocket-Extensions": {v}}
			const runs = 200
			start := time.Now()
			for range runs {
				if got, ok := NegotiateDeflate(h); ok {
					t.Fatalf("NegotiateDeflate() = %q, true, want refusal", got)
				}
			}
			// Linear scan of <= 4 KB: a few µs per call. 5 ms per call would mean
			// super-linear work (the ReDoS shapes take seconds in vulnerable parsers).
			if per := time.Since(start) / runs; per > 5*time.Millisecond {
				t.Fatalf("NegotiateDeflate() took %v per call", per)
			}
			// Also many header lines.
			h2 := http.Header{"Sec-Websocket-Extensions": make([]string, 2000)}
			for i := range h2["Sec-Websocket-Extensions"] {
				h2["Sec-Websocket-Extensions"][i] = "constructor"
			}
			if got, ok := NegotiateDeflate(h2); ok {
				t.Fatalf("NegotiateDeflate(2000 lines) = %q, true, want refusal", got)
			}
		})
	}
}

func TestNegotiateDeflateAllocs(t *testing.T) {
	h := http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"}}
	if n := testing.AllocsPerRun(100, func() { NegotiateDeflate(h) }); n != 0 {
		t.Fatalf("NegotiateDeflate() allocs = %v, want 0", n)
	}
}
