// Package packet is the Engine.IO packet and payload codec for protocol
// versions 4 (engine.io 4+, socket.io-client 3+/4+) and 3 (engine.io-client
// 3.x, socket.io-client 2.x).
//
// It owns exactly the wire grammar of Engine.IO:
//
//   - single packets in string form ("<type digit><data>", "b<base64>" in v4,
//     "b<type digit><base64>" in v3) and in binary form (a raw WebSocket binary
//     frame in v4; a type byte followed by the data in v3);
//   - v4 polling payloads (packets joined by the record separator 0x1e);
//   - v3 polling payloads, both the string form ("<len>:<packet>…", where len
//     counts UTF-16 code units) and the XHR2 binary form.
//
// The entry points are [DecodeText], [DecodeBinary], [AppendText],
// [DecodePayload] and [AppendPayload] for v4, and their V3 counterparts
// ([DecodeTextV3], [DecodeBinaryV3], [DecodePayloadV3], [AppendPayloadV3String],
// [AppendPayloadV3Binary], …) for v3.
//
// The package is pure: it performs no I/O, starts no goroutines, keeps no
// state, and imports only the standard library. It knows nothing of HTTP,
// WebSocket framing, sessions, heartbeats, upgrades or Socket.IO packets; those
// belong to package engineio and to the Socket.IO parser. Every function is
// safe for concurrent use.
//
// # Decoding and untrusted input
//
// Decoders take bytes straight from the network. They never panic, run in time
// linear in the input, and never allocate in proportion to a length the peer
// declares: every declared length is checked against the bytes actually
// present first. The Data of a decoded packet aliases (is a sub-slice of) the
// decoder's input, except when the packet was base64-decoded, so the caller
// must not modify the input while the packets are in use, and must copy Data
// to keep it beyond the life of the input buffer. Aliased Data has its
// capacity clipped to its length, so appending to it never overwrites the
// bytes that follow in the input.
//
// Decoders are deliberately stricter than the Node.js reference
// implementation (engine.io-parser), which accepts almost anything: invalid
// base64 is [ErrBase64] rather than silently skipped characters, and a v3
// length prefix must be plain ASCII decimal digits. Everything a conforming
// client sends is accepted. Text data is passed through as bytes; the codec
// does not validate UTF-8.
//
// Protocol reference: https://github.com/socketio/engine.io-protocol
package packet
