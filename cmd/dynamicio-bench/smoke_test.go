package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every scenario once, tiny, on every server, so the tool
// never rots: each server must start, deliver everything the load
// generator sent, and the report must be complete and well-formed. It
// checks that the benchmark works, not how fast anything is.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts four servers")
	}
	root, _ := filepath.Abs("../..")
	nodeDir := filepath.Join(root, "bench", "node")
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat(filepath.Join(nodeDir, "node_modules", "socket.io"))
	if errNode != nil || errMods != nil {
		msg := "node or bench/node's npm packages are missing; run `make node-deps`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	bin := t.TempDir()
	for name, pkg := range map[string]string{"dynamicio": "./bench/server/dynamicio", "rawws": "./bench/server/rawws"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	out := t.TempDir()
	o := options{
		Smoke: true, Reps: 1, Out: out,
		Servers: []string{"ours", "node", "node-uws", "raw"},
		// Unpinned: the test process is not on a core of its own, and CI
		// runs other packages' tests beside it.
		Pin:  false,
		Ours: filepath.Join(bin, "dynamicio"), Raw: filepath.Join(bin, "rawws"), NodeDir: nodeDir,
		Log: func(format string, args ...any) { t.Logf(format, args...) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if err := run(ctx, o); err != nil {
		t.Fatal(err)
	}

	var rep report
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	list := scenarioList(smokeParams)
	want := 0
	for _, sc := range list {
		for _, srv := range o.Servers {
			want++
			if sc.needs == nil || sc.needs(&serverSpec{Name: srv, Polling: srv != "raw"}) == "" {
				if rep.Runs[sc.Name][srv] != 1 {
					t.Errorf("%s/%s: %d successful runs, want 1", sc.Name, srv, rep.Runs[sc.Name][srv])
				}
			}
		}
	}
	if len(rep.Samples) != want {
		t.Errorf("%d samples, want %d", len(rep.Samples), want)
	}
	if rep.Machine.Nproc < 1 || rep.Machine.Go == "" || rep.Machine.LoadStart == "" {
		t.Errorf("machine description incomplete: %+v", rep.Machine)
	}
	if !strings.Contains(rep.Machine.OtherTasks, "ms of CPU per second") {
		t.Errorf("no record of the other tasks' CPU: %q", rep.Machine.OtherTasks)
	}

	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range list {
		if !bytes.Contains(md, []byte("## "+sc.Title+"\n")) {
			t.Errorf("results.md has no section %q", sc.Title)
		}
	}
	if !bytes.Contains(md, []byte("| ours ÷ node | ours ÷ node-uws |")) {
		t.Error("results.md has no ratio columns")
	}
	f, err := os.Open(filepath.Join(out, "results.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("results.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 300 {
		t.Errorf("results.png is %v", b)
	}
}
