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
// session would otherwise keep of its request), in the same allocation as
// Host, RemoteAddr and URL; Header, HeaderValue and HeaderFields read them
// on demand.
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

	// header holds the fields of the request's http.Header, one
	// name/value pair after the other: the name as uvarint(i) for
	// commonHeaders[i], or as uvarint(len(commonHeaders)+len(name)) and the
	// name; then uvarint(len(value)) and the value. Lengths, not
	// separators: a value a middleware set may hold any byte.
	header string
}

// commonHeaders are header names (canonical, as net/http keys them) that
// the compact form writes as one byte: those of WebSocket handshakes and of
// browsers' requests.
var commonHeaders = [...]string{
	"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
	"Cache-Control", "Connection", "Content-Length", "Content-Type", "Cookie", "Dnt",
	"Forwarded", "Host", "If-None-Match", "Origin", "Pragma", "Priority", "Referer",
	"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest",
	"Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Websocket-Extensions", "Sec-Websocket-Key",
	"Sec-Websocket-Protocol", "Sec-Websocket-Version", "Te", "Upgrade", "User-Agent", "Via",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Requested-With",
}

var commonHeaderIndex = func() map[string]int {
	m := make(map[string]int, len(commonHeaders))
	for i, k := range commonHeaders {
		m[k] = i
	}
	return m
}()

// newHandshake returns what a session keeps of its handshake request r.
func newHandshake(r *http.Request) Handshake {
	uri := r.RequestURI
	if uri == "" && r.URL != nil {
		uri = r.URL.RequestURI()
	}
	// One allocation: URL, Host, RemoteAddr, then the header fields.
	n := len(uri) + len(r.Host) + len(r.RemoteAddr)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += nameLen(k) + uvarintLen(len(v)) + len(v)
		}
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(uri)
	b.WriteString(r.Host)
	b.WriteString(r.RemoteAddr)
	var tmp [binary.MaxVarintLen64]byte
	for k, vs := range r.Header {
		for _, v := range vs {
			if i, ok := commonHeaderIndex[k]; ok {
				b.Write(binary.AppendUvarint(tmp[:0], uint64(i)))
			} else {
				b.Write(binary.AppendUvarint(tmp[:0], uint64(len(commonHeaders)+len(k))))
				b.WriteString(k)
			}
			b.Write(binary.AppendUvarint(tmp[:0], uint64(len(v))))
			b.WriteString(v)
		}
	}
	all := b.String()
	u, h, a := len(uri), len(uri)+len(r.Host), len(uri)+len(r.Host)+len(r.RemoteAddr)
	return Handshake{
		URL:        all[:u],
		Host:       all[u:h],
		RemoteAddr: all[h:a],
		Secure:     r.TLS != nil,
		Time:       time.Now(),
		header:     all[a:],

		supportsBinary: lastQuery(r.URL.RawQuery, "b64") == "",
	}
}

// nameLen is the length of header name k in the compact form.
func nameLen(k string) int {
	if _, ok := commonHeaderIndex[k]; ok {
		return 1 // fewer than 128 common names
	}
	return uvarintLen(len(commonHeaders)+len(k)) + len(k)
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
			name, rest = cutName(rest)
			value, rest = cutField(rest)
			if !yield(name, value) {
				return
			}
		}
	}
}

// cutName splits a header name off the front of s.
func cutName(s string) (name, rest string) {
	t, w := uvarint(s)
	if w <= 0 {
		return "", "" // cannot happen: newHandshake wrote s
	}
	if t < uint64(len(commonHeaders)) {
		return commonHeaders[t], s[w:]
	}
	n := t - uint64(len(commonHeaders))
	if n > uint64(len(s)-w) {
		return "", ""
	}
	return s[w : w+int(n)], s[w+int(n):]
}

// cutField splits a uvarint-prefixed string off the front of s.
func cutField(s string) (field, rest string) {
	n, w := uvarint(s)
	if w <= 0 || n > uint64(len(s)-w) {
		return "", "" // cannot happen: newHandshake wrote s
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
