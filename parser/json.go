package parser

import (
	"slices"
	"strconv"
	"strings"
)

// JSON is the default Socket.IO wire format of socket.io-parser: a text
// message per packet, followed by one binary message per attachment. It is
// safe for concurrent use.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

// maxSafeInteger is 2^53-1, the largest ack id a JavaScript peer represents
// exactly (Number.MAX_SAFE_INTEGER).
const maxSafeInteger = 1<<53 - 1

// maxNamespaceQuery caps the query part ("?…") of a namespace, which
// Socket.IO 2 clients append and which may carry a token.
const maxNamespaceQuery = 8 << 10

// Encode returns the text message of p followed by one binary message per
// attachment. An Event or Ack with attachments is sent as BinaryEvent or
// BinaryAck. The binary frames share p.Attachments (no copy); the text frame
// is freshly allocated, in the same allocation as the frame slice when p has
// no attachments and is small.
//
// Encode checks the envelope: a known type, a namespace that is empty, "/"
// or starts with "/" and holds no comma (ErrNamespace), and attachments only
// on Event, Ack and the binary types (ErrIllegalAttachment). It trusts
// p.Data to be JSON of the shape the type requires (see Decoder).
func (jsonCodec) Encode(p *Packet) ([]Frame, error) {
	if p.Type > BinaryAck {
		return nil, ErrUnknownType
	}
	if nsp := p.Namespace; nsp != "" && nsp != "/" && (nsp[0] != '/' || strings.IndexByte(nsp, ',') >= 0) {
		return nil, ErrNamespace
	}
	switch p.Type {
	case Event, Ack:
	case BinaryEvent, BinaryAck:
		if len(p.Attachments) == 0 {
			return nil, ErrIllegalAttachment
		}
	default:
		if len(p.Attachments) > 0 {
			return nil, ErrIllegalAttachment
		}
	}
	n := EncodedLen(p)
	var frames []Frame
	var text []byte
	if len(p.Attachments) == 0 {
		frames, text = allocTextFrame(n)
	} else {
		frames = make([]Frame, 1+len(p.Attachments))
		text = make([]byte, 0, n)
		for i, a := range p.Attachments {
			frames[1+i] = Frame{Binary: true, Data: a}
		}
	}
	frames[0] = Frame{Data: AppendEncode(text, p)}
	return frames, nil
}

// Single allocations for a one-frame encoding: the frame slice and the text
// share one object. Sizes make the objects fill malloc size classes
// (a Frame is 32 bytes on 64-bit platforms).
type (
	frameText48 struct {
		f [1]Frame
		b [48]byte
	}
	frameText96 struct {
		f [1]Frame
		b [96]byte
	}
	frameText224 struct {
		f [1]Frame
		b [224]byte
	}
	frameText480 struct {
		f [1]Frame
		b [480]byte
	}
)

// allocTextFrame returns a one-element frame slice and an empty text buffer
// with capacity exactly n.
func allocTextFrame(n int) ([]Frame, []byte) {
	switch {
	case n <= 48:
		o := new(frameText48)
		return o.f[:], o.b[:0:n]
	case n <= 96:
		o := new(frameText96)
		return o.f[:], o.b[:0:n]
	case n <= 224:
		o := new(frameText224)
		return o.f[:], o.b[:0:n]
	case n <= 480:
		o := new(frameText480)
		return o.f[:], o.b[:0:n]
	}
	return make([]Frame, 1), make([]byte, 0, n)
}

// wireType is the type written on the wire: Event and Ack with attachments
// become BinaryEvent and BinaryAck.
func wireType(p *Packet) Type {
	if len(p.Attachments) > 0 {
		switch p.Type {
		case Event:
			return BinaryEvent
		case Ack:
			return BinaryAck
		}
	}
	return p.Type
}

func decimalLen(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// EncodedLen is the length of the text part of p in the JSON wire format:
// what AppendEncode appends.
func EncodedLen(p *Packet) int {
	n := 1 + len(p.Data)
	if t := wireType(p); t == BinaryEvent || t == BinaryAck {
		n += decimalLen(uint64(len(p.Attachments))) + 1
	}
	if p.Namespace != "" && p.Namespace != "/" {
		n += len(p.Namespace) + 1
	}
	if p.HasID {
		n += decimalLen(p.ID)
	}
	return n
}

// AppendEncode appends the text part of p in the JSON wire format,
//
//	<type>[<len(Attachments)>"-"][<Namespace>","][<ID>][<Data>]
//
// to dst and returns the extended buffer. It grows dst at most once. The
// namespace is written unless it is "" or "/", the id when HasID, the data
// when not nil; Event and Ack with attachments are written as BinaryEvent and
// BinaryAck. Unlike Encode it validates nothing: callers pass packets they
// built.
func AppendEncode(dst []byte, p *Packet) []byte {
	dst = slices.Grow(dst, EncodedLen(p))
	t := wireType(p)
	dst = append(dst, '0'+byte(t))
	if t == BinaryEvent || t == BinaryAck {
		dst = strconv.AppendUint(dst, uint64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	if p.Data != nil {
		dst = append(dst, p.Data...)
	}
	return dst
}

// NewDecoder returns a decoder of the JSON wire format for one connection.
// Zero fields of opts take their defaults.
func (jsonCodec) NewDecoder(opts DecoderOptions) Decoder {
	return &jsonDecoder{opts: opts.withDefaults()}
}

// jsonDecoder reassembles packets; see Decoder.
type jsonDecoder struct {
	opts    DecoderOptions
	pending *Packet // a binary packet waiting for attachments
	need    int     // how many attachments pending declares
}

// Add implements Decoder.Add for the JSON wire format. Text messages are
// decoded as described in the package documentation; a BinaryEvent or
// BinaryAck then waits for exactly its declared number of binary messages
// and is returned, as Event or Ack with Attachments set, with the last one.
// Errors: ErrEmpty, ErrUnknownType, ErrIllegalAttachment,
// ErrTooManyAttachment, ErrNamespace, ErrInvalidPayload,
// ErrUnexpectedText, ErrUnexpectedBinary.
func (d *jsonDecoder) Add(binary bool, data []byte) (*Packet, error) {
	if binary {
		p := d.pending
		if p == nil {
			return nil, ErrUnexpectedBinary
		}
		a := make([]byte, len(data))
		copy(a, data)
		p.Attachments = append(p.Attachments, a)
		if len(p.Attachments) < d.need {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if d.pending != nil {
		d.Reset()
		return nil, ErrUnexpectedText
	}
	p, count, err := decodeText(data, &d.opts)
	if err != nil {
		return nil, err
	}
	if count == 0 {
		return p, nil
	}
	// Not make(…, count): the capacity must not trust a declared length
	// even when MaxAttachments is configured huge.
	p.Attachments = make([][]byte, 0, min(count, DefaultMaxAttachments))
	d.pending, d.need = p, count
	return nil, nil
}

// Reset drops a packet waiting for attachments.
func (d *jsonDecoder) Reset() { d.pending, d.need = nil, 0 }

// decodeText decodes one text message. For a binary packet it returns the
// packet already typed Event or Ack and its declared attachment count.
func decodeText(s []byte, opts *DecoderOptions) (*Packet, int, error) {
	if len(s) == 0 {
		return nil, 0, ErrEmpty
	}
	if s[0] < '0' || s[0] > '0'+byte(BinaryAck) {
		return nil, 0, ErrUnknownType
	}
	t := Type(s[0] - '0')
	i := 1

	count := 0
	if t == BinaryEvent || t == BinaryAck {
		start := i
		for i < len(s) && isDigit(s[i]) {
			if count <= opts.MaxAttachments && count < 1<<30 { // saturate: no overflow, even on 32-bit
				count = count*10 + int(s[i]-'0')
			}
			i++
		}
		if i == start || i == len(s) || s[i] != '-' || count == 0 {
			return nil, 0, ErrIllegalAttachment
		}
		if count > opts.MaxAttachments {
			return nil, 0, ErrTooManyAttachment
		}
		i++
	}

	nsp := "/"
	if i < len(s) && s[i] == '/' {
		start, query := i, -1
		for ; i < len(s) && s[i] != ','; i++ {
			c := s[i]
			if c < 0x21 || c > 0x7e {
				return nil, 0, ErrNamespace
			}
			if c == '?' && query < 0 {
				query = i
			}
		}
		path, q := i-start, 0
		if query >= 0 {
			path, q = query-start, i-query
		}
		if path > opts.MaxNamespaceLength || q > maxNamespaceQuery {
			return nil, 0, ErrNamespace
		}
		if i-start > 1 {
			nsp = string(s[start:i])
		}
		if i < len(s) {
			i++ // the comma
		}
	}

	var id uint64
	hasID := i < len(s) && isDigit(s[i])
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := uint64(s[i] - '0')
		if id > (maxSafeInteger-d)/10 {
			return nil, 0, ErrInvalidPayload
		}
		id = id*10 + d
	}

	var raw []byte
	if i < len(s) {
		raw = s[i:]
		if err := validateData(t, raw, count); err != nil {
			return nil, 0, err
		}
	}

	p := newPacket(len(raw))
	p.Type, p.Namespace, p.ID, p.HasID = t, nsp, id, hasID
	if raw != nil {
		p.Data = append(p.Data, raw...)
	}
	switch t {
	case BinaryEvent:
		p.Type = Event
	case BinaryAck:
		p.Type = Ack
	}
	return p, count, nil
}

// Single allocations for a decoded packet and its data. Sizes make the
// objects fill malloc size classes (a Packet is 88 bytes on 64-bit
// platforms).
type (
	packetData40 struct {
		p Packet
		b [40]byte
	}
	packetData168 struct {
		p Packet
		b [168]byte
	}
	packetData424 struct {
		p Packet
		b [424]byte
	}
)

// newPacket returns a zero packet whose Data is empty (nil when n is 0)
// with capacity exactly n, allocated together when n is small.
func newPacket(n int) *Packet {
	switch {
	case n == 0:
		return new(Packet)
	case n <= 40:
		o := new(packetData40)
		o.p.Data = o.b[:0:n]
		return &o.p
	case n <= 168:
		o := new(packetData168)
		o.p.Data = o.b[:0:n]
		return &o.p
	case n <= 424:
		o := new(packetData424)
		o.p.Data = o.b[:0:n]
		return &o.p
	}
	return &Packet{Data: make([]byte, 0, n)}
}

// validateData checks the data of a packet of wire type t with count
// declared attachments: valid JSON, nested at most maxJSONDepth, of the
// shape t requires, and, for binary types, with valid placeholders.
func validateData(t Type, raw []byte, count int) error {
	if !validJSON(raw, maxJSONDepth) {
		return ErrInvalidPayload
	}
	i := skipSpace(raw, 0) // valid: there is a value
	ok := false
	switch t {
	case Connect:
		ok = raw[i] == '{'
	case ConnectError:
		ok = raw[i] == '{' || raw[i] == '"'
	case Ack, BinaryAck:
		ok = raw[i] == '['
	case Event, BinaryEvent:
		ok = raw[i] == '[' && validFirstArg(raw, skipSpace(raw, i+1))
	}
	if !ok {
		return ErrInvalidPayload
	}
	if count > 0 {
		return walkPlaceholders(raw, count, nil)
	}
	return nil
}

// validFirstArg reports whether the value at raw[i], the first element of
// a valid JSON array, is an event name: a number or a string that is not
// reserved.
func validFirstArg(raw []byte, i int) bool {
	switch c := raw[i]; {
	case c == '-' || isDigit(c):
		return true
	case c != '"':
		return false // ']' (empty array), object, array, true, false, null
	}
	end, esc, _ := skipString(raw, i)
	if !esc {
		return !ReservedEvents[string(raw[i+1:end-1])]
	}
	name, ok := unquote(raw[i:end], true)
	return ok && !ReservedEvents[name]
}
