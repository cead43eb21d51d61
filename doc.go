// Package dynamicio is a Socket.IO v4 server: the official JavaScript (and
// other) clients connect to it unchanged. It is an http.Handler; namespaces
// hold sockets, sockets join rooms, and events flow both ways with
// acknowledgements and binary arguments.
//
//	srv := dynamicio.NewServer(nil)
//	srv.OnConnection(func(s *dynamicio.Socket) {
//		s.On("chat", dynamicio.Typed(func(ctx context.Context, s *dynamicio.Socket, msg string) error {
//			return s.Broadcast().Emit("chat", msg)
//		}))
//	})
//	http.Handle("/socket.io/", srv)
//
// # What it owns
//
// The Socket.IO protocol above Engine.IO (package engineio): namespaces and
// their middlewares, sockets, events and acknowledgements, rooms and
// broadcasts through an adapter (package adapter), disconnect reasons. Wire
// formats live in package parser.
//
// # Concurrency
//
// Everything is safe for concurrent use. Emit never waits for the network.
// The events of one socket are handled in order on a goroutine of the
// socket's own, never on the connection's reading goroutine, so a handler
// may wait for an acknowledgement of the same client. No user code runs
// while a library lock is held.
package dynamicio
