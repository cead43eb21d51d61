package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/parser"
)

// The sharded adapter (createShardedAdapter of @socket.io/redis-adapter,
// Redis 7 sharded pub/sub) speaks the ClusterAdapter messages of
// socket.io-adapter: {uid, nsp, type, data}, JSON unless the data holds
// binary, then msgpack, on SSUBSCRIBE/SPUBLISH channels.

// ClusterAdapter message types (MessageType in socket.io-adapter).
const (
	msgBroadcast            = 3
	msgSocketsJoin          = 4
	msgSocketsLeave         = 5
	msgDisconnectSockets    = 6
	msgFetchSockets         = 7
	msgFetchSocketsResponse = 8
	msgServerSideEmit       = 9
	msgServerSideEmitResp   = 10
	msgBroadcastClientCount = 11
	msgBroadcastAck         = 12
)

// Subscription modes of the sharded protocol (subscriptionMode in the JS
// adapter).
const (
	// ShardedDynamic (the default) gives each public room a channel of its
	// own, so a broadcast to one room reaches only the servers that have it.
	ShardedDynamic = "dynamic"
	// ShardedStatic uses two channels per namespace.
	ShardedStatic = "static"
	// ShardedDynamicPrivate gives socket rooms channels too.
	ShardedDynamicPrivate = "dynamic-private"
)

// ErrUnsupported is returned by AllRooms with the sharded protocol, which
// has no such request.
var ErrUnsupported = errors.New("redisadapter: not supported by the sharded protocol")

type clusterData struct {
	Opts        *wireOpts       `json:"opts,omitempty"`
	Rooms       roomList        `json:"rooms,omitempty"`
	Close       bool            `json:"close,omitempty"`
	RequestID   string          `json:"requestId,omitempty"`
	Packet      json.RawMessage `json:"packet,omitempty"`
	Sockets     json.RawMessage `json:"sockets,omitempty"`
	ClientCount *int            `json:"clientCount,omitempty"`
}

type clusterMsg struct {
	UID  string       `json:"uid"`
	Nsp  string       `json:"nsp"`
	Type int          `json:"type"`
	Data *clusterData `json:"data,omitempty"`

	atts [][]byte
}

func decodeClusterMsg(b []byte, maxAtt int) (*clusterMsg, error) {
	m := &clusterMsg{}
	if len(b) == 0 {
		return nil, errMalformed
	}
	j := b
	if b[0] != '{' {
		var err error
		if j, m.atts, err = msgpackToJSON(b, maxAtt); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(j, m); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return m, nil
}

func encodeClusterMsg(m *clusterMsg, atts [][]byte) ([]byte, error) {
	if len(atts) > 0 {
		j, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		return msgpackFromJSON(j, atts)
	}
	return json.Marshal(m)
}

// hexID returns 16 random hex characters, like the ClusterAdapter's ids.
func hexID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *Cluster) mainChannel(nsp string) string { return c.broadcastPrefix(nsp) }

// roomChannel reports the channel of room in a dynamic mode, "" when the
// room has none.
func (c *Cluster) roomChannel(nsp, room string, private bool) string {
	switch c.cfg.ShardedSubscription {
	case ShardedDynamicPrivate:
		return c.broadcastPrefix(nsp) + room + "#"
	case ShardedDynamic:
		if !private {
			return c.broadcastPrefix(nsp) + room + "#"
		}
	}
	return ""
}

// onRoomCreated and onRoomDeleted keep a dynamic mode's room channels
// subscribed while the room has local members.
func (a *Adapter) onRoomCreated(room string) {
	if ch := a.c.roomChannel(a.name, room, a.Memory.SocketRooms(room) != nil); ch != "" {
		a.roomsMu.Lock()
		if !a.closed.Load() && !a.roomSubs[ch] {
			a.roomSubs[ch] = true
			a.c.subscribeRoom(ch, a.name, true)
		}
		a.roomsMu.Unlock()
	}
}

func (a *Adapter) onRoomDeleted(room string) {
	// The socket behind a private room is gone by now: look the channel
	// up in what this adapter subscribed instead.
	ch := a.c.broadcastPrefix(a.name) + room + "#"
	a.roomsMu.Lock()
	if a.roomSubs[ch] {
		delete(a.roomSubs, ch)
		a.c.subscribeRoom(ch, a.name, false)
	}
	a.roomsMu.Unlock()
}

// shardedPublish publishes a message of this namespace on channel.
func (a *Adapter) shardedPublish(ctx context.Context, channel string, m *clusterMsg, atts [][]byte, wait bool) error {
	m.UID, m.Nsp = a.c.uid, a.name
	b, err := encodeClusterMsg(m, atts)
	if err != nil {
		return err
	}
	if !wait {
		a.c.publish(channel, b)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
	defer cancel()
	return a.c.publishWait(ctx, channel, b)
}

func (a *Adapter) shardedBroadcast(out *adapter.Outgoing, opts adapter.Options) error {
	p := *out.Packet
	p.Namespace, p.HasID, p.ID = a.name, false, 0
	pj, err := json.Marshal(wirePacket{Type: int(parser.Event), Data: p.Data, Nsp: &p.Namespace})
	if err != nil {
		return err
	}
	w := toWireOpts(opts, flagsOf(out))
	ch := a.c.mainChannel(a.name)
	if len(opts.Rooms) == 1 {
		room := opts.Rooms[0]
		switch a.c.cfg.ShardedSubscription {
		case ShardedDynamicPrivate:
			ch = a.c.broadcastPrefix(a.name) + room + "#"
		case ShardedDynamic:
			if len(room) != 20 { // looks like a socket id: main channel, as the JS adapter decides
				ch = a.c.broadcastPrefix(a.name) + room + "#"
			}
		}
	}
	return a.shardedPublish(context.Background(), ch, &clusterMsg{Type: msgBroadcast,
		Data: &clusterData{Opts: &w, Packet: pj}}, p.Attachments, false)
}

func (a *Adapter) shardedOp(ctx context.Context, typ int, opts adapter.Options, rooms []string, close bool) error {
	w := toWireOpts(opts, nil)
	d := &clusterData{Opts: &w, Close: close}
	if typ != msgDisconnectSockets {
		d.Rooms = orEmpty(rooms)
	}
	return a.shardedPublish(ctx, a.c.mainChannel(a.name), &clusterMsg{Type: typ, Data: d}, nil, true)
}

// shardedAsk publishes a request and collects want responses (on this
// server's response channel) until ctx or the request timeout.
func (a *Adapter) shardedAsk(ctx context.Context, typ, want int, d *clusterData, atts [][]byte) ([]*message, error) {
	ctx, cancel := context.WithTimeout(ctx, a.c.cfg.RequestTimeout)
	defer cancel()
	p := &pending{kind: typ, ch: make(chan *message, want)}
	d.RequestID = a.c.addPendingID(p, hexID)
	defer a.c.dropPending(d.RequestID)
	if err := a.shardedPublish(ctx, a.c.mainChannel(a.name), &clusterMsg{Type: typ, Data: d}, atts, true); err != nil {
		return nil, fmt.Errorf("redisadapter: publish request: %w", err)
	}
	return collect(ctx, p.ch, want)
}

// shardedRespond answers the requester on its response channel.
func (a *Adapter) shardedRespond(to string, typ int, d *clusterData, atts [][]byte) {
	_ = a.shardedPublish(context.Background(), a.c.broadcastPrefix(a.name)+to+"#", &clusterMsg{Type: typ, Data: d}, atts, false)
}

// onClusterMsg serves a message of the sharded protocol.
func (a *Adapter) onClusterMsg(m *clusterMsg) {
	if a.closed.Load() || m.Data == nil {
		return
	}
	d := m.Data
	ctx := context.Background()
	var opts adapter.Options
	var wo wireOpts
	if d.Opts != nil {
		wo = *d.Opts
		opts = wo.options()
	}
	switch m.Type {
	case msgBroadcast:
		var w wirePacket
		if json.Unmarshal(d.Packet, &w) != nil {
			a.c.drop(a.name, errMalformed)
			return
		}
		p, _, err := w.packet(m.atts)
		if err != nil {
			a.c.drop(a.name, err)
			return
		}
		p.Namespace = a.clientName
		out := &adapter.Outgoing{Packet: p, Volatile: wo.volatile(), Compress: wo.compress()}
		if d.RequestID == "" {
			_ = a.Memory.Broadcast(ctx, out, opts)
			return
		}
		ab, ok := a.ns.(adapter.AckBroadcaster)
		count := func(n int) {
			a.shardedRespond(m.UID, msgBroadcastClientCount, &clusterData{RequestID: d.RequestID, ClientCount: &n}, nil)
		}
		if !ok {
			count(0)
			return
		}
		timeout := a.c.cfg.RequestTimeout
		if wo.Flags != nil && wo.Flags.Timeout != nil && *wo.Flags.Timeout > 0 {
			timeout = min(time.Duration(*wo.Flags.Timeout*float64(time.Millisecond)), 10*time.Minute)
		}
		ab.LocalBroadcastWithAck(out, opts, timeout, count, func(arg []byte, atts [][]byte) {
			a.shardedRespond(m.UID, msgBroadcastAck, &clusterData{RequestID: d.RequestID, Packet: arg}, atts)
		})
	case msgSocketsJoin:
		_ = a.Memory.AddSockets(ctx, opts, d.Rooms...)
	case msgSocketsLeave:
		_ = a.Memory.DelSockets(ctx, opts, d.Rooms...)
	case msgDisconnectSockets:
		_ = a.Memory.DisconnectSockets(ctx, opts, d.Close)
	case msgFetchSockets:
		socks, _ := a.Memory.FetchSockets(ctx, opts)
		b, err := json.Marshal(orEmpty(socks))
		if err != nil {
			return
		}
		a.shardedRespond(m.UID, msgFetchSocketsResponse, &clusterData{RequestID: d.RequestID, Sockets: b}, nil)
	case msgServerSideEmit:
		if len(d.Packet) == 0 || d.Packet[0] != '[' {
			a.c.drop(a.name, errMalformed)
			return
		}
		if _, _, err := parser.EventName(d.Packet); err != nil {
			a.c.drop(a.name, err)
			return
		}
		p := &parser.Packet{Type: parser.Event, Namespace: a.clientName, Data: d.Packet, Attachments: m.atts}
		var ack func([]byte)
		if d.RequestID != "" {
			ack = a.onceAck(func(first json.RawMessage) {
				a.shardedRespond(m.UID, msgServerSideEmitResp, &clusterData{RequestID: d.RequestID, Packet: first}, nil)
			})
		}
		a.ns.ServerSideEvent(p, ack)
	case msgFetchSocketsResponse, msgServerSideEmitResp, msgBroadcastClientCount, msgBroadcastAck:
		a.c.onClusterResponse(m)
	}
}

// onClusterResponse routes a response of the sharded protocol to its
// request.
func (c *Cluster) onClusterResponse(m *clusterMsg) {
	if m.Data == nil {
		return
	}
	d := m.Data
	c.mu.RLock()
	p := c.pending[d.RequestID]
	c.mu.RUnlock()
	if p == nil {
		return
	}
	switch m.Type {
	case msgBroadcastClientCount:
		if p.kind == msgBroadcast && d.ClientCount != nil {
			p.onCount(*d.ClientCount)
		}
		return
	case msgBroadcastAck:
		if p.kind == msgBroadcast {
			arg := d.Packet
			if len(arg) == 0 {
				arg = json.RawMessage("null")
			}
			p.onAck(arg, m.atts)
		}
		return
	}
	r := &message{RequestID: d.RequestID, Sockets: d.Sockets, Data: d.Packet, atts: m.atts}
	select {
	case p.ch <- r:
	default:
	}
}
