package parser

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Lightweight, iterative scanning of JSON text. The decoder validates the
// data first (validJSON), so these functions mostly see valid JSON; they
// must still never panic nor loop on arbitrary input, because the exported
// helpers accept any bytes.

// maxJSONDepth caps the nesting of arrays and objects in packet data.
const maxJSONDepth = 1000

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString scans the string that starts with the quote at b[i]. It returns
// the index just past the closing quote, whether the string contains a
// backslash escape, and false if it is unterminated.
func skipString(b []byte, i int) (end int, escaped, ok bool) {
	i++
	j := bytes.IndexByte(b[i:], '"')
	if j < 0 {
		return len(b), false, false
	}
	k := bytes.IndexByte(b[i:i+j], '\\')
	if k < 0 {
		return i + j + 1, false, true // fast path: no escapes
	}
	for i += k; i < len(b); {
		switch b[i] {
		case '\\':
			i += 2
			continue
		case '"':
			return i + 1, true, true
		}
		i++
	}
	return len(b), true, false
}

// isDelim reports whether c ends a JSON literal or number.
func isDelim(c byte) bool {
	switch c {
	case ',', ']', '}', ':', '[', '{', '"', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// skipValue returns the index just past the JSON value that starts at b[i]
// (a non-whitespace byte). It balances brackets and skips strings but does
// not validate literals or numbers; false means the value is truncated or
// absent.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		end, _, ok := skipString(b, i)
		return end, ok
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, _, ok := skipString(b, i)
				if !ok {
					return len(b), false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return len(b), false
	case '}', ']', ',', ':':
		return i, false
	}
	j := i
	for j < len(b) && !isDelim(b[j]) {
		j++
	}
	return j, j > i
}

// unquote returns the value of the JSON string literal raw (quotes
// included). escaped is what skipString reported for it. Strings without
// escapes in valid UTF-8 are converted directly; the rest go through
// encoding/json, which also maps invalid UTF-8 to U+FFFD as json.Unmarshal
// does for every other string the application reads.
func unquote(raw []byte, escaped bool) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	if inner := raw[1 : len(raw)-1]; !escaped && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// Keys a placeholder object is made of.
const (
	keyOther byte = iota
	keyPlaceholder
	keyNum
)

// classifyKey tells whether the JSON string raw (a member name, quotes
// included) is "_placeholder", "num" or something else, after unescaping,
// as JavaScript's JSON.parse would see it.
func classifyKey(raw []byte, escaped bool) byte {
	name := raw
	if escaped {
		// "_placeholder" escaped char by char is 2+12*6 bytes; longer keys
		// cannot unescape to either name.
		if len(raw) > 2+12*6 {
			return keyOther
		}
		s, ok := unquote(raw, true)
		if !ok {
			return keyOther
		}
		name = []byte(s)
	} else if len(raw) >= 2 {
		name = raw[1 : len(raw)-1]
	}
	switch string(name) {
	case "_placeholder":
		return keyPlaceholder
	case "num":
		return keyNum
	}
	return keyOther
}

// parseIndex parses an attachment index: a JSON number written as a plain
// non-negative integer (no sign, fraction, exponent or leading zero), below
// count.
func parseIndex(d []byte, count int) (int, bool) {
	if len(d) == 0 || len(d) > 9 || (d[0] == '0' && len(d) > 1) {
		return 0, false
	}
	n := 0
	for _, c := range d {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n < count
}

// span is a placeholder object found in JSON text: b[start:end] refers to
// attachment num.
type span struct{ start, end, num int }

// frame is the scanning state of one open array or object.
type frame struct {
	start   int
	obj     bool
	wantKey bool // the next string in obj is a member name
	key     byte // the member whose value comes next
	ph      bool // the last "_placeholder" member is the literal true
	// numStart and numEnd delimit the raw value of the last "num"
	// member; numStart is -1 when there is none or it is not a scalar.
	numStart, numEnd int
}

// value records the member value b[s:e] (s < 0: an array or object).
func (f *frame) value(b []byte, s, e int) {
	switch f.key {
	case keyPlaceholder:
		f.ph = s >= 0 && string(b[s:e]) == "true"
	case keyNum:
		f.numStart, f.numEnd = s, e
	}
	f.key = keyOther
}

// walkPlaceholders scans JSON text b, checks that it nests at most
// maxJSONDepth deep and that every placeholder object in it (an object
// whose last "_placeholder" member is true, as JavaScript sees it) refers to
// an attachment in [0, count). When spans is not nil it collects the
// outermost placeholders, in order. Errors are ErrInvalidPayload (too deep
// or malformed) and ErrIllegalAttachment.
func walkPlaceholders(b []byte, count int, spans *[]span) error {
	var buf [16]frame
	st := buf[:0]
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case ' ', '\t', '\n', '\r', ':':
			i++
		case ',':
			if n := len(st); n > 0 && st[n-1].obj {
				st[n-1].wantKey = true
			}
			i++
		case '{', '[':
			if n := len(st); n > 0 {
				st[n-1].value(b, -1, -1)
			}
			if len(st) >= maxJSONDepth {
				return ErrInvalidPayload
			}
			st = append(st, frame{start: i, obj: c == '{', wantKey: c == '{', numStart: -1})
			i++
		case '}', ']':
			n := len(st) - 1
			if n < 0 {
				return ErrInvalidPayload
			}
			f := st[n]
			st = st[:n]
			i++
			if !f.obj || !f.ph {
				continue
			}
			if f.numStart < 0 {
				return ErrIllegalAttachment
			}
			num, ok := parseIndex(b[f.numStart:f.numEnd], count)
			if !ok {
				return ErrIllegalAttachment
			}
			if spans != nil {
				s := *spans
				for len(s) > 0 && s[len(s)-1].start > f.start {
					s = s[:len(s)-1] // nested in this one, which replaces them
				}
				*spans = append(s, span{f.start, i, num})
			}
		case '"':
			end, esc, ok := skipString(b, i)
			if !ok {
				return ErrInvalidPayload
			}
			if n := len(st); n > 0 {
				if f := &st[n-1]; f.obj && f.wantKey {
					f.key = classifyKey(b[i:end], esc)
					f.wantKey = false
				} else {
					f.value(b, i, end)
				}
			}
			i = end
		default:
			j := i + 1
			for j < len(b) && !isDelim(b[j]) {
				j++
			}
			if n := len(st); n > 0 {
				st[n-1].value(b, i, j)
			}
			i = j
		}
	}
	if len(st) != 0 {
		return ErrInvalidPayload
	}
	return nil
}

// placeholderIndex inspects one JSON value. isPH reports whether it is a
// placeholder object (its last "_placeholder" member is the literal true);
// if so, ok reports whether its "num" is a plain integer below count, and
// num is that integer. It agrees with walkPlaceholders on the outermost
// object.
func placeholderIndex(v []byte, count int) (num int, isPH, ok bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return 0, false, false
	}
	i = skipSpace(v, i+1)
	numStart, numEnd := -1, -1
	if i < len(v) && v[i] == '}' {
		i++
	} else {
		for {
			if i >= len(v) || v[i] != '"' {
				return 0, false, false
			}
			end, esc, good := skipString(v, i)
			if !good {
				return 0, false, false
			}
			key := classifyKey(v[i:end], esc)
			i = skipSpace(v, end)
			if i >= len(v) || v[i] != ':' {
				return 0, false, false
			}
			i = skipSpace(v, i+1)
			vend, good := skipValue(v, i)
			if !good {
				return 0, false, false
			}
			switch key {
			case keyPlaceholder:
				isPH = string(v[i:vend]) == "true"
			case keyNum:
				numStart, numEnd = i, vend
				if v[i] == '{' || v[i] == '[' {
					numStart = -1
				}
			}
			i = skipSpace(v, vend)
			if i < len(v) && v[i] == ',' {
				i = skipSpace(v, i+1)
				continue
			}
			if i < len(v) && v[i] == '}' {
				i++
				break
			}
			return 0, false, false
		}
	}
	if skipSpace(v, i) != len(v) || !isPH {
		return 0, false, false
	}
	if numStart < 0 {
		return 0, true, false
	}
	num, ok = parseIndex(v[numStart:numEnd], count)
	return num, true, ok
}
