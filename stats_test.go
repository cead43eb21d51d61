package dynamicio

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/status"
)

// statusServer is a virtual-host server with the status page on: main.test
// is the main host, every other host has namespaces of its own.
func statusServer(t *testing.T, public bool) (*Server, string, string) {
	t.Helper()
	srv, wsURL := newTestServer(t, &Config{MainHost: ExactHost("main.test"), PublicStatus: public, Retirement: time.Hour})
	if err := srv.SetupNamespace("*", func(ns *Namespace, _ []string) bool {
		ns.OnConnection(func(s *Socket) {
			s.On("join", func(_ context.Context, e *Event) error {
				var room string
				if err := e.Bind(0, &room); err != nil {
					return err
				}
				s.Join(room)
				return e.Ack("joined")
			})
		})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return srv, wsURL, httpBase(wsURL)
}

// getStatus GETs url with that Host header (and Accept, unless "").
func getStatus(t *testing.T, url, host, accept string) (*http.Response, string) {
	t.Helper()
	hdr := []string{"Host", host}
	if accept != "" {
		hdr = append(hdr, "Accept", accept)
	}
	resp, body := clientGet(t, http.MethodGet, url, hdr...)
	return resp, string(body)
}

func TestStatusPerHost(t *testing.T) {
	t.Parallel()
	srv, wsURL, base := statusServer(t, true)

	evil := `<img src=x onerror="alert(1)">`
	m := dialHost(t, wsURL, "main.test")
	mainID := m.connect("/chat")
	m.send(`2/chat,1["join",` + strconvQuote(evil) + `]`)
	m.expect(`3/chat,1["joined"]`)

	o := dialHost(t, wsURL, "other.test")
	otherID := o.connect("/chat")
	o.connect("/lobby")
	o.send("1/lobby,") // /lobby is now empty and counts down to retirement
	waitFor(t, "/lobby to count down", func() bool { return !srv.Of("//other.test/lobby").ExpiresAt().IsZero() })

	// The stats API.
	st := srv.Status("other.test")
	if st.Host != "other.test" || st.NamespaceCount != 2 || st.SocketCount != 1 {
		t.Fatalf("Status(other.test) = host %q, %d namespaces, %d sockets; want other.test, 2, 1", st.Host, st.NamespaceCount, st.SocketCount)
	}
	chat, lobby := st.Namespaces[0], st.Namespaces[1]
	if chat.FullName != "//other.test/chat" || lobby.FullName != "//other.test/lobby" {
		t.Fatalf("namespaces = %q, %q", chat.FullName, lobby.FullName)
	}
	if len(chat.Sockets) != 1 || chat.Sockets[0].ID != otherID || chat.Sockets[0].Transport != "websocket" ||
		!strings.HasPrefix(chat.Sockets[0].RemoteAddress, "127.0.0.1:") || chat.ExpiresIn != nil {
		t.Errorf("//other.test/chat = %+v", chat)
	}
	if left := lobby.ExpiresIn; left == nil || time.Duration(*left) <= 59*time.Minute || time.Duration(*left) > time.Hour {
		t.Errorf("//other.test/lobby expires in %v, want just under an hour", left)
	}

	// The page: each host sees its own namespaces only, escaped.
	resp, page := getStatus(t, base+"/socket.io/status", "main.test", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("main host page: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{mainID, "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;", ">/chat<"} {
		if !strings.Contains(page, want) {
			t.Errorf("main host page lacks %q", want)
		}
	}
	for _, leak := range []string{evil, otherID, "other.test", "/lobby"} {
		if strings.Contains(page, leak) {
			t.Errorf("main host page shows %q", leak)
		}
	}
	_, page = getStatus(t, base+"/socket.io/status", "Other.Test:8080", "")
	if !strings.Contains(page, otherID) || strings.Contains(page, mainID) || !strings.Contains(page, "retires in 3,600 s") {
		t.Errorf("other.test page wrong:\n%s", page)
	}

	// JSON, by query or by Accept.
	for _, tc := range []struct{ url, accept string }{
		{base + "/socket.io/status?format=json", ""},
		{base + "/socket.io/status", "application/json"},
	} {
		resp, body := getStatus(t, tc.url, "other.test", tc.accept)
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s Accept %q: Content-Type %q", tc.url, tc.accept, resp.Header.Get("Content-Type"))
		}
		var got status.Snapshot
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Host != "other.test" || got.SocketCount != 1 || len(got.Namespaces) != 2 || got.Namespaces[0].Sockets[0].ID != otherID {
			t.Errorf("JSON status = %s", body)
		}
	}

	// An invalid host gets no status.
	if resp, _ := getStatus(t, base+"/socket.io/status", "bad host", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid host: %s, want 400", resp.Status)
	}
}

// The JSON keeps to the documented schema: every field, lists never null.
func TestStatusJSONSchema(t *testing.T) {
	t.Parallel()
	srv, wsURL, base := statusServer(t, true)
	c := dialHost(t, wsURL, "main.test")
	c.connect("/a")
	srv.Of("/permanent")
	_, body := getStatus(t, base+"/socket.io/status?format=json", "main.test", "")

	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any, want ...string) {
		t.Helper()
		if len(m) != len(want) {
			t.Errorf("object %v has %d keys, want %v", m, len(m), want)
		}
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("object %v lacks %q", m, k)
			}
		}
	}
	keys(doc, "host", "generatedAt", "namespaceCount", "socketCount", "namespaces")
	nsps := doc["namespaces"].([]any)
	if len(nsps) != 3 { // "/", "/a", "/permanent"
		t.Fatalf("%d namespaces: %s", len(nsps), body)
	}
	for _, n := range nsps {
		ns := n.(map[string]any)
		keys(ns, "name", "fullName", "retires", "expiresInSeconds", "socketCount", "sockets", "rooms")
		if _, ok := ns["sockets"].([]any); !ok {
			t.Errorf("sockets of %v is not a list", ns["name"])
		}
		if _, ok := ns["rooms"].([]any); !ok {
			t.Errorf("rooms of %v is not a list", ns["name"])
		}
		if ns["name"] == "/a" {
			s := ns["sockets"].([]any)[0].(map[string]any)
			keys(s, "id", "remoteAddress", "transport", "rooms", "connectedAt")
			if _, ok := s["rooms"].([]any); !ok {
				t.Errorf("socket rooms not a list: %v", s)
			}
		}
		if ns["name"] == "/permanent" && (ns["retires"] != false || ns["expiresInSeconds"] != nil) {
			t.Errorf("/permanent = %v", ns)
		}
	}
}

func TestStatusOffByDefault(t *testing.T) {
	t.Parallel()
	_, _, base := statusServer(t, false)
	resp, body := getStatus(t, base+"/socket.io/status", "main.test", "")
	if resp.StatusCode == http.StatusOK || strings.Contains(body, "namespaces") {
		t.Errorf("status served without PublicStatus: %s %q", resp.Status, body)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
