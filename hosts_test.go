package dynamicio

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"Example.COM", "example.com", true},
		{"example.com:8443", "example.com", true},
		{"example.com.", "example.com", true},
		{"example.com..", "", false},
		{"127.0.0.1:3000", "127.0.0.1", true},
		{"[::1]:3000", "::1", true},
		{"[::1]", "::1", true},
		{"a b", "", false},
		{"a/x", "", false},
		{"a#x", "", false},
		{"a%2e", "", false},
		{"é.example", "", false},
		{"-bad.example", "", false},
		{"", "", false},
		{strings.Repeat("a", 64) + ".com", "", false},
	}
	for _, tt := range tests {
		if got, ok := normalizeHost(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("normalizeHost(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestVirtualHosts(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Config{
		MainHost: ExactHost("main.test"),
		HostFunc: func(r *http.Request) string {
			h, ok := normalizeHost(r.Host)
			if !ok {
				return ""
			}
			return strings.TrimPrefix(h, "www.") // www.main.test is main.test
		},
	})
	seen := make(chan string, 8)
	for _, full := range []string{"/chat", "//other.test/chat"} {
		ns := srv.Of(full)
		ns.OnConnection(func(s *Socket) {
			seen <- s.Namespace().FullName()
			s.Emit("where", ns.Name(), ns.Host(), ns.FullName())
		})
	}

	main := dialHost(t, url, "WWW.Main.Test:443")
	main.connect("/chat")
	main.expect(`2/chat,["where","/chat","","/chat"]`)
	if got := <-seen; got != "/chat" {
		t.Errorf("main host landed in %q", got)
	}

	other := dialHost(t, url, "other.test")
	other.connect("/chat")
	other.expect(`2/chat,["where","/chat","other.test","//other.test/chat"]`)
	if got := <-seen; got != "//other.test/chat" {
		t.Errorf("other host landed in %q", got)
	}

	// Broadcasts stay within their host.
	srv.Of("/chat").Emit("main only")
	main.expect(`2/chat,["main only"]`)
	srv.Of("//other.test/chat").Emit("other only")
	other.expect(`2/chat,["other only"]`)

	// No client reaches another host's namespace by naming it.
	main.send("0//other.test/chat,")
	main.expect(`4//other.test/chat,{"message":"Invalid namespace"}`)
	other.send("0//main.test/chat,")
	other.expect(`4//main.test/chat,{"message":"Invalid namespace"}`)
	// A host without namespaces of its own has nothing to connect to.
	third := dialHost(t, url, "third.test")
	third.send("0/chat,")
	third.expect(`4/chat,{"message":"Invalid namespace"}`)
}

func TestInvalidHostRefused(t *testing.T) {
	t.Parallel()
	_, url := newTestServer(t, &Config{MainHost: NoMainHost})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, _, _, err := websocket.Dial(ctx, url, websocket.DialConfig{Header: http.Header{"Host": {"bad_host!"}}})
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("dial with an invalid host: %v, want 400", err)
	}
}
