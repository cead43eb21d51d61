package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/parser"
)

// Adapter is the adapter of one namespace: an in-memory adapter for the
// local sockets, whose operations it also forwards to the other servers.
// Local delivery never waits for Redis: a broadcast reaches the local
// sockets first and is then queued for publishing. It is safe for
// concurrent use.
type Adapter struct {
	*adapter.Memory
	c          *Cluster
	ns         adapter.Namespace
	name       string // full name: keys the channels
	clientName string // the name in packets to local sockets
	closed     atomic.Bool

	// Room channels of the sharded protocol's dynamic modes that this
	// adapter holds.
	roomsMu  sync.Mutex
	roomSubs map[string]bool
}

var _ adapter.Adapter = (*Adapter)(nil)

func (c *Cluster) newAdapter(ns adapter.Namespace) *Adapter {
	a := &Adapter{c: c, ns: ns, name: ns.Name(), roomSubs: map[string]bool{}}
	var hooks adapter.Hooks
	if c.cfg.Sharded && c.cfg.ShardedSubscription != ShardedStatic {
		hooks = adapter.Hooks{OnCreateRoom: a.onRoomCreated, OnDeleteRoom: a.onRoomDeleted}
	}
	a.Memory = adapter.NewWithHooks(ns, hooks)
	a.clientName = clientName(a.name)
	c.attach(a)
	return a
}

// clientName strips the host of a full namespace name ("//host/chat" →
// "/chat"): packets to clients carry the name they know.
func clientName(full string) string {
	rest, ok := strings.CutPrefix(full, "//")
	if !ok {
		return full
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

// Close unsubscribes the namespace's channels (when no other adapter of
// the server needs them) and stops forwarding.
func (a *Adapter) Close() error {
	if a.closed.Swap(true) {
		return nil
	}
	a.roomsMu.Lock()
	for ch := range a.roomSubs {
		a.c.subscribeRoom(ch, a.name, false)
	}
	clear(a.roomSubs)
	a.roomsMu.Unlock()
	a.c.detach(a)
	return a.Memory.Close()
}

// Broadcast delivers out to the local sockets, then publishes it (unless
// opts.Local) to the broadcast channel, or to the room's channel when it
// targets exactly one room, as the JS adapter does.
func (a *Adapter) Broadcast(ctx context.Context, out *adapter.Outgoing, opts adapter.Options) error {
	if err := a.Memory.Broadcast(ctx, out, opts); err != nil {
		return err
	}
	if opts.Local {
		return nil
	}
	if a.c.cfg.Sharded {
		return a.shardedBroadcast(out, opts)
	}
	msg, err := encodeBroadcast(a.c.uid, a.name, out, opts)
	if err != nil {
		return err
	}
	ch := a.c.broadcastPrefix(a.name)
	if len(opts.Rooms) == 1 {
		ch += opts.Rooms[0] + "#"
	}
	a.c.publish(ch, msg)
	return nil
}

// onBroadcast delivers another server's broadcast to the local sockets.
func (a *Adapter) onBroadcast(b *broadcastMsg) {
	p := *b.packet
	p.Namespace = a.clientName
	out := &adapter.Outgoing{Packet: &p, Volatile: b.opts.volatile(), Compress: b.opts.compress()}
	_ = a.Memory.Broadcast(context.Background(), out, b.opts.options())
}

// remote publishes a request that needs no answer, after applying it
// locally, unless opts.Local.
func (a *Adapter) remote(ctx context.Context, opts adapter.Options, m *message) error {
	if opts.Local {
		return nil
	}
	if a.closed.Load() {
		return adapter.ErrClosed
	}
	b, err := encodeJSON(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
	defer cancel()
	return a.c.publishWait(ctx, a.c.requestChannel(a.name), b)
}

func (a *Adapter) wireOpts(opts adapter.Options) *wireOpts {
	w := toWireOpts(opts, nil)
	return &w
}

// AddSockets makes the sockets opts selects join rooms, here and on every
// other server.
func (a *Adapter) AddSockets(ctx context.Context, opts adapter.Options, rooms ...string) error {
	if err := a.Memory.AddSockets(ctx, opts, rooms...); err != nil {
		return err
	}
	if a.c.cfg.Sharded && !opts.Local {
		return a.shardedOp(ctx, msgSocketsJoin, opts, rooms, false)
	}
	return a.remote(ctx, opts, &message{UID: a.c.uid, Type: typ(reqRemoteJoin), Opts: a.wireOpts(opts), Rooms: rooms})
}

// DelSockets makes the sockets opts selects leave rooms, here and on every
// other server.
func (a *Adapter) DelSockets(ctx context.Context, opts adapter.Options, rooms ...string) error {
	if err := a.Memory.DelSockets(ctx, opts, rooms...); err != nil {
		return err
	}
	if a.c.cfg.Sharded && !opts.Local {
		return a.shardedOp(ctx, msgSocketsLeave, opts, rooms, false)
	}
	return a.remote(ctx, opts, &message{UID: a.c.uid, Type: typ(reqRemoteLeave), Opts: a.wireOpts(opts), Rooms: rooms})
}

// DisconnectSockets disconnects the sockets opts selects, here and on
// every other server.
func (a *Adapter) DisconnectSockets(ctx context.Context, opts adapter.Options, close bool) error {
	if err := a.Memory.DisconnectSockets(ctx, opts, close); err != nil {
		return err
	}
	if a.c.cfg.Sharded && !opts.Local {
		return a.shardedOp(ctx, msgDisconnectSockets, opts, nil, close)
	}
	return a.remote(ctx, opts, &message{UID: a.c.uid, Type: typ(reqRemoteDisconnect), Opts: a.wireOpts(opts), Close: close})
}

// ServerCount is the number of subscribers of the namespace's request
// channel (PUBSUB NUMSUB), this server included, as the JS adapter counts.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
	defer cancel()
	if a.c.cfg.Sharded {
		ch := a.c.mainChannel(a.name)
		m, err := a.c.rdb.PubSubShardNumSub(ctx, ch).Result()
		if err != nil {
			return 0, fmt.Errorf("redisadapter: server count: %w", err)
		}
		return int(m[ch]), nil
	}
	ch := a.c.requestChannel(a.name)
	m, err := a.c.rdb.PubSubNumSub(ctx, ch).Result()
	if err != nil {
		return 0, fmt.Errorf("redisadapter: server count: %w", err)
	}
	return int(m[ch]), nil
}

// pending is a request waiting for answers.
type pending struct {
	kind int
	ch   chan *message // answers, for all but broadcasts
	// Broadcast acknowledgements.
	onCount func(int)
	onAck   func([]byte, [][]byte)
}

// onResponse routes an answer to its request.
func (c *Cluster) onResponse(r *message) {
	c.mu.RLock()
	p := c.pending[r.RequestID]
	c.mu.RUnlock()
	if p == nil {
		return // someone else's, or too late
	}
	if p.kind == reqBroadcast {
		switch {
		case r.Type != nil && *r.Type == reqBroadcastClientCount && r.ClientCount != nil:
			p.onCount(*r.ClientCount)
		case r.Type != nil && *r.Type == reqBroadcastAck:
			arg := r.Packet
			if len(arg) == 0 {
				arg = json.RawMessage("null")
			}
			p.onAck(arg, r.atts)
		}
		return
	}
	select {
	case p.ch <- r:
	default: // more answers than servers: drop the extra
	}
}

func (c *Cluster) addPending(p *pending) string {
	return c.addPendingID(p, func() string { return randomID(6) })
}

// addPendingID registers p under a new id from gen.
func (c *Cluster) addPendingID(p *pending, gen func() string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		id := gen()
		if _, taken := c.pending[id]; !taken {
			c.pending[id] = p
			return id
		}
	}
}

func (c *Cluster) dropPending(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// ask publishes a request and collects up to want answers, until ctx or
// the request timeout ends; then it returns what came and an error that
// wraps ErrTimeout.
func (a *Adapter) ask(ctx context.Context, kind, want int, m *message) ([]*message, error) {
	if a.closed.Load() {
		return nil, adapter.ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
	defer cancel()
	p := &pending{kind: kind, ch: make(chan *message, want)}
	m.RequestID = a.c.addPending(p)
	defer a.c.dropPending(m.RequestID)
	m.UID, m.Type = a.c.uid, typ(kind)
	b, err := encodeJSON(m)
	if err != nil {
		return nil, err
	}
	if err := a.c.publishWait(ctx, a.c.requestChannel(a.name), b); err != nil {
		return nil, fmt.Errorf("redisadapter: publish request: %w", err)
	}
	return collect(ctx, p.ch, want)
}

// collect waits for want answers on ch until ctx ends; then it returns
// what came with an error wrapping ErrTimeout.
func collect(ctx context.Context, ch chan *message, want int) ([]*message, error) {
	got := make([]*message, 0, want)
	for len(got) < want {
		select {
		case r := <-ch:
			got = append(got, r)
		case <-ctx.Done():
			return got, fmt.Errorf("%w: only %d responses received out of %d", ErrTimeout, len(got), want)
		}
	}
	return got, nil
}

// others returns how many other servers serve the namespace.
func (a *Adapter) others(ctx context.Context) (int, error) {
	n, err := a.ServerCount(ctx)
	return n - 1, err
}

// FetchSockets describes the sockets opts selects on every server. When
// some server does not answer in time it returns what came with an error
// wrapping ErrTimeout. Other servers' handshakes are json.RawMessage (the
// official JSON form).
func (a *Adapter) FetchSockets(ctx context.Context, opts adapter.Options) ([]adapter.SocketDetails, error) {
	local, err := a.Memory.FetchSockets(ctx, opts)
	if err != nil || opts.Local {
		return local, err
	}
	n, err := a.others(ctx)
	if err != nil {
		return local, err
	}
	if n <= 0 {
		return local, nil
	}
	var got []*message
	if a.c.cfg.Sharded {
		got, err = a.shardedAsk(ctx, msgFetchSockets, n, &clusterData{Opts: a.wireOpts(opts)}, nil)
	} else {
		got, err = a.ask(ctx, reqRemoteFetch, n, &message{Opts: a.wireOpts(opts)})
	}
	for _, r := range got {
		var socks []struct {
			ID        string          `json:"id"`
			Handshake json.RawMessage `json:"handshake"`
			Rooms     roomList        `json:"rooms"`
			Data      any             `json:"data"`
		}
		if json.Unmarshal(r.Sockets, &socks) != nil {
			continue
		}
		for _, s := range socks {
			local = append(local, adapter.SocketDetails{ID: s.ID, Handshake: s.Handshake, Rooms: s.Rooms, Data: s.Data})
		}
	}
	return local, err
}

// AllRooms returns the rooms of every server, each once; partial with an
// error wrapping ErrTimeout when some server does not answer in time.
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	rooms := a.Memory.Rooms()
	if a.c.cfg.Sharded {
		return rooms, ErrUnsupported
	}
	n, err := a.others(ctx)
	if err != nil || n <= 0 {
		return rooms, err
	}
	got, err := a.ask(ctx, reqAllRooms, n, &message{})
	for _, r := range got {
		rooms = append(rooms, r.Rooms...)
	}
	slices.Sort(rooms)
	return slices.Compact(rooms), err
}

// ServerSideEmit publishes an event to the other servers' namespace.
func (a *Adapter) ServerSideEmit(ctx context.Context, p *parser.Packet) error {
	if a.closed.Load() {
		return adapter.ErrClosed
	}
	if a.c.cfg.Sharded {
		return a.shardedPublish(ctx, a.c.mainChannel(a.name), &clusterMsg{Type: msgServerSideEmit,
			Data: &clusterData{Packet: p.Data}}, p.Attachments, true)
	}
	b, err := a.serverSideMessage(p, "")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
	defer cancel()
	return a.c.publishWait(ctx, a.c.requestChannel(a.name), b)
}

func (a *Adapter) serverSideMessage(p *parser.Packet, requestID string) ([]byte, error) {
	m := &message{UID: a.c.uid, RequestID: requestID, Type: typ(reqServerSideEmit), Data: p.Data}
	if len(p.Attachments) > 0 {
		return encodeMsgpack(m, p.Attachments)
	}
	return encodeJSON(m)
}

// ServerSideEmitWithAck publishes an event to the other servers and
// returns their answers (each the JSON array of one argument, as the JS
// adapter keeps only the first), partial with an error wrapping ErrTimeout
// when some server does not answer in time.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, p *parser.Packet) ([][]byte, error) {
	n, err := a.others(ctx)
	if err != nil || n <= 0 {
		return nil, err
	}
	if a.closed.Load() {
		return nil, adapter.ErrClosed
	}
	if a.c.cfg.Sharded {
		got, err := a.shardedAsk(ctx, msgServerSideEmit, n, &clusterData{Packet: p.Data}, p.Attachments)
		return argArrays(got), err
	}
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
	defer cancel()
	pd := &pending{kind: reqServerSideEmit, ch: make(chan *message, n)}
	id := a.c.addPending(pd)
	defer a.c.dropPending(id)
	b, err := a.serverSideMessage(p, id)
	if err != nil {
		return nil, err
	}
	if err := a.c.publishWait(ctx, a.c.requestChannel(a.name), b); err != nil {
		return nil, fmt.Errorf("redisadapter: publish request: %w", err)
	}
	got, err := collect(ctx, pd.ch, n)
	return argArrays(got), err
}

// argArrays turns server-side emit answers (each one argument) into the
// JSON arrays the namespace expects.
func argArrays(got []*message) [][]byte {
	out := make([][]byte, 0, len(got))
	for _, r := range got {
		d := r.Data
		if len(d) == 0 {
			d = json.RawMessage("null")
		}
		out = append(out, append(append([]byte{'['}, d...), ']'))
	}
	return out
}

// BroadcastWithAck publishes a broadcast whose recipients on the other
// servers are asked to acknowledge it, and returns how many servers will
// answer. The callbacks run until ctx ends (or the request timeout, when
// ctx has no deadline).
func (a *Adapter) BroadcastWithAck(ctx context.Context, out *adapter.Outgoing, opts adapter.Options,
	clientCount func(int), ack func([]byte, [][]byte)) (int, error) {
	if opts.Local {
		return 0, nil
	}
	n, err := a.others(ctx)
	if err != nil || n <= 0 {
		return 0, err
	}
	if a.closed.Load() {
		return 0, adapter.ErrClosed
	}
	var once sync.Once
	var mu sync.Mutex
	doneCh := make(chan struct{})
	// The callbacks run on the receiving goroutine; after the wait ends
	// they must not run any more.
	kind := reqBroadcast
	if a.c.cfg.Sharded {
		kind = msgBroadcast
	}
	pd := &pending{kind: kind,
		onCount: func(n int) {
			mu.Lock()
			defer mu.Unlock()
			select {
			case <-doneCh:
			default:
				clientCount(n)
			}
		},
		onAck: func(arg []byte, atts [][]byte) {
			mu.Lock()
			defer mu.Unlock()
			select {
			case <-doneCh:
			default:
				ack(arg, atts)
			}
		}}
	gen := func() string { return randomID(6) }
	if a.c.cfg.Sharded {
		gen = hexID
	}
	id := a.c.addPendingID(pd, gen)
	timeout := a.c.cfg.RequestTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	go func() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-a.c.ctx.Done():
		}
		a.c.dropPending(id)
		once.Do(func() {
			mu.Lock()
			close(doneCh)
			mu.Unlock()
		})
	}()
	p := *out.Packet
	p.Namespace, p.HasID, p.ID = a.name, false, 0
	pj, err := json.Marshal(wirePacket{Type: int(parser.Event), Data: p.Data, Nsp: &p.Namespace})
	if err != nil {
		return 0, err
	}
	flags := flagsOf(out)
	ms := timeout.Milliseconds()
	f := float64(ms)
	flags.Timeout = &f
	w := toWireOpts(opts, flags)
	if a.c.cfg.Sharded {
		if err := a.shardedPublish(ctx, a.c.mainChannel(a.name), &clusterMsg{Type: msgBroadcast,
			Data: &clusterData{Packet: pj, RequestID: id, Opts: &w}}, p.Attachments, true); err != nil {
			return 0, fmt.Errorf("redisadapter: publish request: %w", err)
		}
		return n, nil
	}
	b, err := encodeMsgpack(&message{UID: a.c.uid, RequestID: id, Type: typ(reqBroadcast), Packet: pj, Opts: &w}, p.Attachments)
	if err != nil {
		return 0, err
	}
	pctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
	defer cancel()
	if err := a.c.publishWait(pctx, a.c.requestChannel(a.name), b); err != nil {
		return 0, fmt.Errorf("redisadapter: publish request: %w", err)
	}
	return n, nil
}

// respond answers request r, on the shared response channel or the
// requester's own.
func (a *Adapter) respond(r *message, payload []byte, shared bool) {
	ch := a.c.responseChannel(a.name)
	if !shared && a.c.cfg.PublishOnSpecificResponseChannel {
		ch += r.UID + "#"
	}
	a.c.publish(ch, payload)
}

func (a *Adapter) respondJSON(r *message, m *message, shared bool) {
	b, err := encodeJSON(m)
	if err != nil {
		return
	}
	a.respond(r, b, shared)
}

// onRequest serves another server's (or an emitter's) request. It runs on
// the receiving goroutine and never waits for Redis: answers are queued.
func (a *Adapter) onRequest(r *message) {
	if r.Type == nil || a.closed.Load() {
		return
	}
	ctx := context.Background()
	var opts adapter.Options
	if r.Opts != nil {
		opts = r.Opts.options()
	}
	switch *r.Type {
	case reqSockets:
		ids := a.Memory.Sockets(r.Rooms...)
		b, _ := json.Marshal(struct {
			RequestID string   `json:"requestId"`
			Sockets   []string `json:"sockets"`
		}{r.RequestID, orEmpty(ids)})
		a.respond(r, b, false)
	case reqAllRooms:
		b, _ := json.Marshal(struct {
			RequestID string   `json:"requestId"`
			Rooms     []string `json:"rooms"`
		}{r.RequestID, orEmpty(a.Memory.Rooms())})
		a.respond(r, b, false)
	case reqRemoteJoin, reqRemoteLeave:
		join := *r.Type == reqRemoteJoin
		if r.Opts == nil {
			// Legacy form: one socket, one room, answered.
			if r.Room == nil || a.Memory.SocketRooms(r.Sid) == nil {
				return
			}
			if join {
				_ = a.Memory.AddSockets(ctx, adapter.Options{Rooms: []string{r.Sid}}, string(*r.Room))
			} else {
				a.Memory.Del(r.Sid, string(*r.Room))
			}
			a.respondJSON(r, &message{RequestID: r.RequestID}, false)
			return
		}
		if join {
			_ = a.Memory.AddSockets(ctx, opts, r.Rooms...)
		} else {
			_ = a.Memory.DelSockets(ctx, opts, r.Rooms...)
		}
	case reqRemoteDisconnect:
		if r.Opts == nil {
			if a.Memory.SocketRooms(r.Sid) == nil {
				return
			}
			opts = adapter.Options{Rooms: []string{r.Sid}}
			defer a.respondJSON(r, &message{RequestID: r.RequestID}, false)
		}
		_ = a.Memory.DisconnectSockets(ctx, opts, r.Close)
	case reqRemoteFetch:
		socks, _ := a.Memory.FetchSockets(ctx, opts)
		b, err := json.Marshal(struct {
			RequestID string                  `json:"requestId"`
			Sockets   []adapter.SocketDetails `json:"sockets"`
		}{r.RequestID, orEmpty(socks)})
		if err != nil {
			a.c.log.Warn("redisadapter: fetch sockets answer", "err", err)
			return
		}
		a.respond(r, b, false)
	case reqServerSideEmit:
		if len(r.Data) == 0 || r.Data[0] != '[' {
			a.c.drop(a.c.requestChannel(a.name), errMalformed)
			return
		}
		if _, _, err := parser.EventName(r.Data); err != nil {
			a.c.drop(a.c.requestChannel(a.name), err)
			return
		}
		p := &parser.Packet{Type: parser.Event, Namespace: a.clientName, Data: r.Data, Attachments: r.atts}
		var ack func([]byte)
		if r.RequestID != "" {
			ack = a.onceAck(func(first json.RawMessage) {
				// Always the shared channel, as the JS adapter answers.
				a.respondJSON(r, &message{Type: typ(reqServerSideEmit), RequestID: r.RequestID, Data: first}, true)
			})
		}
		a.ns.ServerSideEvent(p, ack)
	case reqBroadcast:
		var w wirePacket
		if json.Unmarshal(r.Packet, &w) != nil {
			a.c.drop(a.c.requestChannel(a.name), errMalformed)
			return
		}
		p, _, err := w.packet(r.atts)
		if err != nil {
			a.c.drop(a.c.requestChannel(a.name), err)
			return
		}
		p.Namespace = a.clientName
		var wo wireOpts
		if r.Opts != nil {
			wo = *r.Opts
		}
		out := &adapter.Outgoing{Packet: p, Volatile: wo.volatile(), Compress: wo.compress()}
		timeout := a.c.cfg.RequestTimeout
		if wo.Flags != nil && wo.Flags.Timeout != nil && *wo.Flags.Timeout > 0 {
			timeout = min(time.Duration(*wo.Flags.Timeout*float64(time.Millisecond)), 10*time.Minute)
		}
		count := func(n int) {
			a.respondJSON(r, &message{Type: typ(reqBroadcastClientCount), RequestID: r.RequestID, ClientCount: &n}, false)
		}
		ack := func(arg []byte, atts [][]byte) {
			b, err := encodeMsgpack(&message{Type: typ(reqBroadcastAck), RequestID: r.RequestID, Packet: arg}, atts)
			if err != nil {
				return
			}
			a.respond(r, b, false)
		}
		if ab, ok := a.ns.(adapter.AckBroadcaster); ok {
			ab.LocalBroadcastWithAck(out, wo.options(), timeout, count, ack)
		} else {
			count(0)
		}
	}
}

// onceAck returns the ack function of a server-side event: the first
// call answers with the first argument (as the JS adapters keep only it),
// later calls do nothing.
func (a *Adapter) onceAck(answer func(first json.RawMessage)) func([]byte) {
	var called atomic.Bool
	return func(args []byte) {
		if called.Swap(true) {
			return
		}
		first := json.RawMessage("null")
		if parts, err := parser.SplitArray(args); err == nil && len(parts) > 0 {
			first = parts[0]
		}
		answer(first)
	}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
