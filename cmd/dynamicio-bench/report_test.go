package main

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestInterference counts only what other tasks ran between the
// snapshots, per second, busiest first, and treats a reused thread id as
// a new task.
func TestInterference(t *testing.T) {
	before := map[int]taskTime{
		1: {"agent", 5_000_000},
		2: {"kdamond.0", 1_000_000},
		3: {"old", 9_000_000}, // gone by the end
		4: {"was-here", 7_000_000},
	}
	after := map[int]taskTime{
		1: {"agent", 25_000_000},    // +20 ms
		2: {"kdamond.0", 7_000_000}, // +6 ms
		4: {"reused", 2_000_000},    // a new task on an old id: +2 ms
		5: {"born", 2_000_000},      // +2 ms
		6: {"idle", 0},
	}
	got := interference(before, after, 2*time.Second)
	want := "15.0 ms of CPU per second (agent 10.0, kdamond.0 3.0, born 1.0)"
	if got != want && got != strings.Replace(want, "born", "reused", 1) {
		t.Errorf("interference = %q, want %q", got, want)
	}
}

// TestOtherTasksSkipsThisProcess: the snapshot sees the machine's other
// tasks (there is always at least the init process) but never the
// runner's own threads, whose CPU is the load generator's.
func TestOtherTasksSkipsThisProcess(t *testing.T) {
	tasks := otherTasks()
	if len(tasks) == 0 {
		t.Skip("no /proc here")
	}
	if _, ok := tasks[1]; !ok {
		t.Error("the init process is missing")
	}
	for tid := range tasks {
		if tid == os.Getpid() {
			t.Errorf("this process's main thread %d is counted", tid)
		}
	}
}

// TestReportRatiosToOursAgain: with ours-again in the run, every row gets
// an A/A ratio column beside the ratios to the Node servers.
func TestReportRatiosToOursAgain(t *testing.T) {
	list := scenarioList(smokeParams)[:1] // idle
	specs := map[string]*serverSpec{"ours": {Label: "a"}, "node-uws": {Label: "b"}, "ours-again": {Label: "c"}}
	var samples []*sample
	for srv, v := range map[string]float64{"ours": 8, "node-uws": 10, "ours-again": 6.4} {
		samples = append(samples, &sample{Scenario: list[0].Name, Server: srv, Rep: 1, Metrics: map[string]float64{list[0].Metrics[0].Key: v}})
	}
	md := buildReport(machine{Reps: 1}, list, specs, []string{"ours", "ours-again", "node-uws"}, samples).markdown()
	if !strings.Contains(md, "| ours ÷ node-uws | ours ÷ ours-again |") {
		t.Fatalf("no A/A column:\n%s", md)
	}
	if !strings.Contains(md, "| 0.80× | 1.25× |") {
		t.Errorf("row lacks 8÷10 and 8÷6.4:\n%s", md)
	}
}

// TestOursAgainIsOurs: the A/A server differs from ours in its name only.
func TestOursAgainIsOurs(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	specs, err := serverSpecs(options{Servers: []string{"ours", "ours-again"}, Ours: exe, NodeDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a, b := *specs["ours"], *specs["ours-again"]
	if b.Name != "ours-again" || b.Label == a.Label {
		t.Errorf("ours-again is named %q, %q", b.Name, b.Label)
	}
	b.Name, b.Label = a.Name, a.Label
	if !reflect.DeepEqual(a, b) {
		t.Errorf("ours-again %+v differs from ours %+v", b, a)
	}
}
