package dynamicio

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dynamicio/dynamicio/status"
)

// Status returns what host ("" for the main host) has live on this server:
// its namespaces sorted by name, their rooms and sockets, and how long each
// idle namespace has before it retires. It only reads; the status page
// (Config.PublicStatus) presents it. With a cluster adapter it describes
// this server's sockets only.
func (srv *Server) Status(host string) status.Snapshot {
	srv.mu.RLock()
	var nsps []*Namespace
	for _, ns := range srv.nsps {
		if ns.host == host {
			nsps = append(nsps, ns)
		}
	}
	srv.mu.RUnlock()
	slices.SortFunc(nsps, func(a, b *Namespace) int { return strings.Compare(a.name, b.name) })

	now := time.Now()
	snap := status.Snapshot{Host: host, GeneratedAt: now, NamespaceCount: len(nsps), Namespaces: make([]status.Namespace, len(nsps))}
	for i, ns := range nsps {
		snap.Namespaces[i] = ns.status(now)
		snap.SocketCount += snap.Namespaces[i].SocketCount
	}
	return snap
}

// status describes the namespace at now.
func (ns *Namespace) status(now time.Time) status.Namespace {
	ns.mu.RLock()
	sockets := make([]*Socket, 0, len(ns.sockets))
	for _, s := range ns.sockets {
		sockets = append(sockets, s)
	}
	out := status.Namespace{
		Name:     ns.name,
		FullName: ns.full,
		Retires:  ns.retire > 0 || ns.parent != nil && ns.srv.cfg.CleanupEmptyChildNamespaces,
	}
	if !ns.expiresAt.IsZero() {
		left := status.Seconds(max(ns.expiresAt.Sub(now), 0))
		out.ExpiresIn = &left
	}
	ns.mu.RUnlock()
	slices.SortFunc(sockets, func(a, b *Socket) int { return strings.Compare(a.id, b.id) })

	out.SocketCount = len(sockets)
	out.Sockets = make([]status.Socket, len(sockets))
	own := make(map[string]bool, len(sockets))
	for i, s := range sockets {
		own[s.id] = true
		rooms := slices.DeleteFunc(s.Rooms(), func(r string) bool { return r == s.id })
		slices.Sort(rooms)
		out.Sockets[i] = status.Socket{
			ID:            s.id,
			RemoteAddress: s.client.conn.Handshake().RemoteAddr,
			Transport:     s.client.conn.Transport(),
			Rooms:         rooms,
			ConnectedAt:   s.client.conn.Handshake().Time,
		}
	}
	for _, room := range ns.adapter.Rooms() {
		if own[room] {
			continue // a socket's own room, named after its id
		}
		members := ns.adapter.Sockets(room)
		if len(members) == 0 || len(members) == 1 && members[0] == room {
			continue // gone, or the own room of a socket on its way in
		}
		slices.Sort(members)
		out.Rooms = append(out.Rooms, status.Room{Name: room, Sockets: members})
	}
	slices.SortFunc(out.Rooms, func(a, b status.Room) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// requestStatus is the status of the host a request comes from.
func (srv *Server) requestStatus(r *http.Request) (status.Snapshot, error) {
	host := ""
	if srv.cfg.MainHost != nil {
		var err error
		if host, err = srv.tenantOf(r); err != nil {
			return status.Snapshot{}, err
		}
	}
	return srv.Status(host), nil
}
