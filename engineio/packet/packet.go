package packet

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
)

// Type is an Engine.IO packet type.
type Type byte

// Packet types. On the wire a string packet starts with the type's decimal
// digit ('0' for Open); a v3 binary packet starts with the raw value (0 for
// Open).
const (
	Open    Type = iota // "0": server to client handshake
	Close               // "1": the transport can be closed
	Ping                // "2": heartbeat (v4: server to client; "2probe" opens an upgrade)
	Pong                // "3": heartbeat reply ("3probe" answers the probe)
	Message             // "4": application data
	Upgrade             // "5": client to server, completes a transport upgrade
	Noop                // "6": server to client, flushes a pending polling request
)

var typeNames = [...]string{
	Open:    "open",
	Close:   "close",
	Ping:    "ping",
	Pong:    "pong",
	Message: "message",
	Upgrade: "upgrade",
	Noop:    "noop",
}

// String returns the protocol name of t ("open", "close", "ping", "pong",
// "message", "upgrade", "noop"), or "Type(n)" for an unknown value.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Packet is one Engine.IO packet.
//
// Data aliases the decoder's input unless the packet was base64-decoded; its
// capacity is clipped to its length. Data is nil when the packet carries no
// data.
type Packet struct {
	Type Type
	Data []byte
	// Binary reports that Data is binary rather than text. In protocol v4 it
	// is only meaningful for Message; in v3 any type may be binary.
	Binary bool
}

// Errors returned by the decoders. They are returned unwrapped, so callers may
// compare with == as well as errors.Is.
var (
	// ErrEmpty is returned for an empty packet or an empty payload.
	ErrEmpty = errors.New("packet: empty packet or payload")
	// ErrUnknownType is returned when a packet does not start with a known
	// type digit (or 'b' for base64), or a v3 binary packet's type byte is
	// above 6.
	ErrUnknownType = errors.New("packet: unknown packet type")
	// ErrBase64 is returned for invalid base64 data after 'b'.
	ErrBase64 = errors.New("packet: invalid base64 data")
	// ErrTooManyPackets is returned when a payload holds more packets than
	// the caller's cap.
	ErrTooManyPackets = errors.New("packet: too many packets in payload")
	// ErrLength is returned for a v3 payload with a bad, non-numeric or
	// mismatched length prefix, or a truncated binary payload.
	ErrLength = errors.New("packet: invalid length in payload")
)

// recordSeparator joins the packets of a v4 polling payload.
const recordSeparator = 0x1e

var separator = []byte{recordSeparator}

// valid reports whether t is one of the seven protocol types.
func (t Type) valid() bool { return t <= Noop }

// typeFromDigit returns the Type written as the ASCII digit c.
func typeFromDigit(c byte) (Type, bool) {
	if c < '0' || c > '0'+byte(Noop) {
		return 0, false
	}
	return Type(c - '0'), true
}

// tail returns b[i:] with its capacity clipped, or nil if it is empty.
func tail(b []byte, i int) []byte {
	if i >= len(b) {
		return nil
	}
	return b[i:len(b):len(b)]
}

// decodeBase64 decodes standard base64 (RFC 4648 section 4, the alphabet
// Buffer.toString("base64") and every Engine.IO client produce). Like Node's
// Buffer.from(s, "base64") it also accepts unpadded input (but not partial
// padding), non-zero trailing bits and embedded CR/LF (Android's
// Base64.DEFAULT wraps lines); unlike Node, any other character is an error
// instead of being skipped.
func decodeBase64(s []byte) ([]byte, error) {
	if len(s) == 0 {
		return nil, nil
	}
	// RawStdEncoding.DecodedLen(n) >= StdEncoding.DecodedLen(n) for every n.
	dst := make([]byte, base64.RawStdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(dst, s)
	if err != nil {
		if bytes.IndexByte(s, '=') >= 0 {
			return nil, ErrBase64
		}
		n, err = base64.RawStdEncoding.Decode(dst, s)
		if err != nil {
			return nil, ErrBase64
		}
	}
	if n == 0 {
		return nil, nil
	}
	return dst[:n:n], nil
}

// ---- protocol v4 ----

// DecodeText decodes one Engine.IO v4 packet in string form: a WebSocket text
// frame, or one element of a polling payload.
//
// The form is "<type digit><data>", or "b<base64>" for a binary Message (a v4
// binary message never carries a type digit). "b" alone is an empty binary
// Message, as in engine.io-parser. Data aliases b except for base64 packets.
//
// Errors: ErrEmpty for an empty b, ErrUnknownType for any other first byte
// than '0'…'6' or 'b', ErrBase64 for invalid base64.
func DecodeText(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	if b[0] == 'b' {
		data, err := decodeBase64(b[1:])
		if err != nil {
			return Packet{}, err
		}
		return Packet{Type: Message, Data: data, Binary: true}, nil
	}
	t, ok := typeFromDigit(b[0])
	if !ok {
		return Packet{}, ErrUnknownType
	}
	return Packet{Type: t, Data: tail(b, 1)}, nil
}

// DecodeBinary decodes an Engine.IO v4 WebSocket binary frame. It is always a
// binary Message whose Data is b itself (not copied; nil if b is empty).
func DecodeBinary(b []byte) Packet {
	return Packet{Type: Message, Data: tail(b, 0), Binary: true}
}

// AppendText appends the v4 string form of p to dst and returns the extended
// slice: "<digit><data>", or "b" followed by the standard padded base64 of
// Data for a binary Message. The Binary flag of any other type is ignored.
// p.Type must be a valid type.
func AppendText(dst []byte, p Packet) []byte {
	if p.Type == Message && p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// DecodePayload decodes an Engine.IO v4 polling body: packets in string form
// joined by the record separator 0x1e, each decoded with [DecodeText].
//
// Any invalid element (including an empty one, as in "4a\x1e" or
// "4a\x1e\x1e4b") invalidates the whole payload: DecodePayload then returns
// nil and the element's error. An empty body is ErrEmpty. If maxPackets > 0
// and the body holds more than maxPackets elements, DecodePayload returns
// ErrTooManyPackets before decoding anything.
//
// DecodePayload runs in time linear in len(body) and allocates the returned
// slice once (plus one buffer per base64 packet); the Data of text packets
// aliases body.
func DecodePayload(body []byte, maxPackets int) ([]Packet, error) {
	if len(body) == 0 {
		return nil, ErrEmpty
	}
	n := bytes.Count(body, separator) + 1
	if maxPackets > 0 && n > maxPackets {
		return nil, ErrTooManyPackets
	}
	ps := make([]Packet, 0, n)
	for {
		i := bytes.IndexByte(body, recordSeparator)
		elem := body
		if i >= 0 {
			elem = body[:i]
		}
		p, err := DecodeText(elem) // DecodeText clips the capacity of p.Data
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
		if i < 0 {
			return ps, nil
		}
		body = body[i+1:]
	}
}

// AppendPayload appends the v4 polling payload form of ps to dst and returns
// the extended slice: each packet in [AppendText] form, joined by 0x1e.
// Binary messages are always base64 encoded. An empty ps appends nothing
// (which is not a valid payload; a server always has a packet to send).
func AppendPayload(dst []byte, ps []Packet) []byte {
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = AppendText(dst, p)
	}
	return dst
}
