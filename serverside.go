package dynamicio

import (
	"context"

	"github.com/dynamicio/dynamicio/parser"
)

// serverSideReserved are the names ServerSideEmit refuses, as upstream.
var serverSideReserved = map[string]bool{"connect": true, "connection": true, "new_namespace": true}

// OnServerSideEmit registers the handler of an event that another server
// of the cluster sent with ServerSideEmit. e.Socket() is nil for such
// events; e.Ack answers a ServerSideEmitWithAck.
func (ns *Namespace) OnServerSideEmit(event string, h EventFunc) {
	ns.mu.Lock()
	if ns.serverSide == nil {
		ns.serverSide = make(map[string]EventFunc)
	}
	ns.serverSide[event] = h
	ns.mu.Unlock()
}

// ServerSideEmit sends an event to the other servers of the cluster (their
// OnServerSideEmit handlers), never to clients. With the in-memory adapter
// there is no other server.
func (ns *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	p, err := serverSidePacket(ns.name, event, args)
	if err != nil {
		return err
	}
	return ns.adapter.ServerSideEmit(ctx, p)
}

// ServerSideEmitWithAck sends an event to the other servers and returns
// their replies (the arguments of each server's Ack), waiting for every
// server or until ctx ends. With the in-memory adapter it returns no reply
// at once, where the official in-memory adapter never answers.
func (ns *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]*Args, error) {
	p, err := serverSidePacket(ns.name, event, args)
	if err != nil {
		return nil, err
	}
	raw, err := ns.adapter.ServerSideEmitWithAck(ctx, p)
	out := make([]*Args, 0, len(raw))
	for _, r := range raw {
		if a, aerr := newArgs(r, nil); aerr == nil {
			out = append(out, a)
		}
	}
	return out, err
}

// AllRooms returns the names of the rooms of every server of the cluster,
// each once (this server's rooms with the in-memory adapter).
func (ns *Namespace) AllRooms(ctx context.Context) ([]string, error) {
	return ns.adapter.AllRooms(ctx)
}

// ServerCount returns the number of servers of the cluster, this one
// included.
func (ns *Namespace) ServerCount(ctx context.Context) (int, error) {
	return ns.adapter.ServerCount(ctx)
}

func serverSidePacket(nsp, event string, args []any) (*parser.Packet, error) {
	if serverSideReserved[event] {
		return nil, ErrReservedEvent
	}
	return eventPacket(nsp, event, args)
}

// ServerSideEvent implements adapter.Namespace: it runs the handler of an
// event from another server, on a goroutine of its own.
func (ns *Namespace) ServerSideEvent(p *parser.Packet, ack func(args []byte)) {
	name, args, err := eventArgs(p)
	if err != nil {
		return
	}
	ns.mu.RLock()
	h := ns.serverSide[name]
	ns.mu.RUnlock()
	if h == nil {
		return
	}
	e := &Event{Args: args, Name: name, hasAck: ack != nil}
	if ack != nil {
		e.reply = func(args []any) error {
			data, _, err := appendArgs(append(make([]byte, 0, 32), '['), nil, true, args)
			if err != nil {
				return err
			}
			ack(append(data, ']'))
			return nil
		}
	}
	ns.srv.wg.Add(1)
	go func() {
		defer ns.srv.wg.Done()
		if err := h(context.Background(), e); err != nil {
			ns.srv.cfg.Logger.Warn("dynamicio: server-side event handler failed", "event", name, "err", err)
		}
	}()
}

// ServerSideEmit sends an event to the main namespace of the other servers.
func (srv *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return srv.main.ServerSideEmit(ctx, event, args...)
}

// OnServerSideEmit handles an event from the other servers, on the main
// namespace.
func (srv *Server) OnServerSideEmit(event string, h EventFunc) { srv.main.OnServerSideEmit(event, h) }
