package engineio

import (
	"encoding/binary"
	"iter"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// Handshake describes the request that opened a session. The engine keeps
// this much of it, not the *http.Request, so an established session does
// not hold on to the request or net/http's buffers.
//
// The header fields are kept in one compact string rather than an
// http.Header (a map, a slice and a string per field: most of what an idle
// session would otherwise keep of its request); Header, HeaderValue and
// HeaderFields read them on demand.
type Handshake struct {
	Host       string
	RemoteAddr string
	// URL is the request URI of the handshake ("/engine.io/?EIO=4&…").
	URL string
	// Time is when the handshake arrived.
	Time time.Time
	// Secure reports whether the handshake came over TLS.
	Secure bool

	// supportsBinary: the client did not ask for base64 (b64 query
	// parameter), so binary messages may go as binary over polling. (Here
	// rather than in Session, where it would take a word of its own.)
	supportsBinary bool

	// header holds the fields of the request's http.Header, each
	// name/value pair as uvarint(len(name)) name uvarint(len(value)) value.
	// Lengths, not separators: a value a middleware set may hold any byte.
	header string
}

// newHandshake returns what a session keeps of its handshake request r.
func newHandshake(r *http.Request) Handshake {
	h := Handshake{
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		URL:        r.RequestURI,
		Secure:     r.TLS != nil,
		Time:       time.Now(),
		header:     compactHeader(r.Header),

		supportsBinary: lastQuery(r.URL.RawQuery, "b64") == "",
	}
	if h.URL == "" && r.URL != nil {
		h.URL = r.URL.RequestURI()
	}
	return h
}

// compactHeader encodes h in one allocation; see Handshake.header.
func compactHeader(h http.Header) string {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += uvarintLen(len(k)) + len(k) + uvarintLen(len(v)) + len(v)
		}
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n)
	var tmp [binary.MaxVarintLen64]byte
	for k, vs := range h {
		for _, v := range vs {
			b.Write(binary.AppendUvarint(tmp[:0], uint64(len(k))))
			b.WriteString(k)
			b.Write(binary.AppendUvarint(tmp[:0], uint64(len(v))))
			b.WriteString(v)
		}
	}
	return b.String()
}

// uvarintLen is the length of the uvarint encoding of n.
func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// HeaderFields iterates over the header fields of the handshake request,
// one name/value pair per value, names as net/http canonicalised them.
// It allocates nothing.
func (h *Handshake) HeaderFields() iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		rest := h.header
		for rest != "" {
			var name, value string
			name, rest = cutField(rest)
			value, rest = cutField(rest)
			if !yield(name, value) {
				return
			}
		}
	}
}

// cutField splits a uvarint-prefixed string off the front of s.
func cutField(s string) (field, rest string) {
	n, w := uvarint(s)
	if w <= 0 || n > uint64(len(s)-w) {
		return "", "" // cannot happen: compactHeader wrote s
	}
	end := w + int(n)
	return s[w:end], s[end:]
}

// uvarint is binary.Uvarint over a string.
func uvarint(s string) (uint64, int) {
	var x uint64
	var sh uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<sh, i + 1
		}
		x |= uint64(c&0x7f) << sh
		sh += 7
	}
	return 0, 0
}

// HeaderValue returns the first value of the named header field of the
// handshake request, "" if there is none, like http.Header.Get: name is
// canonicalised ("origin" finds "Origin"). It allocates nothing when name
// is already canonical.
func (h *Handshake) HeaderValue(name string) string {
	name = textproto.CanonicalMIMEHeaderKey(name)
	for k, v := range h.HeaderFields() {
		if k == name {
			return v
		}
	}
	return ""
}

// Header returns the header fields of the handshake request as an
// http.Header. It builds a new one on every call, which the caller may
// keep and modify; HeaderValue or HeaderFields read a field without
// building the map.
func (h *Handshake) Header() http.Header {
	hd := http.Header{}
	for k, v := range h.HeaderFields() {
		hd[k] = append(hd[k], v)
	}
	return hd
}

// Query parses the query string of the handshake URL.
func (h *Handshake) Query() url.Values {
	u, err := url.ParseRequestURI(h.URL)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}
