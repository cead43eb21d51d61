package interop

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio"
)

// dynamicServer is a server with the dynamic.io extensions on: main.test
// (and www.main.test) is the main host, every other host gets namespaces of
// its own, and setup functions of every kind create namespaces on demand.
// Every connection gets a "where" event: [name, host, fullName, kind,
// setups of this namespace so far, submatch].
type dynamicServer struct {
	srv     *dynamicio.Server
	port    string // ":PORT" of the listener on 127.0.0.1
	mu      sync.Mutex
	setups  map[string]int // by full name
	expired chan string    // full names, from OnExpire
}

func startDynamic(t *testing.T, cfg dynamicio.Config) *dynamicServer {
	t.Helper()
	cfg.MainHost = dynamicio.ExactHost("main.test")
	cfg.HostFunc = func(r *http.Request) string {
		h := strings.ToLower(r.Host)
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		return strings.TrimPrefix(h, "www.")
	}
	d := &dynamicServer{srv: dynamicio.NewServer(&cfg), setups: map[string]int{}, expired: make(chan string, 16)}
	ts := httptest.NewServer(d.srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.srv.Shutdown(ctx)
	})
	d.port = ts.URL[strings.LastIndexByte(ts.URL, ':'):]

	setup := func(kind string) dynamicio.SetupFunc {
		return func(ns *dynamicio.Namespace, match []string) bool {
			if ns.Name() == "/nope" {
				return false
			}
			d.mu.Lock()
			d.setups[ns.FullName()]++
			n := d.setups[ns.FullName()]
			d.mu.Unlock()
			if ns.Name() == "/keep" {
				ns.SetRetirement(0) // permanent
			}
			sub := ""
			if len(match) > 1 {
				sub = match[1]
			}
			ns.OnConnection(func(s *dynamicio.Socket) {
				s.Emit("where", ns.Name(), ns.Host(), ns.FullName(), kind, n, sub)
			})
			ns.OnExpire(func(ns *dynamicio.Namespace) { d.expired <- ns.FullName() })
			return true
		}
	}
	// Among patterns the last registered wins: "*" beats ^/early/, and
	// ^/dyn/ beats "*". Exact names beat every pattern.
	for _, reg := range []struct {
		pattern any
		kind    string
	}{
		{regexp.MustCompile(`^/early/`), "early"},
		{"*", "star"},
		{`^/dyn/([^/]*)$`, "regexp"},
		{"/exact", "exact"},
	} {
		if err := d.srv.SetupNamespace(reg.pattern, setup(reg.kind)); err != nil {
			t.Fatal(err)
		}
	}
	d.srv.Of("/perm").OnConnection(func(s *dynamicio.Socket) {
		s.Emit("where", "/perm", "", "/perm", "of", 0, "")
	})
	return d
}

func (d *dynamicServer) url(host string) string { return "http://" + host + d.port }

func (d *dynamicServer) setupCount(full string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.setups[full]
}

// where returns the "where" events a run received on nsp.
func where(t *testing.T, run *nodeRun, nsp string) [][]any {
	t.Helper()
	var out [][]any
	for _, raw := range eventsNamed(run, nsp, "where") {
		var args []any
		if err := json.Unmarshal(raw, &args); err != nil {
			t.Fatal(err)
		}
		out = append(out, args)
	}
	return out
}

func connectStep(nsp string) map[string]any {
	return map[string]any{"op": "connect", "nsp": nsp}
}

func waitWhere(nsp string, count int) map[string]any {
	return map[string]any{"op": "wait", "nsp": nsp, "event": "where", "count": count}
}

func refusedStep(nsp string) map[string]any {
	return map[string]any{"op": "connect", "nsp": nsp, "expectError": true}
}

// connectError returns the message of the run's connect_error on nsp.
func connectError(run *nodeRun, nsp string) string {
	for _, e := range run.all("connect_error") {
		if e.Nsp == nsp {
			return e.Message
		}
	}
	return ""
}

// The Host header decides the namespace a socket.io-client reaches: the
// main host (with www. stripped by HostFunc) sees /chat, another host its
// own //host/chat, over every transport; a "//" name is refused everywhere.
func TestVirtualHostsWithClient(t *testing.T) {
	t.Parallel()
	d := startDynamic(t, dynamicio.Config{})
	for name, transports := range transportSets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct{ host, full, vhost string }{
				{"main.test", "/chat", ""},
				{"www.main.test", "/chat", ""},
				{"Other.Test", "//other.test/chat", "other.test"},
			} {
				run := runSIO(t, map[string]any{
					"url": d.url(tc.host), "loopbackHosts": true, "transports": transports,
					"steps": []any{
						connectStep("/chat"), waitWhere("/chat", 1),
						refusedStep("//other.test/chat"),
						refusedStep("//main.test/chat"),
					},
				})
				if !run.ok() {
					t.Fatalf("%s: client failed:\n%s", tc.host, run)
				}
				w := where(t, run, "/chat")
				if len(w) != 1 || w[0][0] != "/chat" || w[0][1] != tc.vhost || w[0][2] != tc.full {
					t.Errorf("%s: connected to %v, want /chat of host %q (%s)", tc.host, w, tc.vhost, tc.full)
				}
				for _, nsp := range []string{"//other.test/chat", "//main.test/chat"} {
					if msg := connectError(run, nsp); msg != "Invalid namespace" {
						t.Errorf("%s: connect to %s: error %q, want Invalid namespace", tc.host, nsp, msg)
					}
				}
			}
		})
	}
}

// Setup functions with socket.io-client: priorities, submatches, refusal
// with false, Of namespaces untouched, and one setup for concurrent first
// connects.
func TestSetupNamespaceWithClient(t *testing.T) {
	t.Parallel()
	d := startDynamic(t, dynamicio.Config{})
	run := runSIO(t, map[string]any{"url": d.url("main.test"), "loopbackHosts": true, "steps": []any{
		connectStep("/dyn/abc"), waitWhere("/dyn/abc", 1),
		connectStep("/exact"), waitWhere("/exact", 1),
		connectStep("/early/x"), waitWhere("/early/x", 1),
		connectStep("/other"), waitWhere("/other", 1),
		connectStep("/perm"), waitWhere("/perm", 1),
		refusedStep("/nope"),
	}})
	if !run.ok() {
		t.Fatalf("client failed:\n%s", run)
	}
	for nsp, want := range map[string][2]string{
		"/dyn/abc": {"regexp", "abc"},
		"/exact":   {"exact", ""},
		"/early/x": {"star", ""}, // registered later than ^/early/
		"/other":   {"star", ""},
		"/perm":    {"of", ""},
	} {
		w := where(t, run, nsp)
		if len(w) != 1 || w[0][3] != want[0] || w[0][5] != want[1] {
			t.Errorf("%s: where %v, want kind %q submatch %q", nsp, w, want[0], want[1])
		}
	}
	if msg := connectError(run, "/nope"); msg != "Invalid namespace" {
		t.Errorf("/nope: error %q, want Invalid namespace", msg)
	}
	if n := d.setupCount("/nope"); n != 0 {
		t.Errorf("/nope set up %d times", n)
	}
	for _, ns := range d.srv.Status("").Namespaces {
		if ns.Name == "/nope" {
			t.Error("a refused namespace was created")
		}
	}

	// Four clients race to create /shared: one setup, every client in it.
	var wg sync.WaitGroup
	runs := make([]*nodeRun, 4)
	for i := range runs {
		wg.Go(func() {
			runs[i] = runSIO(t, map[string]any{"url": d.url("main.test"), "loopbackHosts": true, "transports": []string{"websocket"}, "steps": []any{
				connectStep("/shared"), waitWhere("/shared", 1), map[string]any{"op": "sleep", "ms": 300},
			}})
		})
	}
	wg.Wait()
	for i, r := range runs {
		if !r.ok() {
			t.Fatalf("client %d failed:\n%s", i, r)
		}
	}
	if n := d.setupCount("/shared"); n != 1 {
		t.Errorf("/shared set up %d times by concurrent connects, want 1", n)
	}
}

// An idle namespace from setup retires after its retirement, OnExpire
// runs, and the next client re-creates it through setup; SetRetirement(0)
// and Of namespaces stay.
func TestRetirementWithClient(t *testing.T) {
	t.Parallel()
	d := startDynamic(t, dynamicio.Config{Retirement: 300 * time.Millisecond})
	steps := func(nsp string) []any {
		return []any{connectStep(nsp), waitWhere(nsp, 1), map[string]any{"op": "disconnect", "nsp": nsp}}
	}
	first := runSIO(t, map[string]any{"url": d.url("main.test"), "loopbackHosts": true,
		"steps": append(append(steps("/short"), steps("/keep")...), steps("/perm")...)})
	if !first.ok() {
		t.Fatalf("client failed:\n%s", first)
	}
	select {
	case full := <-d.expired:
		if full != "/short" {
			t.Fatalf("%s expired, want /short", full)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("/short did not retire")
	}
	live := map[string]bool{}
	for _, ns := range d.srv.Status("").Namespaces {
		live[ns.Name] = true
	}
	if live["/short"] || !live["/keep"] || !live["/perm"] {
		t.Errorf("live namespaces after retirement: %v; want /keep and /perm, not /short", live)
	}

	second := runSIO(t, map[string]any{"url": d.url("main.test"), "loopbackHosts": true, "steps": []any{
		connectStep("/short"), waitWhere("/short", 1), connectStep("/keep"), waitWhere("/keep", 1),
	}})
	if !second.ok() {
		t.Fatalf("client failed:\n%s", second)
	}
	if w := where(t, second, "/short"); len(w) != 1 || w[0][4] != float64(2) {
		t.Errorf("/short after retirement: %v, want a second setup", w)
	}
	if w := where(t, second, "/keep"); len(w) != 1 || w[0][4] != float64(1) {
		t.Errorf("/keep: %v, want its first and only setup", w)
	}
}

// The caps refuse with "Too many namespaces" and create nothing.
func TestNamespaceCapsWithClient(t *testing.T) {
	t.Parallel()
	t.Run("per connection", func(t *testing.T) {
		t.Parallel()
		d := startDynamic(t, dynamicio.Config{MaxNamespacesPerConnection: 3})
		run := runSIO(t, map[string]any{"url": d.url("main.test"), "loopbackHosts": true, "steps": []any{
			connectStep("/c1"), connectStep("/c2"), connectStep("/c3"), refusedStep("/c4"),
			connectStep("/perm"), // existing namespaces stay reachable
		}})
		if !run.ok() {
			t.Fatalf("client failed:\n%s", run)
		}
		if msg := connectError(run, "/c4"); msg != "Too many namespaces" {
			t.Errorf("/c4: %q, want Too many namespaces", msg)
		}
		// Another connection may create its own.
		other := runSIO(t, map[string]any{"url": d.url("main.test"), "loopbackHosts": true, "steps": []any{connectStep("/c4")}})
		if !other.ok() {
			t.Errorf("a second connection could not create /c4:\n%s", other)
		}
	})
	t.Run("per host", func(t *testing.T) {
		t.Parallel()
		d := startDynamic(t, dynamicio.Config{MaxNamespacesPerHost: 2})
		run := runSIO(t, map[string]any{"url": d.url("a.test"), "loopbackHosts": true, "steps": []any{
			connectStep("/h1"), connectStep("/h2"), refusedStep("/h3"),
		}})
		if !run.ok() {
			t.Fatalf("client failed:\n%s", run)
		}
		if msg := connectError(run, "/h3"); msg != "Too many namespaces" {
			t.Errorf("/h3: %q, want Too many namespaces", msg)
		}
		if st := d.srv.Status("a.test"); st.NamespaceCount != 2 {
			t.Errorf("a.test has %d namespaces, want 2", st.NamespaceCount)
		}
		// Another host has a cap of its own.
		b := runSIO(t, map[string]any{"url": d.url("b.test"), "loopbackHosts": true, "steps": []any{connectStep("/h1")}})
		if !b.ok() {
			t.Errorf("b.test could not create /h1:\n%s", b)
		}
	})
}
