package websocket

import (
	"compress/flate"
	"io"
	"sync"
)

// Compression level: flate.BestSpeed. Engine.IO/Socket.IO payloads are short JSON texts
// where the ratio gained by higher levels is small, while the CPU cost is paid once per
// broadcast on the hot path; BestSpeed uses Go's fast (Snappy-like) matcher. The writer
// state is large (Go's compressor embeds its hash tables, hundreds of KB), so writers are
// pooled and never held by a connection.
const compressLevel = flate.BestSpeed

// deflateTail is the empty stored block that ends a sync flush (RFC 7692 section 7.2.1).
const deflateTail = "\x00\x00\xff\xff"

// inflateTail is appended to a compressed message before inflating: the removed sync-flush
// tail, then a final empty stored block so the flate reader reports io.EOF instead of
// waiting for more input.
const inflateTail = deflateTail + "\x01\x00\x00\xff\xff"

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

type deflater struct {
	fw *flate.Writer
	w  appendWriter
}

var deflaterPool = sync.Pool{New: func() any {
	d := new(deflater)
	d.fw, _ = flate.NewWriter(&d.w, compressLevel) // error only for an invalid level
	return d
}}

// Compress appends the raw-deflate compression of p with the 4-byte 00 00 ff ff tail
// removed (RFC 7692 section 7.2.1), i.e. the payload of a frame sent with rsv1 set. Every
// call starts from an empty window (no context takeover), so one result can be shared by
// every recipient. Level flate.BestSpeed (see compressLevel). Safe for concurrent use.
func Compress(dst, p []byte) []byte {
	d := deflaterPool.Get().(*deflater)
	d.w.b = dst
	d.fw.Reset(&d.w)
	d.fw.Write(p) // appendWriter never fails
	d.fw.Flush()
	out := d.w.b
	d.w.b = nil
	deflaterPool.Put(d)
	if n := len(out); n-len(dst) >= 4 && string(out[n-4:]) == deflateTail {
		out = out[:n-4]
	}
	return out
}

// inflateSrc feeds the compressed payload followed by inflateTail to the flate reader. It
// implements io.ByteReader so flate does not wrap it in a bufio.Reader (which would also
// read ahead).
type inflateSrc struct {
	p    []byte
	tail string
}

func (s *inflateSrc) Read(b []byte) (int, error) {
	if len(s.p) > 0 {
		n := copy(b, s.p)
		s.p = s.p[n:]
		return n, nil
	}
	if s.tail == "" {
		return 0, io.EOF
	}
	n := copy(b, s.tail)
	s.tail = s.tail[n:]
	return n, nil
}

func (s *inflateSrc) ReadByte() (byte, error) {
	if len(s.p) > 0 {
		c := s.p[0]
		s.p = s.p[1:]
		return c, nil
	}
	if s.tail == "" {
		return 0, io.EOF
	}
	c := s.tail[0]
	s.tail = s.tail[1:]
	return c, nil
}

const inflateChunk = 32 << 10

type inflater struct {
	fr     io.ReadCloser
	src    inflateSrc
	chunks []*[inflateChunk]byte
}

var inflaterPool = sync.Pool{New: func() any {
	f := new(inflater)
	f.fr = flate.NewReader(&f.src)
	return f
}}

var chunkPool = sync.Pool{New: func() any { return new([inflateChunk]byte) }}

var (
	errCorruptDeflate = &ProtocolError{Code: CloseInvalidPayload, Reason: "invalid compressed data"}
	errInflateTooBig  = &ProtocolError{Code: CloseMessageTooBig, Reason: "decompressed message exceeds limit"}
)

// Decompress appends the inflated form of a compressed message payload p (as received,
// without the 00 00 ff ff tail) to dst. Inflation stops with
// &ProtocolError{Code: CloseMessageTooBig} as soon as the output would exceed max bytes:
// at most max+1 bytes are ever produced. Corrupt or truncated data gives
// &ProtocolError{Code: CloseInvalidPayload}. An empty p inflates to nothing.
//
// Output goes into the spare capacity of dst first, then into pooled 32 KB chunks, and is
// finally copied into dst grown once to the exact size, so a message costs at most one
// allocation of its inflated size. Flate readers are pooled. Safe for concurrent use.
func Decompress(dst, p []byte, max int) ([]byte, error) {
	if len(p) == 0 {
		return dst, nil
	}
	if max < 0 {
		max = 0
	}
	f := inflaterPool.Get().(*inflater)
	f.src = inflateSrc{p: p, tail: inflateTail}
	f.fr.(flate.Resetter).Reset(&f.src, nil)
	out, err := f.inflate(dst, max)
	f.src = inflateSrc{}
	for i, c := range f.chunks {
		chunkPool.Put(c)
		f.chunks[i] = nil
	}
	f.chunks = f.chunks[:0]
	inflaterPool.Put(f)
	return out, err
}

func (f *inflater) inflate(dst []byte, max int) ([]byte, error) {
	base := len(dst)
	total := 0       // bytes produced
	inDst := 0       // of which in dst's spare capacity
	fill := 0        // bytes used in the last chunk
	limit := max + 1 // produce at most one byte past max, to detect the overflow
	if limit <= 0 {
		limit = max // max == MaxInt
	}
	for {
		var buf []byte
		if len(f.chunks) == 0 && base+inDst < cap(dst) {
			buf = dst[base+inDst : cap(dst)]
		} else {
			if len(f.chunks) == 0 || fill == inflateChunk {
				f.chunks = append(f.chunks, chunkPool.Get().(*[inflateChunk]byte))
				fill = 0
			}
			buf = f.chunks[len(f.chunks)-1][fill:]
		}
		if room := limit - total; len(buf) > room {
			buf = buf[:room]
		}
		n, err := f.fr.Read(buf)
		total += n
		if len(f.chunks) == 0 {
			inDst += n
		} else {
			fill += n
		}
		if total > max {
			return dst, errInflateTooBig
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst, errCorruptDeflate
		}
	}
	out := dst[:base+inDst]
	if len(f.chunks) == 0 {
		return out, nil
	}
	rest := total - inDst
	out = growExact(out, rest)
	for i, c := range f.chunks {
		n := inflateChunk
		if i == len(f.chunks)-1 {
			n = fill
		}
		out = append(out, c[:n]...)
	}
	return out, nil
}

// growExact returns b with room for at least n more bytes, allocating exactly when it has
// to grow.
func growExact(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := makeBuf(len(b), len(b)+n)
	copy(nb, b)
	return nb
}
