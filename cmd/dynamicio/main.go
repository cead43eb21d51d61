// Command dynamicio is the demo server: a chat whose rooms are dynamic.io
// namespaces. A room is created when its first client connects to
// /room/<name>, set up by SetupNamespace, and retires once it has been
// empty for -retirement; the status page (/socket.io/status) shows the
// live rooms, their sockets and the countdown of empty ones. The page
// talks to the server with the official socket.io-client browser build,
// which the server itself serves (Config.ClientFS).
//
//	go run ./cmd/dynamicio -addr 127.0.0.1:8080 -client-dir internal/interop/testdata/node_modules/socket.io-client/dist
//
// then open http://127.0.0.1:8080/ (http://127.0.0.1:8080/#other for the
// room "other"). `make demo` does both steps.
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
	"unicode/utf8"

	"github.com/dynamicio/dynamicio"
)

//go:embed index.html
var indexHTML []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	clientDir := flag.String("client-dir", "", "socket.io-client's dist directory (socket.io.min.js)")
	retirement := flag.Duration("retirement", 30*time.Second, "how long an empty room lives on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *clientDir, *retirement, log); err != nil {
		log.Error("demo stopped", "err", err)
		os.Exit(1)
	}
}

func run(addr, clientDir string, retirement time.Duration, log *slog.Logger) error {
	handler, shutdown, err := newDemo(clientDir, retirement, log)
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("demo listening", "url", "http://"+addr+"/", "status", "http://"+addr+"/socket.io/status")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// http.Server.Shutdown does not close hijacked WebSockets: the server does.
	if err := shutdown(sctx); err != nil {
		log.Warn("socket.io shutdown", "err", err)
	}
	return hs.Shutdown(sctx)
}

// maxChat caps a chat message, in characters.
const maxChat = 500

// newDemo builds the demo's HTTP handler: the page at /, and at
// /socket.io/ the Socket.IO server, the client bundle and the status page.
// shutdown disconnects every socket gracefully; call it besides
// http.Server.Shutdown, which does not close hijacked WebSockets.
func newDemo(clientDir string, retirement time.Duration, log *slog.Logger) (handler http.Handler, shutdown func(context.Context) error, err error) {
	if clientDir == "" {
		return nil, nil, errors.New("-client-dir is required (make demo sets it)")
	}
	if _, err := os.Stat(clientDir + "/socket.io.min.js"); err != nil {
		return nil, nil, err
	}
	srv := dynamicio.NewServer(&dynamicio.Config{
		ClientFS:     os.DirFS(clientDir),
		PublicStatus: true,
		Retirement:   retirement,
		Logger:       log,
	})
	err = srv.SetupNamespace(`^/room/([a-z0-9-]{1,32})$`, func(ns *dynamicio.Namespace, match []string) bool {
		log.Info("room created", "namespace", ns.FullName())
		ns.OnConnection(func(s *dynamicio.Socket) {
			log.Info("connect", "namespace", ns.FullName(), "socket", s.ID(), "transport", s.Conn().Transport(), "remote", s.Handshake().Address)
			s.On("chat", dynamicio.Typed(func(ctx context.Context, s *dynamicio.Socket, text string) error {
				if text == "" || utf8.RuneCountInString(text) > maxChat {
					return nil
				}
				return ns.Emit("chat", s.ID(), text)
			}))
			s.OnDisconnect(func(reason dynamicio.DisconnectReason) {
				log.Info("disconnect", "namespace", ns.FullName(), "socket", s.ID(), "reason", string(reason))
			})
		})
		ns.OnExpire(func(ns *dynamicio.Namespace) { log.Info("room retired", "namespace", ns.FullName()) })
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(indexHTML)
	})
	return mux, srv.Shutdown, nil
}
