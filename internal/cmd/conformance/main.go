// Command conformance serves a server configured exactly as the official
// protocol test suites of the socket.io repository expect, so anyone can run
// them against this implementation:
//
//		go run ./internal/cmd/conformance -protocol eio4 -addr 127.0.0.1:3000
//
//	  - eio4 (docs/engine.io-protocol/v4-test-suite): an Engine.IO server at
//	    /engine.io/, ping interval 300 ms, ping timeout 200 ms, max payload
//	    1,000,000, any origin, every message echoed back; eio3 adds v3.
//	  - sio5 (docs/socket.io-protocol/v5-test-suite): a Socket.IO server at
//	    /socket.io/ with the same heartbeat, connect timeout 1 s, any origin;
//	    on connection it emits "auth" with the handshake's auth, echoes
//	    "message" as "message-back", acknowledges "message-with-ack" with its
//	    arguments, and serves the namespace /custom the same way.
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

	"github.com/dynamicio/dynamicio"
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
	var handler http.Handler
	var shutdown func(context.Context) error
	switch *protocol {
	case "eio4", "eio3":
		cfg.AllowEIO3 = *protocol == "eio3"
		eng := engineio.NewServer(echo{}, cfg)
		handler, shutdown = eng, eng.Shutdown
	case "sio5":
		cfg.Path = ""
		srv := dynamicio.NewServer(&dynamicio.Config{EngineIO: *cfg, ConnectTimeout: time.Second})
		srv.OnConnection(suiteHandlers)
		srv.Of("/custom").OnConnection(suiteHandlers)
		handler, shutdown = srv, srv.Shutdown
	default:
		fmt.Fprintf(os.Stderr, "unknown -protocol %q (want eio4, eio3 or sio5)\n", *protocol)
		os.Exit(2)
	}
	hs := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown(sctx)
		hs.Shutdown(sctx)
	}()
	log.Info("serving the conformance configuration", "addr", *addr, "protocol", *protocol)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
}

// suiteHandlers are the handlers the Socket.IO v5 suite expects.
func suiteHandlers(s *dynamicio.Socket) {
	s.Emit("auth", s.Handshake().Auth)
	s.On("message", func(ctx context.Context, e *dynamicio.Event) error {
		return s.Emit("message-back", rawArgs(e)...)
	})
	s.On("message-with-ack", func(ctx context.Context, e *dynamicio.Event) error {
		return e.Ack(rawArgs(e)...)
	})
}

// rawArgs returns an event's arguments as they came, binaries as bytes.
func rawArgs(e *dynamicio.Event) []any {
	args := make([]any, e.Len())
	for i := range args {
		if b, ok := e.Binary(i); ok {
			args[i] = b
			continue
		}
		args[i] = e.Raw(i)
	}
	return args
}

// echo sends every message back as it came, text as text, binary as binary.
type echo struct{}

func (echo) OnOpen(*engineio.Session) {}

func (echo) OnMessage(s *engineio.Session, typ engineio.MessageType, data []byte) {
	s.Write(typ, append([]byte(nil), data...))
}

func (echo) OnClose(*engineio.Session, engineio.CloseReason, error) {}
