package msgpack

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dynamicio/dynamicio/parser"
)

// Codec is the socket.io-msgpack-parser wire format. It is safe for
// concurrent use; its decoders are not.
var Codec parser.Codec = codec{}

type codec struct{}

// Encoding errors.
var (
	errNilPacket = errors.New("parser/msgpack: nil packet")
	errBadJSON   = fmt.Errorf("%w: parser/msgpack: Data is not valid JSON", parser.ErrInvalidPayload)
	errTooLarge  = fmt.Errorf("%w: parser/msgpack: value too large for msgpack", parser.ErrInvalidPayload)
	errBadPH     = fmt.Errorf("%w: parser/msgpack: placeholder without a valid num", parser.ErrIllegalAttachment)
)

// Encode returns one binary frame holding the msgpack map of p, as
// socket.io-msgpack-parser writes it (see the package documentation).
func (codec) Encode(p *parser.Packet) ([]parser.Frame, error) {
	b, err := AppendPacket(nil, p)
	if err != nil {
		return nil, err
	}
	return []parser.Frame{{Binary: true, Data: b}}, nil
}

// AppendPacket appends the msgpack encoding of p (the Data of the single
// frame Encode returns) to dst. On error it returns dst unchanged.
func AppendPacket(dst []byte, p *parser.Packet) ([]byte, error) {
	if p == nil {
		return dst, errNilPacket
	}
	orig := dst
	t := p.Type
	switch t {
	case parser.BinaryEvent:
		t = parser.Event
	case parser.BinaryAck:
		t = parser.Ack
	}
	if t > parser.BinaryAck {
		return dst, parser.ErrUnknownType
	}
	e := encoderPool.Get().(*encoder)
	defer e.release()
	if p.Data != nil {
		if err := e.tokenize(p.Data); err != nil {
			return dst, err
		}
	}
	if dst == nil {
		n := 24 + len(p.Namespace) + len(p.Data)
		for _, a := range p.Attachments {
			n += 5 + len(a)
		}
		dst = make([]byte, 0, n)
	}
	n := 2
	if p.Data != nil {
		n++
	}
	if p.HasID {
		n++
	}
	dst = append(dst, 0x80|byte(n))
	ackFirst := t == parser.Ack && p.HasID
	if ackFirst {
		dst = append(dst, 0xa2, 'i', 'd')
		dst = appendUint(dst, p.ID)
	}
	dst = append(dst, 0xa4, 't', 'y', 'p', 'e', byte(t))
	if p.Data != nil {
		dst = append(dst, 0xa4, 'd', 'a', 't', 'a')
		var err error
		if dst, err = e.emit(dst, p.Attachments); err != nil {
			return orig, err
		}
	}
	dst = append(dst, 0xa3, 'n', 's', 'p')
	if p.Namespace == "" {
		dst = append(dst, 0xa1, '/')
	} else {
		dst = appendStrHeader(dst, len(p.Namespace))
		dst = append(dst, p.Namespace...)
	}
	if p.HasID && !ackFirst {
		dst = append(dst, 0xa2, 'i', 'd')
		dst = appendUint(dst, p.ID)
	}
	return dst, nil
}

// JSON tokens, in document order (pre-order for containers).
const (
	tObj byte = iota
	tArr
	tStr // escaped strings have n == 1
	tNum
	tTrue
	tFalse
	tNull
)

type token struct {
	kind       byte
	start, end int // text span; for strings without the quotes
	n          int // element count (pairs for objects); escape flag for strings
	next       int // index of the token after this subtree
}

type encoder struct {
	src     []byte
	toks    []token
	stack   []int // open containers while tokenizing
	scratch []byte
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// release returns e to the pool unless it grew large.
func (e *encoder) release() {
	if cap(e.toks) > 4096 || cap(e.stack) > 1024 || cap(e.scratch) > 64<<10 {
		return
	}
	e.src = nil
	encoderPool.Put(e)
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (e *encoder) ws(i int) int {
	for i < len(e.src) && isWS(e.src[i]) {
		i++
	}
	return i
}

// tokenize validates src as one RFC 8259 JSON text and records its tokens. It
// is iterative: nesting depth costs memory, not stack.
func (e *encoder) tokenize(src []byte) error {
	e.src = src
	e.toks = e.toks[:0]
	stack := e.stack[:0]
	defer func() { e.stack = stack[:0] }()
	i := 0
	for {
		// A value is expected at i.
		i = e.ws(i)
		if i >= len(src) {
			return errBadJSON
		}
		idx := len(e.toks)
		switch c := src[i]; c {
		case '{', '[':
			k := tObj
			closer := byte('}')
			if c == '[' {
				k, closer = tArr, ']'
			}
			e.toks = append(e.toks, token{kind: k, start: i})
			i = e.ws(i + 1)
			if i < len(src) && src[i] == closer {
				e.toks[idx].next = len(e.toks)
				i++
				break
			}
			e.toks[idx].n = 1
			stack = append(stack, idx)
			if k == tObj {
				var err error
				if i, err = e.key(i); err != nil {
					return err
				}
			}
			continue
		case '"':
			j, esc, err := e.str(i)
			if err != nil {
				return err
			}
			e.toks = append(e.toks, token{kind: tStr, start: i + 1, end: j - 1, n: esc, next: idx + 1})
			i = j
		case 't', 'f', 'n':
			lit, k := "null", tNull
			if c == 't' {
				lit, k = "true", tTrue
			} else if c == 'f' {
				lit, k = "false", tFalse
			}
			if len(src)-i < len(lit) || string(src[i:i+len(lit)]) != lit {
				return errBadJSON
			}
			e.toks = append(e.toks, token{kind: k, start: i, end: i + len(lit), next: idx + 1})
			i += len(lit)
		default:
			j := scanNumber(src, i)
			if j < 0 {
				return errBadJSON
			}
			e.toks = append(e.toks, token{kind: tNum, start: i, end: j, next: idx + 1})
			i = j
		}
		// A value ended at i: close containers until one continues.
		for {
			i = e.ws(i)
			if len(stack) == 0 {
				if i != len(src) {
					return errBadJSON
				}
				return nil
			}
			if i >= len(src) {
				return errBadJSON
			}
			top := stack[len(stack)-1]
			closer := byte(']')
			if e.toks[top].kind == tObj {
				closer = '}'
			}
			if src[i] == closer {
				e.toks[top].next = len(e.toks)
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			if src[i] != ',' {
				return errBadJSON
			}
			e.toks[top].n++
			i++
			if e.toks[top].kind == tObj {
				var err error
				if i, err = e.key(e.ws(i)); err != nil {
					return err
				}
			}
			break
		}
	}
}

// key reads `"name" :` at i and records the name.
func (e *encoder) key(i int) (int, error) {
	if i >= len(e.src) || e.src[i] != '"' {
		return 0, errBadJSON
	}
	j, esc, err := e.str(i)
	if err != nil {
		return 0, err
	}
	e.toks = append(e.toks, token{kind: tStr, start: i + 1, end: j - 1, n: esc, next: len(e.toks) + 1})
	j = e.ws(j)
	if j >= len(e.src) || e.src[j] != ':' {
		return 0, errBadJSON
	}
	return j + 1, nil
}

// str scans the string starting at the quote at i and returns the index after
// its closing quote, and 1 if it holds escapes.
func (e *encoder) str(i int) (int, int, error) {
	s := e.src
	esc := 0
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c < 0x20:
			return 0, 0, errBadJSON
		case c == '\\':
			esc = 1
			i++
			if i >= len(s) {
				return 0, 0, errBadJSON
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s)-i < 5 {
					return 0, 0, errBadJSON
				}
				for _, h := range s[i+1 : i+5] {
					if hexVal(h) < 0 {
						return 0, 0, errBadJSON
					}
				}
				i += 4
			default:
				return 0, 0, errBadJSON
			}
		}
	}
	return 0, 0, errBadJSON
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// scanNumber returns the end of the JSON number at i, or -1.
func scanNumber(s []byte, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		return j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// emit writes the msgpack form of the tokenized JSON.
func (e *encoder) emit(dst []byte, atts [][]byte) ([]byte, error) {
	for i := 0; i < len(e.toks); {
		t := &e.toks[i]
		switch t.kind {
		case tObj:
			att, ok, err := e.placeholder(i, atts)
			if err != nil {
				return dst, err
			}
			if ok {
				if uint64(len(att)) > math.MaxUint32 {
					return dst, errTooLarge
				}
				dst = appendBinHeader(dst, len(att))
				dst = append(dst, att...)
				i = t.next
				continue
			}
			if uint64(t.n) > math.MaxUint32 {
				return dst, errTooLarge
			}
			dst = appendMapHeader(dst, t.n)
		case tArr:
			if uint64(t.n) > math.MaxUint32 {
				return dst, errTooLarge
			}
			dst = appendArrayHeader(dst, t.n)
		case tStr:
			var err error
			if dst, err = e.appendStr(dst, t); err != nil {
				return dst, err
			}
		case tNum:
			dst = appendNumber(dst, e.src[t.start:t.end])
		case tTrue:
			dst = append(dst, 0xc3)
		case tFalse:
			dst = append(dst, 0xc2)
		case tNull:
			dst = append(dst, 0xc0)
		}
		i++
	}
	return dst, nil
}

// placeholder reports whether the object at token i is a placeholder, like
// socket.io-parser's reconstructPacket: its (last) "_placeholder" member is
// true. Its (last) "num" must then index atts.
func (e *encoder) placeholder(i int, atts [][]byte) ([]byte, bool, error) {
	isPH, num := false, -1
	for j := i + 1; j < e.toks[i].next; {
		k, v := &e.toks[j], &e.toks[j+1]
		switch {
		case e.keyIs(k, "_placeholder"):
			isPH = v.kind == tTrue
		case e.keyIs(k, "num"):
			num = -1
			if v.kind == tNum {
				if f, err := strconv.ParseFloat(string(e.src[v.start:v.end]), 64); err == nil &&
					f >= 0 && f < float64(len(atts)) && f == math.Trunc(f) {
					num = int(f)
				}
			}
		}
		j = v.next
	}
	if !isPH {
		return nil, false, nil
	}
	if num < 0 {
		return nil, false, errBadPH
	}
	return atts[num], true, nil
}

func (e *encoder) keyIs(k *token, name string) bool {
	if k.n == 0 {
		return string(e.src[k.start:k.end]) == name
	}
	e.scratch = unescape(e.scratch[:0], e.src[k.start:k.end])
	return string(e.scratch) == name
}

func (e *encoder) appendStr(dst []byte, t *token) ([]byte, error) {
	s := e.src[t.start:t.end]
	if t.n != 0 || !utf8.Valid(s) {
		e.scratch = unescape(e.scratch[:0], s)
		s = e.scratch
	}
	if uint64(len(s)) > math.MaxUint32 {
		return dst, errTooLarge
	}
	dst = appendStrHeader(dst, len(s))
	return append(dst, s...), nil
}

// unescape appends the UTF-8 text of the JSON string body s (already
// validated). Invalid UTF-8 and lone surrogates become U+FFFD, as in
// encoding/json.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' {
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
						r2 = hex4(s[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						r = dec
					} else {
						r = utf8.RuneError
					}
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // " \ /
				dst = append(dst, s[i+1])
			}
			i += 2
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		dst = utf8.AppendRune(dst, r) // RuneError for invalid bytes
		i += n
	}
	return dst
}

func hex4(s []byte) rune {
	return rune(hexVal(s[0])<<12 | hexVal(s[1])<<8 | hexVal(s[2])<<4 | hexVal(s[3]))
}

// appendNumber writes a validated JSON number like JSON.parse + notepack
// would: integral values in [-2^63, 2^64) in the smallest int form, others
// float64 (±Inf when out of range). Integer literals are exact, not rounded
// to float64.
func appendNumber(dst []byte, s []byte) []byte {
	if v, ok := smallInt(s); ok {
		return appendInt(dst, v)
	}
	str := string(s)
	if i, err := strconv.ParseInt(str, 10, 64); err == nil {
		return appendInt(dst, i)
	}
	if u, err := strconv.ParseUint(str, 10, 64); err == nil {
		return appendUint(dst, u)
	}
	f, _ := strconv.ParseFloat(str, 64) // validated: only range errors, ±Inf
	switch {
	case f != math.Trunc(f) || math.IsInf(f, 0):
	case f >= 0 && f < 1<<64:
		return appendUint(dst, uint64(f))
	case f < 0 && f >= -1<<63:
		return appendInt(dst, int64(f))
	}
	dst = append(dst, 0xcb)
	return be64(dst, math.Float64bits(f))
}

// smallInt parses an integer literal of at most 18 digits.
func smallInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func appendUint(dst []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(dst, byte(v))
	case v < 0x100:
		return append(dst, 0xcc, byte(v))
	case v < 0x10000:
		return append(dst, 0xcd, byte(v>>8), byte(v))
	case v < 0x100000000:
		return append(dst, 0xce, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return be64(append(dst, 0xcf), v)
}

func appendInt(dst []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(dst, uint64(v))
	case v >= -32:
		return append(dst, byte(v))
	case v >= -0x80:
		return append(dst, 0xd0, byte(v))
	case v >= -0x8000:
		return append(dst, 0xd1, byte(v>>8), byte(v))
	case v >= -0x80000000:
		return append(dst, 0xd2, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return be64(append(dst, 0xd3), uint64(v))
}

func be64(dst []byte, v uint64) []byte {
	return append(dst, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
		byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// appendHeader writes the fix form (fixMax entries or fewer) or the 16- or
// 32-bit form of a length-prefixed type.
func appendHeader(dst []byte, n int, fix byte, fixMax int, c16 byte) []byte {
	switch {
	case n <= fixMax:
		return append(dst, fix|byte(n))
	case n < 0x10000:
		return append(dst, c16, byte(n>>8), byte(n))
	}
	return append(dst, c16+1, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func appendMapHeader(dst []byte, n int) []byte   { return appendHeader(dst, n, 0x80, 15, 0xde) }
func appendArrayHeader(dst []byte, n int) []byte { return appendHeader(dst, n, 0x90, 15, 0xdc) }

func appendStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 0x20:
		return append(dst, 0xa0|byte(n))
	case n < 0x100:
		return append(dst, 0xd9, byte(n))
	}
	return appendHeader(dst, n, 0, -1, 0xda)
}

func appendBinHeader(dst []byte, n int) []byte {
	if n < 0x100 {
		return append(dst, 0xc4, byte(n))
	}
	return appendHeader(dst, n, 0, -1, 0xc5)
}
