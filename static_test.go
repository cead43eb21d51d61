package dynamicio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// fakeClientFS holds small stand-ins for the client bundle. Some are long
// enough that compression makes them shorter.
func fakeClientFS() fstest.MapFS {
	js := []byte(strings.Repeat("console.log('socket.io client');\n", 50))
	return fstest.MapFS{
		"socket.io.js":         {Data: js},
		"socket.io.js.map":     {Data: []byte(`{"version":3,"sources":["socket.io.js"]}`)},
		"socket.io.min.js":     {Data: []byte("var io=1;")},
		"socket.io.esm.min.js": {Data: []byte("export{};")},
		"other.js":             {Data: []byte("secret")},
		"sub/socket.io.js":     {Data: []byte("nested")},
		// socket.io.msgpack.min.js and the other .map files are missing.
	}
}

// newClientTestServer serves a Server with cfg (ClientFS set by the
// caller) and returns the HTTP base URL, without the path.
func newClientTestServer(t *testing.T, cfg *Config) string {
	t.Helper()
	_, wsURL := newTestServer(t, cfg)
	return httpBase(wsURL)
}

// httpBase is the HTTP base URL (no path) of a newTestServer URL.
func httpBase(wsURL string) string {
	base, _, _ := strings.Cut(strings.Replace(wsURL, "ws", "http", 1), "/socket.io/")
	return base
}

// clientGet does method on url with the given request headers ("Host"
// sets the request's host), without Go's transparent decompression, and
// returns the response and its body.
func clientGet(t *testing.T, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestClientServeHeaders(t *testing.T) {
	t.Parallel()
	fsys := fakeClientFS()
	base := newClientTestServer(t, &Config{ClientFS: fsys})

	for _, tc := range []struct{ name, ctype string }{
		{"socket.io.js", "application/javascript; charset=utf-8"},
		{"socket.io.min.js", "application/javascript; charset=utf-8"},
		{"socket.io.esm.min.js", "application/javascript; charset=utf-8"},
		{"socket.io.js.map", "application/json; charset=utf-8"},
	} {
		resp, body := clientGet(t, "GET", base+"/socket.io/"+tc.name)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", tc.name, resp.StatusCode)
		}
		if !bytes.Equal(body, fsys[tc.name].Data) {
			t.Errorf("%s: body %q", tc.name, body)
		}
		for k, want := range map[string]string{
			"Content-Type":     tc.ctype,
			"Cache-Control":    "public, max-age=0",
			"Vary":             "Accept-Encoding",
			"Content-Encoding": "",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got, want)
			}
		}
		etag := resp.Header.Get("ETag")
		if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' || strings.HasPrefix(etag, "W/") {
			t.Errorf("%s: ETag %q is not a quoted strong tag", tc.name, etag)
		}
	}

	// A query string does not matter, and the ETag is stable and per file.
	r1, _ := clientGet(t, "GET", base+"/socket.io/socket.io.js?v=4")
	r2, _ := clientGet(t, "GET", base+"/socket.io/socket.io.js")
	r3, _ := clientGet(t, "GET", base+"/socket.io/socket.io.min.js")
	if r1.StatusCode != 200 || r1.Header.Get("ETag") != r2.Header.Get("ETag") {
		t.Errorf("ETag changed: %q %q", r1.Header.Get("ETag"), r2.Header.Get("ETag"))
	}
	if r2.Header.Get("ETag") == r3.Header.Get("ETag") {
		t.Errorf("two files share ETag %q", r2.Header.Get("ETag"))
	}
}

func TestClientServeNotModified(t *testing.T) {
	t.Parallel()
	base := newClientTestServer(t, &Config{ClientFS: fakeClientFS()})
	url := base + "/socket.io/socket.io.js"
	resp, _ := clientGet(t, "GET", url)
	etag := resp.Header.Get("ETag")

	for _, inm := range []string{etag, "W/" + etag} {
		resp, body := clientGet(t, "GET", url, "If-None-Match", inm, "Accept-Encoding", "gzip")
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match %q: status %d, %d body bytes", inm, resp.StatusCode, len(body))
		}
	}
	for _, inm := range []string{`"other"`, "W/" + `"other"`, strings.Trim(etag, `"`)} {
		resp, _ := clientGet(t, "GET", url, "If-None-Match", inm)
		if resp.StatusCode != 200 {
			t.Errorf("If-None-Match %q: status %d, want 200", inm, resp.StatusCode)
		}
	}
}

func TestClientServeCompression(t *testing.T) {
	t.Parallel()
	fsys := fakeClientFS()
	base := newClientTestServer(t, &Config{ClientFS: fsys})
	url := base + "/socket.io/socket.io.js"
	want := fsys["socket.io.js"].Data

	decode := map[string]func(io.Reader) (io.ReadCloser, error){
		"gzip":    func(r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) },
		"deflate": zlib.NewReader,
		"":        func(r io.Reader) (io.ReadCloser, error) { return io.NopCloser(r), nil },
	}
	for _, tc := range []struct{ accept, coding string }{
		{"gzip", "gzip"},
		{"deflate", "deflate"},
		{"gzip, deflate, br", "gzip"},
		{"deflate, gzip", "deflate"},
		{"br", ""},
		{"identity", ""},
		{"gzip;q=0.5, deflate", "deflate"},
		{"GZIP;Q=0.8, deflate;q=0.2", "gzip"},
		{"gzip;q=0, deflate;q=0", ""},
		{"*", "gzip"},
		{"*;q=0", ""},
		{"deflate;q=0.1, *", "gzip"},
	} {
		// Twice: the second answer comes from the cache.
		for range 2 {
			resp, body := clientGet(t, "GET", url, "Accept-Encoding", tc.accept)
			if got := resp.Header.Get("Content-Encoding"); got != tc.coding {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.coding)
				continue
			}
			if tc.coding != "" && len(body) >= len(want) {
				t.Errorf("Accept-Encoding %q: %d bytes not smaller than %d", tc.accept, len(body), len(want))
			}
			rd, err := decode[tc.coding](bytes.NewReader(body))
			if err != nil {
				t.Fatalf("Accept-Encoding %q: %v", tc.accept, err)
			}
			got, err := io.ReadAll(rd)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("Accept-Encoding %q: decoded %d bytes (err %v), want the file", tc.accept, len(got), err)
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary = %q", resp.Header.Get("Vary"))
			}
		}
	}
}

func TestClientServeHead(t *testing.T) {
	t.Parallel()
	fsys := fakeClientFS()
	base := newClientTestServer(t, &Config{ClientFS: fsys})
	get, _ := clientGet(t, "GET", base+"/socket.io/socket.io.js", "Accept-Encoding", "gzip")
	resp, body := clientGet(t, "HEAD", base+"/socket.io/socket.io.js", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("HEAD: status %d, %d body bytes", resp.StatusCode, len(body))
	}
	for _, k := range []string{"Content-Type", "Content-Encoding", "Content-Length", "ETag", "Cache-Control"} {
		if resp.Header.Get(k) != get.Header.Get(k) {
			t.Errorf("HEAD %s = %q, GET has %q", k, resp.Header.Get(k), get.Header.Get(k))
		}
	}
}

// requireEngineIO checks that the request reached Engine.IO, which answers
// a request without transport with its 400 JSON error.
func requireEngineIO(t *testing.T, what string, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":0`) {
		t.Errorf("%s: status %d body %q, want Engine.IO's 400 JSON error", what, resp.StatusCode, body)
	}
	if resp.Header.Get("ETag") != "" || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("%s: has client file headers %v", what, resp.Header)
	}
}

func TestClientServeFallsThrough(t *testing.T) {
	t.Parallel()
	base := newClientTestServer(t, &Config{ClientFS: fakeClientFS()})
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		resp, body := clientGet(t, method, base+"/socket.io/socket.io.js")
		requireEngineIO(t, method, resp, body)
	}
	for _, p := range []string{
		"/socket.io/other.js",
		"/socket.io/socket.io.jsx",
		"/socket.io/sub/socket.io.js",
		"/socket.io/",
		"/socket.io/SOCKET.IO.JS",
		"/socket.io/socket.io.js/",
		"/socket.io//socket.io.js",
	} {
		resp, body := clientGet(t, "GET", base+p)
		requireEngineIO(t, p, resp, body)
	}
	// Outside the path: Engine.IO's 404.
	resp, _ := clientGet(t, "GET", base+"/socket.io.js")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/socket.io.js: status %d", resp.StatusCode)
	}
}

func TestClientServePathTraversal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("TOP SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(dir, "dist")
	if err := os.Mkdir(dist, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dist, "socket.io.js"), []byte("client"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := newClientTestServer(t, &Config{ClientFS: os.DirFS(dist)})
	for _, p := range []string{
		"/socket.io/../secret",
		"/socket.io/..%2fsecret",
		"/socket.io/%2e%2e/secret",
		"/socket.io/socket.io.js/../../secret",
		"/socket.io/socket.io.js/../../etc/passwd",
		"/socket.io/../socket.io/socket.io.js/../secret",
		"/socket.io/./socket.io.js",
		"/socket.io/%2e/socket.io.js",
	} {
		resp, body := clientGet(t, "GET", base+p)
		if resp.StatusCode == 200 || bytes.Contains(body, []byte("SECRET")) || bytes.Contains(body, []byte("client")) {
			t.Errorf("%s: status %d body %q", p, resp.StatusCode, body)
		}
	}
	if resp, body := clientGet(t, "GET", base+"/socket.io/socket.io.js"); resp.StatusCode != 200 || string(body) != "client" {
		t.Errorf("socket.io.js: status %d body %q", resp.StatusCode, body)
	}
}

func TestClientServeMissingFile(t *testing.T) {
	t.Parallel()
	base := newClientTestServer(t, &Config{ClientFS: fakeClientFS()})
	for _, name := range []string{"socket.io.msgpack.min.js", "socket.io.min.js.map"} {
		resp, _ := clientGet(t, "GET", base+"/socket.io/"+name)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", name, resp.StatusCode)
		}
		if resp.Header.Get("ETag") != "" {
			t.Errorf("%s: ETag %q on a 404", name, resp.Header.Get("ETag"))
		}
	}
}

// errFS fails every read with a non-NotExist error.
type errFS struct{}

func (errFS) Open(string) (fs.File, error) { return nil, errors.New("disk on fire") }

func TestClientServeReadError(t *testing.T) {
	t.Parallel()
	base := newClientTestServer(t, &Config{ClientFS: errFS{}})
	resp, body := clientGet(t, "GET", base+"/socket.io/socket.io.js")
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "disk on fire") {
		t.Errorf("status %d body %q, want 500 without the error text", resp.StatusCode, body)
	}
	// A directory where the file should be is a read error too.
	base = newClientTestServer(t, &Config{ClientFS: fstest.MapFS{"socket.io.js/x": {Data: []byte("x")}}})
	if resp, _ := clientGet(t, "GET", base+"/socket.io/socket.io.js"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("directory: status %d, want 500", resp.StatusCode)
	}
}

func TestClientServeCustomPath(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/rt/", "/rt"} {
		srv := NewServer(&Config{Path: path, ClientFS: fakeClientFS()})
		t.Cleanup(func() { srv.Shutdown(t.Context()) })
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/rt/socket.io.min.js", nil))
		if rec.Code != 200 || rec.Body.String() != "var io=1;" {
			t.Errorf("Path %q: status %d body %q", path, rec.Code, rec.Body.String())
		}
		rec = httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/socket.io.min.js", nil))
		if rec.Code == 200 {
			t.Errorf("Path %q: served under the default path", path)
		}
	}
}

// TestClientServeConcurrent has many requests fill the cache at once (run
// with -race).
func TestClientServeConcurrent(t *testing.T) {
	t.Parallel()
	fsys := fakeClientFS()
	srv := NewServer(&Config{ClientFS: fsys})
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			req := httptest.NewRequest("GET", "/socket.io/socket.io.js", nil)
			req.Header.Set("Accept-Encoding", []string{"gzip", "deflate", ""}[i%3])
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	wg.Wait()
}

// TestClientServeNpmFiles serves the real socket.io-client dist folder.
func TestClientServeNpmFiles(t *testing.T) {
	t.Parallel()
	dist := filepath.Join("internal", "interop", "testdata", "node_modules", "socket.io-client", "dist")
	want, err := os.ReadFile(filepath.Join(dist, "socket.io.min.js"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("socket.io-client is not installed: %v", err)
		}
		t.Skipf("socket.io-client is not installed (npm ci in internal/interop/testdata): %v", err)
	}
	base := newClientTestServer(t, &Config{ClientFS: os.DirFS(dist)})
	resp, body := clientGet(t, "GET", base+"/socket.io/socket.io.min.js")
	if resp.StatusCode != 200 || !bytes.Equal(body, want) {
		t.Fatalf("status %d, %d bytes, want the %d bytes of the file", resp.StatusCode, len(body), len(want))
	}
	resp, body = clientGet(t, "GET", base+"/socket.io/socket.io.min.js", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, want) || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("gzip: %d bytes decoded (err %v), Content-Encoding %q", len(got), err, resp.Header.Get("Content-Encoding"))
	}
	resp, _ = clientGet(t, "GET", base+"/socket.io/socket.io.min.js.map")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("map: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
