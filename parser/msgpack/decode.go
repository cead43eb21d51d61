package msgpack

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dynamicio/dynamicio/parser"
)

// MaxDepth caps the nesting of arrays and maps inside a packet's data (the
// data value itself is level 1). Deeper input is rejected.
const MaxDepth = 100

// maxSafeInteger is Number.MAX_SAFE_INTEGER, the largest ack id accepted.
const maxSafeInteger = 1<<53 - 1

// Decoding errors. Each wraps one of the parser sentinels.
var (
	// ErrTextFrame: the msgpack codec carries every packet in a binary frame.
	ErrTextFrame = fmt.Errorf("%w: parser/msgpack: text frame", parser.ErrInvalidPayload)

	errTruncated = fmt.Errorf("%w: parser/msgpack: truncated or oversized value", parser.ErrInvalidPayload)
	errTrailing  = fmt.Errorf("%w: parser/msgpack: trailing bytes", parser.ErrInvalidPayload)
	errFormat    = fmt.Errorf("%w: parser/msgpack: unsupported format byte", parser.ErrInvalidPayload)
	errExt       = fmt.Errorf("%w: parser/msgpack: unsupported ext type", parser.ErrInvalidPayload)
	errDepth     = fmt.Errorf("%w: parser/msgpack: nesting deeper than %d", parser.ErrInvalidPayload, MaxDepth)
	errUTF8      = fmt.Errorf("%w: parser/msgpack: string is not valid UTF-8", parser.ErrInvalidPayload)
	errKey       = fmt.Errorf("%w: parser/msgpack: map key is not a string or an integer", parser.ErrInvalidPayload)
	errNotMap    = fmt.Errorf("%w: parser/msgpack: packet is not a map", parser.ErrUnknownType)
	errType      = fmt.Errorf("%w: parser/msgpack: invalid packet type", parser.ErrUnknownType)
	errID        = fmt.Errorf("%w: parser/msgpack: invalid packet id", parser.ErrInvalidPayload)
	errLiteralPH = fmt.Errorf("%w: parser/msgpack: literal placeholder object", parser.ErrIllegalAttachment)
)

// NewDecoder returns a decoder for one connection. Each binary frame is one
// whole packet, so the decoder keeps no state between frames.
func (codec) NewDecoder(opts parser.DecoderOptions) parser.Decoder {
	return &decoder{opts: opts.WithDefaults()}
}

type decoder struct{ opts parser.DecoderOptions }

func (d *decoder) Reset() {}

// Add decodes one binary frame. See the package documentation for what is
// accepted.
func (d *decoder) Add(binary bool, data []byte) (*parser.Packet, error) {
	if !binary {
		return nil, ErrTextFrame
	}
	if len(data) == 0 {
		return nil, parser.ErrEmpty
	}
	return Decode(data, d.opts)
}

// Decode decodes one msgpack packet (a whole binary frame). The result does
// not alias data.
func Decode(data []byte, opts parser.DecoderOptions) (*parser.Packet, error) {
	opts = opts.WithDefaults()
	r := reader{b: data}
	n, ok := r.mapHeader()
	if !ok {
		return nil, errNotMap
	}
	if n > r.left()/2 {
		return nil, errTruncated
	}
	// The fields, last occurrence winning, as in a JS object.
	var (
		typeSet, typeOK bool
		typ             uint64
		nsp             []byte
		nspOK           bool
		idKind          byte // 0 absent, 1 valid, 2 invalid
		id              uint64
		shape           dataShape
		t               translator
	)
	t.maxAtt = opts.MaxAttachments
	for range n {
		key, err := r.key(&t.keyBuf)
		if err != nil {
			return nil, err
		}
		switch string(key) {
		case "type":
			typeSet = true
			save := r.off
			if typ, typeOK = r.integer(); !typeOK {
				r.off = save
				if err := r.skip(1); err != nil {
					return nil, err
				}
			}
		case "nsp":
			nsp, nspOK = r.str()
			if !nspOK {
				if err := r.skip(1); err != nil {
					return nil, err
				}
			}
		case "id":
			if r.undefined() {
				idKind, id = 0, 0
				break
			}
			save := r.off
			var ok bool
			if id, ok = r.integer(); ok && id <= maxSafeInteger {
				idKind = 1
				break
			}
			idKind, r.off = 2, save
			if err := r.skip(1); err != nil {
				return nil, err
			}
		case "data":
			t.out, t.atts = t.out[:0], nil
			if shape, err = r.shape(); err != nil {
				return nil, err
			}
			if shape.kind == kUndefined {
				r.off += 3
				break
			}
			if t.out == nil {
				t.out = make([]byte, 0, r.left()+r.left()/2+8)
			}
			if _, err := t.value(&r, 1); err != nil {
				return nil, err
			}
		default:
			if err := r.skip(1); err != nil {
				return nil, err
			}
		}
	}
	if r.left() != 0 {
		return nil, errTrailing
	}

	// Validate in the order of socket.io-msgpack-parser's checkPacket, plus
	// the default parser's payload rules.
	if !typeSet || !typeOK || typ > uint64(parser.ConnectError) {
		return nil, errType
	}
	if !nspOK || len(nsp) == 0 || nsp[0] != '/' || len(nsp) > opts.MaxNamespaceLength || !printable(nsp) {
		return nil, parser.ErrNamespace
	}
	if !shape.valid(parser.Type(typ)) {
		return nil, parser.ErrInvalidPayload
	}
	if idKind == 2 {
		return nil, errID
	}
	p := &parser.Packet{Type: parser.Type(typ), ID: id, HasID: idKind == 1, Attachments: t.atts}
	if string(nsp) == "/" {
		p.Namespace = "/"
	} else {
		p.Namespace = string(nsp)
	}
	if shape.kind != kUndefined {
		p.Data = t.out
	}
	return p, nil
}

// Shapes of a data value.
const (
	kUndefined byte = iota // absent (no key, or notepack 2's undefined)
	kMap
	kArray
	kString
	kOther
)

type dataShape struct {
	kind   byte
	headOK bool // array whose first element is a finite number or a non-reserved string
}

func (s dataShape) valid(t parser.Type) bool {
	switch t {
	case parser.Connect:
		return s.kind == kUndefined || s.kind == kMap
	case parser.Disconnect:
		return s.kind == kUndefined
	case parser.Event:
		return s.kind == kArray && s.headOK
	case parser.Ack:
		return s.kind == kArray
	case parser.ConnectError:
		return s.kind == kString || s.kind == kMap
	}
	return false
}

// reader reads msgpack. Every length is checked against the bytes left
// before anything is allocated or sliced.
type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

// take returns the next n bytes.
func (r *reader) take(n uint64) ([]byte, bool) {
	if n > uint64(r.left()) {
		return nil, false
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, true
}

// uintN reads a big-endian unsigned integer of size bytes.
func (r *reader) uintN(size int) (uint64, bool) {
	s, ok := r.take(uint64(size))
	if !ok {
		return 0, false
	}
	switch size {
	case 1:
		return uint64(s[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(s)), true
	case 4:
		return uint64(binary.BigEndian.Uint32(s)), true
	}
	return binary.BigEndian.Uint64(s), true
}

// mapHeader reads a map header; it consumes nothing if the next value is not
// a map.
func (r *reader) mapHeader() (int, bool) {
	if r.left() == 0 {
		return 0, false
	}
	c := r.b[r.off]
	switch {
	case c&0xf0 == 0x80:
		r.off++
		return int(c & 0x0f), true
	case c == 0xde || c == 0xdf:
		r.off++
		n, ok := r.uintN(2 << (c - 0xde))
		if !ok {
			r.off--
		}
		return count(n), ok
	}
	return 0, false
}

// str reads a string value without checking its encoding; it consumes
// nothing if the next value is not a string.
func (r *reader) str() ([]byte, bool) {
	if r.left() == 0 {
		return nil, false
	}
	save := r.off
	c := r.b[r.off]
	r.off++
	var n uint64
	ok := true
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c >= 0xd9 && c <= 0xdb:
		n, ok = r.uintN(1 << (c - 0xd9))
	default:
		ok = false
	}
	var s []byte
	if ok {
		s, ok = r.take(n)
	}
	if !ok {
		r.off = save
	}
	return s, ok
}

// undefined consumes notepack 2's undefined (fixext 1, type 0) if it is next.
func (r *reader) undefined() bool {
	if r.left() >= 3 && r.b[r.off] == 0xd4 && r.b[r.off+1] == 0 {
		r.off += 3
		return true
	}
	return false
}

// number reads an int or float value; it consumes nothing if the next value
// is not a number. isInt reports an integer format; i holds signed values,
// u non-negative ones.
func (r *reader) number() (f float64, i int64, u uint64, isInt, neg, ok bool) {
	if r.left() == 0 {
		return
	}
	save := r.off
	c := r.b[r.off]
	r.off++
	var v uint64
	switch {
	case c < 0x80:
		return float64(c), 0, uint64(c), true, false, true
	case c >= 0xe0:
		i = int64(int8(c))
		return float64(i), i, 0, true, true, true
	case c >= 0xcc && c <= 0xcf:
		if v, ok = r.uintN(1 << (c - 0xcc)); ok {
			return float64(v), 0, v, true, false, true
		}
	case c >= 0xd0 && c <= 0xd3:
		size := 1 << (c - 0xd0)
		if v, ok = r.uintN(size); ok {
			shift := 64 - 8*size
			i = int64(v<<shift) >> shift
			if i >= 0 {
				return float64(i), 0, uint64(i), true, false, true
			}
			return float64(i), i, 0, true, true, true
		}
	case c == 0xca:
		if v, ok = r.uintN(4); ok {
			return float64(math.Float32frombits(uint32(v))), 0, 0, false, false, true
		}
	case c == 0xcb:
		if v, ok = r.uintN(8); ok {
			return math.Float64frombits(v), 0, 0, false, false, true
		}
	}
	r.off = save
	return 0, 0, 0, false, false, false
}

// integer reads a number that is a non-negative integer (in any int or float
// format, as JS Number.isInteger accepts 2.0). On failure the caller rewinds.
func (r *reader) integer() (uint64, bool) {
	f, _, u, isInt, neg, ok := r.number()
	switch {
	case !ok || neg:
		return 0, false
	case isInt:
		return u, true
	case f >= 0 && f == math.Trunc(f) && f <= maxSafeInteger:
		return uint64(f), true
	}
	return 0, false
}

// key reads a map key: a string (its encoding is checked when it is
// written), or an integer, which JS turns into its decimal string. The
// returned slice aliases the input or buf.
func (r *reader) key(buf *[24]byte) ([]byte, error) {
	if s, ok := r.str(); ok {
		return s, nil
	}
	_, i, u, isInt, neg, ok := r.number()
	if !ok || !isInt {
		if r.left() == 0 {
			return nil, errTruncated
		}
		return nil, errKey
	}
	if neg {
		return strconv.AppendInt(buf[:0], i, 10), nil
	}
	return strconv.AppendUint(buf[:0], u, 10), nil
}

// shape classifies the data value ahead without consuming it.
func (r *reader) shape() (dataShape, error) {
	if r.left() == 0 {
		return dataShape{}, errTruncated
	}
	c := r.b[r.off]
	switch {
	case c == 0xd4 && r.left() >= 3 && r.b[r.off+1] == 0:
		return dataShape{kind: kUndefined}, nil
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		return dataShape{kind: kMap}, nil
	case c&0xe0 == 0xa0 || (c >= 0xd9 && c <= 0xdb):
		return dataShape{kind: kString}, nil
	case c&0xf0 == 0x90 || c == 0xdc || c == 0xdd:
	default:
		return dataShape{kind: kOther}, nil
	}
	s := dataShape{kind: kArray}
	peek := *r
	n, ok := peek.arrayHeader()
	if !ok || n == 0 {
		return s, nil
	}
	if name, ok := peek.str(); ok {
		s.headOK = !parser.ReservedEvents[string(name)]
	} else if f, _, _, _, _, ok := peek.number(); ok {
		s.headOK = !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return s, nil
}

func (r *reader) arrayHeader() (int, bool) {
	if r.left() == 0 {
		return 0, false
	}
	c := r.b[r.off]
	switch {
	case c&0xf0 == 0x90:
		r.off++
		return int(c & 0x0f), true
	case c == 0xdc || c == 0xdd:
		r.off++
		n, ok := r.uintN(2 << (c - 0xdc))
		if !ok {
			r.off--
		}
		return count(n), ok
	}
	return 0, false
}

// skip consumes one value of any kind, checking only its structure (any
// ext type is accepted, strings are not checked), as for members of the
// packet map that the parser ignores.
func (r *reader) skip(depth int) error {
	if r.left() == 0 {
		return errTruncated
	}
	c := r.b[r.off]
	r.off++
	var size uint64
	ok := true
	switch {
	case c < 0x80 || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return nil
	case c&0xf0 == 0x80:
		return r.skipN(int(c&0x0f), 2, depth)
	case c&0xf0 == 0x90:
		return r.skipN(int(c&0x0f), 1, depth)
	case c&0xe0 == 0xa0:
		size = uint64(c & 0x1f)
	case c >= 0xc4 && c <= 0xc6: // bin
		size, ok = r.uintN(1 << (c - 0xc4))
	case c >= 0xc7 && c <= 0xc9: // ext: length, type, data
		size, ok = r.uintN(1 << (c - 0xc7))
		size++
	case c == 0xca:
		size = 4
	case c == 0xcb:
		size = 8
	case c >= 0xcc && c <= 0xcf:
		size = 1 << (c - 0xcc)
	case c >= 0xd0 && c <= 0xd3:
		size = 1 << (c - 0xd0)
	case c >= 0xd4 && c <= 0xd8: // fixext: type, data
		size = 1 + 1<<(c-0xd4)
	case c >= 0xd9 && c <= 0xdb: // str
		size, ok = r.uintN(1 << (c - 0xd9))
	case c == 0xdc || c == 0xdd:
		n, ok := r.uintN(2 << (c - 0xdc))
		if !ok {
			return errTruncated
		}
		return r.skipN(count(n), 1, depth)
	case c == 0xde || c == 0xdf:
		n, ok := r.uintN(2 << (c - 0xde))
		if !ok {
			return errTruncated
		}
		return r.skipN(count(n), 2, depth)
	default: // 0xc1
		return errFormat
	}
	if !ok {
		return errTruncated
	}
	if _, ok := r.take(size); !ok {
		return errTruncated
	}
	return nil
}

// skipN skips n containers entries of per values each.
func (r *reader) skipN(n, per, depth int) error {
	if depth > MaxDepth {
		return errDepth
	}
	if n > r.left()/per {
		return errTruncated
	}
	for range n * per {
		if err := r.skip(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// translator writes a msgpack value as JSON text.
type translator struct {
	out    []byte
	atts   [][]byte
	maxAtt int
	keyBuf [24]byte
}

// value translates one value. It reports true, writing nothing, for
// notepack 2's undefined, which the caller drops (map member, whole data) or
// writes as null (array element).
func (t *translator) value(r *reader, depth int) (undef bool, err error) {
	if r.left() == 0 {
		return false, errTruncated
	}
	c := r.b[r.off]
	switch {
	case c&0xe0 == 0xa0 || (c >= 0xd9 && c <= 0xdb):
		s, ok := r.str()
		if !ok {
			return false, errTruncated
		}
		return false, t.str(s)
	case c < 0x80 || c >= 0xe0 || (c >= 0xca && c <= 0xd3):
		f, i, u, isInt, neg, ok := r.number()
		switch {
		case !ok:
			return false, errTruncated
		case isInt && neg:
			t.out = strconv.AppendInt(t.out, i, 10)
		case isInt:
			t.out = strconv.AppendUint(t.out, u, 10)
		default:
			t.out = appendFloat(t.out, f)
		}
		return false, nil
	case c&0xf0 == 0x90 || c == 0xdc || c == 0xdd:
		n, ok := r.arrayHeader()
		if !ok {
			return false, errTruncated
		}
		return false, t.array(r, n, depth)
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		n, ok := r.mapHeader()
		if !ok {
			return false, errTruncated
		}
		return false, t.object(r, n, depth)
	}
	r.off++
	switch c {
	case 0xc0:
		t.out = append(t.out, "null"...)
	case 0xc2:
		t.out = append(t.out, "false"...)
	case 0xc3:
		t.out = append(t.out, "true"...)
	case 0xc4, 0xc5, 0xc6: // bin: Buffer
		n, ok := r.uintN(1 << (c - 0xc4))
		return false, t.bin(r, n, ok)
	case 0xc7, 0xc8, 0xc9: // ext type 0: notepack's ArrayBuffer
		n, ok := r.uintN(1 << (c - 0xc7))
		if !ok || r.left() == 0 {
			return false, errTruncated
		}
		if r.b[r.off] != 0 {
			return false, errExt
		}
		r.off++
		return false, t.bin(r, n, true)
	case 0xd4: // fixext 1 type 0: undefined
		s, ok := r.take(2)
		if !ok {
			return false, errTruncated
		}
		if s[0] != 0 {
			return false, errExt
		}
		return true, nil
	case 0xd7: // fixext 8 type 0: Date, milliseconds since the epoch
		s, ok := r.take(9)
		if !ok {
			return false, errTruncated
		}
		if s[0] != 0 {
			return false, errExt
		}
		t.out = appendDate(t.out, int64(binary.BigEndian.Uint64(s[1:])))
	case 0xd5, 0xd6, 0xd8:
		return false, errExt
	default:
		return false, errFormat
	}
	return false, nil
}

func (t *translator) array(r *reader, n, depth int) error {
	if depth > MaxDepth {
		return errDepth
	}
	if n > r.left() {
		return errTruncated
	}
	t.out = append(t.out, '[')
	for i := range n {
		if i > 0 {
			t.out = append(t.out, ',')
		}
		undef, err := t.value(r, depth+1)
		if err != nil {
			return err
		}
		if undef {
			t.out = append(t.out, "null"...)
		}
	}
	t.out = append(t.out, ']')
	return nil
}

func (t *translator) object(r *reader, n, depth int) error {
	if depth > MaxDepth {
		return errDepth
	}
	if n > r.left()/2 {
		return errTruncated
	}
	t.out = append(t.out, '{')
	first := true
	for range n {
		mark := len(t.out)
		if !first {
			t.out = append(t.out, ',')
		}
		key, err := r.key(&t.keyBuf)
		if err != nil {
			return err
		}
		if string(key) == "_placeholder" && r.left() > 0 && r.b[r.off] == 0xc3 {
			return errLiteralPH
		}
		if err := t.str(key); err != nil {
			return err
		}
		t.out = append(t.out, ':')
		undef, err := t.value(r, depth+1)
		if err != nil {
			return err
		}
		if undef {
			t.out = t.out[:mark]
			continue
		}
		first = false
	}
	t.out = append(t.out, '}')
	return nil
}

// bin records an attachment of n bytes and writes its placeholder.
func (t *translator) bin(r *reader, n uint64, ok bool) error {
	var s []byte
	if ok {
		s, ok = r.take(n)
	}
	if !ok {
		return errTruncated
	}
	if len(t.atts) >= t.maxAtt {
		return parser.ErrTooManyAttachment
	}
	t.out = append(t.out, `{"_placeholder":true,"num":`...)
	t.out = strconv.AppendInt(t.out, int64(len(t.atts)), 10)
	t.out = append(t.out, '}')
	t.atts = append(t.atts, append([]byte{}, s...))
	return nil
}

const hexDigits = "0123456789abcdef"

// str writes s as a JSON string, escaped like JSON.stringify.
func (t *translator) str(s []byte) error {
	if !utf8.Valid(s) {
		return errUTF8
	}
	t.out = append(t.out, '"')
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		t.out = append(t.out, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			t.out = append(t.out, '\\', c)
		case '\b':
			t.out = append(t.out, '\\', 'b')
		case '\f':
			t.out = append(t.out, '\\', 'f')
		case '\n':
			t.out = append(t.out, '\\', 'n')
		case '\r':
			t.out = append(t.out, '\\', 'r')
		case '\t':
			t.out = append(t.out, '\\', 't')
		default:
			t.out = append(t.out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	t.out = append(t.out, s[start:]...)
	t.out = append(t.out, '"')
	return nil
}

// appendFloat writes f like JSON.stringify: NaN and ±Inf as null, -0 as 0,
// exponent form below 1e-6 and from 1e21.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	// Integral values of the int range are written exactly, like the int
	// formats, so that they read back as the same text (JS would print
	// -2^63 as -9223372036854776000, which is the same number).
	switch {
	case f != math.Trunc(f):
	case f >= 0 && f < 1<<64:
		return strconv.AppendUint(dst, uint64(f), 10) // -0 too
	case f < 0 && f >= -1<<63:
		return strconv.AppendInt(dst, int64(f), 10)
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
	// e-07 → e-7, as JavaScript prints it.
	if n := len(dst); dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
		dst[n-2] = dst[n-1]
		dst = dst[:n-1]
	}
	return dst
}

// maxDateMS is the range of a JS Date; beyond it the Date is invalid and
// JSON.stringify writes null.
const maxDateMS = 8.64e15

// appendDate writes a notepack Date like Date#toJSON: an ISO 8601 string in
// UTC with milliseconds, six-digit signed years outside 0..9999.
func appendDate(dst []byte, ms int64) []byte {
	if ms > maxDateMS || ms < -maxDateMS {
		return append(dst, "null"...)
	}
	tm := time.UnixMilli(ms).UTC()
	dst = append(dst, '"')
	switch y := tm.Year(); {
	case y < 0:
		dst = append(dst, '-')
		dst = appendPadded(dst, -y, 6)
	case y > 9999:
		dst = append(dst, '+')
		dst = appendPadded(dst, y, 6)
	default:
		dst = appendPadded(dst, y, 4)
	}
	dst = append(dst, '-')
	dst = appendPadded(dst, int(tm.Month()), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, tm.Day(), 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, tm.Hour(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, tm.Minute(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, tm.Second(), 2)
	dst = append(dst, '.')
	dst = appendPadded(dst, tm.Nanosecond()/1e6, 3)
	return append(dst, 'Z', '"')
}

func appendPadded(dst []byte, v, width int) []byte {
	var buf [8]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// count converts a declared element count to int without overflow on 32-bit
// platforms; any count this large fails the check against the input length.
func count(n uint64) int { return int(min(n, math.MaxInt32)) }

// printable reports whether a namespace name is valid UTF-8 made of
// printable characters (unicode.IsPrint) other than space: no control or
// invisible characters reach the server's names, logs or status page.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r == ' ' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
