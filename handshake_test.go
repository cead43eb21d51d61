package dynamicio

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// TestSocketHandshake: the headers, query, address and auth of the
// connection are visible through Socket.Handshake, which the socket builds
// on the first call and then keeps; describing a socket (FetchSockets)
// does not make it keep one.
func TestSocketHandshake(t *testing.T) {
	t.Parallel()
	srv, u := newTestServer(t, nil)
	got := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { got <- s })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hdr := http.Header{"Origin": {strings.Replace(strings.Split(u, "/socket.io")[0], "ws", "http", 1)}, "X-Token": {"abc"}, "Cookie": {"a=1", "b=2"}}
	c := dialConfig(t, u+"&token=q1&token=q2&lang=fr", websocket.DialConfig{Header: hdr})
	c.send(`0{"k":"v"}`)
	s := <-got

	if h := s.handshake.Load(); h != nil {
		t.Errorf("socket built its handshake before anyone asked: %+v", h)
	}
	infos, err := srv.Of("/").Broadcast().FetchSockets(ctx)
	if err != nil || len(infos) != 1 || infos[0].Handshake.Header.Get("X-Token") != "abc" || infos[0].Handshake.Query.Get("lang") != "fr" {
		t.Fatalf("FetchSockets = %+v, %v", infos, err)
	}
	if h := s.handshake.Load(); h != nil {
		t.Error("FetchSockets made the socket keep its handshake")
	}

	h := s.Handshake()
	if h.Header.Get("X-Token") != "abc" || len(h.Header.Values("Cookie")) != 2 {
		t.Errorf("Header = %q", h.Header)
	}
	if q := h.Query; q.Get("lang") != "fr" || len(q["token"]) != 2 || q.Get("EIO") != "4" {
		t.Errorf("Query = %v", q)
	}
	if !h.XDomain || h.Secure || string(h.Auth) != `{"k":"v"}` || !strings.HasPrefix(h.Address, "127.0.0.1:") ||
		!strings.Contains(h.URL, "lang=fr") || time.Since(h.Time) > time.Minute {
		t.Errorf("Handshake = %+v", h)
	}
	if s.Handshake() != h {
		t.Error("a second Handshake call built another one")
	}
}
