package dynamicio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

// Content codings offered, besides identity. The official server also
// offers br, which the standard library cannot produce.
const (
	codingGzip = iota
	codingDeflate
	numCodings
	codingIdentity = -1
)

var codingNames = [numCodings]string{codingGzip: "gzip", codingDeflate: "deflate"}

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
func (f *clientFile) encoded(coding int) ([]byte, error) {
	f.once[coding].Do(func() {
		var buf bytes.Buffer
		var w interface {
			Write([]byte) (int, error)
			Close() error
		}
		if coding == codingGzip {
			w, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
		} else {
			// HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2),
			// as Node's createDeflate produces.
			w, _ = zlib.NewWriterLevel(&buf, zlib.BestCompression)
		}
		if _, err := w.Write(f.data); err != nil {
			f.err[coding] = err
			return
		}
		if err := w.Close(); err != nil {
			f.err[coding] = err
			return
		}
		f.enc[coding] = buf.Bytes()
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
	if coding := negotiateCoding(r.Header.Values("Accept-Encoding")); coding != codingIdentity {
		enc, err := f.encoded(coding)
		if err != nil {
			srv.cfg.Logger.Error("dynamicio: compressing client file", "file", name, "err", err)
		} else {
			body = enc
			h.Set("Content-Encoding", codingNames[coding])
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return true
}

// negotiateCoding picks gzip or deflate from Accept-Encoding, like the
// official server's accepts(req).encodings(...): the highest q-value above
// zero wins, ties going to the one listed first by the client (then gzip);
// "*" stands for any coding not listed. Without a usable one it returns
// codingIdentity.
func negotiateCoding(values []string) int {
	type spec struct {
		q     float64
		order int
		set   bool
	}
	var specs [numCodings]spec
	var star spec
	order := 0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding == "" {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(p, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil && f >= 0 && f <= 1 {
						q = f
					} else {
						q = 0
					}
				}
			}
			s := spec{q: q, order: order, set: true}
			order++
			switch coding {
			case "gzip":
				if !specs[codingGzip].set || q > specs[codingGzip].q {
					specs[codingGzip] = s
				}
			case "deflate":
				if !specs[codingDeflate].set || q > specs[codingDeflate].q {
					specs[codingDeflate] = s
				}
			case "*":
				if !star.set || q > star.q {
					star = s
				}
			}
		}
	}
	best, bestSpec := codingIdentity, spec{}
	for c := range numCodings {
		s := specs[c]
		if !s.set {
			s = star
		}
		if !s.set || s.q <= 0 {
			continue
		}
		if best == codingIdentity || s.q > bestSpec.q || (s.q == bestSpec.q && s.order < bestSpec.order) {
			best, bestSpec = c, s
		}
	}
	return best
}
