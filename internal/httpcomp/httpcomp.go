package httpcomp

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Coding is a content coding.
type Coding int

// Codings. Identity means no compression.
const (
	Gzip Coding = iota
	Deflate
	numCodings
	Identity Coding = -1
)

// String returns the Content-Encoding token ("" for Identity).
func (c Coding) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Deflate:
		return "deflate"
	}
	return ""
}

// Negotiate picks gzip or deflate from the Accept-Encoding header values,
// like the accepts module the official server uses: the highest q above
// zero wins, a tie goes to the coding the client listed first, "*" stands
// for any coding not named; Identity when neither is acceptable.
func Negotiate(values []string) Coding {
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
				if !specs[Gzip].set || q > specs[Gzip].q {
					specs[Gzip] = s
				}
			case "deflate":
				if !specs[Deflate].set || q > specs[Deflate].q {
					specs[Deflate] = s
				}
			case "*":
				if !star.set || q > star.q {
					star = s
				}
			}
		}
	}
	best, bestSpec := Identity, spec{}
	for c := range numCodings {
		s := specs[c]
		if !s.set {
			s = star
		}
		if !s.set || s.q <= 0 {
			continue
		}
		if best == Identity || s.q > bestSpec.q || (s.q == bestSpec.q && s.order < bestSpec.order) {
			best, bestSpec = c, s
		}
	}
	return best
}

var pools [numCodings]sync.Pool // writers at BestSpeed

// Compress returns p in coding c at the given level (a compress/flate
// level). HTTP's "deflate" is the zlib format (RFC 9110 8.4.1.2), as Node's
// createDeflate writes it. Writers at BestSpeed, the level of per-response
// compression, are pooled.
func Compress(c Coding, level int, p []byte) ([]byte, error) {
	var buf bytes.Buffer
	type writer interface {
		Write([]byte) (int, error)
		Close() error
		Reset(w io.Writer)
	}
	var w writer
	pooled := level == gzip.BestSpeed
	if pooled {
		w, _ = pools[c].Get().(writer)
	}
	if w != nil {
		w.Reset(&buf)
	} else {
		var err error
		if c == Gzip {
			w, err = gzip.NewWriterLevel(&buf, level)
		} else {
			w, err = zlib.NewWriterLevel(&buf, level)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := w.Write(p); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if pooled {
		pools[c].Put(w)
	}
	return buf.Bytes(), nil
}
