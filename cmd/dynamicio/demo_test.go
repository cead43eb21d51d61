package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/browsertest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// browserResult is the JSON line printed by testdata/browser.mjs.
type browserResult struct {
	OK            bool     `json:"ok"`
	State         string   `json:"state"`
	Transport     string   `json:"transport"`
	Chat          bool     `json:"chat"`
	SID           string   `json:"sid"`
	ConsoleErrors []string `json:"consoleErrors"`
	Log           []string `json:"log"`
	Error         string   `json:"error"`
}

// TestDemoPageInChromium loads the demo page in headless Chromium: the page
// must load the official browser client from the server, connect to its
// room (a namespace created on demand), upgrade to WebSocket, and show a
// message typed into its form coming back from the room, with no console
// errors. The first version of this test caught 'eio.Socket is not a
// constructor', which had shipped because only Node clients were tested.
func TestDemoPageInChromium(t *testing.T) {
	dir := browsertest.Require(t, "socket.io-client")
	logs := &recorder{}
	handler, shutdown, err := newDemo(filepath.Join(dir, "node_modules", "socket.io-client", "dist"), time.Minute, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(handler) // listens on 127.0.0.1
	t.Cleanup(ts.Close)
	// Cleanups run last-in first-out: the server closes its hijacked
	// WebSockets before ts.Close waits for the connections.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	var res browserResult
	runErr := browsertest.Run(t, "browser.mjs", map[string]any{"url": ts.URL + "/"}, &res)
	line, _ := json.Marshal(res)
	if !res.OK || runErr != nil {
		t.Errorf("page check failed (%v): %s", runErr, line)
	}
	if res.State != "open" || res.Transport != "websocket" || !res.Chat {
		t.Errorf("page shows state %q, transport %q, chat %v; want open, websocket, true", res.State, res.Transport, res.Chat)
	}
	if len(res.ConsoleErrors) > 0 {
		t.Errorf("console errors:\n  %s", strings.Join(res.ConsoleErrors, "\n  "))
	}
	if t.Failed() {
		t.FailNow()
	}
	if res.SID == "" {
		t.Fatalf("the page logged no socket id: %s", line)
	}
	open := logs.find("connect", "socket", res.SID)
	if open == nil {
		t.Fatalf("the server logged no connect for socket %s; it logged:\n%s", res.SID, logs)
	}
	if remote := open["remote"]; !strings.HasPrefix(remote, "127.0.0.1:") || open["namespace"] != "/room/lobby" {
		t.Errorf("socket %s: %v, want /room/lobby from 127.0.0.1", res.SID, open)
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
