package dynamicio

import (
	"container/heap"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"
)

// SetupFunc initialises a namespace that SetupNamespace creates on demand:
// it registers the namespace's handlers and middlewares and may change its
// retirement. match holds the namespace's full name and, for a regular
// expression, its submatches. Returning false refuses the namespace: it is
// not created and the client gets the standard "Invalid namespace" error.
type SetupFunc func(ns *Namespace, match []string) bool

// Defaults of the dynamic namespace limits.
const (
	DefaultRetirement                 = 10 * time.Second
	DefaultMaxNamespaces              = 10000
	DefaultMaxNamespacesPerHost       = 1000
	DefaultMaxNamespacesPerConnection = 32
)

type setupEntry struct {
	re  *regexp.Regexp // nil for "*"
	fn  SetupFunc
	seq int
}

// setups is the server's registry of SetupNamespace patterns.
type setups struct {
	exact    map[string]setupEntry
	patterns []setupEntry // in registration order; the last match wins
	seq      int
}

// SetupNamespace makes namespaces exist on demand, as dynamic.io's
// setupNamespace: when a client connects to a namespace that does not exist
// and pattern matches its full name, the namespace is created and fn
// initialises it. pattern is an exact full name ("/chat",
// "//otherhost.com/chat"), "*" for any name, or a regular expression, given
// as a *regexp.Regexp or as a string starting with "^" such as
// `^/dyn/([^/]*)$`. Exact names take priority over patterns; among
// patterns, the one registered last wins.
//
// fn also runs now for every existing namespace that pattern matches and
// that no setup has initialised yet (so "*" covers "/" too); it never runs
// twice for one namespace instance. Namespaces created by a setup retire
// when idle (Config.Retirement, Namespace.SetRetirement); when one is
// created again, its setup runs again.
func (srv *Server) SetupNamespace(pattern any, fn SetupFunc) error {
	e := setupEntry{fn: fn}
	exact := ""
	switch p := pattern.(type) {
	case *regexp.Regexp:
		e.re = p
	case string:
		switch {
		case p == "*":
		case strings.HasPrefix(p, "^"):
			re, err := regexp.Compile(p)
			if err != nil {
				return err
			}
			e.re = re
		case strings.HasPrefix(p, "/"):
			exact = p
		default:
			return errors.New("dynamicio: SetupNamespace pattern must be a name, \"*\" or a regular expression")
		}
	default:
		return errors.New("dynamicio: SetupNamespace pattern must be a string or *regexp.Regexp")
	}
	srv.mu.Lock()
	srv.setups.seq++
	e.seq = srv.setups.seq
	if exact != "" {
		if srv.setups.exact == nil {
			srv.setups.exact = make(map[string]setupEntry)
		}
		srv.setups.exact[exact] = e
	} else {
		srv.setups.patterns = append(srv.setups.patterns, e)
	}
	var existing []*Namespace
	for full, ns := range srv.nsps {
		if exact == full || exact == "" && e.match(full) != nil {
			existing = append(existing, ns)
		}
	}
	srv.mu.Unlock()
	for _, ns := range existing {
		if ns.claimSetup() {
			fn(ns, e.matchOr(ns.full, exact))
		}
	}
	return nil
}

func (e setupEntry) match(full string) []string {
	if e.re == nil {
		return []string{full}
	}
	return e.re.FindStringSubmatch(full)
}

func (e setupEntry) matchOr(full, exact string) []string {
	if exact != "" {
		return []string{full}
	}
	return e.match(full)
}

// findSetup returns the setup for a full name: the exact one, else the
// most recently registered pattern that matches. srv.mu held.
func (srv *Server) findSetupLocked(full string) (SetupFunc, []string) {
	if e, ok := srv.setups.exact[full]; ok {
		return e.fn, []string{full}
	}
	for i := len(srv.setups.patterns) - 1; i >= 0; i-- {
		if m := srv.setups.patterns[i].match(full); m != nil {
			return srv.setups.patterns[i].fn, m
		}
	}
	return nil, nil
}

// creation is a namespace being set up; concurrent connects wait for it.
type creation struct {
	done chan struct{}
	ns   *Namespace // nil when refused
}

var errNamespaceLimit = errors.New("too many namespaces")

// createBySetup creates the namespace full through its setup, once however
// many connects race for it, and returns it held for one socket (nil: no
// setup, or refused). c counts against the per-connection cap.
func (srv *Server) createBySetup(c *client, host, name string) (*Namespace, error) {
	full := fullName(host, name)
	for range 3 { // a namespace may retire between creation and a waiter's hold
		srv.mu.Lock()
		if ns := srv.nsps[full]; ns != nil {
			ns.hold()
			srv.mu.Unlock()
			return ns, nil
		}
		if cr := srv.creating[full]; cr != nil {
			srv.mu.Unlock()
			<-cr.done
			if cr.ns == nil {
				return nil, nil
			}
			continue // take it through the lookup above, held
		}
		fn, match := srv.findSetupLocked(full)
		if fn == nil {
			srv.mu.Unlock()
			return nil, nil
		}
		if err := srv.checkLimitsLocked(c, host); err != nil {
			srv.mu.Unlock()
			return nil, err
		}
		cr := &creation{done: make(chan struct{})}
		if srv.creating == nil {
			srv.creating = make(map[string]*creation)
		}
		srv.creating[full] = cr
		// The namespace counts against its host's and the connection's
		// caps from now on, so that creations in flight cannot overshoot
		// them together.
		srv.hostCounts[host]++
		if c != nil {
			c.created++
		}
		srv.mu.Unlock()

		ns := newNamespace(srv, host, name)
		ns.retire = srv.cfg.Retirement
		ns.setupDone = true
		ok := fn(ns, match) // user code, no lock held

		srv.mu.Lock()
		delete(srv.creating, full)
		if ok {
			ns.hold()
			srv.nsps[full] = ns // counted in hostCounts already
			cr.ns = ns
		} else {
			srv.unreserveLocked(c, host)
		}
		srv.mu.Unlock()
		close(cr.done)
		if !ok {
			ns.adapter.Close()
			return nil, nil
		}
		return ns, nil
	}
	return nil, nil
}

// unreserveLocked gives back what a creation that failed counted against
// the caps. srv.mu held.
func (srv *Server) unreserveLocked(c *client, host string) {
	if srv.hostCounts[host]--; srv.hostCounts[host] <= 0 {
		delete(srv.hostCounts, host)
	}
	if c != nil {
		c.created--
	}
}

// checkLimitsLocked refuses a new namespace past the caps. srv.mu held.
func (srv *Server) checkLimitsLocked(c *client, host string) error {
	cfg := &srv.cfg
	if len(srv.nsps)+len(srv.creating) >= cfg.MaxNamespaces ||
		srv.hostCounts[host] >= cfg.MaxNamespacesPerHost ||
		c != nil && int(c.created) >= cfg.MaxNamespacesPerConnection {
		return errNamespaceLimit
	}
	return nil
}

// claimSetup marks the namespace as set up; false if it already was.
func (ns *Namespace) claimSetup() bool {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.setupDone {
		return false
	}
	ns.setupDone = true
	return true
}

// SetRetirement sets how long the namespace waits, once empty, before it is
// deleted; d <= 0 makes it permanent. Namespaces from SetupNamespace start
// with Config.Retirement; those from Of are permanent.
func (ns *Namespace) SetRetirement(d time.Duration) {
	ns.mu.Lock()
	ns.retire = d
	ns.mu.Unlock()
	ns.released()
}

// OnExpire registers a callback run after the namespace retired.
func (ns *Namespace) OnExpire(fn func(ns *Namespace)) {
	ns.mu.Lock()
	ns.onExpire = append(ns.onExpire, fn)
	ns.mu.Unlock()
}

// ExpiresAt returns when an idle namespace will retire (zero when it is
// busy or permanent).
func (ns *Namespace) ExpiresAt() time.Time {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.expiresAt
}

// hold counts one more socket on its way in: it keeps the namespace alive
// and cancels a pending retirement. Callers find ns under srv.mu.
func (ns *Namespace) hold() {
	ns.mu.Lock()
	ns.connecting++
	ns.retireGen++
	ns.expiresAt = time.Time{}
	ns.mu.Unlock()
}

// released runs when a socket left or failed to join: an idle namespace
// that retires is scheduled for it. A parent's child with
// Config.CleanupEmptyChildNamespaces retires at once, through the same
// path, so its OnExpire callbacks run too.
func (ns *Namespace) released() {
	ns.mu.Lock()
	idle := len(ns.sockets) == 0 && ns.connecting == 0
	if idle && ns.parent != nil && ns.srv.cfg.CleanupEmptyChildNamespaces {
		gen := ns.retireGen
		ns.mu.Unlock()
		ns.srv.retireIfIdle(ns, gen)
		return
	}
	if !idle || ns.retire <= 0 || !ns.expiresAt.IsZero() {
		ns.mu.Unlock()
		return
	}
	ns.retireGen++
	gen := ns.retireGen
	ns.expiresAt = time.Now().Add(ns.retire)
	at := ns.expiresAt
	ns.mu.Unlock()
	ns.srv.expiry.schedule(ns, at, gen)
}

// retireIfIdle deletes the namespace if it is still idle and its
// retirement was not cancelled since gen.
func (srv *Server) retireIfIdle(ns *Namespace, gen uint64) {
	srv.mu.Lock()
	ns.mu.Lock()
	ok := ns.retireGen == gen && len(ns.sockets) == 0 && ns.connecting == 0 && srv.nsps[ns.full] == ns
	var callbacks []func(*Namespace)
	if ok {
		srv.forgetLocked(ns)
		ns.expiresAt = time.Time{}
		callbacks = ns.onExpire
	}
	ns.mu.Unlock()
	if ok && ns.parent != nil {
		ns.parent.mu.Lock()
		delete(ns.parent.children, ns.full)
		ns.parent.mu.Unlock()
	}
	srv.mu.Unlock()
	if !ok {
		return
	}
	ns.adapter.Close()
	for _, fn := range callbacks {
		fn(ns)
	}
}

// expiry retires idle namespaces with one timer for the whole server: a
// heap of deadlines, the timer set to the earliest. Entries whose
// retirement was cancelled are skipped when they come up.
type expiry struct {
	srv   *Server
	mu    sync.Mutex
	items expiryHeap
	timer *time.Timer
	at    time.Time // when timer fires; zero when stopped
}

type expiryItem struct {
	at  time.Time
	ns  *Namespace
	gen uint64
}

type expiryHeap []expiryItem

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryItem)) }
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = expiryItem{}
	*h = old[:len(old)-1]
	return it
}

func (e *expiry) schedule(ns *Namespace, at time.Time, gen uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	heap.Push(&e.items, expiryItem{at: at, ns: ns, gen: gen})
	e.armLocked()
}

// armLocked points the timer at the earliest deadline. e.mu held.
func (e *expiry) armLocked() {
	if len(e.items) == 0 {
		if e.timer != nil {
			e.timer.Stop()
		}
		e.at = time.Time{}
		return
	}
	next := e.items[0].at
	if !e.at.IsZero() && !next.Before(e.at) {
		return
	}
	e.at = next
	d := time.Until(next)
	if e.timer == nil {
		e.timer = time.AfterFunc(d, e.fire)
	} else {
		e.timer.Reset(d)
	}
}

func (e *expiry) fire() {
	now := time.Now()
	e.mu.Lock()
	var due []expiryItem
	for len(e.items) > 0 && !e.items[0].at.After(now) {
		due = append(due, heap.Pop(&e.items).(expiryItem))
	}
	e.at = time.Time{}
	e.armLocked()
	e.mu.Unlock()
	for _, it := range due {
		e.srv.retireIfIdle(it.ns, it.gen)
	}
}

// stop ends the timer (Shutdown).
func (e *expiry) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.timer != nil {
		e.timer.Stop()
	}
	e.items = nil
	e.at = time.Time{}
}
