package nginx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/dynamicio/dynamicio"
	"github.com/dynamicio/dynamicio/adapter/redisadapter"
	"github.com/dynamicio/dynamicio/internal/redistest"
	"github.com/dynamicio/dynamicio/internal/websocket"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// nginxBinary finds nginx; the test skips without it, except in CI, which
// installs it (.ci/run).
func nginxBinary(t *testing.T) string {
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed (CI installs it in .ci/run)")
	}
	t.Skip("nginx is not installed (apt-get install nginx)")
	return ""
}

// startNode starts a dynamicio server on the cluster of rs; each socket is
// told the node's name, and "say" broadcasts to every node.
func startNode(t *testing.T, rs *redistest.Server, name string) string {
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { rdb.Close() })
	cl, err := redisadapter.New(context.Background(), redisadapter.Config{Client: rdb})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	srv := dynamicio.NewServer(&dynamicio.Config{Adapter: cl.Factory()})
	srv.Of("/").OnConnection(func(so *dynamicio.Socket) {
		so.Emit("node", name)
		so.On("say", dynamicio.Typed(func(ctx context.Context, so *dynamicio.Socket, msg string) error {
			return srv.Of("/").Emit("said", name+": "+msg)
		}))
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return strings.TrimPrefix(ts.URL, "http://")
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestNginxStickySessions runs examples/nginx/nginx.conf (with the test's
// ports and writable paths) in front of two nodes: long-polling clients
// from different addresses stick to their node for their whole session,
// a WebSocket client passes the upgrade, and a message said on one node
// reaches the clients of both.
func TestNginxStickySessions(t *testing.T) {
	bin := nginxBinary(t)
	rs := redistest.Start(t)
	nodeA, nodeB := startNode(t, rs, "a"), startNode(t, rs, "b")
	front := freeAddr(t)

	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := string(conf)
	for from, to := range map[string]string{"127.0.0.1:3001": nodeA, "127.0.0.1:3002": nodeB, "listen 127.0.0.1:8080": "listen " + front} {
		if !strings.Contains(s, from) {
			t.Fatalf("nginx.conf lacks %q", from)
		}
		s = strings.Replace(s, from, to, 1)
	}
	var paths strings.Builder
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&paths, "\t%s_temp_path %s;\n", p, filepath.Join(dir, p))
	}
	paths.WriteString("\taccess_log off;\n")
	s = strings.Replace(s, "http {\n", "http {\n"+paths.String(), 1)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	global := fmt.Sprintf("daemon off; pid %s; error_log stderr;", filepath.Join(dir, "nginx.pid"))
	if os.Geteuid() == 0 {
		global += " user root;" // workers must write the test's temp paths
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-g", global)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // fast shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + front
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/socket.io/?EIO=4&transport=polling")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("nginx exited: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer: %v %s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// ip_hash keys on the first three octets: clients from 127.0.N.1 for
	// growing N until both nodes have one (bounded).
	byNode := map[string]*poller{}
	for n := 1; n <= 24 && len(byNode) < 2; n++ {
		p := newPoller(t, base, fmt.Sprintf("127.0.%d.1", n))
		p.send("40")
		p.expectPrefix(`40{"sid":"`)
		var node string
		p.expectEvent("node", &node)
		if byNode[node] == nil {
			byNode[node] = p
		}
	}
	if len(byNode) != 2 {
		t.Fatalf("clients reached only %v", byNode)
	}
	ws := dialWS(t, front)
	var wsNode string
	ws.expectEvent("node", &wsNode)

	byNode["a"].send(`42["say","hello"]`)
	for name, p := range byNode {
		var got string
		p.expectEvent("said", &got)
		if got != "a: hello" {
			t.Fatalf("client on %s got %q", name, got)
		}
	}
	var got string
	ws.expectEvent("said", &got)
	byNode["b"].send(`42["say","back"]`)
	for _, p := range byNode {
		p.expectEvent("said", &got)
		if got != "b: back" {
			t.Fatalf("got %q", got)
		}
	}
}

// poller is a minimal Engine.IO v4 long-polling client bound to one source
// address.
type poller struct {
	t       *testing.T
	hc      *http.Client
	url     string
	pending []string
}

func newPoller(t *testing.T, base, src string) *poller {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	p := &poller{t: t, hc: &http.Client{Transport: tr, Timeout: 40 * time.Second}}
	body := p.do("GET", base+"/socket.io/?EIO=4&transport=polling", "")
	var open struct {
		SID string `json:"sid"`
	}
	if !strings.HasPrefix(body, "0") || json.Unmarshal([]byte(body[1:]), &open) != nil || open.SID == "" {
		t.Fatalf("handshake: %q", body)
	}
	p.url = base + "/socket.io/?EIO=4&transport=polling&sid=" + open.SID
	return p
}

func (p *poller) do(method, url, body string) string {
	p.t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := p.hc.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 {
		p.t.Fatalf("%s %s: %d %s (not sticky?)", method, url, resp.StatusCode, b)
	}
	return string(b)
}

// send posts one Engine.IO packet ("40", `42[…]`).
func (p *poller) send(pkt string) {
	p.t.Helper()
	if got := p.do("POST", p.url, pkt); got != "ok" {
		p.t.Fatalf("POST answered %q", got)
	}
}

// next returns the next Engine.IO packet, answering pings.
func (p *poller) next() string {
	p.t.Helper()
	for len(p.pending) == 0 {
		for _, pk := range strings.Split(p.do("GET", p.url, ""), "\x1e") {
			if pk == "2" {
				p.do("POST", p.url, "3")
				continue
			}
			p.pending = append(p.pending, pk)
		}
	}
	pk := p.pending[0]
	p.pending = p.pending[1:]
	return pk
}

func (p *poller) expectPrefix(prefix string) {
	p.t.Helper()
	if got := p.next(); !strings.HasPrefix(got, prefix) {
		p.t.Fatalf("got %q, want %s…", got, prefix)
	}
}

func (p *poller) expectEvent(name string, arg any) {
	p.t.Helper()
	decodeEvent(p.t, p.next(), name, arg)
}

// decodeEvent checks pk is 42[name, arg] and decodes arg.
func decodeEvent(t *testing.T, pk, name string, arg any) {
	t.Helper()
	var parts []json.RawMessage
	if !strings.HasPrefix(pk, "42") || json.Unmarshal([]byte(pk[2:]), &parts) != nil || len(parts) != 2 ||
		string(parts[0]) != `"`+name+`"` || json.Unmarshal(parts[1], arg) != nil {
		t.Fatalf("got %q, want event %s", pk, name)
	}
}

// wsClient is a WebSocket-only client.
type wsClient struct {
	t    *testing.T
	conn net.Conn
	rd   *websocket.Reader
}

func dialWS(t *testing.T, front string) *wsClient {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, rd, _, _, err := websocket.Dial(ctx, "ws://"+front+"/socket.io/?EIO=4&transport=websocket", websocket.DialConfig{})
	if err != nil {
		t.Fatalf("websocket through nginx: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &wsClient{t: t, conn: conn, rd: rd}
	if p := c.next(); !strings.HasPrefix(p, "0{") {
		t.Fatalf("open = %q", p)
	}
	c.write("40")
	if p := c.next(); !strings.HasPrefix(p, "40{") {
		t.Fatalf("connect = %q", p)
	}
	return c
}

func (c *wsClient) write(s string) {
	if _, err := c.conn.Write(websocket.AppendClientFrame(nil, websocket.OpText, false, []byte(s), [4]byte{9, 9, 9, 9})); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) next() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		op, p, err := c.rd.Next()
		if err != nil || op == websocket.OpClose {
			c.t.Fatalf("websocket closed: %v", err)
		}
		if string(p) == "2" {
			c.write("3")
			continue
		}
		return string(p)
	}
}

func (c *wsClient) expectEvent(name string, arg any) {
	c.t.Helper()
	decodeEvent(c.t, c.next(), name, arg)
}
