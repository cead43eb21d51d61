package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamicio/dynamicio/bench/loadgen"
)

// params sizes every scenario; full and smoke differ only here.
type params struct {
	IdleCounts     []int
	IdleSettle     time.Duration
	ConnectWS      int
	ConnectUpgrade int
	ConnectConc    int
	EchoConns      int
	EchoInflight   int
	EchoPayload    int
	EchoRate       float64       // acks/s offered in the fixed-rate phase
	Window         time.Duration // measuring window of the fixed-load scenarios
	BcastClients   []int
	BcastSizes     []int
	RampStart      float64 // deliveries/s of the first step (broadcasts/s × clients)
	RampMax        float64 // no step above this rate
	RampStep       time.Duration
	RampMaxSteps   int
	RoomClients    int
	RoomSize       int
	RoomRate       float64 // messages/s per room
	PollClients    int
	PollRate       float64
	BinClients     int
	BinSize        int
	BinRate        float64
	SlowClients    int
	SlowCount      int
	SlowSize       int
	SlowRate       float64
	SlowPhase      time.Duration // each of the two phases
	Drain          time.Duration // how long late deliveries may take
	MaxConns       int           // cap on this process's connections (RLIMIT_NOFILE is 20,000)
}

var fullParams = params{
	IdleCounts: []int{1000, 5000, 10000}, IdleSettle: 1500 * time.Millisecond,
	ConnectWS: 2000, ConnectUpgrade: 1000, ConnectConc: 50,
	EchoConns: 100, EchoInflight: 8, EchoPayload: 100, EchoRate: 20000,
	Window:       2 * time.Second, // 3 s took make bench past its 15 minutes
	BcastClients: []int{1000, 5000}, BcastSizes: []int{100, 1024},
	RampStart: 25000, RampMax: 12800, RampStep: 1500 * time.Millisecond, RampMaxSteps: 9,
	RoomClients: 1000, RoomSize: 10, RoomRate: 10,
	PollClients: 200, PollRate: 20,
	BinClients: 1000, BinSize: 1024, BinRate: 100,
	SlowClients: 50, SlowCount: 1, SlowSize: 16 << 10, SlowRate: 150, SlowPhase: 4 * time.Second,
	Drain:    2 * time.Second,
	MaxConns: 19000,
}

var smokeParams = params{
	IdleCounts: []int{20, 50}, IdleSettle: 100 * time.Millisecond,
	ConnectWS: 40, ConnectUpgrade: 20, ConnectConc: 10,
	EchoConns: 5, EchoInflight: 2, EchoPayload: 100, EchoRate: 200,
	Window:       300 * time.Millisecond,
	BcastClients: []int{20}, BcastSizes: []int{100, 1024},
	RampStart: 400, RampMax: 40, RampStep: 300 * time.Millisecond, RampMaxSteps: 2,
	RoomClients: 20, RoomSize: 10, RoomRate: 10,
	PollClients: 5, PollRate: 10,
	BinClients: 10, BinSize: 1024, BinRate: 20,
	SlowClients: 20, SlowCount: 1, SlowSize: 1024, SlowRate: 50, SlowPhase: 300 * time.Millisecond,
	Drain:    3 * time.Second,
	MaxConns: 19000,
}

// step is one rate of a broadcast ramp.
type step struct {
	Rate      float64 `json:"rate"` // broadcasts/s offered
	Sent      int     `json:"sent"`
	Expected  uint64  `json:"expected"`
	Delivered uint64  `json:"delivered"`
	CPUPerDel float64 `json:"cpu_us_per_delivery"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	GenUtil   float64 `json:"generator_util"`
	Pass      bool    `json:"pass"`
	// Error is why the step could not finish: the server closed a
	// connection, typically cutting a client that fell too far behind
	// (ours does past its queue cap). The step fails; the ramp's earlier
	// steps stand.
	Error string `json:"error,omitempty"`
}

// sample is what one scenario run on one server measured.
type sample struct {
	Scenario string             `json:"scenario"`
	Server   string             `json:"server"`
	Rep      int                `json:"rep"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
	Steps    []step             `json:"steps,omitempty"`
	Err      string             `json:"error,omitempty"`
	Skipped  string             `json:"skipped,omitempty"`
}

// metric describes one figure of a scenario's table.
type metric struct {
	Key, Label string
	Higher     bool // higher is better
	Headline   bool // shown in the chart
}

// scenario is one kind of measurement.
type scenario struct {
	Name, Title, What string
	Metrics           []metric
	Ramp              bool // has broadcast steps
	needs             func(*serverSpec) string
	run               func(ctx context.Context, e *env) (*sample, error)
}

type env struct {
	p    params
	srv  *serverProc
	d    *loadgen.Dialer
	logf func(format string, args ...any)
	// ownReaders: every WebSocket client reads on a goroutine of its own
	// instead of the shared poller (-genreader goroutine).
	ownReaders bool
}

// connectMany dials n WebSocket clients with conc dials in flight; it
// records time-to-connect in lat when not nil.
func (e *env) connectMany(ctx context.Context, n, conc int, opt loadgen.DialOptions, sink *loadgen.Sink, lat *loadgen.Hist) ([]*loadgen.Client, error) {
	if n > e.p.MaxConns {
		return nil, fmt.Errorf("%d connections exceed the cap of %d", n, e.p.MaxConns)
	}
	clients := make([]*loadgen.Client, n)
	opt.Timeout = 15 * time.Second
	opt.OwnReader = opt.OwnReader || e.ownReaders
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				c, err := loadgen.Dial(ctx, e.d, e.srv.addr, opt, sink)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				if lat != nil {
					lat.Record(time.Since(t0))
				}
				clients[i] = c
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(clients)
		return nil, firstErr
	}
	return clients, ctx.Err()
}

func closeAll(cs []*loadgen.Client) {
	for _, c := range cs {
		if c != nil {
			c.Close()
		}
	}
}

// pace calls send n times at rate per second from now on, with the
// intended send time of each call: an open-loop schedule, so a late sender
// charges its lateness to the measured latency.
func pace(ctx context.Context, rate float64, n int, send func(i int, ts int64) error) (int, error) {
	interval := float64(time.Second) / rate
	start := loadgen.Now()
	for i := range n {
		due := start + int64(float64(i)*interval)
		if wait := due - loadgen.Now(); wait > int64(time.Millisecond) {
			select {
			case <-time.After(time.Duration(wait)):
			case <-ctx.Done():
				return i, ctx.Err()
			}
		}
		if err := send(i, due); err != nil {
			return i, err
		}
	}
	return n, nil
}

// waitCount waits until count() reaches want or timeout passes.
func waitCount(ctx context.Context, count func() uint64, want uint64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for count() < want {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

func needsPolling(s *serverSpec) string {
	if !s.Polling {
		return "no polling transport"
	}
	return ""
}

// fixedLoadMetrics are the figures of a scenario run at one offered rate
// (env.fixedLoad).
var fixedLoadMetrics = []metric{
	{"deliveries_per_s", "deliveries/s", true, false},
	{"cpu_us_per_delivery", "server CPU µs/delivery", false, true},
	{"p50_ms", "latency p50 (ms)", false, false},
	{"p99_ms", "latency p99 (ms)", false, false},
	{"lost", "deliveries missing after the drain", false, false},
}

var scenarios = []*scenario{
	{
		Name: "idle", Title: "Idle connections",
		What: "WebSocket clients connect and stay idle; server VmRSS growth over its RSS before the first connection, divided by the connections.",
		run:  runIdle,
	},
	{
		Name: "connect", Title: "Connect rate",
		What: "Clients connect one after another, a fixed number in flight, and stay connected: (a) transport=websocket directly, (b) the default client path: polling handshake, namespace connect over polling, probe and upgrade. Time to connect ends at the namespace connect answer (a) or the upgrade packet (b).",
		Metrics: []metric{
			{"ws_connects_per_s", "websocket: connects/s", true, true},
			{"ws_cpu_us_per_connect", "websocket: server CPU µs/connect", false, true},
			{"ws_p50_ms", "websocket: time to connect p50 (ms)", false, false},
			{"ws_p99_ms", "websocket: time to connect p99 (ms)", false, false},
			{"ws_gen_util", "websocket: load generator CPU (share of its core)", false, false},
			{"up_connects_per_s", "polling→upgrade: connects/s", true, false},
			{"up_cpu_us_per_connect", "polling→upgrade: server CPU µs/connect", false, true},
			{"up_p99_ms", "polling→upgrade: time to connect p99 (ms)", false, false},
			{"up_gen_util", "polling→upgrade: load generator CPU (share of its core)", false, false},
		},
		run: runConnect,
	},
	{
		Name: "echo", Title: "Echo with ack",
		What: "Clients emit echo(payload, ack); the server acks with the payload. RTT from the (intended) send to the ack. First at a fixed offered rate spread over the connections (the same load for every server; one write per echo), then in a closed loop with a fixed number in flight per connection (the most the pair of server and generator reach): each ack releases the next echo on its connection, and the echoes a connection owes after a read leave together in one write once the generator has consumed the frames that read buffered, as a client library writing per event-loop pass would send them.",
		Metrics: []metric{
			{"fixed_cpu_us_per_ack", "fixed rate: server CPU µs/ack", false, true},
			{"fixed_p50_ms", "fixed rate: RTT p50 (ms)", false, false},
			{"fixed_p99_ms", "fixed rate: RTT p99 (ms)", false, false},
			{"fixed_lost", "fixed rate: acks missing", false, false},
			{"acks_per_s", "closed loop: acks/s", true, true},
			{"cpu_us_per_ack", "closed loop: server CPU µs/ack", false, true},
			{"p50_ms", "closed loop: RTT p50 (ms)", false, false},
			{"p99_ms", "closed loop: RTT p99 (ms)", false, false},
			{"gen_util", "closed loop: load generator CPU (share of its core)", false, false},
		},
		run: runEcho,
	},
	{
		Name: "rooms", Title: "Many small rooms",
		What:    "Clients join rooms of a fixed size; one member of each room emits room(room, payload) at a fixed rate and the server relays it to the rest of the room (socket.to(room).emit).",
		Metrics: fixedLoadMetrics,
		run:     runRooms,
	},
	{
		Name: "polling", Title: "Long-polling clients",
		What:    "Polling-only clients receive a broadcast to all at a fixed rate, published by one WebSocket client (which receives it too).",
		Metrics: fixedLoadMetrics,
		needs:   needsPolling,
		run:     runPolling,
	},
	{
		Name: "binary", Title: "Binary payloads",
		What:    "A broadcast to all of one binary attachment (placeholder packet + binary frame) at a fixed rate.",
		Metrics: fixedLoadMetrics,
		run:     runBinary,
	},
	{
		Name: "slow", Title: "One slow consumer among fast ones",
		What: fmt.Sprintf("A broadcast to all of %d KB at %g/s, after a warm-up phase first with every client reading, then with %d of %d clients (4 KB receive buffer) that stop reading: %.1f MB each in the window, more than the kernel buffers (up to 4 MB on the server side) plus our queue cap (4 MB), so each server's own queue must hold the rest or drop the client. The fast clients' p99 should stay flat, and the slow ones be cut off.",
			fullParams.SlowSize>>10, fullParams.SlowRate, fullParams.SlowCount, fullParams.SlowClients, float64(fullParams.SlowSize)*fullParams.SlowRate*fullParams.SlowPhase.Seconds()/1e6),
		Metrics: []metric{
			{"p99_before_ms", "fast clients p99, all reading (ms)", false, false},
			{"p99_during_ms", "fast clients p99, slow ones stalled (ms)", false, true},
			{"p99_ratio", "p99 during / before", false, false},
			{"fast_lost", "fast clients' deliveries missing", false, false},
			{"slow_cut", "slow clients disconnected by the server", true, false},
			{"rss_growth_kb", "server RSS growth while stalled (KB)", false, false},
		},
		run: runSlow,
	},
}

// scenarioList returns the scenarios for p, the broadcast ones expanded.
func scenarioList(p params) []*scenario {
	var out []*scenario
	for _, s := range scenarios {
		if s.Name == "idle" {
			c := *s
			c.Metrics = nil
			for _, n := range p.IdleCounts {
				c.Metrics = append(c.Metrics, metric{"kb_per_conn_" + strconv.Itoa(n), fmt.Sprintf("RSS KB/conn at %d", n), false, n == slices.Max(p.IdleCounts)})
			}
			c.Metrics = append(c.Metrics, metric{"rss_base_mb", "RSS before connecting (MB)", false, false})
			out = append(out, &c)
			continue
		}
		out = append(out, s)
		if s.Name == "connect" {
			out = append(out, broadcastScenarios(p)...)
		}
	}
	return out
}

func broadcastScenarios(p params) []*scenario {
	var out []*scenario
	for _, n := range p.BcastClients {
		for _, size := range p.BcastSizes {
			out = append(out, &scenario{
				Name:  fmt.Sprintf("broadcast-%d-%dB", n, size),
				Title: fmt.Sprintf("Broadcast to all: %d clients, %d B", n, size),
				What: fmt.Sprintf("One client emits all(payload) at a rate that doubles every step from %g/s; the server emits it to every client (the sender too). "+
					"A step passes when every delivery arrived and p99 ≤ 100 ms; the ramp stops at the first failing step.", p.RampStart/float64(n)),
				Ramp: true,
				Metrics: []metric{
					{"first_cpu_us_per_delivery", fmt.Sprintf("first step (%g/s, same for all): server CPU µs/delivery", p.RampStart/float64(n)), false, true},
					{"first_p99_ms", "first step: p99 (ms)", false, true},
					{"max_rate", "highest sustainable broadcasts/s", true, true},
					{"max_deliveries_per_s", "deliveries/s at that rate", true, false},
					{"cpu_us_per_delivery", "server CPU µs/delivery at that rate", false, false},
					{"p99_ms", "p99 at that rate (ms)", false, false},
					{"gen_util", "load generator CPU at that rate", false, false},
				},
				run: func(ctx context.Context, e *env) (*sample, error) { return runBroadcast(ctx, e, n, size) },
			})
		}
	}
	return out
}

func runIdle(ctx context.Context, e *env) (*sample, error) {
	s := &sample{Metrics: map[string]float64{}}
	sleepCtx(ctx, e.p.IdleSettle)
	base, err := rssKB(e.srv.pid)
	if err != nil {
		return nil, err
	}
	s.Metrics["rss_base_mb"] = float64(base) / 1024
	var all []*loadgen.Client
	defer func() { closeAll(all) }()
	for _, n := range e.p.IdleCounts {
		more, err := e.connectMany(ctx, n-len(all), 100, loadgen.DialOptions{}, nil, nil)
		if err != nil {
			return nil, err
		}
		all = append(all, more...)
		sleepCtx(ctx, e.p.IdleSettle)
		rss, err := rssKB(e.srv.pid)
		if err != nil {
			return nil, err
		}
		s.Metrics["kb_per_conn_"+strconv.Itoa(n)] = float64(rss-base) / float64(n)
		e.logf("    idle %d: RSS %d KB (base %d KB)", n, rss, base)
	}
	for _, c := range all {
		if c.Closed.Load() {
			return nil, errors.New("a server closed an idle connection")
		}
	}
	return s, nil
}

func runConnect(ctx context.Context, e *env) (*sample, error) {
	s := &sample{Metrics: map[string]float64{}}
	var lat loadgen.Hist
	w := startWindow(e.srv.pid)
	cs, err := e.connectMany(ctx, e.p.ConnectWS, e.p.ConnectConc, loadgen.DialOptions{}, nil, &lat)
	w.stop()
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	s.Metrics["ws_connects_per_s"] = float64(len(cs)) / w.wall.Seconds()
	s.Metrics["ws_cpu_us_per_connect"] = w.srvUS / float64(len(cs))
	s.Metrics["ws_p50_ms"] = lat.Quantile(0.5)
	s.Metrics["ws_p99_ms"] = lat.Quantile(0.99)
	s.Metrics["ws_gen_util"] = w.selfU
	if e.srv.spec.Polling {
		lat.Reset()
		w := startWindow(e.srv.pid)
		cu, err := e.connectMany(ctx, e.p.ConnectUpgrade, e.p.ConnectConc, loadgen.DialOptions{Upgrade: true}, nil, &lat)
		w.stop()
		if err != nil {
			closeAll(cs)
			return nil, fmt.Errorf("polling→upgrade: %w", err)
		}
		s.Metrics["up_connects_per_s"] = float64(len(cu)) / w.wall.Seconds()
		s.Metrics["up_cpu_us_per_connect"] = w.srvUS / float64(len(cu))
		s.Metrics["up_p99_ms"] = lat.Quantile(0.99)
		s.Metrics["up_gen_util"] = w.selfU
		closeAll(cu)
	}
	closeAll(cs)
	return s, nil
}

func runEcho(ctx context.Context, e *env) (*sample, error) {
	sink := &loadgen.Sink{}
	sink.Disabled.Store(true)
	var closed atomic.Bool
	payloads := sync.Pool{New: func() any { return new([]byte) }}
	send := func(c *loadgen.Client, ts int64) error {
		bp := payloads.Get().(*[]byte)
		*bp = echoPacket((*bp)[:0], c.NextAckID(), ts, e.p.EchoPayload)
		err := c.Send(*bp)
		payloads.Put(bp)
		return err
	}
	// In the closed loop an ack queues the next echo on its connection; the
	// client writes all the echoes a read made it owe in one write (Queue),
	// time-stamped with the arrival of the ack that released them.
	sink.OnAck = func(c *loadgen.Client) {
		if closed.Load() {
			bp := payloads.Get().(*[]byte)
			*bp = echoPacket((*bp)[:0], c.NextAckID(), c.ReadTime(), e.p.EchoPayload)
			c.Queue(*bp)
			payloads.Put(bp)
		}
	}
	cs, err := e.connectMany(ctx, e.p.EchoConns, 50, loadgen.DialOptions{}, sink, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(cs)
	m := map[string]float64{}

	// Open loop: the same offered rate for every server, so CPU per ack
	// compares like with like.
	n := int(e.p.EchoRate * e.p.Window.Seconds())
	sink.Reset()
	sink.Disabled.Store(false)
	w := startWindow(e.srv.pid)
	sent, err := pace(ctx, e.p.EchoRate, n, func(i int, ts int64) error { return send(cs[i%len(cs)], ts) })
	if err != nil {
		return nil, err
	}
	waitCount(ctx, sink.Acks.Load, uint64(sent), e.p.Drain)
	w.stop()
	acks := sink.Acks.Load()
	if acks == 0 {
		return nil, errors.New("no acks")
	}
	m["fixed_cpu_us_per_ack"] = w.srvUS / float64(acks)
	m["fixed_p50_ms"], m["fixed_p99_ms"] = sink.Lat.Quantile(0.5), sink.Lat.Quantile(0.99)
	m["fixed_lost"] = float64(uint64(sent) - min(acks, uint64(sent)))

	// Closed loop: each ack sends the next echo on its connection.
	sink.Disabled.Store(true)
	closed.Store(true)
	for _, c := range cs {
		for range e.p.EchoInflight {
			if err := send(c, loadgen.Now()); err != nil {
				return nil, err
			}
		}
	}
	sleepCtx(ctx, e.p.Window/4) // warm-up
	sink.Reset()
	sink.Disabled.Store(false)
	w = startWindow(e.srv.pid)
	sleepCtx(ctx, e.p.Window)
	acks = sink.Acks.Load()
	w.stop()
	p50, p99 := sink.Lat.Quantile(0.5), sink.Lat.Quantile(0.99)
	closed.Store(false)
	if acks == 0 {
		return nil, errors.New("no acks in the closed loop")
	}
	if n := sink.Errors.Load(); n > 0 {
		return nil, fmt.Errorf("%d malformed acks", n)
	}
	m["acks_per_s"] = float64(acks) / w.wall.Seconds()
	m["cpu_us_per_ack"] = w.srvUS / float64(acks)
	m["p50_ms"], m["p99_ms"] = p50, p99
	m["gen_util"] = w.selfU
	return &sample{Metrics: m}, nil
}

// echoPacket appends 42<id>["echo",payload] with a TextPayload of size
// bytes stamped ts.
func echoPacket(dst []byte, id uint64, ts int64, size int) []byte {
	dst = append(dst, '4', '2')
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `["echo",`...)
	dst = loadgen.TextPayload(dst, ts, size)
	return append(dst, ']')
}

// fixedLoad runs send at rate for the window and waits for expected
// deliveries; it fills the common metrics.
func (e *env) fixedLoad(ctx context.Context, sink *loadgen.Sink, rate float64, perSend uint64, send func(i int, ts int64) error) (map[string]float64, error) {
	n := int(rate * e.p.Window.Seconds())
	sink.Reset()
	sink.Disabled.Store(false)
	w := startWindow(e.srv.pid)
	sent, err := pace(ctx, rate, n, send)
	if err != nil {
		return nil, err
	}
	want := uint64(sent) * perSend
	waitCount(ctx, sink.Events.Load, want, e.p.Drain)
	w.stop()
	got := sink.Events.Load()
	if got == 0 {
		return nil, errors.New("nothing delivered")
	}
	if n := sink.Errors.Load(); n > 0 {
		return nil, fmt.Errorf("%d malformed packets", n)
	}
	return map[string]float64{
		"deliveries_per_s":    float64(got) / w.wall.Seconds(),
		"cpu_us_per_delivery": w.srvUS / float64(got),
		"p50_ms":              sink.Lat.Quantile(0.5),
		"p99_ms":              sink.Lat.Quantile(0.99),
		"lost":                float64(want) - float64(min(got, want)),
	}, nil
}

func runRooms(ctx context.Context, e *env) (*sample, error) {
	sink := &loadgen.Sink{}
	sink.Disabled.Store(true)
	n := e.p.RoomClients / e.p.RoomSize * e.p.RoomSize
	cs, err := e.connectMany(ctx, n, 50, loadgen.DialOptions{}, sink, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(cs)
	rooms := n / e.p.RoomSize
	sink.Disabled.Store(false)
	for i, c := range cs {
		if err := c.Send(loadgen.EventPacket(nil, c.NextAckID(), "join", loadgen.Quote("r"+strconv.Itoa(i/e.p.RoomSize)))); err != nil {
			return nil, err
		}
	}
	if !waitCount(ctx, sink.Acks.Load, uint64(n), 10*time.Second) {
		return nil, fmt.Errorf("only %d of %d joins acknowledged", sink.Acks.Load(), n)
	}
	payload := make([]byte, 0, 256)
	m, err := e.fixedLoad(ctx, sink, e.p.RoomRate*float64(rooms), uint64(e.p.RoomSize-1), func(i int, ts int64) error {
		r := i % rooms
		payload = loadgen.TextPayload(payload[:0], ts, 100)
		return cs[r*e.p.RoomSize].Send(loadgen.EventPacket(nil, 0, "room", loadgen.Quote("r"+strconv.Itoa(r)), payload))
	})
	if err != nil {
		return nil, err
	}
	return &sample{Metrics: m}, nil
}

func runPolling(ctx context.Context, e *env) (*sample, error) {
	sink := &loadgen.Sink{}
	sink.Disabled.Store(true)
	loopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := loadgen.NewPollTransport(e.d, e.p.PollClients)
	defer tr.CloseIdleConnections()
	var pcs []*loadgen.PollClient
	defer func() {
		cancel()
		for _, pc := range pcs {
			<-pc.Done()
		}
	}()
	for range e.p.PollClients {
		dctx, dcancel := context.WithTimeout(ctx, 15*time.Second)
		pc, err := loadgen.DialPolling(dctx, loopCtx, tr, e.srv.addr, sink)
		dcancel()
		if err != nil {
			return nil, err
		}
		pcs = append(pcs, pc)
	}
	pub, err := e.connectMany(ctx, 1, 1, loadgen.DialOptions{}, sink, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(pub)
	sleepCtx(ctx, 200*time.Millisecond)
	var buf []byte
	m, err := e.fixedLoad(ctx, sink, e.p.PollRate, uint64(e.p.PollClients+1), func(i int, ts int64) error {
		buf = loadgen.EventPacket(buf[:0], 0, "all", loadgen.TextPayload(nil, ts, 100))
		return pub[0].Send(buf)
	})
	if err != nil {
		return nil, err
	}
	return &sample{Metrics: m}, nil
}

func runBinary(ctx context.Context, e *env) (*sample, error) {
	sink := &loadgen.Sink{}
	sink.Disabled.Store(true)
	cs, err := e.connectMany(ctx, e.p.BinClients, 50, loadgen.DialOptions{}, sink, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(cs)
	packet := []byte(`451-["all",{"_placeholder":true,"num":0}]`)
	m, err := e.fixedLoad(ctx, sink, e.p.BinRate, uint64(len(cs)), func(i int, ts int64) error {
		return cs[0].SendBinary(packet, loadgen.BinaryPayload(ts, e.p.BinSize))
	})
	if err != nil {
		return nil, err
	}
	return &sample{Metrics: m}, nil
}

// runBroadcast ramps the broadcast rate to n clients until a step fails.
func runBroadcast(ctx context.Context, e *env, n, size int) (*sample, error) {
	sink := &loadgen.Sink{}
	sink.Disabled.Store(true)
	cs, err := e.connectMany(ctx, n, 100, loadgen.DialOptions{}, sink, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(cs)
	s := &sample{Metrics: map[string]float64{}}
	var buf, arg []byte
	best := -1
	for rate, k := e.p.RampStart/float64(n), 0; rate <= e.p.RampMax && k < e.p.RampMaxSteps; rate, k = rate*2, k+1 {
		if err := e.srv.alive(); err != nil {
			return nil, err
		}
		cnt := max(int(rate*e.p.RampStep.Seconds()), 1)
		sink.Reset()
		sink.Disabled.Store(false)
		w := startWindow(e.srv.pid)
		sent, sendErr := pace(ctx, rate, cnt, func(i int, ts int64) error {
			arg = loadgen.TextPayload(arg[:0], ts, size)
			buf = loadgen.EventPacket(buf[:0], 0, "all", arg)
			return cs[0].Send(buf)
		})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		want := uint64(cnt) * uint64(n)
		if sendErr == nil {
			waitCount(ctx, sink.Events.Load, want, e.p.Drain)
		}
		w.stop()
		got := sink.Events.Load()
		st := step{
			Rate: rate, Sent: sent, Expected: want, Delivered: got,
			P50: sink.Lat.Quantile(0.5), P99: sink.Lat.Quantile(0.99), GenUtil: w.selfU,
		}
		if got > 0 {
			st.CPUPerDel = w.srvUS / float64(got)
		}
		st.Pass = sendErr == nil && got >= want && st.P99 <= 100 && sink.Errors.Load() == 0
		if sendErr != nil {
			st.Error = fmt.Sprintf("after %d of %d broadcasts: %v", sent, cnt, sendErr)
		}
		s.Steps = append(s.Steps, st)
		e.logf("    %g/s: %d/%d delivered, p99 %.1f ms, %.2f µs/delivery, generator %.0f%%", rate, got, want, st.P99, st.CPUPerDel, 100*st.GenUtil)
		if st.Error != "" {
			e.logf("    %g/s: %s", rate, st.Error)
		}
		if !st.Pass {
			break
		}
		best = len(s.Steps) - 1
		// Let the late stragglers of this step land before the next.
		sink.Disabled.Store(true)
		sleepCtx(ctx, 100*time.Millisecond)
	}
	if len(s.Steps) > 0 {
		s.Metrics["first_cpu_us_per_delivery"] = s.Steps[0].CPUPerDel
		s.Metrics["first_p99_ms"] = s.Steps[0].P99
	}
	if best >= 0 {
		b := s.Steps[best]
		s.Metrics["max_rate"] = b.Rate
		s.Metrics["max_deliveries_per_s"] = b.Rate * float64(n)
		s.Metrics["cpu_us_per_delivery"] = b.CPUPerDel
		s.Metrics["p99_ms"] = b.P99
		s.Metrics["gen_util"] = b.GenUtil
	} else {
		s.Metrics["max_rate"] = 0
		s.Metrics["max_deliveries_per_s"] = 0
	}
	return s, nil
}

func runSlow(ctx context.Context, e *env) (*sample, error) {
	fast := &loadgen.Sink{}
	fast.Disabled.Store(true)
	slowSink := &loadgen.Sink{}
	slowSink.Disabled.Store(true)
	nFast := e.p.SlowClients - e.p.SlowCount
	fs, err := e.connectMany(ctx, nFast, 50, loadgen.DialOptions{}, fast, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(fs)
	ss, err := e.connectMany(ctx, e.p.SlowCount, 10, loadgen.DialOptions{RcvBuf: 4096}, slowSink, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(ss)
	var buf, arg []byte
	send := func(i int, ts int64) error {
		arg = loadgen.TextPayload(arg[:0], ts, e.p.SlowSize)
		buf = loadgen.EventPacket(buf[:0], 0, "all", arg)
		return fs[0].Send(buf)
	}
	phase := func(d time.Duration) (p99 float64, lost uint64, err error) {
		cnt := max(int(e.p.SlowRate*d.Seconds()), 1)
		fast.Reset()
		fast.Disabled.Store(false)
		sent, err := pace(ctx, e.p.SlowRate, cnt, send)
		if err != nil {
			return 0, 0, err
		}
		want := uint64(sent) * uint64(nFast)
		waitCount(ctx, fast.Events.Load, want, e.p.Drain)
		got := fast.Events.Load()
		fast.Disabled.Store(true)
		return fast.Lat.Quantile(0.99), want - min(got, want), nil
	}
	if _, _, err := phase(e.p.SlowPhase / 4); err != nil { // warm-up, not counted
		return nil, err
	}
	before, lost0, err := phase(e.p.SlowPhase)
	if err != nil {
		return nil, err
	}
	for _, c := range ss {
		c.Pause()
	}
	rss0, _ := rssKB(e.srv.pid)
	during, lost1, err := phase(e.p.SlowPhase)
	if err != nil {
		return nil, err
	}
	rss1, _ := rssKB(e.srv.pid)
	// Read what the slow clients were sent; a cut one ends with EOF.
	for _, c := range ss {
		c.Resume()
	}
	cut := 0
	wctx, cancel := context.WithTimeout(ctx, e.p.Drain)
	defer cancel()
	for _, c := range ss {
		select {
		case <-c.Done():
		case <-wctx.Done():
		}
	}
	for _, c := range ss {
		if c.Closed.Load() {
			cut++
		}
	}
	ratio := 0.0
	if before > 0 {
		ratio = during / before
	}
	return &sample{Metrics: map[string]float64{
		"p99_before_ms": before, "p99_during_ms": during, "p99_ratio": ratio,
		"fast_lost": float64(lost0 + lost1), "slow_cut": float64(cut),
		"rss_growth_kb": float64(rss1 - rss0),
	}}, nil
}
