package engineio

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// JSONP polling: the transport old browsers used through <script> tags,
// chosen by a "j" query parameter (socket.io-client 2.x's forceJSONP). A
// poll answers ___eio[<j>]("<payload as a JavaScript string>"); a POST
// carries the payload as the form field d, with newlines escaped.

// jsonpIndex returns the digits of the j parameter and whether it is there.
func jsonpIndex(rawQuery string) (string, bool) {
	present := false
	for kv := range strings.SplitSeq(rawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == "j" {
			present = true
		}
	}
	if !present {
		return "", false
	}
	j := lastQuery(rawQuery, "j")
	digits := make([]byte, 0, len(j))
	for i := 0; i < len(j); i++ {
		if c := j[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	return string(digits), true
}

// appendJSONP wraps a string payload in the JSONP callback. The payload is
// written as JSON.stringify would, with U+2028 and U+2029 escaped too: they
// end a line in JavaScript but not in JSON.
func appendJSONP(dst []byte, index string, payload []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, "___eio["...)
	dst = append(dst, index...)
	dst = append(dst, `]("`...)
	for i := 0; i < len(payload); {
		c := payload[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(payload[i:])
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xf])
			} else {
				dst = append(dst, payload[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				dst = append(dst, c)
			}
		}
		i++
	}
	return append(dst, `");`...)
}

// jsonpData extracts the payload of a JSONP POST body: the single form field
// d, with the client's newline escaping undone (\n is a newline, \\n is \n).
func jsonpData(body []byte) ([]byte, bool) {
	form, err := url.ParseQuery(string(body))
	if err != nil || len(form["d"]) != 1 {
		return nil, false
	}
	d := form["d"][0]
	var b strings.Builder
	b.Grow(len(d))
	for i := 0; i < len(d); i++ {
		switch {
		case strings.HasPrefix(d[i:], `\\n`):
			b.WriteString(`\n`)
			i += 2
		case strings.HasPrefix(d[i:], `\n`):
			b.WriteByte('\n')
			i++
		default:
			b.WriteByte(d[i])
		}
	}
	return []byte(b.String()), true
}
