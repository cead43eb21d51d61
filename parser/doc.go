// Package parser owns the Socket.IO packet model and its default wire
// format, the JSON text codec of socket.io-parser (protocol v5, and v4 for
// Socket.IO 2 clients, which has the same grammar).
//
// The packet model is [Packet], [Type] and [Frame]; [Codec] and [Decoder] are
// the interfaces a wire format implements. [JSON] is the default codec:
//
//	<type>[<attachments>"-"][<namespace>","][<ack id>][<JSON data>]
//
// followed, for BINARY_EVENT and BINARY_ACK, by one binary Engine.IO message
// per attachment. The msgpack codec (socket.io-msgpack-parser) lives in
// package parser/msgpack.
//
// Packet data stays JSON text: the decoder validates it and copies it, but
// does not build values. The helpers [EventName], [SplitEvent], [SplitArray],
// [AttachmentOf], [ReplacePlaceholders], [Placeholder], [AppendPlaceholder]
// and [ValidEventName] let the server dispatch an event and bind its
// arguments on demand.
//
// The package is pure: no I/O, no goroutines, no global state besides the
// read-only [ReservedEvents] and a fixed-size cache of event names (256
// slots, names of at most 32 bytes) that spares known names an allocation;
// it imports only the standard library. Package
// functions and [JSON] are safe for concurrent use; a [Decoder] is not.
//
// # Untrusted input
//
// A Decoder takes bytes straight from a client. It never panics, runs in time
// linear in its input, copies what it keeps (never more than it was given),
// and resets itself on every error; every error means the connection must be
// closed. On top of the checks of the official decoder it enforces:
//
//   - the attachment count of a binary packet is plain decimal digits in
//     1..MaxAttachments (zero is rejected, CVE-2026-69185);
//   - every placeholder {"_placeholder":true,"num":N} of a binary packet has
//     N, written as a plain non-negative integer, in [0, attachments)
//     (CVE-2022-2421); this is checked as soon as the text part arrives;
//   - the namespace is at most MaxNamespaceLength bytes up to its query
//     ("?…", sent by Socket.IO 2 clients; the query may add up to 8 KiB),
//     all of it printable ASCII other than space (0x21–0x7e);
//   - the ack id is at most 2^53-1, the largest integer a JavaScript peer
//     can represent exactly;
//   - the JSON data is valid (as [encoding/json.Valid] decides; checked in
//     one pass with the depth, fuzzed against it), nested at most 1000
//     levels deep, and of the shape the packet type demands (as upstream;
//     an EVENT may carry no data at all, as upstream accepts).
//
// Event names are compared with [ReservedEvents] after JSON unescaping, so
// "\u0063onnect" is as reserved as "connect".
//
// Protocol reference: https://github.com/socketio/socket.io/tree/main/docs/socket.io-protocol
package parser
