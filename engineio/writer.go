package engineio

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// writer sends the queued frames of WebSocket sessions for a share of a
// server's sessions; a server has one per CPU (GOMAXPROCS at NewServer).
//
// A session with frames to send waits in its writer's list. The writer's
// goroutine takes the whole list and gives each session one non-blocking
// sendmsg of everything queued for it. That is what socket.io on
// uWebSockets.js does once per event-loop pass, and it matters twice: a
// broadcast to a thousand idle connections costs a thousand system calls
// and no goroutine each (a goroutine started per connection cost as much
// again as the write), and under load the frames that queue up while a
// pass runs leave together in the next, so a delivery costs a fraction of
// a system call.
//
// The write never waits: when the kernel's buffer for a connection is
// full, the rest of its batch goes to a goroutine of that session's own,
// which waits for the connection with the write deadline and then hands
// the session back. A slow client so never delays the others.
//
// The goroutine runs while there is work and a moment longer (it yields
// once before it ends, so the handlers that were about to write find it
// still running); an idle server holds none.
type writer struct {
	srv *Server

	mu    sync.Mutex
	list  []*Session // sessions waiting for the next pass
	spare []*Session // the list of the pass before, reused
	// running: the goroutine is alive. Set and cleared under mu; an
	// atomic because WriteShared reads it without: a writer with work is
	// behind, and broadcasts then join its passes.
	running atomic.Bool

	// Used only by the running goroutine.
	bufs net.Buffers
	snd  sender
}

// writerCount counts the writers handed out, to spread sessions over them.
var writerCount atomic.Uint32

func newWriters(srv *Server) []writer {
	ws := make([]writer, max(runtime.GOMAXPROCS(0), 1))
	for i := range ws {
		ws[i].srv = srv
	}
	return ws
}

// pickWriter returns the writer of a new session.
func (srv *Server) pickWriter() *writer {
	return &srv.writers[int(writerCount.Add(1))%len(srv.writers)]
}

// add puts s in the list of the next pass. s.mu held, s.flushing set by
// the caller: a session is in at most one list, so its frames stay in order.
func (w *writer) add(s *Session) {
	w.mu.Lock()
	w.list = append(w.list, s)
	if !w.running.Load() {
		w.running.Store(true)
		w.srv.wg.Add(1)
		go w.run()
	}
	w.mu.Unlock()
}

func (w *writer) run() {
	defer w.srv.wg.Done()
	yielded := false
	for {
		w.mu.Lock()
		batch := w.list
		w.list, w.spare = w.spare[:0], batch
		if len(batch) == 0 {
			if yielded {
				w.running.Store(false)
				if cap(w.spare) > 4096 {
					w.spare = nil // a burst's list is not kept for good
				}
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			yielded = true
			runtime.Gosched()
			continue
		}
		w.mu.Unlock()
		yielded = false
		for i, s := range batch {
			s.writePass(w)
			batch[i] = nil
		}
	}
}

// writePass sends what s has queued with one non-blocking sendmsg.
func (s *Session) writePass(w *writer) {
	s.mu.Lock()
	t := s.ws
	items := s.takeLocked()
	if len(items) == 0 || t == nil {
		s.flushing = false
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()

	bufs, total, last := s.framesOf(items, t, w.bufs[:0])
	n, err := w.snd.send(&t.out, bufs)
	if err == nil && n < total {
		// The connection is full: its own goroutine waits for the rest.
		rest := make(net.Buffers, 0, len(bufs))
		for _, b := range bufs {
			if n >= len(b) {
				n -= len(b)
				continue
			}
			rest = append(rest, b[n:])
			n = 0
		}
		clear(bufs)
		w.bufs = bufs
		s.stall(w, t, rest, items, last)
		return
	}
	clear(bufs)
	w.bufs = bufs
	s.afterWrite(w, t, items, last, err)
}

// WriteShared queues m like WriteMessage, for a message that many sessions
// are written at once: a broadcast. On a server with one CPU
// (GOMAXPROCS 1 at NewServer), a WebSocket session with nothing queued
// gets m's frame from the caller at once, with one non-blocking send:
// handing each recipient to the writer buys no parallelism there, and
// cost a second visit to every session (its lock, its queue, its
// connection), for 5,000 recipients a tenth of the CPU of the broadcast.
// What the connection does not take at once is written as a stalled
// write is. While the writer has work, the server is behind, and m joins
// the queue to leave with what is queued: coalescing is what keeps up
// with a high broadcast rate. With more CPUs, the writers share a
// broadcast's sends.
func (s *Session) WriteShared(m *Message) error {
	if !s.srv.sendInline {
		return s.WriteMessage(m)
	}
	s.mu.Lock()
	t := s.ws
	w := s.writerLocked()
	if s.state != stateOpen || s.transport != TransportWebSocket || t == nil || !t.out.usable() || s.flushing || len(s.queue) > 0 || w.running.Load() {
		// Not idle, or the writer is behind: under load, frames queued
		// behind others leave with them in one send.
		s.mu.Unlock()
		return s.WriteMessage(m)
	}
	s.flushing = true // this send is the session's write under way
	s.mu.Unlock()

	f := s.frameOf(&outItem{msg: m}, t)
	n, err := t.out.sendOne(f)
	if err == nil && n < len(f) {
		s.stall(w, t, net.Buffers{f[n:]}, nil, false)
		return nil
	}
	s.afterWrite(w, t, nil, false, err)
	return nil
}

// writerLocked returns the session's writer, giving it one on first use.
// s.mu held.
func (s *Session) writerLocked() *writer {
	if s.wr == nil {
		s.wr = s.srv.pickWriter()
	}
	return s.wr
}

// stall hands the rest of a write the connection could not take at once
// to a goroutine that waits for it (finishStalled).
func (s *Session) stall(w *writer, t *wsTransport, rest net.Buffers, items []outItem, last bool) {
	s.srv.stalledWrites.Add(1)
	s.srv.wg.Add(1)
	go s.finishStalled(w, t, rest, items, last)
}

// finishStalled writes what a pass could not, waiting for the connection
// up to the write deadline, and gives the session back to its writer.
func (s *Session) finishStalled(w *writer, t *wsTransport, rest net.Buffers, items []outItem, last bool) {
	defer s.srv.wg.Done()
	t.conn.SetWriteDeadline(time.Now().Add(s.srv.cfg.WriteTimeout))
	_, err := rest.WriteTo(t.conn)
	if err == nil {
		t.conn.SetWriteDeadline(time.Time{}) // the writer's writes would fail past it
	}
	s.afterWrite(w, t, items, last, err)
}

// afterWrite ends a write of items: the session goes back in the writer's
// list if more was queued meanwhile, and a failed write or the close frame
// ends the connection.
func (s *Session) afterWrite(w *writer, t *wsTransport, items []outItem, last bool, err error) {
	s.mu.Lock()
	s.recycleLocked(items)
	switch {
	case err != nil || last:
		s.flushing = false
	case len(s.queue) > 0 && s.ws == t:
		w.add(s) // still flushing
	default:
		s.flushing = false
	}
	s.mu.Unlock()
	if err != nil {
		// Closing runs the handler's OnClose: not on the shared writer.
		s.srv.wg.Add(1)
		go func() {
			defer s.srv.wg.Done()
			s.failWrite(t, err)
		}()
		return
	}
	if last {
		t.close()
		s.finalize()
	}
}

// failWrite closes the session after a write to t failed.
func (s *Session) failWrite(t *wsTransport, err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.srv.slowConsumers.Add(1)
		err = ErrSlowConsumer
	}
	s.closeWith(ReasonTransportError, err, closeAbort)
	t.close()
}
