// Package msgpack is the socket.io-msgpack-parser wire format (version 3.0.2,
// which encodes with notepack.io 2.2), translated to and from the
// codec-neutral [parser.Packet]. It is pure: no I/O, no goroutines, standard
// library only. [Codec] is safe for concurrent use; each decoder belongs to
// one connection.
//
// # Wire format
//
// Every Socket.IO packet is exactly one binary Engine.IO message: the msgpack
// encoding of the JS packet object, a map with the string keys "type" (0..4),
// "nsp", "data" (optional) and "id" (optional). There are no BINARY_EVENT or
// BINARY_ACK packets and no separate attachments: binaries are msgpack bin
// values inside data.
//
// # Encoding ([Codec].Encode, [AppendPacket])
//
// The bytes are those socket.io-msgpack-parser produces for the packet
// objects of the Node server:
//
//   - key order {type, data, nsp, id}; an ACK with an id is {id, type, data,
//     nsp}, as Socket#ack builds it. data is present only when Data is not
//     nil, id only when HasID. (Node's socket.emit with an ack callback
//     writes {type, data, id, nsp}; order does not matter to any decoder.)
//   - BinaryEvent/BinaryAck are sent as 2/3.
//   - Data (JSON) becomes msgpack: objects → maps with keys in JSON order,
//     arrays, strings (fixstr/str8/16/32, chosen by UTF-8 length), true,
//     false, nil, numbers; each placeholder {"_placeholder":true,"num":i} →
//     bin (bin8/16/32) of Attachments[i]. An object is a placeholder when its
//     last "_placeholder" member is true, as in socket.io-parser; its num must
//     then index Attachments (else [parser.ErrIllegalAttachment]).
//     Attachments no placeholder refers to are dropped.
//   - Numbers follow JSON.parse + notepack: integral values in [-2^63, 2^64)
//     take the smallest of fixint, uint8/16/32/64 (non-negative) or
//     int8/16/32/64 (negative); anything else is a float64 (never float32).
//     So 1.0 is 0x01 and -0 is 0x00.
//
// # Decoding ([Codec].NewDecoder, [Decode])
//
// A text frame is an error ([ErrTextFrame]), so is any trailing byte. The map
// may hold its members in any order; unknown members (the client's
// "options") are skipped after a structural check; a repeated member counts
// once, the last one, as in a JS object. Validation follows
// socket.io-msgpack-parser's checkPacket plus the default parser's payload
// rules:
//
//   - type: an integer 0..4 (5 and 6 do not exist in this format: the Node
//     server rejects them too); integral floats count, as Number.isInteger
//     accepts 2.0. Else [parser.ErrUnknownType].
//   - nsp: a UTF-8 string starting with "/", at most MaxNamespaceLength
//     bytes, of printable characters (unicode.IsPrint) other than space.
//     Else [parser.ErrNamespace].
//   - data: CONNECT absent or map; DISCONNECT absent; EVENT an array whose
//     first element is a string not in [parser.ReservedEvents] or a finite
//     number; ACK an array; CONNECT_ERROR a string or map. Else
//     [parser.ErrInvalidPayload].
//   - id: absent, or an integer 0..2^53-1.
//
// data becomes JSON text the way the Node server would see and re-serialize
// it: maps → objects, strings must be valid UTF-8 and are escaped like
// JSON.stringify; integers are written exactly; floats (float32 too) in
// JavaScript's shortest form, NaN and ±Inf as null, -0 as 0; bin, and
// notepack's ext type 0 with an ext8/16/32 header (how Node's notepack sends
// an ArrayBuffer or typed array), become placeholders numbered depth-first
// and collected into Attachments, at most MaxAttachments
// ([parser.ErrTooManyAttachment]). Map keys must be strings; integer keys,
// which other msgpack clients may send, become their decimal string, as in
// JS; other keys are an error. A literal map with "_placeholder": true is
// rejected ([parser.ErrIllegalAttachment]): it would alias an attachment.
//
// notepack 2.2 extensions: fixext 1 of type 0 (d4 00 xx) is JavaScript's
// undefined. The browser client sends CONNECT as {type: 0, data: undefined,
// nsp} when it has no auth. An undefined data means no data, an undefined map
// member is dropped (JSON.stringify drops it), an undefined array element is
// null, an undefined id is no id. fixext 8 of type 0 is a Date (milliseconds
// since the epoch): it becomes its Date#toJSON string. Every other ext type
// or size is an error.
//
// # Untrusted input
//
// Decoding never panics and runs in time linear in the input. Every length
// read from the input (str, bin, ext, and array and map counts at one and two
// bytes per entry) is checked against the bytes left before anything is
// allocated; the JSON written is at most a small constant times the input.
// Arrays and maps nest at most [MaxDepth] levels deep inside data and inside
// skipped members. The decoded packet does not alias the input.
//
// # Deviations from notepack 2.2
//
// notepack writes garbage for integral numbers of magnitude 2^64 and above
// (1e21 becomes cf 35c9adc5dea00000, 1e300 becomes 0); this package writes
// them as float64. JSON integer literals are encoded exactly, not rounded
// through float64 first, and decoded integers are written exactly, so
// 2^53+1 survives a round trip (JavaScript would print 9007199254740992).
// The Node server would send CONNECT's data.pid as undefined when
// connection state recovery is off; JSON has no undefined, so the key is
// simply absent.
package msgpack
