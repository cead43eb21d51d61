package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Chromium is the Debian chromium package's launcher (what CI installs).
const Chromium = "/usr/bin/chromium"

// NodeDir returns the Node project with playwright-core and the scripts.
func NodeDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "interop", "testdata")
}

// Require skips the test when Chromium, Node or the npm packages (pkgs,
// besides playwright-core) are missing, except in CI, where a missing
// browser must fail the run rather than silently skip the check of a page.
// It returns the Node project's directory.
func Require(t *testing.T, pkgs ...string) string {
	t.Helper()
	dir := NodeDir()
	var missing []string
	if _, err := os.Stat(Chromium); err != nil {
		missing = append(missing, Chromium+" (apt-get install chromium)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	for _, pkg := range append([]string{"playwright-core"}, pkgs...) {
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

// Run runs script (a file of the Node project) with params as its JSON
// argument; "chromium" is added. The script prints one JSON result line,
// which Run decodes into result; it must end itself after
// params["timeoutMs"] plus 20 s at most, and Run kills it 30 s later. The
// returned error is the script's exit status (non-nil when it reported a
// failure); a missing or broken result line fails the test.
func Run(t *testing.T, script string, params map[string]any, result any) error {
	t.Helper()
	dir := Require(t)
	params["chromium"] = Chromium
	timeoutMs, _ := params["timeoutMs"].(int)
	if timeoutMs == 0 {
		timeoutMs = 30000
		params["timeoutMs"] = timeoutMs
	}
	arg, _ := json.Marshal(params)
	// On cancel, SIGTERM lets playwright-core close Chromium (which runs in
	// its own process group) before Node exits; SIGKILL follows after
	// WaitDelay.
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeoutMs)*time.Millisecond+50*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, script), string(arg))
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("%s took %v", script, time.Since(start).Round(time.Millisecond))
	line := bytes.TrimSpace(stdout.Bytes())
	if err := json.Unmarshal(line, result); err != nil {
		if len(line) > 4000 {
			line = append(line[:4000:4000], " …"...)
		}
		t.Fatalf("%s (%v) printed no result line: %v\nstdout: %s\nstderr: %s", script, runErr, err, line, stderr.String())
	}
	if runErr != nil {
		t.Logf("%s stderr:\n%s", script, stderr.String())
	}
	return runErr
}
