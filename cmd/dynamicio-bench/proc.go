package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clkTck is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100
// on every Linux architecture this runs on.
const clkTck = 100

// cpuTicks returns utime+stime of process pid (all its threads), in clock
// ticks, from fields 14 and 15 of /proc/<pid>/stat.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + pidString(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields count from the
	// last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	return u + s, errors.Join(err1, err2)
}

func pidString(pid int) string {
	if pid == 0 {
		return "self"
	}
	return strconv.Itoa(pid)
}

// rssKB returns VmRSS of process pid in KiB.
func rssKB(pid int) (int64, error) {
	return statusField(pid, "VmRSS:")
}

func statusField(pid int, name string) (int64, error) {
	f, err := os.Open("/proc/" + pidString(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", name, pid)
}

// cpuWindow measures the CPU time of the server and of this process over a
// window.
type cpuWindow struct {
	pid          int
	start        time.Time
	srv0, self0  int64
	srvUS, selfU float64 // server CPU µs; load generator utilisation 0..1
	wall         time.Duration
}

func startWindow(pid int) *cpuWindow {
	w := &cpuWindow{pid: pid, start: time.Now()}
	w.srv0, _ = cpuTicks(pid)
	w.self0, _ = cpuTicks(0)
	return w
}

func (w *cpuWindow) stop() *cpuWindow {
	srv1, _ := cpuTicks(w.pid)
	self1, _ := cpuTicks(0)
	w.wall = time.Since(w.start)
	w.srvUS = float64(srv1-w.srv0) * 1e6 / clkTck
	w.selfU = float64(self1-w.self0) / clkTck / w.wall.Seconds()
	return w
}

// serverSpec is one server under test.
type serverSpec struct {
	Name    string // short key: ours, node, node-uws, raw
	Label   string
	Cmd     []string
	Env     []string
	Polling bool // has a polling transport
	Binary  bool
}

// serverProc is a running server under test.
type serverProc struct {
	spec   *serverSpec
	cmd    *exec.Cmd
	addr   string
	pid    int
	stderr *lockedBuf
	exited chan struct{}
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// errFatal marks a failure that must stop the whole run (a server that
// refuses to be what its label says).
var errFatal = errors.New("fatal")

// startServer starts spec pinned to cpu (when cpu ≥ 0) and waits for its
// "listening ADDR" line.
func startServer(spec *serverSpec, cpu int, extraArgs ...string) (*serverProc, error) {
	args := append(append([]string{}, spec.Cmd...), extraArgs...)
	if cpu >= 0 {
		args = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), spec.Env...)
	if cpu >= 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &serverProc{spec: spec, cmd: cmd, stderr: &lockedBuf{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.pid = cmd.Process.Pid
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(p.exited) }()
	select {
	case l := <-lines:
		addr, ok := strings.CutPrefix(l, "listening ")
		if !ok {
			p.stop()
			return nil, fmt.Errorf("%s: unexpected first line %q", spec.Name, l)
		}
		p.addr = addr
	case <-p.exited:
		err := fmt.Errorf("%s exited at start (%v): %s", spec.Name, cmd.ProcessState, p.stderr.String())
		if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 3 {
			err = fmt.Errorf("%w: %w", errFatal, err)
		}
		return nil, err
	case <-time.After(20 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not start in 20s: %s", spec.Name, p.stderr.String())
	}
	return p, nil
}

// alive reports an error if the server has exited.
func (p *serverProc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v): %s", p.spec.Name, p.cmd.ProcessState, p.stderr.String())
	default:
		return nil
	}
}

// stop ends the server: SIGTERM, then SIGKILL after 5 s.
func (p *serverProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		syscall.Kill(-p.pid, syscall.SIGKILL)
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// machine describes where and when a run happened.
type machine struct {
	Date       string `json:"date"`
	Nproc      int    `json:"nproc"`
	CPU        string `json:"cpu"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	Node       string `json:"node"`
	LoadStart  string `json:"loadavg_start"`
	LoadEnd    string `json:"loadavg_end,omitempty"`
	Pinned     bool   `json:"pinned"`
	Generator  string `json:"generator"`
	ServerCore string `json:"server_core"`
	Mode       string `json:"mode"`
	Reps       int    `json:"reps"`
	Duration   string `json:"duration,omitempty"`
	RampStep   string `json:"ramp_step,omitempty"` // each broadcast step's length
	// OtherTasks is what the machine's other tasks ran meanwhile (interference).
	OtherTasks string `json:"other_tasks,omitempty"`
}

func describeMachine(pinned bool, mode string, reps int) machine {
	m := machine{
		Date:   time.Now().UTC().Format(time.RFC3339),
		Nproc:  onlineCPUs(),
		Go:     runtime.Version(),
		Pinned: pinned,
		Mode:   mode,
		Reps:   reps,
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	}
	m.LoadStart = loadavg()
	if pinned {
		m.Generator, m.ServerCore = "cpu 0 (taskset -c 0, GOMAXPROCS=1)", "cpu 1 (taskset -c 1)"
	} else {
		m.Generator, m.ServerCore = "unpinned", "unpinned"
	}
	return m
}

// onlineCPUs counts the machine's CPUs, not the ones this (pinned) process
// may use.
func onlineCPUs() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for l := range strings.Lines(string(b)) {
		if strings.HasPrefix(l, "processor") {
			n++
		}
	}
	return max(n, 1)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// otherTasks is the CPU time (ns, from /proc/PID/task/TID/schedstat) of
// every task outside this process, by command name: the daemons that share
// the two cores with the server and the load generator. A task that ends
// before the second snapshot is missed; the ones that matter here (agents,
// kernel threads) live through the run.
func otherTasks() map[int]taskTime {
	self := os.Getpid()
	out := map[int]taskTime{}
	paths, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/schedstat")
	for _, p := range paths {
		parts := strings.Split(p, "/") // "", proc, PID, task, TID, schedstat
		pid, _ := strconv.Atoi(parts[2])
		if pid == self {
			continue
		}
		tid, _ := strconv.Atoi(parts[4])
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "comm"))
		out[tid] = taskTime{comm: strings.TrimSpace(string(comm)), ns: ns}
	}
	return out
}

type taskTime struct {
	comm string
	ns   int64
}

// interference sums what other tasks ran between two otherTasks snapshots,
// per second of elapsed time, naming the three busiest commands. Each
// millisecond here is one the server or the generator may have waited for
// its core: at p99 over a short window, a few such waits are the tail.
func interference(before, after map[int]taskTime, elapsed time.Duration) string {
	if elapsed <= 0 {
		return ""
	}
	byComm := map[string]int64{}
	var total int64
	for tid, a := range after {
		d := a.ns // a task born during the run, or on a reused id, counts from 0
		if b, ok := before[tid]; ok && b.comm == a.comm {
			d -= b.ns
		}
		if d > 0 {
			byComm[a.comm] += d
			total += d
		}
	}
	perSec := func(ns int64) float64 { return float64(ns) / 1e6 / elapsed.Seconds() }
	names := make([]string, 0, len(byComm))
	for c := range byComm {
		names = append(names, c)
	}
	sort.Slice(names, func(i, j int) bool { return byComm[names[i]] > byComm[names[j]] })
	var top []string
	for _, c := range names[:min(3, len(names))] {
		top = append(top, fmt.Sprintf("%s %.1f", c, perSec(byComm[c])))
	}
	return fmt.Sprintf("%.1f ms of CPU per second (%s)", perSec(total), strings.Join(top, ", "))
}
