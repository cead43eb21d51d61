// Package loadgen is the load generator of the side-by-side benchmark
// (cmd/dynamicio-bench): a Socket.IO v5 / Engine.IO v4 client written for
// cost, not completeness, so that one client drives every server under test
// the same way.
//
// It speaks WebSocket directly (transport=websocket), long-polling, and the
// polling→WebSocket upgrade, answers heartbeats, and understands the
// benchmark's handler contract (see bench/server/dynamicio): every payload
// it sends carries the intended send time from one monotonic clock, so a
// receiver measures latency without a table of pending messages, and a
// paced sender that falls behind still charges the delay to the server
// (no coordinated omission).
//
// Every connection goes to a loopback address given by the caller; the
// client side binds to a rotating source address 127.0.0.2… so that
// connection storms do not exhaust one address's ephemeral ports. Nothing
// here loops without a bound: waits take deadlines and contexts.
package loadgen
