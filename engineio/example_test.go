package engineio_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/dynamicio/dynamicio/engineio"
)

type echo struct{}

func (echo) OnOpen(s *engineio.Session) {}
func (echo) OnMessage(s *engineio.Session, typ engineio.MessageType, data []byte) {
	s.Write(typ, bytes.Clone(data)) // data is only valid during the call
}
func (echo) OnClose(s *engineio.Session, reason engineio.CloseReason, err error) {}

// An echo server mounted on a mux. The handshake below is what a client's
// first request gets.
func ExampleNewServer() {
	srv := engineio.NewServer(echo{}, &engineio.Config{
		CORS: &engineio.CORS{AllowedOrigins: []string{"https://app.example"}},
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	hs := httptest.NewServer(mux) // in production: your own http.Server
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		panic(err)
	}
	var body strings.Builder
	fmt.Fprint(&body, resp.Status, " ")
	buf := make([]byte, 2)
	resp.Body.Read(buf)
	resp.Body.Close()
	fmt.Println(body.String() + string(buf))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx) // http.Server.Shutdown does not close hijacked WebSockets
	// Output: 200 OK 0{
}
