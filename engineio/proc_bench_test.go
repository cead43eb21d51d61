package engineio

// Benchmarks that measure the server as a separate process, the way an
// operator sees it: the test binary re-executes itself as an echo server
// (benchServerEnv), and the benchmark drives it over loopback and reads the
// child's RSS and CPU time from /proc. Run them with
//
//	go test -run '^$' -bench 'Process' -benchtime 1x ./engineio/
//
// BENCH_SESSIONS (default 10000) sets the idle-session count.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

const benchServerEnv = "ENGINEIO_BENCH_SERVER"

// runBenchServer is the child: an echo engine on 127.0.0.1, its address on
// stdout, /gc to return freed memory to the OS, and exit when stdin closes.
func runBenchServer() {
	eng := NewServer(benchEcho{}, nil)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eng)
	mux.HandleFunc("/gc", func(w http.ResponseWriter, r *http.Request) {
		debug.FreeOSMemory()
		if os.Getenv("BENCH_MEMSTATS") != "" {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(os.Stderr, "heapInuse=%d stackInuse=%d sys=%d goroutines=%d\n", ms.HeapInuse, ms.StackInuse, ms.Sys, runtime.NumGoroutine())
			if f, err := os.Create(os.Getenv("BENCH_MEMSTATS")); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go http.Serve(ln, mux)
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

type benchEcho struct{}

func (benchEcho) OnOpen(*Session) {}
func (benchEcho) OnMessage(s *Session, typ MessageType, data []byte) {
	s.Write(typ, append([]byte(nil), data...))
}
func (benchEcho) OnClose(*Session, CloseReason, error) {}

// benchChild is a running child server.
type benchChild struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	addr string
}

func startBenchChild(b *testing.B) *benchChild {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServerEnv+"=1", "GOMAXPROCS=1")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	c := &benchChild{cmd: cmd, in: in, addr: strings.TrimSpace(addr)}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return c
}

// rss returns the child's resident set size in bytes.
func (c *benchChild) rss(b *testing.B) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// cpu returns the child's user+system CPU time.
func (c *benchChild) cpu(b *testing.B) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // CLK_TCK is 100 on Linux
}

func (c *benchChild) gc(b *testing.B) {
	resp, err := http.Get("http://" + c.addr + "/gc")
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
}

func (c *benchChild) dial(b *testing.B) (net.Conn, *websocket.Reader) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, rd, _, _, err := websocket.Dial(ctx, "ws://"+c.addr+"/engine.io/?EIO=4&transport=websocket", websocket.DialConfig{})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := rd.Next(); err != nil { // the open packet
		b.Fatal(err)
	}
	return conn, rd
}

// The process benchmarks measure once, whatever b.N is; run them with
// -benchtime 1x.

// BenchmarkProcessIdleWebSocketRSS opens BENCH_SESSIONS idle WebSocket
// sessions and reports the server's RSS growth per session.
func BenchmarkProcessIdleWebSocketRSS(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BENCH_SESSIONS")); err == nil && v > 0 {
		n = v
	}
	c := startBenchChild(b)
	// Warm up the server's code paths and pools before the baseline.
	warm, _ := c.dial(b)
	warm.Close()
	time.Sleep(200 * time.Millisecond)
	c.gc(b)
	before := c.rss(b)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, x := range conns {
			x.Close()
		}
	}()
	for range n {
		conn, _ := c.dial(b)
		conns = append(conns, conn)
	}
	time.Sleep(time.Second)
	settled := c.rss(b)
	c.gc(b)
	after := c.rss(b)
	b.ReportMetric(float64(settled-before)/float64(n), "B/session")
	b.ReportMetric(float64(after-before)/float64(n), "B/session-after-gc")
	b.ReportMetric(float64(n), "sessions")
}

// BenchmarkProcessEcho measures the server CPU per echoed message: 100
// WebSocket clients each keep 50 small messages in flight.
func BenchmarkProcessEcho(b *testing.B) {
	const clients, window, total = 100, 50, 200000
	c := startBenchChild(b)
	type cl struct {
		conn net.Conn
		rd   *websocket.Reader
	}
	cls := make([]cl, clients)
	for i := range cls {
		cls[i].conn, cls[i].rd = c.dial(b)
	}
	frame := websocket.AppendClientFrame(nil, websocket.OpText, false, []byte(`4["chat","hello, world"]`), [4]byte{1, 2, 3, 4})
	per := total / clients
	var received atomic.Int64
	startCPU := c.cpu(b)
	start := time.Now()
	var wg sync.WaitGroup
	for _, x := range cls {
		wg.Go(func() {
			defer x.conn.Close()
			x.conn.SetDeadline(time.Now().Add(60 * time.Second))
			batch := make([]byte, 0, len(frame)*window)
			for range window {
				batch = append(batch, frame...)
			}
			x.conn.Write(batch) // a full window in flight
			sent := window
			for got := 0; got < per; {
				op, _, err := x.rd.Next()
				if err != nil {
					b.Error(err)
					return
				}
				if op != websocket.OpText {
					continue
				}
				got++
				received.Add(1)
				if sent < per {
					x.conn.Write(frame)
					sent++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := c.cpu(b) - startCPU
	n := received.Load()
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "server-µs-CPU/msg")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
}
