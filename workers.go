package dynamicio

import "sync"

// maxIdleWorkers bounds the goroutines kept waiting for a socket's next
// batch of events.
const maxIdleWorkers = 64

// workers runs the sockets' event loops on goroutines that outlive them.
// A goroutine starts with a 2 KB stack, and handling an event (decoding
// it, the handler, encoding the ack) needs more, so a goroutine started
// per batch of events copied its stack to a bigger one each time: 6% of
// the server's CPU in the echo benchmark. A kept goroutine has its grown
// stack already. Safe for concurrent use.
type workers struct {
	mu     sync.Mutex
	idle   []chan eventLoop
	closed bool
}

// eventLoop is what a worker runs: a Socket's loop. An interface holding
// the pointer, not a method value, which would be an allocation per start.
type eventLoop interface{ run() }

// run runs f on an idle worker, or on a new one.
func (p *workers) run(f eventLoop) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w <- f // buffered: never blocks
		return
	}
	p.mu.Unlock()
	go p.loop(make(chan eventLoop, 1), f)
}

func (p *workers) loop(w chan eventLoop, f eventLoop) {
	for f != nil {
		f.run()
		p.mu.Lock()
		if p.closed || len(p.idle) >= maxIdleWorkers {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		f = <-w
	}
}

// close ends the idle workers; busy ones end when their work returns.
func (p *workers) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, w := range idle {
		w <- nil
	}
}
