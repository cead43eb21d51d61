package packet

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// Engine.IO protocol v3 (engine.io-client 3.x, socket.io-client 2.x). The
// reference is the engine.io-parser 2.2.x code kept in the engine.io server as
// lib/parser-v3.

// maxLengthDigits caps the digits of a v3 length prefix. Together with the
// rule that a length may not exceed the bytes left in the body, it keeps
// hostile prefixes from overflowing or costing more than the body's size.
const maxLengthDigits = 16

// binaryLengthEnd terminates the length digits of a v3 binary payload record.
const binaryLengthEnd = 0xFF

// DecodeTextV3 decodes one Engine.IO v3 packet in string form:
// "<type digit><data>", or "b<type digit><base64>" for a binary packet of
// that type (Binary is then true). Data aliases b except for base64 packets.
//
// Errors: ErrEmpty for an empty b, ErrUnknownType for a missing or unknown
// type digit, ErrBase64 for invalid base64.
func DecodeTextV3(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	if b[0] == 'b' {
		// engine.io-parser 2.x yields an undefined type here; a packet with
		// no type is useless, so it is an error.
		if len(b) < 2 {
			return Packet{}, ErrUnknownType
		}
		t, ok := typeFromDigit(b[1])
		if !ok {
			return Packet{}, ErrUnknownType
		}
		data, err := decodeBase64(b[2:])
		if err != nil {
			return Packet{}, err
		}
		return Packet{Type: t, Data: data, Binary: true}, nil
	}
	t, ok := typeFromDigit(b[0])
	if !ok {
		return Packet{}, ErrUnknownType
	}
	return Packet{Type: t, Data: tail(b, 1)}, nil
}

// DecodeBinaryV3 decodes an Engine.IO v3 packet in binary form (a WebSocket
// binary frame, or a binary element of a binary polling payload): the first
// byte is the type value 0…6 (a raw byte, not an ASCII digit) and the rest is
// the data. Binary is true and Data aliases b.
//
// Errors: ErrEmpty for an empty b, ErrUnknownType for a type byte above 6.
func DecodeBinaryV3(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	t := Type(b[0])
	if !t.valid() {
		return Packet{}, ErrUnknownType
	}
	return Packet{Type: t, Data: tail(b, 1), Binary: true}, nil
}

// AppendTextV3 appends the v3 string form of p to dst and returns the
// extended slice: "<digit><data>", or for a binary packet "b<digit>" followed
// by the standard padded base64 of Data. p.Type must be a valid type.
func AppendTextV3(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b', '0'+byte(p.Type))
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// AppendBinaryV3 appends the v3 binary form of p to dst and returns the
// extended slice: one byte holding the type value, then Data.
func AppendBinaryV3(dst []byte, p Packet) []byte {
	dst = append(dst, byte(p.Type))
	return append(dst, p.Data...)
}

// DecodePayloadV3 decodes an Engine.IO v3 polling body.
//
// If binaryBody is true (the request's Content-Type was
// application/octet-stream) the body is in the XHR2 binary form: per packet a
// header byte, 0 for a string packet or 1 for a binary one; the decimal digits
// of the packet's length in bytes, one byte (value 0…9) per digit; the byte
// 0xFF; then the packet. String packets (UTF-8) are decoded with
// [DecodeTextV3], binary ones with [DecodeBinaryV3].
//
// Otherwise the body is in string form, "<len>:<packet><len>:<packet>…",
// where len is the length of the packet in UTF-16 code units, as JavaScript
// counts string length (one unit per rune below U+10000, two above; each byte
// of invalid UTF-8 counts as one unit, as if it were U+FFFD). Each packet is
// decoded with [DecodeTextV3]. Records of length zero are skipped, so "0:" (an
// empty packet list) decodes to no packets and no error.
//
// Any error invalidates the whole payload: DecodePayloadV3 returns nil and
// the error (ErrLength for bad framing, or the packet decoder's error). An
// empty body is ErrEmpty. If maxPackets > 0 and the body holds more than
// maxPackets packets, DecodePayloadV3 returns ErrTooManyPackets before
// decoding any packet. A length may not exceed the bytes remaining in the
// body, so hostile prefixes cannot overflow or make it allocate.
//
// DecodePayloadV3 runs in time linear in len(body) and allocates the returned
// slice once (plus one buffer per base64 packet); other Data aliases body.
func DecodePayloadV3(body []byte, binaryBody bool, maxPackets int) ([]Packet, error) {
	if len(body) == 0 {
		return nil, ErrEmpty
	}
	if binaryBody {
		return decodePayloadV3Binary(body, maxPackets)
	}
	return decodePayloadV3String(body, maxPackets)
}

func decodePayloadV3String(body []byte, maxPackets int) ([]Packet, error) {
	// First pass: check the framing and count the packets, so that the cap
	// is enforced before anything is decoded and the slice is sized once.
	n := 0
	for rest := body; len(rest) > 0; {
		var pkt []byte
		var err error
		pkt, rest, err = cutV3String(rest)
		if err != nil {
			return nil, err
		}
		if len(pkt) > 0 {
			n++
			if maxPackets > 0 && n > maxPackets {
				return nil, ErrTooManyPackets
			}
		}
	}
	ps := make([]Packet, 0, n)
	for rest := body; len(rest) > 0; {
		var pkt []byte
		pkt, rest, _ = cutV3String(rest) // framing checked above
		if len(pkt) == 0 {
			continue
		}
		p, err := DecodeTextV3(pkt)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// cutV3String splits the first "<len>:<packet>" record off the non-empty s.
// pkt has its capacity clipped.
func cutV3String(s []byte) (pkt, rest []byte, err error) {
	n, i := 0, 0
	for ; i < len(s) && s[i] != ':'; i++ {
		c := s[i]
		if c < '0' || c > '9' || i == maxLengthDigits {
			return nil, nil, ErrLength
		}
		n = n*10 + int(c-'0')
	}
	if i == 0 || i == len(s) { // no digits, or no ':'
		return nil, nil, ErrLength
	}
	s = s[i+1:]
	if n > len(s) { // every UTF-16 unit takes at least one byte
		return nil, nil, ErrLength
	}
	end := utf16Prefix(s, n)
	if end < 0 {
		return nil, nil, ErrLength
	}
	return s[:end:end], s[end:], nil
}

// utf16Prefix returns the length in bytes of the prefix of s that is exactly
// units UTF-16 code units long, or -1 if s is shorter or a rune needing a
// surrogate pair straddles the boundary.
func utf16Prefix(s []byte, units int) int {
	i := 0
	for units > 0 {
		if i >= len(s) {
			return -1
		}
		if c := s[i]; c < utf8.RuneSelf {
			i++
			units--
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		i += size
		if r >= 0x10000 {
			units -= 2
		} else {
			units-- // includes utf8.RuneError for each invalid byte (size 1)
		}
	}
	if units < 0 {
		return -1
	}
	return i
}

// utf16Len returns the length of s in UTF-16 code units, counting each byte
// of invalid UTF-8 as one unit (consistent with utf16Prefix).
func utf16Len(s []byte) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			n++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		i += size
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func decodePayloadV3Binary(body []byte, maxPackets int) ([]Packet, error) {
	n := 0
	for rest := body; len(rest) > 0; {
		var err error
		_, _, rest, err = cutV3Binary(rest)
		if err != nil {
			return nil, err
		}
		n++
		if maxPackets > 0 && n > maxPackets {
			return nil, ErrTooManyPackets
		}
	}
	ps := make([]Packet, 0, n)
	for rest := body; len(rest) > 0; {
		var isString bool
		var pkt []byte
		isString, pkt, rest, _ = cutV3Binary(rest) // framing checked above
		var p Packet
		var err error
		if isString {
			p, err = DecodeTextV3(pkt)
		} else {
			p, err = DecodeBinaryV3(pkt)
		}
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// cutV3Binary splits the first record of a v3 binary payload off the
// non-empty s. pkt has its capacity clipped.
func cutV3Binary(s []byte) (isString bool, pkt, rest []byte, err error) {
	switch s[0] {
	case 0:
		isString = true
	case 1:
	default:
		return false, nil, nil, ErrLength
	}
	n, i := 0, 1
	for ; i < len(s) && s[i] != binaryLengthEnd; i++ {
		d := s[i]
		if d > 9 || i > maxLengthDigits {
			return false, nil, nil, ErrLength
		}
		n = n*10 + int(d)
	}
	if i == 1 || i == len(s) { // no digits, or no terminator
		return false, nil, nil, ErrLength
	}
	s = s[i+1:]
	if n > len(s) { // truncated
		return false, nil, nil, ErrLength
	}
	return isString, s[:n:n], s[n:], nil
}

// AppendPayloadV3String appends the v3 string payload form of ps to dst and
// returns the extended slice: "<len>:<packet>" per packet, len counting UTF-16
// code units, with binary packets in "b<digit><base64>" form. An empty ps
// encodes as "0:". Text Data should be valid UTF-8: a client counts invalid
// bytes the way its UTF-8 decoder replaces them, which may differ.
//
// The server uses this form when no packet is binary or the client cannot
// receive binary (the b64 query parameter).
func AppendPayloadV3String(dst []byte, ps []Packet) []byte {
	if len(ps) == 0 {
		return append(dst, '0', ':')
	}
	for _, p := range ps {
		var units int
		if p.Binary {
			units = 2 + base64.StdEncoding.EncodedLen(len(p.Data))
		} else {
			units = 1 + utf16Len(p.Data)
		}
		dst = strconv.AppendInt(dst, int64(units), 10)
		dst = append(dst, ':')
		dst = AppendTextV3(dst, p)
	}
	return dst
}

// AppendPayloadV3Binary appends the v3 XHR2 binary payload form of ps to dst
// and returns the extended slice (see [DecodePayloadV3]): text packets as
// string records in "<digit><data>" form, binary packets as binary records in
// [AppendBinaryV3] form. An empty ps appends nothing.
//
// The server uses this form when the client supports binary and
// [PayloadV3NeedsBinary] reports true; the response's Content-Type is then
// application/octet-stream.
func AppendPayloadV3Binary(dst []byte, ps []Packet) []byte {
	for _, p := range ps {
		if p.Binary {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
		dst = appendLengthDigits(dst, 1+len(p.Data))
		dst = append(dst, binaryLengthEnd)
		if p.Binary {
			dst = AppendBinaryV3(dst, p)
		} else {
			dst = AppendTextV3(dst, p)
		}
	}
	return dst
}

// appendLengthDigits appends n as one byte per decimal digit, each holding
// the digit's value 0…9.
func appendLengthDigits(dst []byte, n int) []byte {
	start := len(dst)
	dst = strconv.AppendInt(dst, int64(n), 10)
	for i := start; i < len(dst); i++ {
		dst[i] -= '0'
	}
	return dst
}

// PayloadV3NeedsBinary reports whether any packet of ps is binary, so that a
// server picks the binary payload form for a client that supports it.
func PayloadV3NeedsBinary(ps []Packet) bool {
	for _, p := range ps {
		if p.Binary {
			return true
		}
	}
	return false
}
