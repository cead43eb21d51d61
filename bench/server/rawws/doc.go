// Command rawws is the plain-WebSocket reference of the side-by-side
// benchmark (cmd/dynamicio-bench): the least a server can do to satisfy the
// load generator, so the table shows what the Socket.IO layers cost on top
// of RFC 6455 framing.
//
// It speaks just enough Engine.IO/Socket.IO text to pass: an open packet
// after the upgrade, a reply to the namespace connect, and the handler
// contract of bench/server/dynamicio (echo with ack, all, join, room, and a
// binary "all" as placeholder plus attachment frame) by slicing the
// incoming text rather than parsing it. It sends no heartbeats, has no
// polling transport and no coalescing: a broadcast builds its frame once
// and every recipient's writer goroutine sends it with one write(2) per
// message (a writer goroutine exists only while frames wait). A recipient
// whose 4096-frame queue is full is disconnected.
//
// It listens on -addr (port 0 picks a free one), prints
// "listening HOST:PORT" on stdout, and stops on SIGTERM or SIGINT.
package main
