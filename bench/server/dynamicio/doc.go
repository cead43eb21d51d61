// Command dynamicio is this repository's server under test in the
// side-by-side benchmark (cmd/dynamicio-bench): the root package with the
// benchmark's handler contract, default limits and no logging.
//
// It listens on -addr (port 0 picks a free one) and prints
// "listening HOST:PORT" on stdout once it accepts connections. SIGTERM or
// SIGINT stops it. With -cpuprofile it writes a pprof CPU profile of its
// whole life to that file on the way out; with -pprof it serves
// net/http/pprof (heap, goroutines…) on a second address.
//
// The handler contract, shared with bench/node/server.js and
// bench/server/rawws:
//
//	echo(data, ack)  ack(data)                      (text or binary)
//	all(data)        emit "all" with data to every socket, the sender too
//	join(room, ack)  join room, then ack(true)
//	room(room, data) emit "room" with data to room, the sender excepted
package main
