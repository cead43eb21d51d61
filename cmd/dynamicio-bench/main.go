package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dynamicio/dynamicio/bench/loadgen"
)

type options struct {
	Smoke      bool
	Reps       int
	Out        string
	Servers    []string
	Only       []string // scenario names (prefixes); empty means all
	Pin        bool
	Ours, Raw  string // server binaries
	NodeDir    string
	ProfileDir string        // CPU profiles of our server, one per scenario run
	GenProfile string        // CPU profile of this process (the load generator)
	GenReader  string        // how the generator reads WebSocket clients: poll or goroutine
	RampStep   time.Duration // length of a broadcast ramp's step; 0: the mode's
	Log        func(format string, args ...any)
}

func main() {
	var o options
	var servers, only string
	flag.BoolVar(&o.Smoke, "smoke", false, "a few seconds: every server, one tiny pass of each scenario")
	flag.IntVar(&o.Reps, "reps", 3, "repetitions (the tables show medians)")
	flag.StringVar(&o.Out, "out", "bench/results", "directory for results.md, results.json and results.png")
	flag.StringVar(&servers, "servers", "ours,node,node-uws,raw", "servers under test")
	flag.StringVar(&only, "scenarios", "", "comma-separated scenario names or prefixes (default: all)")
	flag.BoolVar(&o.Pin, "pin", true, "pin the server to cpu 1 and this generator to cpu 0 with taskset")
	flag.StringVar(&o.Ours, "ours", "bin/bench/dynamicio", "our server binary (go build ./bench/server/dynamicio)")
	flag.StringVar(&o.Raw, "raw", "bin/bench/rawws", "plain WebSocket server binary (go build ./bench/server/rawws)")
	flag.StringVar(&o.NodeDir, "node-dir", "bench/node", "npm project of the Node servers (npm ci done)")
	flag.StringVar(&o.ProfileDir, "cpuprofile-dir", "", "write a pprof CPU profile of our server for each scenario run here")
	flag.StringVar(&o.GenProfile, "genprofile", "", "write a pprof CPU profile of the load generator (this process, every scenario) to FILE")
	flag.StringVar(&o.GenReader, "genreader", "poll", "how the load generator reads its WebSocket clients: poll (one epoll set for all) or goroutine (one goroutine per client)")
	flag.DurationVar(&o.RampStep, "ramp-step", 0, "length of each broadcast step (default 1.5s; longer steps give steadier p99 and CPU figures, at that many times the run time)")
	rebuildDir := flag.String("rebuild", "", "only write the report again from DIR/results.json (no measuring)")
	flag.Parse()
	if *rebuildDir != "" {
		if err := rebuild(*rebuildDir); err != nil {
			fmt.Fprintln(os.Stderr, "dynamicio-bench:", err)
			os.Exit(1)
		}
		return
	}
	o.Servers = splitList(servers)
	o.Only = splitList(only)
	o.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

	if o.Pin {
		if _, err := exec.LookPath("taskset"); err != nil {
			o.Log("taskset not found: running unpinned")
			o.Pin = false
		} else if !pinnedTo0() {
			// Re-run this program on cpu 0, with every thread it will have.
			exe, err := os.Executable()
			if err == nil {
				args := append([]string{"taskset", "-c", "0", exe}, os.Args[1:]...)
				ts, _ := exec.LookPath("taskset")
				os.Setenv("GOMAXPROCS", "1")
				err = syscall.Exec(ts, args, os.Environ())
			}
			o.Log("cannot pin the generator (%v): running unpinned", err)
			o.Pin = false
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		o.Log("dynamicio-bench: %v", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// pinnedTo0 reports whether this process may run on cpu 0 only.
func pinnedTo0() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v) == "0"
		}
	}
	return false
}

func serverSpecs(o options) (map[string]*serverSpec, error) {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	script := filepath.Join(abs(o.NodeDir), "server.js")
	all := map[string]*serverSpec{
		"ours": {Name: "ours", Label: "dynamicio (Go)", Cmd: []string{abs(o.Ours)}, Polling: true, Binary: true},
		// Default socket.io: ws without its optional native add-ons, which
		// npm installs here only as dependencies of the uWS package.
		"node":     {Name: "node", Label: "socket.io 4.8 (Node, default ws engine)", Cmd: []string{"node", script, "ws"}, Env: []string{"WS_NO_BUFFER_UTIL=1", "WS_NO_UTF_8_VALIDATE=1"}, Polling: true, Binary: true},
		"node-uws": {Name: "node-uws", Label: "socket.io 4.8 on uWebSockets.js (republished build)", Cmd: []string{"node", script, "uws"}, Polling: true, Binary: true},
		"raw":      {Name: "raw", Label: "plain WebSocket (Go, one write per message)", Cmd: []string{abs(o.Raw)}, Binary: true},
	}
	// Not in a default run: ours again under another name, so that the
	// ratio ours ÷ ours-again shows how far the machine's noise alone
	// moves a ratio (an A/A comparison).
	again := *all["ours"]
	again.Name, again.Label = "ours-again", "dynamicio (Go) again: the same binary as ours, to show what noise alone does to a ratio"
	all[again.Name] = &again
	out := map[string]*serverSpec{}
	for _, name := range o.Servers {
		s, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("unknown server %q", name)
		}
		if s.Cmd[0] != "node" { // a binary make bench builds
			if _, err := os.Stat(s.Cmd[0]); err != nil {
				return nil, fmt.Errorf("%s: %w (build it first: make bench does)", s.Name, err)
			}
		} else if _, err := os.Stat(filepath.Join(abs(o.NodeDir), "node_modules", "socket.io")); err != nil {
			return nil, fmt.Errorf("%s: socket.io not installed in %s (npm ci there first)", s.Name, o.NodeDir)
		}
		out[name] = s
	}
	return out, nil
}

// run runs every scenario on every server o.Reps times and writes the
// report. Servers take turns within each repetition, in a rotating order,
// so that a change of machine load spreads over all of them.
func run(ctx context.Context, o options) error {
	specs, err := serverSpecs(o)
	if err != nil {
		return err
	}
	p := fullParams
	mode := "full"
	if o.Smoke {
		p, mode = smokeParams, "smoke"
	}
	if o.RampStep > 0 {
		p.RampStep = o.RampStep
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	if o.ProfileDir != "" {
		if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
			return err
		}
	}
	m := describeMachine(o.Pin, mode, o.Reps)
	m.RampStep = p.RampStep.String()
	o.Log("machine: %d cpus, %s, kernel %s, %s, node %s, loadavg %s", m.Nproc, m.CPU, m.Kernel, m.Go, m.Node, m.LoadStart)
	began, others := time.Now(), otherTasks()
	var list []*scenario
	for _, sc := range scenarioList(p) {
		if len(o.Only) == 0 || slices.ContainsFunc(o.Only, func(f string) bool { return strings.HasPrefix(sc.Name, f) }) {
			list = append(list, sc)
		}
	}
	if len(list) == 0 {
		return errors.New("no scenario selected")
	}
	if o.GenProfile != "" {
		f, err := os.Create(o.GenProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if o.GenReader != "" && o.GenReader != "poll" && o.GenReader != "goroutine" {
		return fmt.Errorf("-genreader %q: want poll or goroutine", o.GenReader)
	}
	d := loadgen.NewDialer(50)
	var samples []*sample
	timeout := 4 * time.Minute
	if o.Smoke {
		timeout = 45 * time.Second
	}
	var interrupted error
reps:
	for rep := 1; rep <= o.Reps; rep++ {
		for _, sc := range list {
			order := slices.Clone(o.Servers)
			k := (rep - 1) % len(order)
			order = append(order[k:], order[:k]...)
			for _, name := range order {
				spec := specs[name]
				if ctx.Err() != nil {
					interrupted = ctx.Err()
					break reps
				}
				s := &sample{}
				if sc.needs != nil {
					if why := sc.needs(spec); why != "" {
						samples = append(samples, &sample{Scenario: sc.Name, Server: name, Rep: rep, Skipped: why})
						continue
					}
				}
				o.Log("rep %d/%d  %-22s %-9s (%s)", rep, o.Reps, sc.Name, name, time.Since(began).Round(time.Second))
				var extra []string
				if name == "ours" && o.ProfileDir != "" {
					extra = []string{"-cpuprofile", filepath.Join(o.ProfileDir, fmt.Sprintf("%s-rep%d.pprof", sc.Name, rep))}
				}
				cpu := -1
				if o.Pin {
					cpu = 1
				}
				srv, err := startServer(spec, cpu, extra...)
				if err != nil {
					if errors.Is(err, errFatal) {
						return err
					}
					s.Err = err.Error()
				} else {
					sctx, cancel := context.WithTimeout(ctx, timeout)
					e := &env{p: p, srv: srv, d: d, logf: o.Log, ownReaders: o.GenReader == "goroutine"}
					res, err := sc.run(sctx, e)
					cancel()
					if aerr := srv.alive(); aerr != nil && err == nil {
						err = aerr
					}
					srv.stop()
					if err != nil {
						s.Err = err.Error()
					} else {
						s = res
					}
				}
				if s.Err != "" {
					o.Log("    error: %s", s.Err)
				}
				s.Scenario, s.Server, s.Rep = sc.Name, name, rep
				samples = append(samples, s)
			}
		}
	}
	m.LoadEnd = loadavg()
	m.OtherTasks = interference(others, otherTasks(), time.Since(began))
	m.Duration = time.Since(began).Round(time.Second).String()
	rep := buildReport(m, list, specs, o.Servers, samples)
	if err := rep.write(o.Out); err != nil {
		return err
	}
	o.Log("wrote %s", filepath.Join(o.Out, "results.md"))
	if interrupted != nil {
		return fmt.Errorf("interrupted, report is partial: %w", interrupted)
	}
	if o.Smoke {
		return rep.smokeCheck()
	}
	return nil
}
