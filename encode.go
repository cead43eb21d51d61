package dynamicio

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"

	"github.com/dynamicio/dynamicio/engineio"
	"github.com/dynamicio/dynamicio/parser"
)

// appendArgs appends args to dst as JSON array elements (with a leading
// comma unless first).
func appendArgs(dst []byte, atts [][]byte, first bool, args []any) ([]byte, [][]byte, error) {
	for _, a := range args {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		var err error
		if dst, atts, err = appendValue(dst, atts, a, 0); err != nil {
			return dst, atts, err
		}
	}
	return dst, atts, nil
}

// maxValueDepth bounds the nesting appendValue walks itself.
const maxValueDepth = 100

// appendValue appends v as JSON. A []byte travels as a binary attachment,
// at the top level or inside map[string]any and []any values (what
// Args.Value returns): its place holds a placeholder and the bytes join
// atts, as the official client and server do with Buffers. Anything else is
// encoded by encoding/json (where a []byte field is base64 text).
func appendValue(dst []byte, atts [][]byte, v any, depth int) ([]byte, [][]byte, error) {
	if depth > maxValueDepth {
		return dst, atts, errTooDeep
	}
	var err error
	switch v := v.(type) {
	case []byte:
		dst = parser.AppendPlaceholder(dst, len(atts))
		atts = append(atts, v)
	case json.RawMessage:
		if v == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, v...)
		}
	case string:
		if !jsonSafe(v) {
			return marshalInto(dst, atts, v)
		}
		dst = strconv.AppendQuote(dst, v) // the common case, without json.Marshal's allocations
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, atts, err = appendValue(dst, atts, e, depth+1); err != nil {
				return dst, atts, err
			}
		}
		dst = append(dst, ']')
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v)) // encoding/json's order
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, atts, err = marshalInto(dst, atts, k); err != nil {
				return dst, atts, err
			}
			dst = append(dst, ':')
			if dst, atts, err = appendValue(dst, atts, v[k], depth+1); err != nil {
				return dst, atts, err
			}
		}
		dst = append(dst, '}')
	default:
		return marshalInto(dst, atts, v)
	}
	return dst, atts, nil
}

func marshalInto(dst []byte, atts [][]byte, v any) ([]byte, [][]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return dst, atts, err
	}
	return append(dst, b...), atts, nil
}

var errTooDeep = errors.New("dynamicio: argument nested too deeply")

// jsonSafe reports whether strconv.Quote of s is also valid JSON with the
// same meaning: printable ASCII without the characters Go and JSON escape
// differently.
func jsonSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// eventPacket builds the packet of an event emitted to a namespace.
func eventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	if !parser.ValidEventName(event) {
		return nil, ErrReservedEvent
	}
	data := make([]byte, 0, 32+len(event))
	data = append(data, '[')
	data, atts, err := appendArgs(data, nil, true, []any{event})
	if err != nil {
		return nil, err
	}
	data, atts, err = appendArgs(data, atts, false, args)
	if err != nil {
		return nil, err
	}
	data = append(data, ']')
	return &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}, nil
}

// argsSizeHint guesses the encoded size of args from those whose size is
// plain, so the buffer of an echo is allocated once.
func argsSizeHint(args []any) int {
	n := 0
	for _, a := range args {
		switch a := a.(type) {
		case json.RawMessage:
			n += len(a) + 1
		case string:
			n += len(a) + 3
		}
	}
	return n
}

// writeAck sends the acknowledgement of event id in namespace nsp. In the
// JSON format, without binary arguments, the arguments are encoded right
// after the packet's header, in the buffer that goes to the wire.
func (c *client) writeAck(nsp string, id uint64, args []any) error {
	p := parser.Packet{Type: parser.Ack, Namespace: nsp, ID: id, HasID: true}
	size := 32 + argsSizeHint(args)
	inPlace := c.plainJSON()
	var buf []byte
	if inPlace {
		buf = wireBuf(&p, size)
	} else {
		buf = make([]byte, 0, size)
	}
	dataAt := len(buf)
	buf = append(buf, '[')
	buf, atts, err := appendArgs(buf, nil, true, args)
	if err != nil {
		return err
	}
	buf = append(buf, ']')
	if inPlace && len(atts) == 0 {
		return c.conn.WriteMessage(engineio.NewTextMessageAt(buf, true))
	}
	full := p // p stays on the stack: only this rare path keeps a packet
	full.Data, full.Attachments = buf[dataAt:], atts
	return c.write(&full, false)
}
