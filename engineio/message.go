package engineio

import (
	"encoding/base64"
	"sync/atomic"

	"github.com/dynamicio/dynamicio/engineio/packet"
	"github.com/dynamicio/dynamicio/internal/websocket"
)

// MessageType says whether a message is text or binary.
type MessageType int

// Message types.
const (
	Text MessageType = iota
	Binary
)

func (t MessageType) String() string {
	if t == Binary {
		return "binary"
	}
	return "text"
}

// A Message is an Engine.IO message prepared for sending. One Message can be
// written to any number of sessions: each wire form it needs (a WebSocket
// frame for v4, for v3, compressed or not) is built once, on first use, and
// then shared read-only by every recipient. This is what makes a broadcast
// cost one encoding, not one per recipient.
//
// A Message is immutable and safe for concurrent use. Its data must not be
// modified after NewMessage.
type Message struct {
	data     []byte
	binary   bool
	compress bool
	// framed, for a message made with NewTextMessageAt, is its plain text
	// WebSocket frame, built in the room before data.
	framed []byte
	// frames caches the complete WebSocket frames, indexed by frameVariant.
	frames [frameVariants]atomic.Pointer[[]byte]
}

// MessageHeadroom is the room NewTextMessageAt needs before a message's
// data: a WebSocket frame header and the Engine.IO packet type.
const MessageHeadroom = 11

// NewTextMessageAt prepares a Text message of buf[MessageHeadroom:]. The
// message writes its WebSocket framing into the first bytes of buf, so it
// goes out over WebSocket without being copied (NewMessage's data is
// copied into a frame on first use: for a message to one session, that
// copy and its allocations cost more than building the data did). The
// Message keeps buf; do not modify it afterwards.
func NewTextMessageAt(buf []byte, compress bool) *Message {
	if len(buf) < MessageHeadroom {
		panic("engineio: NewTextMessageAt buffer without headroom")
	}
	data := buf[MessageHeadroom:]
	n := 1 + len(data)
	start := MessageHeadroom - 1 - websocket.HeaderLen(n)
	websocket.AppendHeader(buf[start:start], websocket.OpText, false, n)
	buf[MessageHeadroom-1] = '0' + byte(packet.Message)
	return &Message{data: data, compress: compress, framed: buf[start:]}
}

// NewMessage prepares data for sending. The Message keeps data; do not
// modify it afterwards. compress allows HTTP compression of polling
// responses and permessage-deflate when they are enabled.
func NewMessage(typ MessageType, data []byte, compress bool) *Message {
	return &Message{data: data, binary: typ == Binary, compress: compress}
}

// Type returns the message type.
func (m *Message) Type() MessageType {
	if m.binary {
		return Binary
	}
	return Text
}

// Data returns the message payload; it must not be modified.
func (m *Message) Data() []byte { return m.data }

// The wire forms of a message on WebSocket. Text messages have one form
// ("4"+data); binary ones depend on the protocol and on whether the client
// accepts binary frames. Each form exists plain and deflated.
const (
	encText     = iota // text frame "4<data>"
	encBinaryV4        // binary frame <data>
	encBinaryV3        // binary frame 0x04 <data>
	encBase64V4        // text frame "b<base64>"
	encBase64V3        // text frame "b4<base64>"
	encodings
	frameVariants = encodings * 2
)

func (m *Message) encoding(protocol int, supportsBinary bool) int {
	switch {
	case !m.binary:
		return encText
	case supportsBinary && protocol == 3:
		return encBinaryV3
	case supportsBinary:
		return encBinaryV4
	case protocol == 3:
		return encBase64V3
	default:
		return encBase64V4
	}
}

// wsFrame returns the complete WebSocket frame of m for a session, building
// and caching it on first use. Two goroutines may both build it the first
// time; the results are identical, so either may win.
func (m *Message) wsFrame(protocol int, supportsBinary bool, deflate *Compression) []byte {
	enc := m.encoding(protocol, supportsBinary)
	compressed := deflate != nil && m.compress && len(m.data) >= deflate.Threshold
	v := enc * 2
	if compressed {
		v++
	}
	if m.framed != nil && v == encText*2 {
		return m.framed
	}
	if f := m.frames[v].Load(); f != nil {
		return *f
	}
	var f []byte
	if compressed {
		payload := websocket.Compress(nil, m.appendPayload(nil, enc))
		f = websocket.AppendFrame(make([]byte, 0, websocket.HeaderLen(len(payload))+len(payload)), m.opcode(enc), true, payload)
	} else {
		n := m.payloadLen(enc)
		f = websocket.AppendHeader(make([]byte, 0, websocket.HeaderLen(n)+n), m.opcode(enc), false, n)
		f = m.appendPayload(f, enc)
	}
	m.frames[v].Store(&f)
	return f
}

func (m *Message) opcode(enc int) websocket.Opcode {
	if enc == encBinaryV4 || enc == encBinaryV3 {
		return websocket.OpBinary
	}
	return websocket.OpText
}

func (m *Message) payloadLen(enc int) int {
	switch enc {
	case encText:
		return 1 + len(m.data)
	case encBinaryV4:
		return len(m.data)
	case encBinaryV3:
		return 1 + len(m.data)
	case encBase64V4:
		return 1 + base64.StdEncoding.EncodedLen(len(m.data))
	default:
		return 2 + base64.StdEncoding.EncodedLen(len(m.data))
	}
}

func (m *Message) appendPayload(dst []byte, enc int) []byte {
	switch enc {
	case encText:
		dst = append(dst, '4')
		return append(dst, m.data...)
	case encBinaryV4:
		return append(dst, m.data...)
	case encBinaryV3:
		dst = append(dst, byte(packet.Message))
		return append(dst, m.data...)
	case encBase64V4:
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, m.data)
	default:
		dst = append(dst, 'b', '4')
		return base64.StdEncoding.AppendEncode(dst, m.data)
	}
}

// packet returns m as an Engine.IO packet, for polling payloads.
func (m *Message) packet() packet.Packet {
	return packet.Packet{Type: packet.Message, Data: m.data, Binary: m.binary}
}
