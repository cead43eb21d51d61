package dynamicio

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/dynamicio/dynamicio/internal/httpcomp"
)

// clientFiles are the file names of socket.io-client's dist folder that
// the official server serves (CLIENT_FILES in socket.io's index.ts).
var clientFiles = map[string]bool{
	"socket.io.esm.min.js":         true,
	"socket.io.esm.min.js.map":     true,
	"socket.io.js":                 true,
	"socket.io.js.map":             true,
	"socket.io.min.js":             true,
	"socket.io.min.js.map":         true,
	"socket.io.msgpack.min.js":     true,
	"socket.io.msgpack.min.js.map": true,
}

// numCodings counts the content codings offered besides identity (gzip and
// deflate). The official server also offers br, which the standard library
// cannot produce.
const numCodings = int(httpcomp.Deflate) + 1

// clientFile is one cached client file: its content, its ETag and its
// compressed forms, each made on first use.
type clientFile struct {
	data []byte
	etag string // quoted, strong

	once [numCodings]sync.Once
	enc  [numCodings][]byte
	err  [numCodings]error
}

// encoded returns the file in the given content coding, compressing it on
// first use.
func (f *clientFile) encoded(coding httpcomp.Coding) ([]byte, error) {
	f.once[coding].Do(func() {
		f.enc[coding], f.err[coding] = httpcomp.Compress(coding, gzip.BestCompression, f.data)
	})
	return f.enc[coding], f.err[coding]
}

// clientCache holds a server's client files once read. It is bounded by
// the fixed set of clientFiles. Read errors are not cached.
type clientCache struct {
	mu    sync.Mutex
	files map[string]*clientFile
}

func (c *clientCache) get(fsys fs.FS, name string) (*clientFile, error) {
	c.mu.Lock()
	f := c.files[name]
	c.mu.Unlock()
	if f != nil {
		return f, nil
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	nf := &clientFile{data: data, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f = c.files[name]; f != nil { // another request read it meanwhile
		return f, nil
	}
	if c.files == nil {
		c.files = make(map[string]*clientFile, len(clientFiles))
	}
	c.files[name] = nf
	return nf, nil
}

// serveClient serves a client bundle file, if r asks for one. It returns
// false to let the request through to Engine.IO.
//
// Like the official server it serves only the socket.io-client dist file
// names directly under the path, with Cache-Control "public, max-age=0",
// an ETag honoured by If-None-Match (as is or weak) and gzip or deflate
// compression. The ETag is a hash of the file content rather than the
// socket.io version. Only GET and HEAD are served.
func (srv *Server) serveClient(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	prefix := strings.TrimSuffix(srv.cfg.Path, "/") + "/"
	name, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok || !clientFiles[name] {
		return false
	}

	f, err := srv.clientFiles.get(srv.cfg.ClientFS, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			http.Error(w, "404 page not found", http.StatusNotFound)
		} else {
			srv.cfg.Logger.Error("dynamicio: reading client file", "file", name, "err", err)
			http.Error(w, "500 internal server error", http.StatusInternalServerError)
		}
		return true
	}

	h := w.Header()
	h.Set("Cache-Control", "public, max-age=0")
	h.Set("ETag", f.etag)
	h.Add("Vary", "Accept-Encoding")
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == f.etag || inm == "W/"+f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}

	if strings.HasSuffix(name, ".map") {
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/javascript; charset=utf-8")
	}
	body := f.data
	if coding := httpcomp.Negotiate(r.Header.Values("Accept-Encoding")); coding != httpcomp.Identity {
		enc, err := f.encoded(coding)
		if err != nil {
			srv.cfg.Logger.Error("dynamicio: compressing client file", "file", name, "err", err)
		} else {
			body = enc
			h.Set("Content-Encoding", coding.String())
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return true
}
