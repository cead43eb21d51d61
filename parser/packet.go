package parser

import "errors"

// Type is a Socket.IO packet type.
type Type byte

// Packet types of protocol v5 (and v4, which has the same grammar).
const (
	Connect      Type = 0
	Disconnect   Type = 1
	Event        Type = 2
	Ack          Type = 3
	ConnectError Type = 4
	BinaryEvent  Type = 5
	BinaryAck    Type = 6
)

func (t Type) String() string {
	switch t {
	case Connect:
		return "CONNECT"
	case Disconnect:
		return "DISCONNECT"
	case Event:
		return "EVENT"
	case Ack:
		return "ACK"
	case ConnectError:
		return "CONNECT_ERROR"
	case BinaryEvent:
		return "BINARY_EVENT"
	case BinaryAck:
		return "BINARY_ACK"
	}
	return "Type(" + string(rune('0'+t)) + ")"
}

// Packet is one Socket.IO packet, in a form independent of the wire codec.
//
// Data is the payload as JSON text, nil when the packet has none. Binary
// values inside it are placeholders {"_placeholder":true,"num":i} that refer
// to Attachments[i]; the JSON codec sends the attachments as separate binary
// Engine.IO messages, the msgpack codec inlines them. A decoded packet of a
// binary type is reported as Event or Ack with its Attachments set, like the
// official decoder; encoders choose the binary type themselves when
// Attachments is not empty.
type Packet struct {
	Type        Type
	Namespace   string // "/" when the wire form has none
	ID          uint64 // ack id, meaningful when HasID
	HasID       bool
	Data        []byte
	Attachments [][]byte
}

// Frame is one Engine.IO message of an encoded packet.
type Frame struct {
	Binary bool
	Data   []byte
}

// Codec is a Socket.IO wire format: the default JSON text format with
// binary attachments, or msgpack (socket.io-msgpack-parser).
type Codec interface {
	// Encode returns the Engine.IO messages that carry p, in order.
	Encode(p *Packet) ([]Frame, error)
	// NewDecoder returns a decoder for one connection.
	NewDecoder(opts DecoderOptions) Decoder
}

// Decoder turns the Engine.IO messages of one connection into packets. It is
// stateful (binary attachments follow their packet) and not safe for
// concurrent use.
type Decoder interface {
	// Add takes one Engine.IO message, which the decoder may not keep: it
	// copies what it needs. It returns the packet it completes, or nil when
	// the packet still waits for attachments. Any error means the
	// connection must be closed; the decoder is then reset.
	Add(binary bool, data []byte) (*Packet, error)
	// Reset drops a packet under reconstruction, if any.
	Reset()
}

// DecoderOptions bound what a decoder accepts.
type DecoderOptions struct {
	// MaxAttachments caps the binary attachments of one packet (default 10,
	// as the official parser since CVE-2026-33151).
	MaxAttachments int
	// MaxNamespaceLength caps the namespace name, in bytes (default 256).
	MaxNamespaceLength int
}

// Defaults of DecoderOptions.
const (
	DefaultMaxAttachments     = 10
	DefaultMaxNamespaceLength = 256
)

func (o DecoderOptions) withDefaults() DecoderOptions {
	if o.MaxAttachments <= 0 {
		o.MaxAttachments = DefaultMaxAttachments
	}
	if o.MaxNamespaceLength <= 0 {
		o.MaxNamespaceLength = DefaultMaxNamespaceLength
	}
	return o
}

// WithDefaults returns o with zero fields set to their defaults.
func (o DecoderOptions) WithDefaults() DecoderOptions { return o.withDefaults() }

// ReservedEvents are event names a client may not send and the server may
// not emit: the official parser rejects them.
var ReservedEvents = map[string]bool{
	"connect":        true,
	"connect_error":  true,
	"disconnect":     true,
	"disconnecting":  true,
	"newListener":    true,
	"removeListener": true,
}

// Decoding errors. Each closes the connection, as in the official server.
var (
	ErrUnknownType       = errors.New("parser: unknown packet type")
	ErrIllegalAttachment = errors.New("parser: illegal attachments")
	ErrTooManyAttachment = errors.New("parser: too many attachments")
	ErrInvalidPayload    = errors.New("parser: invalid payload")
	ErrNamespace         = errors.New("parser: invalid namespace")
	ErrUnexpectedBinary  = errors.New("parser: got binary data when not reconstructing a packet")
	ErrUnexpectedText    = errors.New("parser: got plaintext data when reconstructing a packet")
	ErrEmpty             = errors.New("parser: empty packet")
)
