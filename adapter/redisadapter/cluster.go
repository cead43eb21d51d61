package redisadapter

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynamicio/dynamicio/adapter"
)

// Config configures a Cluster. The zero value of every field but Client
// means the documented default.
type Config struct {
	// Client publishes, queries and subscribes (a *redis.Client, or a
	// *redis.ClusterClient whose nodes all see the pub/sub traffic). The
	// subscriptions use a connection of their own from its pool. Required.
	Client redis.UniversalClient
	// Key is the prefix of every channel (default "socket.io", as the JS
	// adapter's key option).
	Key string
	// RequestTimeout bounds the requests to other servers (FetchSockets,
	// AllRooms, ServerSideEmitWithAck, ServerCount) and a publish (default
	// 5 s, as requestsTimeout).
	RequestTimeout time.Duration
	// PublishOnSpecificResponseChannel answers requests on the requester's
	// own response channel instead of the shared one, as the JS option of
	// that name (every server of a cluster must agree on it).
	PublishOnSpecificResponseChannel bool
	// MaxMessageSize drops channel messages larger than this many bytes
	// before decoding them (default 8 MiB).
	MaxMessageSize int
	// MaxAttachments caps the binary values of one channel message
	// (default 256).
	MaxAttachments int
	// PublishQueue caps the messages waiting to be published (default
	// 4096). While Redis is away the queue fills; what does not fit, fails,
	// or waited longer than RequestTimeout is dropped and counted in
	// Stats.Lost, never buffered without bound nor delivered late.
	PublishQueue int
	// MaxBackoff caps the wait between attempts to reconnect the
	// subscriptions (default 2 s; the wait starts at 50 ms and doubles).
	MaxBackoff time.Duration
	// Sharded selects the protocol of the JS sharded adapter
	// (createShardedAdapter: Redis 7 sharded pub/sub, SSUBSCRIBE and
	// SPUBLISH, ClusterAdapter messages) instead of the classic one. Every
	// server of a cluster must use the same protocol; the Redis emitter
	// speaks only the classic one.
	Sharded bool
	// ShardedSubscription is the subscription mode of the sharded protocol:
	// ShardedDynamic (default), ShardedStatic or ShardedDynamicPrivate, as
	// the JS subscriptionMode option (servers must agree on it).
	ShardedSubscription string
	// Logger receives dropped messages and connection changes (default
	// slog.Default()).
	Logger *slog.Logger
}

// subscribeWait bounds how long creating a namespace waits for Redis to
// confirm its subscriptions.
const subscribeWait = 2 * time.Second

// Defaults of Config.
const (
	DefaultKey            = "socket.io"
	DefaultRequestTimeout = 5 * time.Second
	DefaultMaxMessageSize = 8 << 20
	DefaultMaxAttachments = 256
	DefaultPublishQueue   = 4096
	DefaultMaxBackoff     = 2 * time.Second
)

// Stats are the counters of a Cluster since New.
type Stats struct {
	Published uint64 // messages published
	Received  uint64 // channel messages received
	// Lost counts messages that were not published: Redis was unreachable
	// or the publish queue was full. Local delivery is not affected.
	Lost uint64
	// Dropped counts received messages that were oversized or malformed.
	Dropped uint64
	// Reconnects counts recoveries of the subscription connection after an
	// error (every live namespace is subscribed again each time).
	Reconnects uint64
}

// ErrTimeout is wrapped by the errors of requests that not every server
// answered in time.
var ErrTimeout = errors.New("redisadapter: timeout reached")

// Cluster connects the namespaces of one server to the other servers
// through Redis, with the channels and messages of Node's
// @socket.io/redis-adapter 8 (classic, PUBLISH/PSUBSCRIBE). Its Factory
// creates the adapters of the server's namespaces; they share one
// subscription connection, and a channel stays subscribed while any
// namespace needs it. It is safe for concurrent use.
type Cluster struct {
	cfg Config
	rdb redis.UniversalClient
	uid string
	log *slog.Logger
	ps  *redis.PubSub

	mu       sync.RWMutex
	refs     map[string]int // subscription (channel, or pattern with its psub prefix) → users
	patterns map[string]string
	chans    map[string]chanRef
	byNsp    map[string][]*Adapter
	pending  map[string]*pending
	// waiters are closed when Redis confirms the subscription of a
	// channel; healthy is false while the subscription connection is down.
	waiters map[string][]chan struct{}
	healthy atomic.Bool

	subOps  chan subOp
	pubs    chan pubItem
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closeMu sync.Once
	wmu     sync.Mutex // guards waiters

	published, received, lost, dropped, reconnects atomic.Uint64
}

type chanKind uint8

const (
	kindRequest chanKind = iota
	kindResponse
	kindSharded // any channel of the sharded protocol
)

type chanRef struct {
	kind chanKind
	nsp  string
}

type subOp struct {
	sub     bool
	pattern bool
	shard   bool
	name    string
}

type pubItem struct {
	channel string
	payload []byte
	done    chan error // nil, or one slot for the outcome
	at      time.Time  // when it was queued
}

// errStale is the outcome of a message that waited in the queue longer
// than the request timeout (Redis was away): it is dropped, not delivered
// late.
var errStale = errors.New("redisadapter: message waited too long to be published")

// New connects to Redis and returns the Cluster of one server. It fails if
// Redis does not answer a PING within cfg.RequestTimeout (or ctx): a server
// started against an unreachable Redis would silently be alone. Once
// started, outages are survived (see the package documentation).
func New(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisadapter: Config.Client is nil")
	}
	if cfg.Key == "" {
		cfg.Key = DefaultKey
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.MaxAttachments <= 0 {
		cfg.MaxAttachments = DefaultMaxAttachments
	}
	if cfg.PublishQueue <= 0 {
		cfg.PublishQueue = DefaultPublishQueue
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch cfg.ShardedSubscription {
	case "":
		cfg.ShardedSubscription = ShardedDynamic
	case ShardedDynamic, ShardedStatic, ShardedDynamicPrivate:
	default:
		return nil, fmt.Errorf("redisadapter: unknown ShardedSubscription %q", cfg.ShardedSubscription)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	err := cfg.Client.Ping(pctx).Err()
	cancel()
	if err != nil {
		return nil, fmt.Errorf("redisadapter: redis unreachable: %w", err)
	}
	uid := randomID(6) // uid2(6), as the classic adapter
	if cfg.Sharded {
		uid = hexID() // randomBytes(8) in hex, as the ClusterAdapter
	}
	c := &Cluster{
		cfg: cfg, rdb: cfg.Client, uid: uid, log: cfg.Logger,
		refs: map[string]int{}, patterns: map[string]string{}, chans: map[string]chanRef{},
		byNsp: map[string][]*Adapter{}, pending: map[string]*pending{}, waiters: map[string][]chan struct{}{},
		subOps: make(chan subOp, 1024), pubs: make(chan pubItem, cfg.PublishQueue),
	}
	c.healthy.Store(true)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.ps = c.rdb.Subscribe(c.ctx)
	c.wg.Add(3)
	go c.receive()
	go c.subscriber()
	go c.publisher()
	return c, nil
}

// UID returns the server's id in the cluster (6 characters, as the JS
// adapter's).
func (c *Cluster) UID() string { return c.uid }

// Stats returns the counters.
func (c *Cluster) Stats() Stats {
	return Stats{Published: c.published.Load(), Received: c.received.Load(), Lost: c.lost.Load(),
		Dropped: c.dropped.Load(), Reconnects: c.reconnects.Load()}
}

// Factory returns the adapter.Factory of the server: give it to
// dynamicio.Config.Adapter.
func (c *Cluster) Factory() adapter.Factory {
	return func(ns adapter.Namespace) adapter.Adapter { return c.newAdapter(ns) }
}

// Close stops the Cluster: its goroutines end, the subscription
// connection closes. Adapters still open stop forwarding. The Client is
// the caller's to close.
func (c *Cluster) Close() error {
	c.closeMu.Do(func() {
		c.cancel()
		_ = c.ps.Close()
		c.wg.Wait()
	})
	return nil
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomID returns n random alphanumeric characters, like uid2.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// Channel names of namespace nsp.
func (c *Cluster) broadcastPrefix(nsp string) string { return c.cfg.Key + "#" + nsp + "#" }
func (c *Cluster) requestChannel(nsp string) string  { return c.cfg.Key + "-request#" + nsp + "#" }
func (c *Cluster) responseChannel(nsp string) string { return c.cfg.Key + "-response#" + nsp + "#" }

// escapeGlob escapes the characters Redis patterns give a meaning, so that
// a namespace named with them matches only its own channels.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// channels returns the subscriptions of namespace nsp: patterns, then
// channels with their kinds.
func (c *Cluster) channels(nsp string) (patterns []string, chans []string, kinds []chanKind) {
	if c.cfg.Sharded {
		main := c.mainChannel(nsp)
		return nil, []string{main, main + c.uid + "#"}, []chanKind{kindSharded, kindSharded}
	}
	return []string{escapeGlob(c.broadcastPrefix(nsp)) + "*"},
		[]string{c.requestChannel(nsp), c.responseChannel(nsp), c.responseChannel(nsp) + c.uid + "#"},
		[]chanKind{kindRequest, kindResponse, kindResponse}
}

// attach registers a and subscribes its channels when it is the first
// adapter of its namespace to need them. While Redis is reachable it waits
// (at most subscribeWait) until Redis confirms them, so that ServerCount
// counts this server and nothing published from now on is missed; while
// Redis is away it does not wait: the subscriptions are made on
// reconnection.
func (c *Cluster) attach(a *Adapter) {
	nsp := a.name
	patterns, chans, kinds := c.channels(nsp)
	var confirmed chan struct{}
	c.mu.Lock()
	defer func() {
		c.mu.Unlock()
		if confirmed != nil && c.healthy.Load() {
			t := time.NewTimer(subscribeWait)
			defer t.Stop()
			select {
			case <-confirmed:
			case <-t.C:
			case <-c.ctx.Done():
			}
		}
	}()
	if c.refs["c:"+chans[len(chans)-1]] == 0 {
		// The last channel's confirmation comes after every other's.
		confirmed = make(chan struct{})
		c.wmu.Lock()
		c.waiters[chans[len(chans)-1]] = append(c.waiters[chans[len(chans)-1]], confirmed)
		c.wmu.Unlock()
	}
	c.byNsp[nsp] = append(c.byNsp[nsp], a)
	for _, p := range patterns {
		if c.ref("p:"+p, 1) {
			c.patterns[p] = nsp
			c.queueSub(subOp{sub: true, pattern: true, name: p})
		}
	}
	for i, ch := range chans {
		c.refChannel(ch, chanRef{kinds[i], nsp}, true)
	}
}

// refChannel takes (sub) or releases a reference to a channel and
// subscribes or unsubscribes it on the first or last. The caller holds
// c.mu.
func (c *Cluster) refChannel(ch string, r chanRef, sub bool) {
	d := 1
	if !sub {
		d = -1
	}
	if !c.ref("c:"+ch, d) {
		return
	}
	if sub {
		c.chans[ch] = r
	} else {
		delete(c.chans, ch)
	}
	c.queueSub(subOp{sub: sub, shard: c.cfg.Sharded, name: ch})
}

// subscribeRoom takes or releases a room channel of the sharded
// protocol's dynamic modes.
func (c *Cluster) subscribeRoom(ch, nsp string, sub bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refChannel(ch, chanRef{kindSharded, nsp}, sub)
}

// detach undoes attach.
func (c *Cluster) detach(a *Adapter) {
	nsp := a.name
	patterns, chans, _ := c.channels(nsp)
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.byNsp[nsp]
	for i, x := range list {
		if x == a {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(c.byNsp, nsp)
	} else {
		c.byNsp[nsp] = list
	}
	for _, p := range patterns {
		if c.ref("p:"+p, -1) {
			delete(c.patterns, p)
			c.queueSub(subOp{pattern: true, name: p})
		}
	}
	for _, ch := range chans {
		c.refChannel(ch, chanRef{}, false)
	}
}

// ref changes the users of a subscription and reports whether it must be
// made (first user) or dropped (last user). The caller holds c.mu.
func (c *Cluster) ref(key string, d int) bool {
	cur, ok := c.refs[key]
	if !ok && d < 0 {
		return false // never taken
	}
	n := cur + d
	if n <= 0 {
		delete(c.refs, key)
		return d < 0
	}
	c.refs[key] = n
	return d > 0 && n == 1
}

// queueSub hands a subscription change to the subscriber goroutine, so
// that creating a namespace never waits for Redis. The caller holds c.mu,
// which keeps the changes in order.
func (c *Cluster) queueSub(op subOp) {
	select {
	case c.subOps <- op:
	case <-c.ctx.Done():
	}
}

// subscriber applies subscription changes in order. go-redis remembers
// every subscription, even one whose command failed, and makes them all
// again when it reconnects, so a change made during an outage is not lost.
func (c *Cluster) subscriber() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case op := <-c.subOps:
			ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RequestTimeout)
			var err error
			switch {
			case op.shard && op.sub:
				err = c.ps.SSubscribe(ctx, op.name)
			case op.shard:
				err = c.ps.SUnsubscribe(ctx, op.name)
			case op.sub && op.pattern:
				err = c.ps.PSubscribe(ctx, op.name)
			case op.sub:
				err = c.ps.Subscribe(ctx, op.name)
			case op.pattern:
				err = c.ps.PUnsubscribe(ctx, op.name)
			default:
				err = c.ps.Unsubscribe(ctx, op.name)
			}
			cancel()
			if err != nil && c.ctx.Err() == nil {
				c.log.Debug("redisadapter: subscription change deferred to the reconnection", "channel", op.name, "err", err)
			}
		}
	}
}

// receive reads the subscription connection until Close. On an error it
// waits (50 ms, doubling up to MaxBackoff) and reads again: go-redis then
// reconnects and subscribes every channel again. A silent connection
// (Redis paused) is pinged, so a dead one is noticed.
func (c *Cluster) receive() {
	defer c.wg.Done()
	const idle = 2 * time.Second
	backoff := time.Duration(0)
	for {
		msg, err := c.ps.ReceiveTimeout(c.ctx, idle)
		if c.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && backoff == 0 {
				pctx, cancel := context.WithTimeout(c.ctx, c.cfg.RequestTimeout)
				perr := c.ps.Ping(pctx)
				cancel()
				if perr == nil {
					continue
				}
				err = perr
			}
			c.healthy.Store(false)
			if backoff == 0 {
				c.log.Warn("redisadapter: subscription connection lost", "err", err)
				backoff = 50 * time.Millisecond
			} else {
				backoff = min(2*backoff, c.cfg.MaxBackoff)
			}
			select {
			case <-time.After(backoff):
			case <-c.ctx.Done():
				return
			}
			continue
		}
		c.healthy.Store(true)
		if backoff != 0 {
			backoff = 0
			c.reconnects.Add(1)
			c.log.Info("redisadapter: subscription connection restored")
		}
		switch m := msg.(type) {
		case *redis.Message:
			c.received.Add(1)
			c.dispatch(m)
		case *redis.Subscription:
			if m.Kind == "subscribe" || m.Kind == "ssubscribe" {
				c.confirm(m.Channel)
			}
		case *redis.Pong:
		}
	}
}

// confirm wakes whoever waits for the subscription of channel.
func (c *Cluster) confirm(channel string) {
	c.wmu.Lock()
	ws := c.waiters[channel]
	delete(c.waiters, channel)
	c.wmu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// dropped counts and logs a dropped message; the log thins out as drops
// accumulate (the 1st, 2nd, 4th, 8th…), so a flood cannot flood the log.
func (c *Cluster) drop(channel string, err error) {
	n := c.dropped.Add(1)
	if bits.OnesCount64(n) == 1 {
		c.log.Warn("redisadapter: message dropped", "channel", channel, "err", err, "dropped", n)
	}
}

var errTooLarge = errors.New("redisadapter: message too large")

// dispatch routes one channel message.
func (c *Cluster) dispatch(m *redis.Message) {
	if len(m.Payload) > c.cfg.MaxMessageSize {
		c.drop(m.Channel, errTooLarge)
		return
	}
	c.mu.RLock()
	var (
		nsp  string
		ok   bool
		kind chanKind
	)
	if m.Pattern != "" {
		nsp, ok = c.patterns[m.Pattern]
	} else {
		var ref chanRef
		ref, ok = c.chans[m.Channel]
		nsp, kind = ref.nsp, ref.kind
	}
	c.mu.RUnlock()
	if !ok {
		return // a subscription just dropped
	}
	payload := []byte(m.Payload)
	switch {
	case kind == kindSharded && m.Pattern == "":
		cm, err := decodeClusterMsg(payload, c.cfg.MaxAttachments)
		if err != nil {
			c.drop(m.Channel, err)
			return
		}
		if cm.UID == c.uid || cm.Nsp != nsp {
			return // our own, or a namespace whose name extends this one's
		}
		switch cm.Type {
		case msgFetchSocketsResponse, msgServerSideEmitResp, msgBroadcastClientCount, msgBroadcastAck:
			c.onClusterResponse(cm)
			return
		}
		for _, a := range c.adapters(nsp) {
			a.onClusterMsg(cm)
		}
	case m.Pattern != "":
		b, err := decodeBroadcast(payload, c.cfg.MaxAttachments)
		if err != nil {
			c.drop(m.Channel, err)
			return
		}
		// The pattern of /a also matches the channels of namespaces named
		// /a#…; the packet names its namespace, as the JS adapter checks.
		if b.uid == c.uid || b.nsp != nsp {
			return
		}
		for _, a := range c.adapters(nsp) {
			a.onBroadcast(b)
		}
	case kind == kindRequest:
		r, err := decodeMessage(payload, c.cfg.MaxAttachments)
		if err != nil {
			c.drop(m.Channel, err)
			return
		}
		c.mu.RLock()
		_, mine := c.pending[r.RequestID]
		c.mu.RUnlock()
		if mine || (r.UID == c.uid && r.UID != "") {
			return // our own request, echoed: handled locally already
		}
		for _, a := range c.adapters(nsp) {
			a.onRequest(r)
		}
	default:
		r, err := decodeMessage(payload, c.cfg.MaxAttachments)
		if err != nil {
			c.drop(m.Channel, err)
			return
		}
		c.onResponse(r)
	}
}

func (c *Cluster) adapters(nsp string) []*Adapter {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byNsp[nsp]
}

// publish queues a message without waiting; a full queue drops it (and
// counts it lost).
func (c *Cluster) publish(channel string, payload []byte) {
	select {
	case c.pubs <- pubItem{channel: channel, payload: payload, at: time.Now()}:
	default:
		c.lost.Add(1)
	}
}

// publishWait queues a message and waits until it is published or ctx
// ends. Messages leave in queue order, so a request never overtakes a
// broadcast queued before it.
func (c *Cluster) publishWait(ctx context.Context, channel string, payload []byte) error {
	done := make(chan error, 1)
	select {
	case c.pubs <- pubItem{channel: channel, payload: payload, done: done, at: time.Now()}:
	case <-ctx.Done():
		c.lost.Add(1)
		return ctx.Err()
	case <-c.ctx.Done():
		return adapter.ErrClosed
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publisher publishes queued messages in order, pipelining whatever is
// queued (up to 256 messages) in one round trip.
func (c *Cluster) publisher() {
	defer c.wg.Done()
	batch := make([]pubItem, 0, 256)
	for {
		select {
		case <-c.ctx.Done():
			for {
				select {
				case it := <-c.pubs:
					if it.done != nil {
						it.done <- adapter.ErrClosed
					}
				default:
					return
				}
			}
		case it := <-c.pubs:
			batch = append(batch[:0], it)
		drain:
			for len(batch) < cap(batch) {
				select {
				case it := <-c.pubs:
					batch = append(batch, it)
				default:
					break drain
				}
			}
			// What waited past the request timeout (Redis was away) is
			// dropped: a broadcast delivered seconds late would be news
			// from the past, and a request's caller has given up.
			fresh := batch[:0]
			now := time.Now()
			for _, it := range batch {
				if now.Sub(it.at) > c.cfg.RequestTimeout {
					c.lost.Add(1)
					if it.done != nil {
						it.done <- errStale
					}
					continue
				}
				fresh = append(fresh, it)
			}
			clear(batch[len(fresh):])
			batch = fresh
			if len(batch) == 0 {
				continue
			}
			ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RequestTimeout)
			var err error
			if len(batch) == 1 {
				if c.cfg.Sharded {
					err = c.rdb.SPublish(ctx, batch[0].channel, batch[0].payload).Err()
				} else {
					err = c.rdb.Publish(ctx, batch[0].channel, batch[0].payload).Err()
				}
			} else {
				_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, it := range batch {
						if c.cfg.Sharded {
							p.SPublish(ctx, it.channel, it.payload)
						} else {
							p.Publish(ctx, it.channel, it.payload)
						}
					}
					return nil
				})
			}
			cancel()
			if err != nil {
				c.lost.Add(uint64(len(batch)))
				c.log.Debug("redisadapter: publish failed", "messages", len(batch), "err", err)
			} else {
				c.published.Add(uint64(len(batch)))
			}
			for _, it := range batch {
				if it.done != nil {
					it.done <- err
				}
			}
			clear(batch)
		}
	}
}
