// Package redisadapter scales a dynamicio server out over Redis pub/sub,
// speaking the wire format of Node's @socket.io/redis-adapter 8, so Go and
// Node servers share one cluster: the classic adapter (PUBLISH and
// PSUBSCRIBE; @socket.io/redis-emitter processes join in too), or with
// Config.Sharded the sharded adapter (Redis 7 SSUBSCRIBE and SPUBLISH).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	cluster, err := redisadapter.New(ctx, redisadapter.Config{Client: rdb})
//	if err != nil { ... } // Redis unreachable at start-up
//	srv := dynamicio.NewServer(&dynamicio.Config{Adapter: cluster.Factory()})
//
// # Channels and messages
//
// For a namespace nsp (its full name: "//host/chat" for a virtual host's
// namespace, so tenants never mix) and the key "socket.io":
//
//   - socket.io#<nsp># and socket.io#<nsp>#<room>#: broadcasts, as
//     msgpack [uid, {type: 2, data, nsp}, {rooms, except, flags}], the
//     room channel when exactly one room is targeted. The server
//     subscribes with the pattern socket.io#<nsp>#*, its glob characters
//     escaped, so a namespace named with * ? [ ] matches only its own
//     channels; the namespace named in the packet is checked too.
//   - socket.io-request#<nsp>#: requests (JSON, or msgpack for broadcasts
//     with acknowledgements and binary data): join, leave, disconnect,
//     fetch sockets, all rooms, server-side emit, broadcast with acks.
//   - socket.io-response#<nsp># (and socket.io-response#<nsp>#<uid>#
//     with PublishOnSpecificResponseChannel): the answers.
//
// With Config.Sharded, the messages are the ClusterAdapter's
// {uid, nsp, type, data} (JSON, or msgpack when they carry binary) on
// socket.io#<nsp># and each server's socket.io#<nsp>#<uid>#, plus, in the
// dynamic subscription modes, one channel per local room,
// socket.io#<nsp>#<room>#, subscribed while the room has local members.
// That protocol has no all-rooms request (AllRooms returns the local rooms
// and ErrUnsupported) and no emitter.
//
// ServerCount is PUBSUB NUMSUB of the request channel (SHARDNUMSUB of the
// main channel when sharded). Subscriptions are
// shared by the server's namespaces through reference counts: the first
// adapter of a namespace subscribes, the last Close unsubscribes, so a
// dynamic namespace that retires leaves no subscription behind.
//
// # Failures
//
// Redis is a failure boundary. A broadcast reaches the local sockets before
// anything is published, and publishing goes through a bounded queue that a
// single goroutine pipelines to Redis: while Redis is away, what does not
// fit, fails, or waits longer than Config.RequestTimeout is counted in
// Stats.Lost and forgotten, never buffered without bound nor delivered
// late. The subscription connection reconnects with a backoff
// capped by Config.MaxBackoff and subscribes every live namespace again; a
// silent connection is pinged. Requests to other servers end within
// Config.RequestTimeout and return what came with an error wrapping
// ErrTimeout. Channel messages over Config.MaxMessageSize, malformed, or
// not events are dropped, counted in Stats.Dropped and logged.
//
// New fails when Redis does not answer at start-up: running alone while
// believing to be in a cluster is worse than not starting. A server that
// wants to start anyway can fall back to the in-memory adapter itself.
//
// # Differences from the JS adapter
//
// Join, leave and disconnect apply locally at once and are published for
// the other servers (the JS adapter waits for its own echo). msgpack dates
// (timestamp extension) in messages from Node are not supported: such a
// message is dropped. With a Redis Cluster, ServerCount asks one node
// only. Creating a namespace waits (while Redis is up, at most 2 s) for
// Redis to confirm its subscriptions, so that the new server counts at
// once; a room channel of the sharded dynamic modes is subscribed
// asynchronously, as in the JS adapter.
package redisadapter
