package websocket

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer is a minimal engine: it upgrades with the package's helpers through
// http.Hijacker and echoes data messages (compressed when deflate was negotiated),
// answers pings, and echoes the close frame.
type echoServer struct {
	*httptest.Server
	wg       sync.WaitGroup
	greeting []byte // frame written in the same Write as the 101 response
	mu       sync.Mutex
	errs     []error
	lastHdr  http.Header
}

func newEchoServer(t *testing.T) *echoServer {
	s := &echoServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(func() {
		s.Close()
		s.wg.Wait()
		for _, err := range s.errs {
			t.Errorf("server: %v", err)
		}
	})
	return s
}

func (s *echoServer) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *echoServer) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/forbidden" {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if !IsUpgrade(r) {
		http.Error(w, "not an upgrade", http.StatusBadRequest)
		return
	}
	key, err := CheckRequest(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.lastHdr = r.Header.Clone()
	s.mu.Unlock()
	ext, deflate := NegotiateDeflate(r.Header)
	conn, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		s.fail(err)
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	defer conn.Close()
	resp := AppendResponse(nil, key, ext, http.Header{"X-Engine": {"test"}})
	resp = append(resp, s.greeting...)
	if _, err := conn.Write(resp); err != nil {
		s.fail(err)
		return
	}
	rd := NewReader(conn, ReaderConfig{MaxMessageSize: 1 << 20, Server: true, Deflate: deflate})
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		rd.Prime(b)
	}
	for {
		op, p, err := rd.Next()
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) {
				conn.Write(AppendClose(nil, pe.Code, pe.Reason))
			}
			return
		}
		var out []byte
		switch op {
		case OpText, OpBinary:
			if deflate {
				out = AppendFrame(nil, op, true, Compress(nil, p))
			} else {
				out = AppendFrame(nil, op, false, p)
			}
		case OpPing:
			out = AppendFrame(nil, OpPong, false, p)
		case OpClose:
			code, reason := ParseClose(p)
			if code == 1005 {
				code = 0
			}
			conn.Write(AppendClose(nil, code, reason))
			return
		}
		if _, err := conn.Write(out); err != nil {
			s.fail(err)
			return
		}
	}
}

func wsURL(s *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

func TestDialEcho(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t)
	big := noise(300 << 10)
	for _, deflate := range []bool{false, true} {
		name := "plain"
		if deflate {
			name = "deflate"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, rd, resp, gotDeflate, err := Dial(ctx, wsURL(s.Server, "/engine.io/?EIO=4&transport=websocket"), DialConfig{
				Header:  http.Header{"Origin": {"http://example.test"}, "X-Evil": {"a\r\nInjected: 1"}},
				Deflate: deflate,
			})
			if err != nil {
				t.Fatalf("Dial() error = %v", err)
			}
			defer conn.Close()
			if resp.StatusCode != 101 || resp.Header.Get("X-Engine") != "test" {
				t.Fatalf("Dial() resp = %d %v", resp.StatusCode, resp.Header)
			}
			if gotDeflate != deflate {
				t.Fatalf("Dial() deflate = %v, want %v", gotDeflate, deflate)
			}
			s.mu.Lock()
			hdr := s.lastHdr
			s.mu.Unlock()
			if hdr.Get("Origin") != "http://example.test" || hdr.Get("X-Evil") != "" || hdr.Get("Injected") != "" {
				t.Fatalf("server saw headers %v", hdr)
			}
			key := [4]byte{1, 2, 3, 4}
			send := func(op Opcode, p []byte, compress bool) {
				t.Helper()
				if compress {
					p = Compress(nil, p)
				}
				if _, err := conn.Write(AppendClientFrame(nil, op, compress, p, key)); err != nil {
					t.Fatalf("Write() error = %v", err)
				}
			}
			cases := []struct {
				op       Opcode
				payload  string
				compress bool
			}{
				{OpText, "4hello", false},
				{OpBinary, "\x00\x01\x02\xff", false},
				{OpText, "", false},
				{OpText, big, false},
				{OpText, "4compressed ü", deflate},
				{OpBinary, big, deflate},
			}
			for _, c := range cases {
				send(c.op, []byte(c.payload), c.compress)
				mustNext(t, rd, c.op, c.payload)
			}
			// Fragmented message with a ping in the middle.
			conn.Write(cat(
				AppendClientFrame(nil, OpText, false, []byte("frag"), key)[:0],
				frame(0x1, true, []byte("frag")),
				frame(fin|0x9, true, []byte("ping")),
				frame(fin, true, []byte("mented")),
			))
			mustNext(t, rd, OpPong, "ping")
			mustNext(t, rd, OpText, "fragmented")
			// Close handshake.
			conn.Write(cat(frame(fin|0x8, true, []byte("\x03\xe8bye"))))
			mustNext(t, rd, OpClose, "\x03\xe8bye")
			if _, _, err := rd.Next(); err != io.EOF {
				t.Fatalf("Next() after close = %v, want io.EOF", err)
			}
		})
	}
}

func TestDialProtocolErrorFromServer(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t)
	conn, rd, _, _, err := Dial(context.Background(), wsURL(s.Server, "/"), DialConfig{})
	if err != nil {
		t.Fatalf("Dial() error = %v", err)
	}
	defer conn.Close()
	// Unmasked frame from a client: the server closes with 1002.
	conn.Write(AppendFrame(nil, OpText, false, []byte("x")))
	op, p, err := rd.Next()
	if code, _ := ParseClose(p); err != nil || op != OpClose || code != CloseProtocolError {
		t.Fatalf("Next() = %v, %q, %v, want close 1002", op, p, err)
	}
}

// The server writes a frame in the same TCP write as its 101 response: Dial must prime
// the Reader with the bytes bufio read past the response.
func TestDialPrimesReader(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t)
	s.greeting = AppendFrame(nil, OpText, false, []byte(`0{"sid":"abc"}`))
	conn, rd, _, _, err := Dial(context.Background(), wsURL(s.Server, "/"), DialConfig{})
	if err != nil {
		t.Fatalf("Dial() error = %v", err)
	}
	defer conn.Close()
	mustNext(t, rd, OpText, `0{"sid":"abc"}`)
}

// A client that writes its first frame together with the upgrade request: the server
// must prime its Reader with the bufio leftovers after Hijack.
func TestServerPrimesReader(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t)
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	conn.Write(cat([]byte(req), cframe(fin|0x1, "early"), cframe(fin|0x9, "p")))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("ReadResponse() = %v, %v", resp, err)
	}
	rd := NewReader(br, ReaderConfig{MaxMessageSize: 100})
	mustNext(t, rd, OpText, "early")
	mustNext(t, rd, OpPong, "p")
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	s := newEchoServer(t)
	_, _, resp, _, err := Dial(context.Background(), wsURL(s.Server, "/forbidden"), DialConfig{})
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "origin not allowed") {
		t.Fatalf("Dial(/forbidden) error = %v, want status and body", err)
	}
	if resp == nil || resp.StatusCode != 403 {
		t.Fatalf("Dial(/forbidden) resp = %v, want 403", resp)
	}
	if body, _ := io.ReadAll(resp.Body); !bytes.Contains(body, []byte("origin not allowed")) {
		t.Fatalf("resp.Body = %q", body)
	}

	for _, u := range []string{"ftp://x/", "ws://", "::bad"} {
		if _, _, _, _, err := Dial(context.Background(), u, DialConfig{}); err == nil {
			t.Errorf("Dial(%q) error = nil", u)
		}
	}

	// A server that accepts TCP and never answers: the context bounds the handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, mode := range []string{"timeout", "cancel"} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		if mode == "cancel" {
			cancel()
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
		}
		start := time.Now()
		_, _, _, _, err := Dial(ctx, "ws://"+ln.Addr().String()+"/", DialConfig{})
		want := ctx.Err()
		cancel()
		if err == nil || want == nil || !errors.Is(err, want) {
			t.Fatalf("%s: Dial() error = %v, want %v", mode, err, want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%s: Dial() took %v", mode, d)
		}
	}
}

func TestDialTLS(t *testing.T) {
	t.Parallel()
	s := &echoServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	t.Cleanup(func() { s.Close(); s.wg.Wait() })
	tc := s.Client().Transport.(*http.Transport).TLSClientConfig
	conn, rd, _, deflate, err := Dial(context.Background(), "wss"+strings.TrimPrefix(s.URL, "https")+"/", DialConfig{TLSConfig: tc, Deflate: true})
	if err != nil {
		t.Fatalf("Dial(wss) error = %v", err)
	}
	defer conn.Close()
	if !deflate {
		t.Fatalf("Dial(wss) deflate = false")
	}
	conn.Write(AppendClientFrame(nil, OpText, true, Compress(nil, []byte("over tls")), [4]byte{5, 6, 7, 8}))
	mustNext(t, rd, OpText, "over tls")
}

func TestDialHugeResponseHead(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nX-Big: "))
		chunk := bytes.Repeat([]byte("a"), 4096)
		for range 1024 { // 4 MB header line, never terminated
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, _, _, err := Dial(ctx, "ws://"+ln.Addr().String()+"/", DialConfig{}); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial() error = %v, want a prompt failure on a huge response head", err)
	}
}

func TestDialBadAccept(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		defer conn.Close()
		resp := AppendResponse(nil, "AAAAAAAAAAAAAAAAAAAAAA==", r.URL.Query().Get("ext"), nil)
		conn.Write(resp)
	}))
	defer srv.Close()
	if _, _, _, _, err := Dial(context.Background(), wsURL(srv, "/"), DialConfig{}); err == nil || !strings.Contains(err.Error(), "Accept") {
		t.Fatalf("Dial() error = %v, want bad accept", err)
	}
}

func TestCheckDeflateResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    []string
		want bool
	}{
		{[]string{deflateResponse}, true},
		{[]string{deflateResponseSMWB}, true},
		{[]string{"permessage-deflate; server_no_context_takeover"}, true},
		{[]string{"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"}, true},
		{[]string{"permessage-deflate"}, false}, // server keeps context: we cannot inflate
		{[]string{"permessage-deflate; server_no_context_takeover; client_max_window_bits=10"}, false},
		{[]string{deflateResponse + ", permessage-deflate; server_no_context_takeover"}, false},
		{[]string{"x-other"}, false},
		{[]string{"permessage-deflate; server_no_context_takeover; foo"}, false},
	}
	for _, tt := range tests {
		if got := checkDeflateResponse(tt.v); got != tt.want {
			t.Errorf("checkDeflateResponse(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
