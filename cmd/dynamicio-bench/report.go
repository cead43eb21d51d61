package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// report is the outcome of a run: every sample, and medians per scenario,
// server and metric.
type report struct {
	Machine   machine             `json:"machine"`
	Servers   []string            `json:"servers"`
	Labels    map[string]string   `json:"labels"`
	Samples   []*sample           `json:"samples"`
	Medians   map[string]medians  `json:"medians"` // scenario → server → metric → median
	Runs      map[string]runCount `json:"runs"`    // scenario → server → successful runs
	scenarios []*scenario
}

type medians map[string]map[string]float64
type runCount map[string]int

func buildReport(m machine, list []*scenario, specs map[string]*serverSpec, servers []string, samples []*sample) *report {
	r := &report{Machine: m, Servers: servers, Labels: map[string]string{}, Samples: samples,
		Medians: map[string]medians{}, Runs: map[string]runCount{}, scenarios: list}
	for _, s := range servers {
		r.Labels[s] = specs[s].Label
	}
	for _, s := range samples {
		// Reports rebuilt from an older results.json get the first-step
		// figures from the steps.
		if len(s.Steps) > 0 && s.Metrics != nil {
			if _, ok := s.Metrics["first_cpu_us_per_delivery"]; !ok {
				s.Metrics["first_cpu_us_per_delivery"] = s.Steps[0].CPUPerDel
				s.Metrics["first_p99_ms"] = s.Steps[0].P99
			}
		}
	}
	for _, sc := range list {
		r.Medians[sc.Name] = medians{}
		r.Runs[sc.Name] = runCount{}
		for _, srv := range servers {
			vals := map[string][]float64{}
			for _, s := range samples {
				if s.Scenario != sc.Name || s.Server != srv || s.Err != "" || s.Skipped != "" {
					continue
				}
				r.Runs[sc.Name][srv]++
				for k, v := range s.Metrics {
					vals[k] = append(vals[k], v)
				}
			}
			md := map[string]float64{}
			for k, v := range vals {
				md[k] = median(v)
			}
			r.Medians[sc.Name][srv] = md
		}
	}
	return r
}

// rebuild writes the report of an earlier run again (after a change to
// the report's layout) from the results.json in dir.
func rebuild(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return err
	}
	var old report
	if err := json.Unmarshal(b, &old); err != nil {
		return err
	}
	p := fullParams
	if old.Machine.Mode == "smoke" {
		p = smokeParams
	}
	specs := map[string]*serverSpec{}
	for _, s := range old.Servers {
		specs[s] = &serverSpec{Name: s, Label: old.Labels[s]}
	}
	var list []*scenario
	for _, sc := range scenarioList(p) {
		if slices.ContainsFunc(old.Samples, func(s *sample) bool { return s.Scenario == sc.Name }) {
			list = append(list, sc)
		}
	}
	return buildReport(old.Machine, list, specs, old.Servers, old.Samples).write(dir)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (r *report) write(dir string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	png, err := r.chart()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.png"), png, 0o644)
}

func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

func (r *report) value(sc, srv, key string) float64 {
	v, ok := r.Medians[sc][srv][key]
	if !ok {
		return math.NaN()
	}
	return v
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func (r *report) markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "# dynamicio side-by-side benchmark (%s run)\n\n", m.Mode)
	fmt.Fprintf(&b, "Produced by `make bench` (cmd/dynamicio-bench). Every figure is the median of %d repetitions; ratios are ours ÷ the other server, so below 1× is better for ↓ rows and above 1× for ↑ rows.\n\n", m.Reps)
	fmt.Fprintf(&b, "| machine | |\n|---|---|\n")
	for _, kv := range [][2]string{
		{"date", m.Date}, {"cpus (nproc)", strconv.Itoa(m.Nproc)}, {"cpu model", m.CPU}, {"kernel", m.Kernel},
		{"Go", m.Go}, {"Node", m.Node}, {"load average at start", m.LoadStart}, {"load average at end", m.LoadEnd},
		{"server under test", m.ServerCore}, {"load generator", m.Generator}, {"run took", m.Duration},
		{"broadcast step length", m.RampStep},
		{"other tasks meanwhile (both cores)", m.OtherTasks},
	} {
		if kv[1] == "" {
			continue // a field older results lack
		}
		fmt.Fprintf(&b, "| %s | %s |\n", kv[0], kv[1])
	}
	b.WriteString("\nServers:\n\n")
	for _, s := range r.Servers {
		fmt.Fprintf(&b, "- **%s**: %s\n", s, r.Labels[s])
	}
	b.WriteString("\nServer CPU is utime+stime of the server process over the window (/proc/PID/stat, 10 ms ticks); RSS is VmRSS (/proc/PID/status). The load generator shares nothing with the server but the machine: when its own CPU nears 100% of its core, it, not the server, is the limit.\n")
	// Ratios of ours to each reference present (and to ours-again, the
	// A/A check, when asked for).
	var against []string
	for _, s := range []string{"node", "node-uws", "ours-again"} {
		if slices.Contains(r.Servers, s) {
			against = append(against, s)
		}
	}
	for _, sc := range r.scenarios {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", sc.Title, sc.What)
		b.WriteString("| |")
		for _, s := range r.Servers {
			fmt.Fprintf(&b, " %s |", s)
		}
		for _, s := range against {
			fmt.Fprintf(&b, " ours ÷ %s |", s)
		}
		b.WriteString("\n|---|")
		for range len(r.Servers) + len(against) {
			b.WriteString("---:|")
		}
		b.WriteString("\n")
		for _, mt := range sc.Metrics {
			arrow := "↓"
			if mt.Higher {
				arrow = "↑"
			}
			fmt.Fprintf(&b, "| %s %s |", mt.Label, arrow)
			for _, s := range r.Servers {
				fmt.Fprintf(&b, " %s |", r.cell(sc.Name, s, mt.Key))
			}
			ours := r.value(sc.Name, "ours", mt.Key)
			for _, s := range against {
				fmt.Fprintf(&b, " %s |", ratio(ours, r.value(sc.Name, s, mt.Key)))
			}
			b.WriteString("\n")
		}
		if sc.Ramp {
			r.stepTable(&b, sc)
		}
		r.notes(&b, sc)
	}
	return b.String()
}

// cell is one server's median, or why there is none.
func (r *report) cell(sc, srv, key string) string {
	v := r.value(sc, srv, key)
	if !math.IsNaN(v) {
		return fmtNum(v)
	}
	for _, s := range r.Samples {
		if s.Scenario == sc && s.Server == srv {
			if s.Skipped != "" {
				return "n/a"
			}
			if s.Err != "" && r.Runs[sc][srv] == 0 {
				return "failed"
			}
		}
	}
	return "–"
}

// stepTable shows every step of a broadcast ramp: server CPU per delivery
// and p99 at each offered rate (medians over the runs that reached it).
func (r *report) stepTable(b *strings.Builder, sc *scenario) {
	type key struct {
		srv  string
		rate float64
	}
	cpu, p99, gen := map[key][]float64{}, map[key][]float64{}, map[key][]float64{}
	fail := map[key]int{}
	var rates []float64
	for _, s := range r.Samples {
		if s.Scenario != sc.Name {
			continue
		}
		for _, st := range s.Steps {
			k := key{s.Server, st.Rate}
			cpu[k] = append(cpu[k], st.CPUPerDel)
			p99[k] = append(p99[k], st.P99)
			gen[k] = append(gen[k], st.GenUtil)
			if !st.Pass {
				fail[k]++
			}
			if !slices.Contains(rates, st.Rate) {
				rates = append(rates, st.Rate)
			}
		}
	}
	if len(rates) == 0 {
		return
	}
	slices.Sort(rates)
	b.WriteString("\nEvery step: server CPU µs/delivery · p99 ms (✗: the step failed in that many runs) · load generator CPU.\n\n| broadcasts/s |")
	for _, s := range r.Servers {
		fmt.Fprintf(b, " %s |", s)
	}
	b.WriteString("\n|---:|")
	for range r.Servers {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, rate := range rates {
		fmt.Fprintf(b, "| %g |", rate)
		for _, s := range r.Servers {
			k := key{s, rate}
			if len(cpu[k]) == 0 {
				b.WriteString(" |")
				continue
			}
			mark := ""
			if fail[k] > 0 {
				mark = fmt.Sprintf(" ✗%d", fail[k])
			}
			fmt.Fprintf(b, " %s µs · %s ms%s · gen %.0f%% |", fmtNum(median(cpu[k])), fmtNum(median(p99[k])), mark, 100*median(gen[k]))
		}
		b.WriteString("\n")
	}
}

func (r *report) notes(b *strings.Builder, sc *scenario) {
	seen := map[string]bool{}
	note := func(where, msg string) {
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		line := fmt.Sprintf("- %s: %s\n", where, strings.ReplaceAll(msg, "\n", " "))
		if !seen[line] {
			if len(seen) == 0 {
				b.WriteString("\nFailures:\n\n")
			}
			seen[line] = true
			b.WriteString(line)
		}
	}
	for _, s := range r.Samples {
		if s.Scenario != sc.Name {
			continue
		}
		if s.Err != "" {
			note(fmt.Sprintf("%s, run %d", s.Server, s.Rep), s.Err)
		}
		for _, st := range s.Steps {
			if st.Error != "" {
				note(fmt.Sprintf("%s, run %d, step %g/s", s.Server, s.Rep, st.Rate), st.Error)
			}
		}
	}
	for _, s := range r.Servers {
		if n := r.Runs[sc.Name][s]; n > 0 && n < r.Machine.Reps {
			fmt.Fprintf(b, "\n%s: median of %d successful runs of %d.\n", s, n, r.Machine.Reps)
		}
	}
}

// signedMetrics are differences, which may be below zero: a server may
// give memory back while its clients are stalled (Node does).
var signedMetrics = map[string]bool{"rss_growth_kb": true}

// smokeCheck fails unless every server ran every scenario that applies to
// it and delivered everything that was sent.
func (r *report) smokeCheck() error {
	var errs []error
	for _, s := range r.Samples {
		if s.Skipped != "" {
			continue
		}
		what := s.Scenario + "/" + s.Server
		if s.Err != "" {
			errs = append(errs, fmt.Errorf("%s: %s", what, s.Err))
			continue
		}
		for k, v := range s.Metrics {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 && !signedMetrics[k] {
				errs = append(errs, fmt.Errorf("%s: %s = %v", what, k, v))
			}
		}
		for _, k := range []string{"lost", "fast_lost", "fixed_lost"} {
			if v, ok := s.Metrics[k]; ok && v != 0 {
				errs = append(errs, fmt.Errorf("%s: %g deliveries lost", what, v))
			}
		}
		if len(s.Steps) > 0 && s.Steps[0].Delivered != s.Steps[0].Expected {
			errs = append(errs, fmt.Errorf("%s: first step delivered %d of %d", what, s.Steps[0].Delivered, s.Steps[0].Expected))
		}
		if strings.HasPrefix(s.Scenario, "broadcast") && len(s.Steps) == 0 {
			errs = append(errs, fmt.Errorf("%s: no broadcast step ran", what))
		}
	}
	return errors.Join(errs...)
}
