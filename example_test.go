package dynamicio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/dynamicio/dynamicio"
)

type ChatMessage struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

// A chat server: clients join rooms and talk in them; each message is
// acknowledged with the number of people who could read it.
func Example_chat() {
	srv := dynamicio.NewServer(nil)
	srv.OnConnection(func(s *dynamicio.Socket) {
		s.On("join", dynamicio.Typed(func(ctx context.Context, s *dynamicio.Socket, room string) error {
			s.Join(room)
			return s.To(room).Emit("joined", s.ID())
		}))
		s.On("say", dynamicio.TypedAck(func(ctx context.Context, s *dynamicio.Socket, m ChatMessage) (int, error) {
			if m.Text == "" {
				return 0, &dynamicio.AckError{Message: "empty message"}
			}
			audience := s.To(m.Room)
			return len(audience.Sockets()), audience.Emit("said", s.ID(), m)
		}))
		s.OnDisconnect(func(reason dynamicio.DisconnectReason) {
			srv.Emit("left", s.ID(), string(reason))
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := &http.Server{Addr: "127.0.0.1:3000", Handler: mux}
	go hs.ListenAndServe()

	// …and on the way out:
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx) // disconnects every socket and runs their handlers
	hs.Shutdown(ctx)
}

// Middlewares refuse connections: the client's connect_error gets the
// message and data.
func ExampleNamespace_Use() {
	srv := dynamicio.NewServer(nil)
	admin := srv.Of("/admin")
	admin.Use(func(ctx context.Context, s *dynamicio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "secret" {
			return &dynamicio.ConnectError{Message: "not authorized", Data: map[string]string{"hint": "send a token"}}
		}
		return nil
	})
	admin.OnConnection(func(s *dynamicio.Socket) { s.Emit("welcome") })
}

// Namespaces created on demand: /room-1, /room-2… exist as soon as a client
// connects to them, and go away with their last socket.
func ExampleServer_OfRegexp() {
	srv := dynamicio.NewServer(&dynamicio.Config{CleanupEmptyChildNamespaces: true})
	rooms := srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	rooms.OnConnection(func(s *dynamicio.Socket) {
		s.Emit("entered", s.Namespace().Name())
	})
	rooms.Emit("announcement", "reaching every room") // every child namespace
}

// Asking many clients and collecting their answers.
func ExampleBroadcast_EmitWithAck() {
	srv := dynamicio.NewServer(nil)
	ctx := context.Background()
	replies, err := srv.To("voters").Timeout(5*time.Second).EmitWithAck(ctx, "vote", "pizza or pasta?")
	for _, r := range replies {
		var choice string
		r.Bind(0, &choice)
		fmt.Println(choice)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Println("some voters did not answer in time")
	}
}

// Clients that lose their connection for a moment get their socket and the
// events they missed back.
func ExampleRecovery() {
	srv := dynamicio.NewServer(&dynamicio.Config{
		ConnectionStateRecovery: &dynamicio.Recovery{MaxDisconnectionDuration: time.Minute},
	})
	srv.OnConnection(func(s *dynamicio.Socket) {
		if s.Recovered() {
			return // same id, rooms and data; missed events already delivered
		}
		s.Join("news")
	})
}

// dynamic.io's usage example in Go: a main host whose clients see the plain
// namespaces, www. stripped, every other host with namespaces of its own,
// and every namespace set up on first use, kept 30 s once idle, logging its
// connects and disconnects by full name.
func Example_dynamicio() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv := dynamicio.NewServer(&dynamicio.Config{
		MainHost: dynamicio.ExactHost("example.com"),
		HostFunc: func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			return strings.TrimPrefix(strings.ToLower(host), "www.")
		},
	})
	srv.SetupNamespace("*", func(ns *dynamicio.Namespace, match []string) bool {
		ns.SetRetirement(30 * time.Second)
		ns.OnConnection(func(s *dynamicio.Socket) {
			log.Info("connect", "namespace", ns.FullName(), "socket", s.ID())
			s.OnDisconnect(func(reason dynamicio.DisconnectReason) {
				log.Info("disconnect", "namespace", ns.FullName(), "socket", s.ID(), "reason", string(reason))
			})
		})
		ns.OnExpire(func(ns *dynamicio.Namespace) { log.Info("retired", "namespace", ns.FullName()) })
		return true
	})
	http.Handle("/socket.io/", srv)
}

// Server.Status is the read-only snapshot behind the status page
// (Config.PublicStatus serves it at /socket.io/status, as HTML or JSON).
func ExampleServer_Status() {
	srv := dynamicio.NewServer(&dynamicio.Config{PublicStatus: true})
	defer srv.Close()
	srv.Of("/chat")
	srv.Of("//other.example/chat") // another virtual host's: not in the main host's status

	st := srv.Status("") // "" is the main host
	fmt.Println(st.NamespaceCount, "namespaces,", st.SocketCount, "sockets")
	for _, ns := range st.Namespaces {
		fmt.Printf("%s retires=%v sockets=%d\n", ns.FullName, ns.Retires, ns.SocketCount)
	}
	// Output:
	// 2 namespaces, 0 sockets
	// / retires=false sockets=0
	// /chat retires=false sockets=0
}
