package dynamicio_test

import (
	"context"
	"net/http"
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
