package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Handshake errors returned by CheckRequest. A server should answer ErrBadVersion with
// 426 Upgrade Required and "Sec-WebSocket-Version: 13" (RFC 6455 section 4.4), the others
// with 400.
var (
	ErrBadMethod  = errors.New("websocket: handshake method is not GET")
	ErrBadVersion = errors.New("websocket: unsupported Sec-WebSocket-Version (want 13)")
	ErrBadKey     = errors.New("websocket: Sec-WebSocket-Key is not the base64 of 16 bytes")
)

const (
	acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

	// maxHeaderScan caps the bytes of one header (all its lines) that IsUpgrade and
	// NegotiateDeflate look at; beyond it the header is treated as absent/unmatched.
	maxHeaderScan = 4096
	maxExtOffers  = 16 // extensions considered in Sec-WebSocket-Extensions
	maxExtParams  = 8  // parameters kept per extension; more refuses that extension

	deflateName     = "permessage-deflate"
	deflateResponse = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	// Answer to an offer that carried server_max_window_bits=15: RFC 7692 section 7.1.2.1
	// accepts such an offer only by echoing the parameter.
	deflateResponseSMWB = deflateResponse + "; server_max_window_bits=15"
)

// IsUpgrade reports whether r asks for a WebSocket upgrade: the Upgrade header has the
// token "websocket" and Connection has the token "upgrade" (case-insensitive,
// comma-separated lists, at most 4 KB of each header examined).
func IsUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header["Upgrade"], "websocket") &&
		headerHasToken(r.Header["Connection"], "upgrade")
}

// headerHasToken reports whether the comma-separated lists in values contain token
// (ASCII case-insensitive). Work is bounded by maxHeaderScan bytes.
func headerHasToken(values []string, token string) bool {
	budget := maxHeaderScan
	for _, v := range values {
		if len(v) > budget {
			break // never match inside a truncated value
		}
		budget -= len(v)
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(trimOWS(elem), token) {
				return true
			}
		}
	}
	return false
}

func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// CheckRequest validates a server-side handshake: method GET, Sec-WebSocket-Version "13",
// and exactly one Sec-WebSocket-Key that is the base64 of exactly 16 bytes. It returns the
// key. It does not check the Upgrade/Connection headers (see IsUpgrade) or the Origin.
func CheckRequest(r *http.Request) (key string, err error) {
	if r.Method != http.MethodGet {
		return "", ErrBadMethod
	}
	if v := r.Header["Sec-Websocket-Version"]; len(v) != 1 || trimOWS(v[0]) != "13" {
		return "", ErrBadVersion
	}
	keys := r.Header["Sec-Websocket-Key"]
	if len(keys) != 1 {
		return "", ErrBadKey
	}
	key = trimOWS(keys[0])
	if !validKey(key) {
		return "", ErrBadKey
	}
	return key, nil
}

func validKey(key string) bool {
	// 16 bytes encode to 22 base64 characters plus "==".
	if len(key) != 24 {
		return false
	}
	var buf [18]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(key))
	return err == nil && n == 16
}

// AcceptKey computes Sec-WebSocket-Accept for key.
func AcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(acceptGUID))
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(h.Sum(sum[:0]))
}

// AppendResponse appends a complete "HTTP/1.1 101 Switching Protocols" response: Upgrade,
// Connection, Sec-WebSocket-Accept, Sec-WebSocket-Extensions (if extensions != ""), every
// header in extra, and the final blank line.
//
// Headers of extra are written in sorted key order. Values containing a control character
// other than HTAB (CR, LF, NUL, ...) are dropped, as are keys that are not valid header
// names and keys that would duplicate the four headers this function writes itself.
// An extensions value containing control characters is dropped as well.
func AppendResponse(dst []byte, key, extensions string, extra http.Header) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = append(dst, AcceptKey(key)...)
	dst = append(dst, "\r\n"...)
	if extensions != "" && validHeaderValue(extensions) {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, extensions...)
		dst = append(dst, "\r\n"...)
	}
	if len(extra) > 0 {
		var arr [16]string
		keys := arr[:0]
		for k := range extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !validHeaderName(k) || reservedResponseHeader(k) {
				continue
			}
			for _, v := range extra[k] {
				if !validHeaderValue(v) {
					continue
				}
				dst = append(dst, k...)
				dst = append(dst, ": "...)
				dst = append(dst, v...)
				dst = append(dst, "\r\n"...)
			}
		}
	}
	return append(dst, "\r\n"...)
}

func reservedResponseHeader(k string) bool {
	return strings.EqualFold(k, "Upgrade") || strings.EqualFold(k, "Connection") ||
		strings.EqualFold(k, "Sec-WebSocket-Accept") || strings.EqualFold(k, "Sec-WebSocket-Extensions")
}

// validHeaderValue rejects control characters other than HTAB (this covers CR/LF
// injection and NUL).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7F {
			return false
		}
	}
	return true
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isTokenChar(k[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is an RFC 7230 tchar.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ---- Sec-WebSocket-Extensions parsing ----

type extParam struct {
	name, value string
	hasValue    bool
}

type extension struct {
	name     string
	params   [maxExtParams]extParam
	n        int
	overflow bool // more than maxExtParams parameters
}

// scanExtension parses one element of an extension list starting at s[i]:
//
//	extension = token *( OWS ";" OWS token [ OWS "=" OWS ( token / quoted-string ) ] )
//
// followed by OWS and either "," or the end of s. It returns the index after the ","
// (or len(s)). An empty list element yields e.name == "". ok is false on a syntax error;
// the rest of s must then be ignored because element boundaries are no longer reliable.
// Every byte is looked at a bounded number of times, so the cost is linear in len(s).
func scanExtension(s string, i int, e *extension) (next int, ok bool) {
	*e = extension{}
	i = skipOWS(s, i)
	if i == len(s) || s[i] == ',' {
		if i < len(s) {
			i++
		}
		return i, true
	}
	e.name, i = scanToken(s, i)
	if e.name == "" {
		return i, false
	}
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			return i, true
		}
		switch s[i] {
		case ',':
			return i + 1, true
		case ';':
		default:
			return i, false
		}
		i = skipOWS(s, i+1)
		var p extParam
		p.name, i = scanToken(s, i)
		if p.name == "" {
			return i, false
		}
		i = skipOWS(s, i)
		if i < len(s) && s[i] == '=' {
			i = skipOWS(s, i+1)
			p.hasValue = true
			if i < len(s) && s[i] == '"' {
				p.value, i, ok = scanQuoted(s, i)
				if !ok {
					return i, false
				}
			} else {
				p.value, i = scanToken(s, i)
			}
			if p.value == "" {
				return i, false
			}
		}
		if e.n == maxExtParams {
			e.overflow = true
		} else {
			e.params[e.n] = p
			e.n++
		}
	}
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func scanToken(s string, i int) (string, int) {
	start := i
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[start:i], i
}

// scanQuoted scans a quoted-string starting at s[i] == '"' and returns its unescaped
// content. Linear: each byte is visited once; an unterminated string fails at the end of s.
func scanQuoted(s string, i int) (string, int, bool) {
	i++ // opening quote
	start := i
	escaped := false
	for i < len(s) {
		switch c := s[i]; {
		case c == '"':
			v := s[start:i]
			if escaped {
				v = unescapeQuoted(v)
			}
			return v, i + 1, true
		case c == '\\':
			escaped = true
			i += 2
			continue
		case c < 0x20 && c != '\t', c == 0x7F:
			return "", i, false
		}
		i++
	}
	return "", len(s), false
}

func unescapeQuoted(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// NegotiateDeflate inspects Sec-WebSocket-Extensions (all header lines, in order) for a
// permessage-deflate offer the server can accept and returns the response value:
// "permessage-deflate; server_no_context_takeover; client_no_context_takeover", plus
// "; server_max_window_bits=15" when the accepted offer carried server_max_window_bits=15
// (RFC 7692 section 7.1.2.1 requires echoing it).
//
// Offers are refused when malformed, with unknown or duplicate parameters, with a value on
// a *_no_context_takeover parameter, with server_max_window_bits other than 15 (Go's
// compress/flate always uses a 32 KB window) or with a window-bits value outside 8..15.
// client_max_window_bits is accepted with or without a value. The first acceptable offer
// wins. Work is bounded: header lines are considered only while their total length stays
// within 4 KB, at most 16 extensions and 8 parameters each are examined, and parsing is a
// single linear pass (no regexps, no backtracking).
func NegotiateDeflate(h http.Header) (response string, ok bool) {
	budget := maxHeaderScan
	offers := 0
	var e extension
	for _, line := range h["Sec-Websocket-Extensions"] {
		if len(line) > budget {
			return "", false
		}
		budget -= len(line)
		for i := 0; i < len(line); {
			next, ok := scanExtension(line, i, &e)
			if !ok {
				break // rest of the line is unreliable; try the next line
			}
			i = next
			if e.name == "" {
				continue
			}
			if offers++; offers > maxExtOffers {
				return "", false
			}
			if strings.EqualFold(e.name, deflateName) {
				if resp, ok := acceptDeflate(&e); ok {
					return resp, true
				}
			}
		}
	}
	return "", false
}

const (
	pServerNoContext = 1 << iota
	pClientNoContext
	pServerMaxWindow
	pClientMaxWindow
)

// acceptDeflate checks one permessage-deflate offer.
func acceptDeflate(e *extension) (string, bool) {
	if e.overflow {
		return "", false
	}
	seen := 0
	for _, p := range e.params[:e.n] {
		var bit int
		switch {
		case strings.EqualFold(p.name, "server_no_context_takeover"):
			bit = pServerNoContext
			if p.hasValue {
				return "", false
			}
		case strings.EqualFold(p.name, "client_no_context_takeover"):
			bit = pClientNoContext
			if p.hasValue {
				return "", false
			}
		case strings.EqualFold(p.name, "server_max_window_bits"):
			bit = pServerMaxWindow
			if !p.hasValue || windowBits(p.value) != 15 {
				return "", false
			}
		case strings.EqualFold(p.name, "client_max_window_bits"):
			bit = pClientMaxWindow
			if p.hasValue && windowBits(p.value) == 0 {
				return "", false
			}
		default:
			return "", false
		}
		if seen&bit != 0 {
			return "", false
		}
		seen |= bit
	}
	if seen&pServerMaxWindow != 0 {
		return deflateResponseSMWB, true
	}
	return deflateResponse, true
}

// windowBits parses a window-bits value ("8".."15", no leading zero); 0 means invalid.
func windowBits(v string) int {
	switch len(v) {
	case 1:
		if v[0] == '8' || v[0] == '9' {
			return int(v[0] - '0')
		}
	case 2:
		if v[0] == '1' && v[1] >= '0' && v[1] <= '5' {
			return 10 + int(v[1]-'0')
		}
	}
	return 0
}
