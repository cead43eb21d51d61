// Package adapter defines how a namespace keeps its rooms and reaches its
// sockets, on one server or across a cluster: the Adapter interface, the
// in-memory adapter every server uses by default, and (in adaptertest) the
// conformance suite every adapter must pass. It knows Socket.IO packets
// (package parser) but not transports: sockets are reached through the
// small Socket interface the server implements.
//
// # Semantics
//
// They are those of the official in-memory adapter (socket.io-adapter).
// A socket is registered by its first AddAll (the server then adds it to
// the room named after its id) and forgotten by DelAll; Del leaves one room
// and keeps it registered. A room exists while it has members. Options
// select every socket in any of Rooms, or every registered socket when
// Rooms is empty, minus every socket in any of Except, each socket once.
//
// # The in-memory adapter
//
// [New] (a [Factory]) and [NewWithHooks] return it. Its rooms live in
// sharded maps, each shard with its own lock, so joins and leaves of
// unrelated rooms do not contend. Broadcasts take no lock that joins and
// leaves take: a room is found in a lock-free index and its members are
// read from an immutable snapshot that a join or leave invalidates and the
// next broadcast rebuilds (a broadcast after a change copies the room once;
// a change never copies it). Broadcasting to one room, or to everyone,
// without except rooms allocates nothing; a union of rooms or except rooms
// is deduplicated with a pooled bitmap indexed by a small per-socket slot
// number. Socket.Send is called without any lock held.
//
// [Hooks] report room changes, like the create-room, delete-room,
// join-room and leave-room events of the official adapter, for the Admin
// UI.
package adapter
