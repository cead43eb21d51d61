package websocket

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// loopReader serves data over and over, as much as each Read asks for.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.off == len(l.data) {
		l.off = 0
	}
	n := copy(p, l.data[l.off:])
	l.off += n
	return n, nil
}

// frameReader serves one frame per Read, like a connection where every message arrives
// on its own: the Reader goes idle (and returns its pooled buffer) between messages.
type frameReader struct {
	frame []byte
	off   int
}

func (f *frameReader) Read(p []byte) (int, error) {
	n := copy(p, f.frame[f.off:])
	f.off += n
	if f.off == len(f.frame) {
		f.off = 0
	}
	return n, nil
}

func benchPayload() []byte {
	return []byte(`42["chat",{"text":"` + strings.Repeat("x", 100-len(`42["chat",{"text":""}]`)) + `"}]`)
}

func BenchmarkReaderNext(b *testing.B) {
	payload := benchPayload()
	f := AppendClientFrame(nil, OpText, false, payload, [4]byte{1, 2, 3, 4})
	r := NewReader(&loopReader{data: repeat(f, 1000)}, ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		if _, p, err := r.Next(); err != nil || len(p) != 100 {
			b.Fatalf("Next() = %d bytes, %v", len(p), err)
		}
	}
}

func BenchmarkReaderNextFramePerRead(b *testing.B) {
	payload := benchPayload()
	f := AppendClientFrame(nil, OpText, false, payload, [4]byte{1, 2, 3, 4})
	r := NewReader(&frameReader{frame: f}, ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		if _, p, err := r.Next(); err != nil || len(p) != 100 {
			b.Fatalf("Next() = %d bytes, %v", len(p), err)
		}
	}
}

func BenchmarkReaderNextCompressed1K(b *testing.B) {
	payload := json1K()
	f := AppendClientFrame(nil, OpText, true, Compress(nil, payload), [4]byte{1, 2, 3, 4})
	r := NewReader(&loopReader{data: repeat(f, 100)}, ReaderConfig{MaxMessageSize: 1 << 20, Server: true, Deflate: true})
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, p, err := r.Next(); err != nil || len(p) != 1024 {
			b.Fatalf("Next() = %d bytes, %v", len(p), err)
		}
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	payload := benchPayload()
	dst := make([]byte, 0, 256)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendFrame(dst[:0], OpText, false, payload)
	}
}

func BenchmarkAppendClientFrame(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 4096)
	dst := make([]byte, 0, 8192)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendClientFrame(dst[:0], OpBinary, false, payload, [4]byte{1, 2, 3, 4})
	}
}

func json1K() []byte {
	var sb strings.Builder
	for i := 0; sb.Len() < 1024; i++ {
		sb.WriteString(`{"id":` + strings.Repeat("7", i%5+1) + `,"user":"u` + noise(6) + `","text":"hello world"},`)
	}
	return []byte(sb.String()[:1024])
}

func BenchmarkCompress1K(b *testing.B) {
	in := json1K()
	dst := make([]byte, 0, 2048)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		dst = Compress(dst[:0], in)
	}
}

func BenchmarkDecompress1K(b *testing.B) {
	in := json1K()
	comp := Compress(nil, in)
	out := make([]byte, 0, 2048)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = Decompress(out[:0], comp, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecompress1KNilDst(b *testing.B) {
	in := json1K()
	comp := Compress(nil, in)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decompress(nil, comp, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMask4K(b *testing.B) {
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		maskBytes([4]byte{1, 2, 3, 4}, buf)
	}
}

var _ io.Reader = (*loopReader)(nil)
