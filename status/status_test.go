package status

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1234: "-1,234", -999: "-999"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	if got := seconds(2100 * time.Millisecond); got != "3 s" {
		t.Errorf("seconds(2.1s) = %q, want 3 s (rounded up)", got)
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		query, accept string
		want          bool
	}{
		{"", "", false},
		{"format=json", "", true},
		{"format=html", "application/json", false},
		{"", "application/json", true},
		{"", "application/json, text/plain;q=0.5", true},
		{"", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"", "text/html, application/json", false},
		{"", "application/json;q=0", false},
		{"", "garbage;;;", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/socket.io/status?"+tt.query, nil)
		r.Header.Set("Accept", tt.accept)
		if got := wantsJSON(r); got != tt.want {
			t.Errorf("wantsJSON(?%s, Accept %q) = %v, want %v", tt.query, tt.accept, got, tt.want)
		}
	}
}

func serve(t *testing.T, snap Snapshot, err error, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	h := Handler(func(*http.Request) (Snapshot, error) { return snap, err })
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestHandlerMethodsAndErrors(t *testing.T) {
	if w := serve(t, Snapshot{}, nil, http.MethodPost, "/status"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
	if w := serve(t, Snapshot{}, errors.New("invalid host"), http.MethodGet, "/status"); w.Code != http.StatusBadRequest {
		t.Errorf("source error: %d, want 400", w.Code)
	}
	get := serve(t, Snapshot{}, nil, http.MethodGet, "/status")
	head := serve(t, Snapshot{}, nil, http.MethodHead, "/status")
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != get.Header().Get("Content-Length") {
		t.Errorf("HEAD: %d, %d body bytes, length %q (GET %q)", head.Code, head.Body.Len(), head.Header().Get("Content-Length"), get.Header().Get("Content-Length"))
	}
	if !strings.Contains(get.Body.String(), "No namespaces.") {
		t.Errorf("empty snapshot page lacks its notice")
	}
	if js := serve(t, Snapshot{}, nil, http.MethodGet, "/status?format=json").Body.String(); !strings.Contains(js, `"namespaces": []`) {
		t.Errorf("empty snapshot JSON has no empty list: %s", js)
	}
}

// The page's only script is the one the Content-Security-Policy allows by
// hash: a change to the script that forgets the policy fails here, not in
// a browser.
func TestPageScriptMatchesCSP(t *testing.T) {
	w := serve(t, Snapshot{}, nil, http.MethodGet, "/status")
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(w.Body.String(), -1)
	if len(scripts) != 1 {
		t.Fatalf("%d scripts in the page, want 1", len(scripts))
	}
	sum := sha256.Sum256([]byte(scripts[0][1]))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if policy := w.Header().Get("Content-Security-Policy"); !strings.Contains(policy, "script-src "+want) {
		t.Errorf("CSP %q does not allow the page's script (%s)", policy, want)
	}
	if strings.Contains(scripts[0][1], "REFRESH_MS") {
		t.Error("refresh period not substituted")
	}
}

// A namespace with many sockets and rooms stays a readable page: lists are
// cut at maxListed with a count of the rest, numbers are grouped.
func TestPageCutsLongLists(t *testing.T) {
	ns := Namespace{Name: "/big", FullName: "/big", Retires: true, SocketCount: 12345}
	for i := range maxListed + 5 {
		ns.Sockets = append(ns.Sockets, Socket{ID: fmt.Sprintf("sock-%05d", i), Transport: "polling"})
	}
	members := make([]string, maxListed+1)
	for i := range members {
		members[i] = fmt.Sprintf("m-%d", i)
	}
	for i := range maxListed + 2 {
		ns.Rooms = append(ns.Rooms, Room{Name: fmt.Sprintf("room-%d", i), Sockets: members})
	}
	w := serve(t, Snapshot{NamespaceCount: 1, SocketCount: 12345, Namespaces: []Namespace{ns}}, nil, http.MethodGet, "/status")
	page := w.Body.String()
	for _, want := range []string{
		`<span id="socket-count">12,345</span>`,
		"12,345 sockets",
		"and 12,145 more sockets",
		"and 2 more rooms",
		"and 1 more</td>",
		"retires when idle",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, fmt.Sprintf("sock-%05d", maxListed)) {
		t.Error("page lists sockets past the cap")
	}
}
