package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/dynamicio/dynamicio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060)")
	flag.Parse()
	if *pprofAddr != "" {
		go http.ListenAndServe(*pprofAddr, nil) // net/http/pprof registers on the default mux
	}
	if err := run(*addr, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "dynamicio bench server:", err)
		os.Exit(1)
	}
}

func run(addr, cpuprofile string) error {
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	srv := newServer()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Printf("listening %s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return hs.Shutdown(sctx)
}

// newServer is the benchmark's handler contract on the root package.
func newServer() *dynamicio.Server {
	srv := dynamicio.NewServer(nil)
	srv.OnConnection(func(s *dynamicio.Socket) {
		s.On("echo", func(ctx context.Context, e *dynamicio.Event) error {
			if b, ok := e.Binary(0); ok {
				return e.Ack(b)
			}
			return e.Ack(e.Raw(0))
		})
		s.On("all", func(ctx context.Context, e *dynamicio.Event) error {
			if b, ok := e.Binary(0); ok {
				return srv.Emit("all", b)
			}
			return srv.Emit("all", e.Raw(0))
		})
		s.On("join", func(ctx context.Context, e *dynamicio.Event) error {
			var room string
			if err := e.Bind(0, &room); err != nil {
				return err
			}
			s.Join(room)
			return e.Ack(true)
		})
		s.On("room", func(ctx context.Context, e *dynamicio.Event) error {
			var room string
			if err := e.Bind(0, &room); err != nil {
				return err
			}
			return s.To(room).Emit("room", e.Raw(1))
		})
	})
	return srv
}
