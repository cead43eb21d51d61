// Command dynamicio is the demo server: for now an Engine.IO echo server with
// a page that connects to it with the official browser client.
//
//	go run ./cmd/dynamicio -addr 127.0.0.1:8080 -client-dir internal/interop/testdata/node_modules/engine.io-client/dist
//
// then open http://127.0.0.1:8080/. `make demo` does both steps.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dynamicio/dynamicio/engineio"
)

//go:embed index.html
var indexHTML []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	clientDir := flag.String("client-dir", "", "directory holding the engine.io-client browser build (engine.io.min.js)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *clientDir, log); err != nil {
		log.Error("demo stopped", "err", err)
		os.Exit(1)
	}
}

func run(addr, clientDir string, log *slog.Logger) error {
	handler, shutdown, err := newDemo(clientDir, log)
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("demo listening", "url", "http://"+addr+"/")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// http.Server.Shutdown does not close hijacked WebSockets: the engine does.
	if err := shutdown(sctx); err != nil {
		log.Warn("engine shutdown", "err", err)
	}
	return hs.Shutdown(sctx)
}

// newDemo builds the demo's HTTP handler: the page at /, the browser build of
// engine.io-client from clientDir at /client/ and the Engine.IO echo server at
// /engine.io/. shutdown closes the Engine.IO sessions gracefully; call it
// besides http.Server.Shutdown, which does not close hijacked WebSockets.
func newDemo(clientDir string, log *slog.Logger) (handler http.Handler, shutdown func(context.Context) error, err error) {
	if clientDir == "" {
		return nil, nil, errors.New("-client-dir is required (make demo sets it)")
	}
	if _, err := os.Stat(clientDir + "/engine.io.min.js"); err != nil {
		return nil, nil, err
	}
	eng := engineio.NewServer(&echo{log: log}, &engineio.Config{Logger: log})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eng)
	mux.Handle("/client/", http.StripPrefix("/client/", http.FileServer(http.Dir(clientDir))))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(indexHTML)
	})
	return mux, eng.Shutdown, nil
}

// echo sends every message back and logs the sessions.
type echo struct{ log *slog.Logger }

func (e *echo) OnOpen(s *engineio.Session) {
	e.log.Info("open", "sid", s.ID(), "transport", s.Transport(), "remote", s.Handshake().RemoteAddr)
}

func (e *echo) OnMessage(s *engineio.Session, typ engineio.MessageType, data []byte) {
	s.Write(typ, append([]byte(nil), data...))
}

func (e *echo) OnClose(s *engineio.Session, reason engineio.CloseReason, err error) {
	e.log.Info("close", "sid", s.ID(), "reason", string(reason), "err", err)
}
