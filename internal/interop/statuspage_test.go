package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio"
	"github.com/dynamicio/dynamicio/engineio"
	"github.com/dynamicio/dynamicio/internal/browsertest"
	"github.com/dynamicio/dynamicio/internal/websocket"
)

// statusPageResult is the JSON line printed by testdata/statuspage.mjs.
type statusPageResult struct {
	OK      bool   `json:"ok"`
	Title   string `json:"title"`
	Heading string `json:"heading"`
	Summary string `json:"summary"`
	Rows    []struct {
		Name   string `json:"name"`
		Text   string `json:"text"`
		Hidden bool   `json:"hidden"`
	} `json:"rows"`
	Sockets            [][]string `json:"sockets"`
	Rooms              [][]string `json:"rooms"`
	VisibleAfterFilter int        `json:"visibleAfterFilter"`
	AfterRefresh       *struct {
		State     string `json:"state"`
		StillOpen bool   `json:"stillOpen"`
		Visible   int    `json:"visible"`
	} `json:"afterRefresh"`
	Images        int      `json:"images"`
	Pwned         bool     `json:"pwned"`
	ConsoleErrors []string `json:"consoleErrors"`
	Error         string   `json:"error"`
}

// connectSocket opens a WebSocket session with the given Host header and
// connects it to nsp with auth; it returns the socket id.
func connectSocket(t *testing.T, base, host, nsp string, auth any) (id string, conn net.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := strings.Replace(base, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
	conn, rd, _, _, err := websocket.Dial(ctx, url, websocket.DialConfig{Header: http.Header{"Host": {host}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	a, _ := json.Marshal(auth)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(websocket.AppendClientFrame(nil, websocket.OpText, false, []byte("40"+nsp+","+string(a)), [4]byte{1, 2, 3, 4})); err != nil {
		t.Fatal(err)
	}
	for {
		op, p, err := rd.Next()
		if err != nil || op == websocket.OpClose {
			t.Fatalf("connecting to %s on %s: %v", nsp, host, err)
		}
		if sid, ok := strings.CutPrefix(string(p), "40"+nsp+`,{"sid":"`); ok {
			conn.SetDeadline(time.Time{})
			return sid[:strings.IndexByte(sid, '"')], conn
		}
	}
}

// TestStatusPageInChromium opens the status page of a running server in
// headless Chromium, for two virtual hosts, and checks what a person sees:
// each host its own namespaces, sockets and rooms; names shown as text
// (markup in a room name neither renders nor runs); a countdown on an
// empty namespace; thousands of namespaces grouped and filterable; and the
// page updating itself without closing what the reader opened.
func TestStatusPageInChromium(t *testing.T) {
	browsertest.Require(t)
	srv := dynamicio.NewServer(&dynamicio.Config{
		MainHost:             dynamicio.ExactHost("main.test"),
		PublicStatus:         true,
		Retirement:           time.Hour,
		MaxNamespacesPerHost: 5000,
		EngineIO:             engineio.Config{PingInterval: time.Minute, PingTimeout: time.Minute},
	})
	var statusHits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		if strings.HasSuffix(r.URL.Path, "/status") {
			statusHits.Add(1) // once served: what changes next, only an update shows
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	if err := srv.SetupNamespace("*", func(ns *dynamicio.Namespace, _ []string) bool {
		ns.Use(func(_ context.Context, s *dynamicio.Socket) error {
			var auth struct{ Rooms []string }
			json.Unmarshal(s.Handshake().Auth, &auth)
			s.Join(auth.Rooms...)
			return nil
		})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	const permanent = 1500
	for i := range permanent {
		srv.Of(fmt.Sprintf("/n-%04d", i))
	}
	port := ts.URL[strings.LastIndexByte(ts.URL, ':'):]

	evil := `<img src=x onerror="window.__pwned=1">`
	a, _ := connectSocket(t, ts.URL, "main.test", "/chat", map[string]any{"rooms": []string{evil, "lobby"}})
	b, _ := connectSocket(t, ts.URL, "main.test", "/chat", map[string]any{"rooms": []string{"lobby"}})
	private, _ := connectSocket(t, ts.URL, "other.test", "/private", struct{}{})
	_, gone := connectSocket(t, ts.URL, "other.test", "/gone", struct{}{})
	gone.Close()

	t.Run("main host", func(t *testing.T) {
		// Once the page has loaded, a third socket arrives; the page must
		// show it by updating itself.
		third := make(chan error, 1)
		go func() {
			deadline := time.Now().Add(40 * time.Second)
			for statusHits.Load() < 1 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, rd, _, _, err := websocket.Dial(ctx, strings.Replace(ts.URL, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket",
				websocket.DialConfig{Header: http.Header{"Host": {"main.test"}}})
			if err != nil {
				third <- err
				return
			}
			t.Cleanup(func() { conn.Close() })
			_, err = conn.Write(websocket.AppendClientFrame(nil, websocket.OpText, false, []byte("40/chat,"), [4]byte{9, 9, 9, 9}))
			if err == nil {
				_, _, err = rd.Next() // the open packet
			}
			third <- err
		}()
		var res statusPageResult
		err := browsertest.Run(t, "statuspage.mjs", map[string]any{
			"url":             "http://main.test" + port + "/socket.io/status",
			"expand":          "/chat",
			"filter":          "chat",
			"waitSocketCount": "3",
		}, &res)
		if err := <-third; err != nil {
			t.Fatalf("third socket: %v", err)
		}
		if err != nil || !res.OK {
			t.Fatalf("page run failed (%v): %s; console errors: %q", err, res.Error, res.ConsoleErrors)
		}
		if res.Title != "dynamicio status — main host" {
			t.Errorf("title %q", res.Title)
		}
		if want := "1,502 namespaces · 2 sockets"; !strings.Contains(res.Summary, want) {
			t.Errorf("summary %q lacks %q", res.Summary, want)
		}
		if len(res.Rows) != permanent+2 {
			t.Errorf("%d namespace rows, want %d", len(res.Rows), permanent+2)
		}
		for _, row := range res.Rows {
			if strings.Contains(row.Text, "private") || strings.Contains(row.Text, "gone") {
				t.Errorf("main host sees %q", row.Text)
			}
		}
		if res.VisibleAfterFilter != 1 {
			t.Errorf("%d rows visible after filtering on \"chat\", want 1", res.VisibleAfterFilter)
		}
		rooms := map[string]string{}
		for _, r := range res.Rooms {
			rooms[r[0]] = r[1] + " " + r[2]
		}
		if got := rooms[evil]; got != "1 "+a {
			t.Errorf("room %q shows %q, want its one member %s (rooms: %q)", evil, got, a, res.Rooms)
		}
		if got := rooms["lobby"]; !strings.HasPrefix(got, "2 ") || !strings.Contains(got, a) || !strings.Contains(got, b) {
			t.Errorf("room lobby shows %q", got)
		}
		if res.Images != 0 || res.Pwned {
			t.Errorf("markup from a room name rendered: %d images, script ran: %v", res.Images, res.Pwned)
		}
		ar := res.AfterRefresh
		if ar == nil || !ar.StillOpen || ar.Visible != 1 || ar.State != "live" {
			t.Errorf("after the page updated itself: %+v; want /chat still open, the filter kept, state live", ar)
		}
		if len(res.Sockets) != 3 {
			t.Fatalf("socket rows after the update: %q, want 3", res.Sockets)
		}
		for _, row := range res.Sockets {
			if !strings.HasPrefix(row[1], "127.0.0.1:") || row[2] != "websocket" {
				t.Errorf("socket row %q: want a 127.0.0.1 address and websocket", row)
			}
		}
	})

	t.Run("other host", func(t *testing.T) {
		var res statusPageResult
		err := browsertest.Run(t, "statuspage.mjs", map[string]any{
			"url":    "http://other.test" + port + "/socket.io/status",
			"expand": "//other.test/private",
		}, &res)
		if err != nil || !res.OK {
			t.Fatalf("page run failed (%v): %s; console errors: %q", err, res.Error, res.ConsoleErrors)
		}
		if !strings.Contains(res.Heading, "other.test") || !strings.Contains(res.Summary, "2 namespaces · 1 sockets") {
			t.Errorf("heading %q, summary %q", res.Heading, res.Summary)
		}
		if len(res.Rows) != 2 || res.Rows[0].Name != "/gone" || res.Rows[1].Name != "/private" {
			t.Fatalf("rows %+v, want /gone and /private only", res.Rows)
		}
		if !strings.Contains(res.Rows[0].Text, "retires in 3,") {
			t.Errorf("empty /gone shows %q, want its countdown (just under 3,600 s)", res.Rows[0].Text)
		}
		if len(res.Sockets) != 1 || res.Sockets[0][0] != private {
			t.Errorf("sockets of /private: %q, want %s", res.Sockets, private)
		}
	})
}
