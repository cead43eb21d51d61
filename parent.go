package dynamicio

import (
	"context"
	"encoding/json"
	"regexp"
	"sync"
)

// NamespaceMatcher decides whether a client may create the namespace name
// by connecting to it. It runs off the connection's reading goroutine, so
// it may take its time (ctx ends if the client goes away).
type NamespaceMatcher func(ctx context.Context, name string, auth json.RawMessage) bool

// ParentNamespace creates child namespaces on demand: when a client
// connects to a namespace that does not exist and the parent's matcher
// accepts the name, the child is created and the client connects to it.
// Children run the parent's middlewares (after their own) and connection
// handlers; the parent's Emit and To reach every child. It is safe for
// concurrent use.
type ParentNamespace struct {
	srv   *Server
	match NamespaceMatcher

	mu          sync.RWMutex
	children    map[string]*Namespace
	middlewares []Middleware
	onConnect   []func(*Socket)
}

// OfRegexp returns a parent of the namespaces whose full names match re
// (the whole full name is what re sees, e.g. ^/dyn-\d+$; a virtual host's
// names are //<host><name>).
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.OfFunc(func(_ context.Context, name string, _ json.RawMessage) bool {
		return re.MatchString(name)
	})
}

// OfFunc returns a parent of the namespaces that fn accepts. Parents are
// asked in the order they were created; the first that accepts wins.
func (srv *Server) OfFunc(fn NamespaceMatcher) *ParentNamespace {
	p := &ParentNamespace{srv: srv, match: fn, children: make(map[string]*Namespace)}
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// Use adds a middleware run for every connection to a child.
func (p *ParentNamespace) Use(m Middleware) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, m)
	p.mu.Unlock()
}

// OnConnection registers a handler for every socket that connects to a child.
func (p *ParentNamespace) OnConnection(fn func(s *Socket)) {
	p.mu.Lock()
	p.onConnect = append(p.onConnect, fn)
	p.mu.Unlock()
}

// Children returns the child namespaces.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, ns := range p.children {
		out = append(out, ns)
	}
	return out
}

// Emit sends an event to every socket of every child.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	return p.To().Emit(event, args...)
}

// To selects, in every child, the sockets in the rooms.
func (p *ParentNamespace) To(rooms ...string) ParentBroadcast {
	return ParentBroadcast{p: p, b: Broadcast{}.To(rooms...)}
}

// ParentBroadcast is a Broadcast applied to every child of a parent.
type ParentBroadcast struct {
	p *ParentNamespace
	b Broadcast
}

// To adds rooms.
func (pb ParentBroadcast) To(rooms ...string) ParentBroadcast { pb.b = pb.b.To(rooms...); return pb }

// Except leaves out the sockets in the rooms.
func (pb ParentBroadcast) Except(rooms ...string) ParentBroadcast {
	pb.b = pb.b.Except(rooms...)
	return pb
}

// Volatile lets the packet be dropped for clients that cannot take it at once.
func (pb ParentBroadcast) Volatile() ParentBroadcast { pb.b = pb.b.Volatile(); return pb }

// Emit sends an event to the selected sockets of every child.
func (pb ParentBroadcast) Emit(event string, args ...any) error {
	for _, ns := range pb.p.Children() {
		b := pb.b
		b.ns = ns
		if err := b.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}

// child returns the child for name, creating it. A namespace created
// meanwhile under that name (by Of or another connect) is reused.
func (p *ParentNamespace) child(c *client, host, name string) (*Namespace, error) {
	srv := p.srv
	full := fullName(host, name)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if ns, ok := srv.nsps[full]; ok {
		ns.hold()
		return ns, nil
	}
	if err := srv.checkLimitsLocked(c, host); err != nil {
		return nil, err
	}
	ns := newNamespace(srv, host, name)
	ns.parent = p
	ns.hold()
	srv.addLocked(ns)
	c.created++
	p.mu.Lock()
	p.children[full] = ns
	p.mu.Unlock()
	return ns, nil
}

// findParent asks the parents, in order, whether name may be created.
func (srv *Server) findParent(ctx context.Context, name string, auth json.RawMessage) *ParentNamespace {
	srv.mu.RLock()
	parents := srv.parents
	srv.mu.RUnlock()
	for _, p := range parents {
		if p.match(ctx, name, auth) {
			return p
		}
	}
	return nil
}
