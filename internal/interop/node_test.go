package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeEvent is one JSON line printed by testdata/eio.mjs.
type nodeEvent struct {
	Ev          string          `json:"ev"`
	Transport   string          `json:"transport"`
	SID         string          `json:"sid"`
	Data        json.RawMessage `json:"data"` // a string for eio.mjs messages; any JSON for connect_error
	Nsp         string          `json:"nsp"`
	ID          string          `json:"id"`
	Event       string          `json:"event"`
	Args        json.RawMessage `json:"args"`
	Recovered   bool            `json:"recovered"`
	Binary      bool            `json:"binary"`
	Base64      string          `json:"base64"`
	Reason      string          `json:"reason"`
	Description string          `json:"description"`
	Message     string          `json:"message"`
	OK          bool            `json:"ok"`
	Error       string          `json:"error"`
}

// text returns Data as a string (eio.mjs text messages).
func (e nodeEvent) text() string {
	var s string
	json.Unmarshal(e.Data, &s)
	return s
}

// nodeRun is what one run of the Node driver reported.
type nodeRun struct {
	events []nodeEvent
	stderr string
}

func (r *nodeRun) ok() bool {
	n := len(r.events)
	return n > 0 && r.events[n-1].Ev == "done" && r.events[n-1].OK
}

// all returns the events of one kind.
func (r *nodeRun) all(ev string) []nodeEvent {
	var out []nodeEvent
	for _, e := range r.events {
		if e.Ev == ev {
			out = append(out, e)
		}
	}
	return out
}

func (r *nodeRun) String() string {
	var b strings.Builder
	for _, e := range r.events {
		j, _ := json.Marshal(e)
		b.Write(j)
		b.WriteByte('\n')
	}
	if r.stderr != "" {
		b.WriteString("stderr: " + r.stderr)
	}
	return b.String()
}

// requireNode skips the test when Node or the npm packages are missing,
// except in CI, where a missing client must fail the run rather than
// silently skip the interop proof.
func requireNode(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("testdata")
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat(filepath.Join(dir, "node_modules", "engine.io-client"))
	if errNode != nil || errMods != nil {
		msg := "node or the npm packages are missing; run `make node-deps`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// runNode runs the driver with params and returns what it reported.
func runNode(t *testing.T, params map[string]any) *nodeRun {
	t.Helper()
	dir := requireNode(t)
	// The driver ends itself after timeoutMs; the process gets generous
	// extra time to start, since Node loads slowly on a loaded machine.
	if _, ok := params["timeoutMs"].(int); !ok {
		params["timeoutMs"] = 20000
	}
	timeout := time.Duration(params["timeoutMs"].(int))*time.Millisecond + 30*time.Second
	arg, _ := json.Marshal(params)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	script := "eio.mjs"
	if sc, ok := params["script"].(string); ok {
		script = sc
		delete(params, "script")
		arg, _ = json.Marshal(params)
	}
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, script), string(arg))
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run() // the exit code repeats the done line, which the caller checks
	run := &nodeRun{stderr: stderr.String()}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var e nodeEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("driver printed a line that is not JSON: %q", sc.Text())
		}
		run.events = append(run.events, e)
	}
	return run
}
