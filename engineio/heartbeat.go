package engineio

import (
	"sync"
	"time"
)

// wheel schedules every session's next heartbeat deadline (send a ping, give
// up waiting for a pong, finish a close) on one hashed timing wheel, driven
// by one ticker goroutine per server. Sessions therefore carry no timers of
// their own: scheduling is an O(1) list move under one mutex, and an idle
// server with many sessions wakes once per tick, not once per session.
//
// The ticker goroutine runs only while some session is scheduled, so a
// server with no sessions holds no goroutine.
type wheel struct {
	res    time.Duration
	expire func(s *Session) // called without wheel.mu held

	mu      sync.Mutex
	epoch   time.Time
	slots   []*Session // heads of intrusive doubly linked lists
	cur     int64      // last tick processed
	count   int        // scheduled sessions
	running bool       // ticker goroutine alive
	wg      sync.WaitGroup
}

const wheelSlots = 1024

// newWheel returns a wheel whose resolution suits the server's timeouts:
// a sixty-fourth of the shortest, between 2 ms and 250 ms. Deadlines round
// down to a tick, so they fire up to one tick early, never a tick late: a
// client that is told "ping timeout 200 ms" may count on being closed by
// then, as the protocol test suite does.
func newWheel(shortest time.Duration, expire func(*Session)) *wheel {
	res := min(max(shortest/64, 2*time.Millisecond), 250*time.Millisecond)
	return &wheel{res: res, expire: expire, epoch: time.Now(), slots: make([]*Session, wheelSlots)}
}

// hbNode is a session's place in the wheel; guarded by wheel.mu.
type hbNode struct {
	prev, next *Session
	tick       int64
	queued     bool
}

// schedule (re)arms s to expire after d.
func (w *wheel) schedule(s *Session, d time.Duration) {
	w.mu.Lock()
	w.unlinkLocked(s)
	since := time.Since(w.epoch)
	if !w.running {
		// Nothing was scheduled while the ticker slept: skip the idle ticks.
		w.cur = int64(since / w.res)
	}
	t := int64((since + d) / w.res)
	if t <= w.cur {
		t = w.cur + 1
	}
	n := &s.hb
	n.tick = t
	slot := t % wheelSlots
	n.next = w.slots[slot]
	if n.next != nil {
		n.next.hb.prev = s
	}
	n.prev = nil
	w.slots[slot] = s
	n.queued = true
	w.count++
	if !w.running {
		w.running = true
		w.wg.Add(1)
		go w.run()
	}
	w.mu.Unlock()
}

// cancel removes s from the wheel.
func (w *wheel) cancel(s *Session) {
	w.mu.Lock()
	w.unlinkLocked(s)
	w.mu.Unlock()
}

func (w *wheel) unlinkLocked(s *Session) {
	n := &s.hb
	if !n.queued {
		return
	}
	if n.prev != nil {
		n.prev.hb.next = n.next
	} else {
		w.slots[n.tick%wheelSlots] = n.next
	}
	if n.next != nil {
		n.next.hb.prev = n.prev
	}
	n.prev, n.next, n.queued = nil, nil, false
	w.count--
}

func (w *wheel) run() {
	defer w.wg.Done()
	tk := time.NewTicker(w.res)
	defer tk.Stop()
	var due []*Session
	for range tk.C {
		due = due[:0]
		w.mu.Lock()
		now := int64(time.Since(w.epoch) / w.res)
		for ; w.cur < now; w.cur++ {
			t := w.cur + 1
			for s := w.slots[t%wheelSlots]; s != nil; {
				next := s.hb.next
				if s.hb.tick <= t {
					w.unlinkLocked(s)
					due = append(due, s)
				}
				s = next
			}
			if w.count == 0 {
				w.cur = now
				break
			}
		}
		idle := w.count == 0
		if idle {
			w.running = false
		}
		w.mu.Unlock()
		for _, s := range due {
			w.expire(s)
		}
		clear(due)
		if idle {
			return
		}
	}
}
