// Command conformance serves an Engine.IO server configured exactly as the
// official protocol test suites expect (docs/engine.io-protocol/v4-test-suite
// in the socket.io repository): path /engine.io/, ping interval 300 ms, ping
// timeout 200 ms, max payload 1,000,000, any origin allowed, and every
// message echoed back. Point the suite at it to check this implementation:
//
//	go run ./internal/cmd/conformance -protocol eio4 -addr 127.0.0.1:3000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dynamicio/dynamicio/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	protocol := flag.String("protocol", "eio4", "protocol suite to serve: eio4 or eio3")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	cfg := &engineio.Config{
		Path:              "/engine.io/",
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1_000_000,
		CORS:              &engineio.CORS{AllowedOrigins: []string{"*"}},
	}
	switch *protocol {
	case "eio4":
	case "eio3":
		cfg.AllowEIO3 = true
	default:
		fmt.Fprintf(os.Stderr, "unknown -protocol %q (want eio4 or eio3)\n", *protocol)
		os.Exit(2)
	}
	eng := engineio.NewServer(echo{}, cfg)
	hs := &http.Server{Addr: *addr, Handler: eng, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		eng.Shutdown(sctx)
		hs.Shutdown(sctx)
	}()
	log.Info("serving the Engine.IO conformance configuration", "addr", *addr, "protocol", *protocol, "path", cfg.Path)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
}

// echo sends every message back as it came, text as text, binary as binary.
type echo struct{}

func (echo) OnOpen(*engineio.Session) {}

func (echo) OnMessage(s *engineio.Session, typ engineio.MessageType, data []byte) {
	s.Write(typ, append([]byte(nil), data...))
}

func (echo) OnClose(*engineio.Session, engineio.CloseReason, error) {}
