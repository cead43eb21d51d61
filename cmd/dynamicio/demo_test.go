package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// chromiumPath is the Debian chromium package's launcher (what CI installs).
const chromiumPath = "/usr/bin/chromium"

// nodeDir is the Node project with engine.io-client, playwright-core and
// browser.mjs.
var nodeDir = filepath.Join("..", "..", "internal", "interop", "testdata")

// requireBrowser skips the test when Chromium, Node or the npm packages are
// missing, except in CI, where a missing browser must fail the run rather
// than silently skip the check of the page.
func requireBrowser(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(nodeDir)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath+" (apt-get install chromium)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	for _, pkg := range []string{"playwright-core", "engine.io-client"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			missing = append(missing, pkg+" (make node-deps)")
		}
	}
	if len(missing) > 0 {
		msg := "missing: " + strings.Join(missing, ", ")
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// browserResult is the JSON line printed by testdata/browser.mjs.
type browserResult struct {
	OK            bool     `json:"ok"`
	State         string   `json:"state"`
	Transport     string   `json:"transport"`
	Echo          bool     `json:"echo"`
	SID           string   `json:"sid"`
	ConsoleErrors []string `json:"consoleErrors"`
	Log           []string `json:"log"`
	Error         string   `json:"error"`
}

// TestDemoPageInChromium loads the demo page in headless Chromium: the page
// must load the official browser client, open a session, upgrade to
// WebSocket and echo a message typed into its form, with no console errors.
// It caught nothing before it existed: 'eio.Socket is not a constructor'
// shipped because only Node clients were tested.
func TestDemoPageInChromium(t *testing.T) {
	dir := requireBrowser(t)
	logs := &recorder{}
	handler, shutdown, err := newDemo(filepath.Join(dir, "node_modules", "engine.io-client", "dist"), slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(handler) // listens on 127.0.0.1
	t.Cleanup(ts.Close)
	// Cleanups run last-in first-out: the engine closes its hijacked
	// WebSockets before ts.Close waits for the connections.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			t.Errorf("engine shutdown: %v", err)
		}
	})

	const timeoutMs = 30000
	arg, _ := json.Marshal(map[string]any{
		"url":       ts.URL + "/",
		"chromium":  chromiumPath,
		"timeoutMs": timeoutMs,
	})
	// browser.mjs ends itself 20 s after timeoutMs; this is the backstop. On
	// cancel, SIGTERM lets playwright-core close Chromium (which runs in its
	// own process group) before Node exits; SIGKILL follows after WaitDelay.
	ctx, cancel := context.WithTimeout(context.Background(), timeoutMs*time.Millisecond+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "browser.mjs"), string(arg))
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run() // the exit code repeats "ok", checked below
	t.Logf("browser.mjs took %v", time.Since(start).Round(time.Millisecond))

	var res browserResult
	line := bytes.TrimSpace(stdout.Bytes())
	if err := json.Unmarshal(line, &res); err != nil {
		t.Fatalf("browser.mjs (%v) printed no result line: %v\nstdout: %s\nstderr: %s", runErr, err, line, stderr.String())
	}
	if !res.OK || runErr != nil {
		t.Errorf("page check failed (%v): %s\nstderr: %s", runErr, line, stderr.String())
	}
	if res.State != "open" || res.Transport != "websocket" || !res.Echo {
		t.Errorf("page shows state %q, transport %q, echo %v; want open, websocket, true", res.State, res.Transport, res.Echo)
	}
	if len(res.ConsoleErrors) > 0 {
		t.Errorf("console errors:\n  %s", strings.Join(res.ConsoleErrors, "\n  "))
	}
	if t.Failed() {
		t.FailNow()
	}
	if res.SID == "" {
		t.Fatalf("the page logged no session id: %s", line)
	}
	open := logs.find("open", "sid", res.SID)
	if open == nil {
		t.Fatalf("the server logged no open for session %s; it logged:\n%s", res.SID, logs)
	}
	if remote := open["remote"]; !strings.HasPrefix(remote, "127.0.0.1:") {
		t.Errorf("session %s came from %q, want 127.0.0.1", res.SID, remote)
	}
}

// recorder is a slog.Handler that keeps every record's message and
// attributes, for the test to look up what the server logged. Attributes
// added with WithAttrs or WithGroup are dropped: the test only looks at the
// echo handler's own records.
type recorder struct {
	mu      sync.Mutex
	records []map[string]string // "msg" plus the attributes, as text
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]string{"msg": rec.Message}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	r.records = append(r.records, m)
	r.mu.Unlock()
	return nil
}

// find returns the first record with message msg and attribute key = value.
func (r *recorder) find(msg, key, value string) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.records {
		if m["msg"] == msg && m[key] == value {
			return m
		}
	}
	return nil
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, m := range r.records {
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}
