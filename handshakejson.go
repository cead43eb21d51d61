package dynamicio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// handshakeJSON is the handshake as the official server serializes it
// (socket.handshake minus sessionStore), the form cluster adapters carry
// between servers, Node's and ours.
type handshakeJSON struct {
	Headers map[string]any  `json:"headers"`
	Time    string          `json:"time"`
	Address string          `json:"address"`
	XDomain bool            `json:"xdomain"`
	Secure  bool            `json:"secure"`
	Issued  int64           `json:"issued"`
	URL     string          `json:"url"`
	Query   map[string]any  `json:"query"`
	Auth    json.RawMessage `json:"auth"`
}

// jsDateLayout is JavaScript's Date.prototype.toString, which Node uses for
// handshake.time.
const jsDateLayout = "Mon Jan 02 2006 15:04:05 GMT-0700 (MST)"

// MarshalJSON writes the handshake in the official server's form: header
// names in lower case with values joined by ", " (set-cookie stays a
// list), the time as a JavaScript date string plus issued in milliseconds,
// and each query parameter as a string (a list when repeated).
func (h Handshake) MarshalJSON() ([]byte, error) {
	j := handshakeJSON{
		Headers: make(map[string]any, len(h.Header)),
		Time:    h.Time.Format(jsDateLayout),
		Address: h.Address, XDomain: h.XDomain, Secure: h.Secure,
		Issued: h.Time.UnixMilli(),
		URL:    h.URL,
		Query:  make(map[string]any, len(h.Query)),
		Auth:   h.Auth,
	}
	for k, v := range h.Header {
		k = strings.ToLower(k)
		if k == "set-cookie" {
			j.Headers[k] = v
		} else {
			j.Headers[k] = strings.Join(v, ", ")
		}
	}
	for k, v := range h.Query {
		if len(v) == 1 {
			j.Query[k] = v[0]
		} else {
			j.Query[k] = v
		}
	}
	if len(j.Auth) == 0 {
		j.Auth = json.RawMessage("{}")
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the official server's form (see MarshalJSON), as
// another server of the cluster sends it. Values of unexpected types are
// skipped.
func (h *Handshake) UnmarshalJSON(b []byte) error {
	var j handshakeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = Handshake{Address: j.Address, XDomain: j.XDomain, Secure: j.Secure, URL: j.URL, Auth: j.Auth,
		Header: make(http.Header, len(j.Headers)), Query: make(url.Values, len(j.Query))}
	if j.Issued != 0 {
		h.Time = time.UnixMilli(j.Issued)
	}
	add := func(into map[string][]string, canon func(string) string, k string, v any) {
		switch v := v.(type) {
		case string:
			into[canon(k)] = append(into[canon(k)], v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					into[canon(k)] = append(into[canon(k)], s)
				}
			}
		}
	}
	for k, v := range j.Headers {
		add(h.Header, http.CanonicalHeaderKey, k, v)
	}
	for k, v := range j.Query {
		add(h.Query, func(s string) string { return s }, k, v)
	}
	return nil
}
