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
	idle   []chan func()
	closed bool
}

// run calls f on an idle worker, or on a new one.
func (p *workers) run(f func()) {
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
	go p.loop(make(chan func(), 1), f)
}

func (p *workers) loop(w chan func(), f func()) {
	for f != nil {
		f()
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
