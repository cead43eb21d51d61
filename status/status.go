package status

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Snapshot is what one host sees of a server at one moment.
type Snapshot struct {
	Host           string      `json:"host"`
	GeneratedAt    time.Time   `json:"generatedAt"`
	NamespaceCount int         `json:"namespaceCount"`
	SocketCount    int         `json:"socketCount"`
	Namespaces     []Namespace `json:"namespaces"`
}

// Namespace describes one live namespace.
type Namespace struct {
	Name     string `json:"name"`
	FullName string `json:"fullName"`
	// Retires is true for a namespace that is deleted once idle.
	Retires bool `json:"retires"`
	// ExpiresIn is the time left before an empty namespace retires; nil
	// while it has sockets or when it is permanent.
	ExpiresIn   *Seconds `json:"expiresInSeconds"`
	SocketCount int      `json:"socketCount"`
	Sockets     []Socket `json:"sockets"`
	Rooms       []Room   `json:"rooms"`
}

// Socket describes one connected socket.
type Socket struct {
	ID            string    `json:"id"`
	RemoteAddress string    `json:"remoteAddress"`
	Transport     string    `json:"transport"`
	Rooms         []string  `json:"rooms"`
	ConnectedAt   time.Time `json:"connectedAt"`
}

// Room is a named room and the ids of its sockets.
type Room struct {
	Name    string   `json:"name"`
	Sockets []string `json:"sockets"`
}

// Seconds is a duration that JSON encodes as seconds, to the millisecond.
type Seconds time.Duration

// MarshalJSON encodes the duration in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Round(time.Millisecond).Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON decodes seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*s = Seconds(f * float64(time.Second))
	return nil
}

// Source returns the snapshot of the host a request comes from. An error
// refuses the request with 400 (an invalid host, say).
type Source func(r *http.Request) (Snapshot, error)

// Refresh is how often the page updates itself.
const Refresh = 5 * time.Second

// maxListed caps the sockets and room members the page lists per
// namespace, so a namespace with 100,000 sockets stays a page a browser
// can show; the JSON form lists them all.
const maxListed = 200

// Handler serves the status of the requesting host: HTML by default, JSON
// for ?format=json or a request that accepts application/json and not
// text/html. It answers GET and HEAD. It is safe for concurrent use.
func Handler(src Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		snap, err := src(r)
		if err != nil {
			http.Error(w, "400 bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Add("Vary", "Accept")
		var body bytes.Buffer
		if wantsJSON(r) {
			h.Set("Content-Type", "application/json")
			enc := json.NewEncoder(&body)
			enc.SetIndent("", "  ")
			err = enc.Encode(normalize(snap))
		} else {
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", csp)
			err = page.Execute(&body, newView(snap))
		}
		if err != nil {
			http.Error(w, "500 internal server error", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Length", strconv.Itoa(body.Len()))
		if r.Method == http.MethodGet {
			w.Write(body.Bytes())
		}
	})
}

// wantsJSON reports whether r asks for the JSON form.
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "html":
		return false
	}
	var jsonOK, htmlOK bool
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case "application/json":
			jsonOK = true
		case "text/html":
			htmlOK = true
		}
	}
	return jsonOK && !htmlOK
}

// normalize makes every list non-nil, as the schema promises.
func normalize(s Snapshot) Snapshot {
	if s.Namespaces == nil {
		s.Namespaces = []Namespace{}
	}
	for i := range s.Namespaces {
		ns := &s.Namespaces[i]
		if ns.Sockets == nil {
			ns.Sockets = []Socket{}
		}
		if ns.Rooms == nil {
			ns.Rooms = []Room{}
		}
		for j := range ns.Sockets {
			if ns.Sockets[j].Rooms == nil {
				ns.Sockets[j].Rooms = []string{}
			}
		}
		for j := range ns.Rooms {
			if ns.Rooms[j].Sockets == nil {
				ns.Rooms[j].Sockets = []string{}
			}
		}
	}
	return s
}

// csp allows the page its own inline style and script (by hash) and
// fetches of itself, nothing else.
var csp = "default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; script-src 'sha256-" +
	func() string { h := sha256.Sum256([]byte(pageScript)); return base64.StdEncoding.EncodeToString(h[:]) }() + "'"
