// Package engineio is an Engine.IO server: the transport layer under
// Socket.IO. It speaks protocol v4 (and v3 with Config.AllowEIO3) over HTTP
// long-polling and WebSocket, upgrades polling sessions to WebSocket, keeps
// them alive with heartbeats, and hands each session's messages to a
// Handler. The official engine.io-client connects to it unchanged.
//
// A Server is an http.Handler; mount it on your mux and serve it with your
// own http.Server:
//
//	srv := engineio.NewServer(handler, &engineio.Config{})
//	mux.Handle("/engine.io/", srv)
//	...
//	srv.Shutdown(ctx) // http.Server.Shutdown does not close hijacked WebSockets
//
// # What it owns
//
// Handshakes, request validation and the official error answers; the
// polling and WebSocket transports (framing comes from internal/websocket,
// packets from engineio/packet); the upgrade; heartbeats; session queues;
// origin checks and CORS for its own requests. It knows nothing of
// Socket.IO namespaces or packets: the layer above sees sessions that carry
// text and binary messages.
//
// # Costs
//
// A WebSocket session has one goroutine, its reader, and no timers:
// heartbeats run on one timing wheel per server. Writes never wait for the
// network: they append to a bounded per-session queue, and one writer per
// CPU gives every session with something queued one non-blocking send
// of all of it per pass, so batches grow with the load (writer.go). On
// Linux a pass submits its sends to io_uring, up to 256 connections per
// system call (uring_linux.go; DYNAMICIO_IO_URING=off, or a kernel that
// refuses io_uring, makes one sendto or sendmsg per connection). A
// connection whose kernel buffer is full gets a goroutine of its own until
// it drains; on Linux, reads and writes that cannot block are made without
// entering the scheduler's system-call state. A Message is encoded once however many sessions it is written to,
// which is what broadcasts rely on. A client that stops reading is
// disconnected when its queue passes Config.MaxQueueBytes; the others do
// not notice.
package engineio
