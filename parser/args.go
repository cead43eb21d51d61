package parser

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"sync/atomic"
	"unicode/utf8"
)

// Helpers to dispatch an event and bind its arguments from the JSON text of
// Packet.Data without decoding everything up front. They expect JSON that a
// Decoder accepted (or that the application produced): they report
// ErrInvalidPayload for input of the wrong shape, and never panic, but they
// do not re-validate every element.

// emptyArray is the rest of an event with no arguments.
var emptyArray = []byte("[]")

// EventName splits the data of an EVENT, a JSON array, into its event name
// and its arguments. The name is the first element: a JSON string, returned
// unescaped, or a JSON number, returned as written ("1", "2.5e3"). rest holds
// the remaining elements as a JSON array, "[]" when there are none; rest must
// not be modified (it may be shared). Errors: ErrInvalidPayload when data is
// not an array or its first element is neither a string nor a number.
//
// EventName does not check ReservedEvents (a Decoder already rejected
// reserved names); see ValidEventName.
func EventName(data []byte) (name string, rest []byte, err error) {
	name, j, err := eventHead(data)
	if err != nil {
		return "", nil, err
	}
	if data[j] == ']' {
		return name, emptyArray[:2:2], nil
	}
	// The elements after the comma, behind a new '['. A JSON array cannot
	// be made from the input without writing into it, so this is the one
	// copy (SplitEvent has none).
	rest = make([]byte, len(data)-j)
	rest[0] = '['
	copy(rest[1:], data[j+1:])
	return name, rest, nil
}

// SplitEvent returns the name of an EVENT's data, as EventName does, and
// appends the other elements of the array to args as SplitArray returns
// them: sub-slices of data, without copies. The server passes room for the
// usual few arguments inside the event it builds, so an event costs no
// allocation for its arguments.
func SplitEvent(data []byte, args [][]byte) (name string, _ [][]byte, err error) {
	name, j, err := eventHead(data)
	if err != nil {
		return "", nil, err
	}
	if data[j] == ']' {
		return name, args, nil
	}
	if args, err = appendElems(args, data, skipSpace(data, j+1)); err != nil {
		return "", nil, err
	}
	return name, args, nil
}

// eventHead reads the first element of an EVENT's data (see EventName) and
// returns it with the index of the ']' or ',' after it. After a ',' the
// data ends with ']'; after a ']', with nothing but spaces.
func eventHead(data []byte) (name string, j int, err error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return "", 0, ErrInvalidPayload
	}
	i = skipSpace(data, i+1)
	if i >= len(data) {
		return "", 0, ErrInvalidPayload
	}
	end, ok := skipValue(data, i)
	if !ok {
		return "", 0, ErrInvalidPayload
	}
	switch c := data[i]; {
	case c == '"':
		_, esc, _ := skipString(data, i)
		if name, ok = eventNameOf(data[i:end], esc); !ok {
			return "", 0, ErrInvalidPayload
		}
	case c == '-' || isDigit(c):
		name = internName(data[i:end])
	default:
		return "", 0, ErrInvalidPayload
	}
	j = skipSpace(data, end)
	if j >= len(data) {
		return "", 0, ErrInvalidPayload
	}
	switch data[j] {
	case ']':
		if skipSpace(data, j+1) != len(data) {
			return "", 0, ErrInvalidPayload
		}
		return name, j, nil
	case ',':
		if k := len(bytes.TrimRight(data, " \t\r\n")); data[k-1] != ']' {
			return "", 0, ErrInvalidPayload // truncated
		}
		return name, j, nil
	}
	return "", 0, ErrInvalidPayload
}

// eventNameOf unquotes the JSON string raw, an event name; plain names come
// from the name cache.
func eventNameOf(raw []byte, escaped bool) (string, bool) {
	if len(raw) >= 2 && !escaped && len(raw)-2 <= maxInternedName {
		if inner := raw[1 : len(raw)-1]; utf8.Valid(inner) {
			return internName(inner), true
		}
	}
	return unquote(raw, escaped)
}

// maxInternedName is the longest event name the name cache holds.
const maxInternedName = 32

// names caches recent event names: an application has a handful, and every
// event of a known name so gets its name without an allocation. A slot
// holds the last name that hashed to it; the cache never grows, so names
// a client makes up only cost the allocation they always did.
var names [256]atomic.Pointer[string]

// internName returns b as a string, from the name cache when it is there.
func internName(b []byte) string {
	if len(b) > maxInternedName {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &names[h%uint32(len(names))]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// SplitArray returns the elements of the JSON array data as sub-slices of
// data (no copies; their capacity is clipped, so appending to one never
// overwrites data), without surrounding whitespace. Errors:
// ErrInvalidPayload when data is not an array.
func SplitArray(data []byte) ([][]byte, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, ErrInvalidPayload
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		if skipSpace(data, i+1) != len(data) {
			return nil, ErrInvalidPayload
		}
		return [][]byte{}, nil
	}
	return appendElems(make([][]byte, 0, 8), data, i)
}

// appendElems appends the elements of a JSON array from index i, the start
// of an element, to its closing ']', which must end data.
func appendElems(elems [][]byte, data []byte, i int) ([][]byte, error) {
	for {
		end, ok := skipValue(data, i)
		if !ok {
			return nil, ErrInvalidPayload
		}
		elems = append(elems, data[i:end:end])
		i = skipSpace(data, end)
		if i >= len(data) {
			return nil, ErrInvalidPayload
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
			continue
		case ']':
			if skipSpace(data, i+1) != len(data) {
				return nil, ErrInvalidPayload
			}
			return elems, nil
		}
		return nil, ErrInvalidPayload
	}
}

// ValidEventName reports whether an application may emit, or receive, an
// event of this name: it is not in ReservedEvents. "error" and "message" are
// valid.
func ValidEventName(name string) bool { return !ReservedEvents[name] }

// AppendPlaceholder appends the placeholder of attachment n,
// {"_placeholder":true,"num":n}, with the key order of the official encoder.
func AppendPlaceholder(dst []byte, n int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '}')
}

// AttachmentOf reports whether the JSON value elem (one argument, say from
// SplitArray) is a placeholder and returns the attachment it refers to. A
// placeholder is an object whose "_placeholder" member is true, compared
// exactly as JavaScript does (member names after unescaping, case-sensitive;
// the last duplicate wins); its "num" must be a plain integer indexing
// attachments. Anything else, including a placeholder with a bad index,
// returns false: a Decoder has already rejected bad indexes in binary
// packets, and a non-binary packet (no attachments) is never reconstructed,
// as upstream.
func AttachmentOf(elem []byte, attachments [][]byte) ([]byte, bool) {
	n, isPH, ok := placeholderIndex(elem, len(attachments))
	if !isPH || !ok {
		return nil, false
	}
	return attachments[n], true
}

// ReplacePlaceholders returns the JSON text data with every placeholder
// replaced by its attachment as a base64 JSON string, which is how
// encoding/json represents a []byte: an argument with binaries nested
// anywhere then unmarshals into a Go value with []byte fields directly.
// Placeholders nested inside a placeholder disappear with it. It returns data
// itself (no copy) when there is nothing to replace, and when attachments is
// empty: a non-binary packet is not reconstructed, as upstream. Errors:
// ErrIllegalAttachment for a placeholder whose index is not a plain integer
// in [0, len(attachments)), ErrInvalidPayload for data nested deeper than
// the decoder accepts or malformed.
func ReplacePlaceholders(data []byte, attachments [][]byte) ([]byte, error) {
	if len(attachments) == 0 {
		return data, nil
	}
	var buf [8]span
	spans := buf[:0]
	if err := walkPlaceholders(data, len(attachments), &spans); err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return data, nil
	}
	n := len(data)
	for _, s := range spans {
		n += base64.StdEncoding.EncodedLen(len(attachments[s.num])) + 2 - (s.end - s.start)
	}
	out := make([]byte, 0, n)
	prev := 0
	for _, s := range spans {
		out = append(out, data[prev:s.start]...)
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, attachments[s.num])
		out = append(out, '"')
		prev = s.end
	}
	return append(out, data[prev:]...), nil
}

// Placeholder is the JSON form of a binary value inside packet data:
// {"_placeholder":true,"num":N} stands for attachment N. Marshalling a
// Placeholder{true, n} produces exactly what AppendPlaceholder does.
//
// Its UnmarshalJSON matches member names exactly, as JavaScript does, and
// not case-insensitively as encoding/json does for struct fields, so that
// a Go binder sees a placeholder exactly when the Decoder checked one: a
// struct of its own with `json:"_placeholder"` tags would also accept
// {"_PLACEHOLDER":true,"NUM":99}, which the Decoder let through as plain
// data. Binders should use this type, AttachmentOf or ReplacePlaceholders,
// and still check Num against the attachments they hold.
type Placeholder struct {
	Placeholder bool `json:"_placeholder"`
	Num         int  `json:"num"`
}

// UnmarshalJSON sets p from a JSON object: Placeholder reports whether it is
// a placeholder and Num is its index (zero otherwise). null leaves p
// unchanged. Errors: ErrIllegalAttachment for a placeholder whose "num" is
// not a plain non-negative integer, ErrInvalidPayload for a value that is not
// an object.
func (p *Placeholder) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	n, isPH, ok := placeholderIndex(b, 1e9)
	switch {
	case isPH && !ok:
		return ErrIllegalAttachment
	case isPH:
		*p = Placeholder{Placeholder: true, Num: n}
		return nil
	}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return ErrInvalidPayload
	}
	*p = Placeholder{}
	return nil
}
