package interop

import (
	"encoding/base64"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/engineio"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echoServer echoes every message; the text message "server-close" makes
// the server close the session instead. It records close reasons.
type echoServer struct {
	opens  chan struct{}
	closes chan engineio.CloseReason
	errs   chan error // the err of each OnClose
}

func (e *echoServer) OnOpen(*engineio.Session) { e.opens <- struct{}{} }

func (e *echoServer) OnMessage(s *engineio.Session, typ engineio.MessageType, data []byte) {
	if typ == engineio.Text && string(data) == "server-close" {
		s.Close()
		return
	}
	s.Write(typ, append([]byte(nil), data...))
}

func (e *echoServer) OnClose(_ *engineio.Session, reason engineio.CloseReason, err error) {
	e.errs <- err
	e.closes <- reason
}

// startEngine serves an echo engine on 127.0.0.1 and returns its base URL.
func startEngine(t *testing.T, cfg *engineio.Config) (string, *echoServer) {
	t.Helper()
	h := &echoServer{opens: make(chan struct{}, 64), closes: make(chan engineio.CloseReason, 64), errs: make(chan error, 64)}
	eng := engineio.NewServer(h, cfg)
	ts := httptest.NewServer(eng)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { eng.Close() })
	return ts.URL, h
}

func (e *echoServer) expectClose(t *testing.T, want engineio.CloseReason) {
	t.Helper()
	select {
	case got := <-e.closes:
		if got != want {
			t.Errorf("server saw close reason %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("server saw no close within 5s (want %q)", want)
	}
}

// heartbeatConfig makes heartbeats quick to observe yet loose enough for a
// loaded 2-core machine, where a Node client may need a while to answer.
func heartbeatConfig() *engineio.Config {
	return &engineio.Config{PingInterval: 500 * time.Millisecond, PingTimeout: time.Second}
}

var transportSets = map[string][]string{
	"polling":   {"polling"},
	"websocket": {"websocket"},
	"upgrade":   {"polling", "websocket"},
}

func TestEchoEveryTransport(t *testing.T) {
	t.Parallel()
	for _, v3 := range []bool{false, true} {
		for name, transports := range transportSets {
			label := name
			if v3 {
				label = "v3-" + name
			}
			t.Run(label, func(t *testing.T) {
				t.Parallel()
				url, srv := startEngine(t, &engineio.Config{AllowEIO3: true})
				msgs := []any{"hello", "", "héllo wörld 😀", map[string]string{"base64": "AQIDBA=="}, strings.Repeat("z", 5000)}
				run := runNode(t, map[string]any{
					"url": url, "path": "/engine.io/", "scenario": "echo", "v3": v3,
					"transports": transports, "upgrade": name == "upgrade", "messages": msgs,
				})
				if !run.ok() {
					t.Fatalf("client run failed:\n%s", run)
				}
				got := run.all("message")
				if len(got) != len(msgs) {
					t.Fatalf("%d echoes, want %d:\n%s", len(got), len(msgs), run)
				}
				if !got[3].Binary || got[3].Base64 != "AQIDBA==" {
					t.Errorf("binary echo = %+v", got[3])
				}
				if got[2].text() != "héllo wörld 😀" {
					t.Errorf("unicode echo = %q", got[2].text())
				}
				if opens := run.all("open"); len(opens) != 1 || opens[0].Transport != transports[0] {
					t.Errorf("open = %+v", opens)
				}
				srv.expectClose(t, engineio.ReasonTransportClose)
			})
		}
	}
}

func TestUpgradeKeepsOrder(t *testing.T) {
	t.Parallel()
	for _, v3 := range []bool{false, true} {
		name := "v4"
		if v3 {
			name = "v3"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url, _ := startEngine(t, &engineio.Config{AllowEIO3: true})
			run := runNode(t, map[string]any{"url": url, "path": "/engine.io/", "scenario": "upgrade-order", "v3": v3, "count": 200})
			if !run.ok() {
				t.Fatalf("client run failed:\n%s", run)
			}
			if ups := run.all("upgrade"); len(ups) != 1 || ups[0].Transport != "websocket" {
				t.Errorf("upgrade events = %+v", ups)
			}
			if got := len(run.all("message")); got != 200 {
				t.Errorf("%d echoes, want 200", got)
			}
		})
	}
}

func TestBinaryBothWays(t *testing.T) {
	t.Parallel()
	for name, transports := range transportSets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url, _ := startEngine(t, nil)
			run := runNode(t, map[string]any{
				"url": url, "path": "/engine.io/", "scenario": "binary-roundtrip",
				"transports": transports, "upgrade": name == "upgrade", "sizes": []int{0, 1, 251, 70000, 300000},
			})
			if !run.ok() {
				t.Fatalf("client run failed:\n%s", run)
			}
			got := run.all("message")
			if len(got) != 5 {
				t.Fatalf("%d echoes, want 5", len(got))
			}
			b, _ := base64.StdEncoding.DecodeString(got[4].Base64)
			if len(b) != 300000 || b[300] != byte(300%251) {
				t.Errorf("300000-byte echo: %d bytes", len(b))
			}
		})
	}
}

func TestServerDetectsMissingPongs(t *testing.T) {
	t.Parallel()
	for name, transports := range map[string][]string{"polling": {"polling"}, "websocket": {"websocket"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url, srv := startEngine(t, heartbeatConfig())
			run := runNode(t, map[string]any{"url": url, "path": "/engine.io/", "scenario": "ping-no-pong", "transports": transports})
			if !run.ok() {
				t.Fatalf("client run failed:\n%s", run)
			}
			srv.expectClose(t, engineio.ReasonPingTimeout)
		})
	}
}

func TestClientDetectsMissingPings(t *testing.T) {
	t.Parallel()
	url, srv := startEngine(t, heartbeatConfig())
	p := newFreezingProxy(t, strings.TrimPrefix(url, "http://"))
	// Freeze the connection once the client is open: the server's pings no
	// longer arrive, and neither do the client's pongs.
	go func() {
		select {
		case <-srv.opens:
			time.Sleep(100 * time.Millisecond)
		case <-time.After(10 * time.Second):
		}
		p.freeze()
	}()
	run := runNode(t, map[string]any{"url": "http://" + p.addr, "path": "/engine.io/", "scenario": "wait-close", "transports": []string{"websocket"}})
	if !run.ok() {
		t.Fatalf("client run failed:\n%s", run)
	}
	if cl := run.all("close"); len(cl) != 1 || cl[0].Reason != "ping timeout" {
		t.Errorf("client close = %+v, want ping timeout", cl)
	}
	srv.expectClose(t, engineio.ReasonPingTimeout)
}

func TestServerClose(t *testing.T) {
	t.Parallel()
	for name, transports := range transportSets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url, srv := startEngine(t, nil)
			run := runNode(t, map[string]any{
				"url": url, "path": "/engine.io/", "scenario": "wait-close",
				"transports": transports, "upgrade": name == "upgrade", "messages": []string{"before", "server-close"},
			})
			if !run.ok() {
				t.Fatalf("client run failed:\n%s", run)
			}
			if cl := run.all("close"); len(cl) != 1 || cl[0].Reason != "transport close" {
				t.Errorf("client close = %+v\n%s", cl, run)
			}
			if msgs := run.all("message"); len(msgs) != 1 || msgs[0].text() != "before" {
				t.Errorf("messages before the close = %+v", msgs)
			}
			srv.expectClose(t, engineio.ReasonForcedClose)
		})
	}
}

func TestOversizeMessageRejected(t *testing.T) {
	t.Parallel()
	for name, transports := range map[string][]string{"polling": {"polling"}, "websocket": {"websocket"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url, srv := startEngine(t, &engineio.Config{MaxHTTPBufferSize: 1000})
			run := runNode(t, map[string]any{"url": url, "path": "/engine.io/", "scenario": "oversize", "transports": transports, "size": 5000})
			if !run.ok() {
				t.Fatalf("client run failed:\n%s", run)
			}
			cl := run.all("close")
			if len(cl) != 1 {
				t.Fatalf("client close = %+v", cl)
			}
			switch name {
			case "polling":
				// The client sees the POST's 413; or, when it handles the
				// pending poll's close packet first, the close; or, when no
				// poll was pending as the session closed, the 400 (unknown
				// session) of its next poll, as from the official server.
				if !strings.Contains(cl[0].Description, "413") && cl[0].Reason != "transport close" && cl[0].Description != "xhr poll error: 400" {
					t.Errorf("polling close = %+v, want transport error with 413 or 400, or transport close", cl[0])
				}
				select {
				case err := <-srv.errs:
					if err == nil || !strings.Contains(err.Error(), "too large") {
						t.Errorf("server close error = %v, want the body-too-large error", err)
					}
				case <-time.After(5 * time.Second):
					t.Error("server saw no close")
				}
			case "websocket":
				if !strings.Contains(cl[0].Description, "1009") {
					t.Errorf("websocket close = %+v, want close code 1009", cl[0])
				}
			}
			srv.expectClose(t, engineio.ReasonTransportError)
		})
	}
}

// freezingProxy forwards TCP connections to a target until frozen; then it
// stops copying in both directions but keeps the connections open, like a
// network that silently drops everything.
type freezingProxy struct {
	addr   string
	ln     net.Listener
	mu     sync.Mutex
	frozen chan struct{}
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFreezingProxy(t *testing.T, target string) *freezingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{addr: ln.Addr().String(), ln: ln, frozen: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(c, u)
			go p.pipe(u, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *freezingProxy) freeze() { close(p.frozen) }

func (p *freezingProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-p.frozen:
			// Swallow everything from now on, until the connection dies.
			io.Copy(io.Discard, src)
			return
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}
