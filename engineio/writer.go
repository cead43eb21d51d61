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
// send of everything queued for it. That is what socket.io on
// uWebSockets.js does once per event-loop pass, and it matters twice: a
// broadcast to a thousand idle connections costs no goroutine each (a
// goroutine started per connection cost as much again as the write), and
// under load the frames that queue up while a pass runs leave together in
// the next, so a delivery costs a fraction of a send. On Linux the sends
// of a pass go to the kernel together, 256 per system call, through the
// writer's io_uring (uring_linux.go), where uWebSockets.js makes one
// system call per connection.
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
	// shared: broadcast frames for idle sessions (WriteShared), sent in
	// the next pass without a visit to the session's queue.
	shared, spareShared []sharedSend
	// running: the goroutine is alive. Set and cleared under mu; an
	// atomic because WriteShared reads it without: a writer with work is
	// behind, and broadcasts then join its passes.
	running atomic.Bool

	// Used only by the running goroutine.
	bufs net.Buffers
	snd  sender
	jobs []sendJob
	// ring makes a pass's sends with one system call per ringEntries
	// (uring_linux.go); opened by the first pass with two sends to make.
	ring        *ring
	ringFailed  bool
	ringCleanup runtime.Cleanup
}

// ringEntries is the size of a ring's submission queue: the most sends one
// io_uring_enter makes. Each holds its connection's lock until then, so
// a close waits for at most one batch of sends (about a millisecond).
const ringEntries = 256

// sendJob is one session's send in a writer pass.
type sendJob struct {
	s     *Session
	t     *wsTransport
	items []outItem   // the queue items sent; nil for a shared frame
	bufs  net.Buffers // their frames, or the shared frame
	total int
	last  bool // the close frame is among them

	// The outcome, as sender.send returns it.
	n   int
	err error
}

// sharedSend is a broadcast frame for an idle session (WriteShared).
type sharedSend struct {
	s     *Session
	t     *wsTransport
	frame []byte
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
	w.wakeLocked()
	w.mu.Unlock()
}

// wakeLocked starts w's goroutine unless it runs. w.mu held.
func (w *writer) wakeLocked() {
	if !w.running.Load() {
		w.running.Store(true)
		w.srv.wg.Add(1)
		go w.run()
	}
}

func (w *writer) run() {
	defer w.srv.wg.Done()
	yielded := false
	for {
		w.mu.Lock()
		list, shared := w.list, w.shared
		w.list, w.spare = w.spare[:0], list
		w.shared, w.spareShared = w.spareShared[:0], shared
		if len(list) == 0 && len(shared) == 0 {
			if yielded {
				w.running.Store(false)
				if cap(w.spare) > 4096 {
					w.spare = nil // a burst's list is not kept for good
				}
				if cap(w.spareShared) > 16384 {
					w.spareShared = nil
				}
				if w.srv.closed.Load() {
					w.closeRingLocked()
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
		w.pass(list, shared)
		clear(list)
		clear(shared)
	}
}

// pass gives every session of list and shared one non-blocking send of
// what it has to send, ringEntries sends at a time.
func (w *writer) pass(list []*Session, shared []sharedSend) {
	jobs, bufs := w.jobs[:0], w.bufs[:0]
	for _, x := range shared {
		bufs = append(bufs, x.frame)
		n := len(bufs)
		jobs = append(jobs, sendJob{s: x.s, t: x.t, bufs: bufs[n-1 : n : n], total: len(x.frame)})
		jobs, bufs = w.sendIfFull(jobs, bufs)
	}
	for _, s := range list {
		var ok bool
		if jobs, bufs, ok = s.takeJob(jobs, bufs); ok {
			jobs, bufs = w.sendIfFull(jobs, bufs)
		}
	}
	if len(jobs) > 0 {
		w.sendJobs(jobs)
	}
	clear(bufs)
	w.jobs, w.bufs = jobs[:0], bufs[:0]
}

// sendIfFull sends jobs once there are a ring's worth, and starts jobs and
// their frames over.
func (w *writer) sendIfFull(jobs []sendJob, bufs net.Buffers) ([]sendJob, net.Buffers) {
	if len(jobs) < ringEntries {
		return jobs, bufs
	}
	w.sendJobs(jobs)
	clear(bufs)
	return jobs[:0], bufs[:0]
}

// takeJob appends to jobs the send of what s has queued, its frames to
// bufs; ok is false when s has nothing to send.
func (s *Session) takeJob(jobs []sendJob, bufs net.Buffers) (_ []sendJob, _ net.Buffers, ok bool) {
	s.mu.Lock()
	t := s.ws
	items := s.takeLocked()
	if len(items) == 0 || t == nil {
		s.flushing = false
		s.mu.Unlock()
		return jobs, bufs, false
	}
	s.mu.Unlock()
	start := len(bufs)
	bufs, total, last := s.framesOf(items, t, bufs)
	// bufs may grow into a new array later; a job keeps the one its
	// frames are in.
	return append(jobs, sendJob{s: s, t: t, items: items, bufs: bufs[start:len(bufs):len(bufs)], total: total, last: last}), bufs, true
}

// sendJobs makes the sends of jobs, through the ring when there are
// several, and ends each (finishJob).
func (w *writer) sendJobs(jobs []sendJob) {
	if len(jobs) > 1 && w.openRing() {
		w.ring.send(jobs)
		w.srv.ringSubmits.Add(1)
		for i := range jobs {
			if j := &jobs[i]; j.n < 0 { // too many buffers for one call
				j.n, j.err = w.snd.send(&j.t.out, j.bufs)
			}
		}
	} else {
		for i := range jobs {
			j := &jobs[i]
			j.n, j.err = w.snd.send(&j.t.out, j.bufs)
		}
	}
	for i := range jobs {
		jobs[i].s.finishJob(w, &jobs[i])
		jobs[i] = sendJob{}
	}
}

// finishJob ends a send of a pass: what the connection did not take goes
// to a goroutine that waits for it.
func (s *Session) finishJob(w *writer, j *sendJob) {
	if n := j.n; j.err == nil && n < j.total {
		rest := make(net.Buffers, 0, len(j.bufs))
		for _, b := range j.bufs {
			if n >= len(b) {
				n -= len(b)
				continue
			}
			rest = append(rest, b[n:])
			n = 0
		}
		s.stall(w, j.t, rest, j.items, j.last)
		return
	}
	s.afterWrite(w, j.t, j.items, j.last, j.err)
}

// openRing reports whether w has a ring to send through, opening it on
// first use. Called by w's goroutine.
func (w *writer) openRing() bool {
	if w.ring != nil {
		return true
	}
	if w.ringFailed || !w.srv.rings {
		return false
	}
	r, err := openRing()
	if err != nil {
		w.ringFailed = true
		w.srv.cfg.Logger.Warn("engineio: io_uring unavailable; sending with a system call per connection", "err", err)
		return false
	}
	w.ring = r
	// A server dropped without Shutdown or Close still gives its rings
	// back.
	w.ringCleanup = runtime.AddCleanup(w.srv, (*ring).close, r)
	return true
}

// closeRingLocked closes w's ring, if any, once its goroutine is done
// with it. w.mu held.
func (w *writer) closeRingLocked() {
	if w.ring == nil || w.running.Load() {
		return
	}
	w.ringCleanup.Stop()
	w.ring.close()
	w.ring, w.ringFailed = nil, true
}

// addShared queues a broadcast frame for an idle session for the next
// pass. The session's flushing is set by the caller.
func (w *writer) addShared(x sharedSend) {
	w.mu.Lock()
	w.shared = append(w.shared, x)
	w.wakeLocked()
	w.mu.Unlock()
}

// WriteShared queues m like WriteMessage, for a message that many sessions
// are written at once: a broadcast. On a server with one CPU
// (GOMAXPROCS 1 at NewServer), a WebSocket session with nothing queued
// does not queue m: its frame goes straight into the writer's next pass,
// which makes the sends of a whole broadcast with one system call per
// ringEntries connections (uring_linux.go). Where the kernel has no
// io_uring for the process, the caller sends the frame itself, with one
// non-blocking send, unless the writer has work: handing each recipient
// to the writer then buys nothing, and costs a second visit to every
// session (its lock, its queue, its connection), for 5,000 recipients a
// tenth of the CPU of the broadcast; while the writer has work, the
// server is behind, and m joins the queue to leave with what is queued.
// What a connection does not take at once is written as a stalled write
// is. With more CPUs, the writers share a broadcast's sends.
func (s *Session) WriteShared(m *Message) error {
	if !s.srv.sendInline {
		return s.WriteMessage(m)
	}
	s.mu.Lock()
	t := s.ws
	w := s.writerLocked()
	if s.state != stateOpen || s.transport != TransportWebSocket || t == nil || !t.out.usable() || s.flushing || len(s.queue) > 0 || (!s.srv.rings && w.running.Load()) {
		// Not idle, or the writer is behind: frames queued behind
		// others leave with them in one send.
		s.mu.Unlock()
		return s.WriteMessage(m)
	}
	s.flushing = true // this send is the session's write under way
	s.mu.Unlock()

	f := s.frameOf(&outItem{msg: m}, t)
	if s.srv.rings {
		w.addShared(sharedSend{s: s, t: t, frame: f})
		return nil
	}
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
