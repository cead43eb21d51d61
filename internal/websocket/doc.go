// Package websocket is the WebSocket codec of the engine: RFC 6455 framing, RFC 7692
// permessage-deflate (without context takeover), server handshake helpers and a small
// client dialer used by tests and the load generator.
//
// What it owns:
//
//   - Frame encoding (AppendFrame, AppendHeader, AppendClose, AppendClientFrame). Frames are
//     plain byte slices, so the engine can encode a message once and share the bytes among
//     many recipients, and hand many queued frames to one writev.
//   - Frame decoding (Reader): reassembly, decompression, UTF-8 and close-payload checks, and
//     every size cap the security review asks for (message size before allocating and during
//     inflation, fragments per message, declared 64-bit lengths). A peer violation is a
//     *ProtocolError carrying the close code to send back.
//   - Handshake helpers (IsUpgrade, CheckRequest, AcceptKey, AppendResponse,
//     NegotiateDeflate), all with bounded work on hostile headers.
//   - Compress and Decompress for RFC 7692 messages, with pooled flate state.
//   - Dial, a client for tests and the load generator.
//
// What it leaves to its caller: connections and their lifetime, goroutines, outbound
// queues, write scheduling, deadlines, timers and heartbeats, Origin policy, and the choice
// of close code to send after an error. Nothing in this package starts a goroutine (Dial
// uses context.AfterFunc only for the duration of the handshake) or writes to a connection
// after the handshake.
//
// Memory: an idle Reader (blocked in Read waiting for the next frame) holds no buffer except
// a 64-byte array inside the Reader. A 4 KB buffer is borrowed from a pool while bytes are
// being parsed and returned as soon as all buffered bytes are consumed and the Reader has
// to block again.
package websocket
