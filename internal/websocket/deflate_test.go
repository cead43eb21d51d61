package websocket

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"sync"
	"testing"
)

func TestCompressDecompress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"short", "hello"},
		{"json", `42["chat message",{"user":"alice","text":"hello, world"}]`},
		{"repetitive 1 MB", strings.Repeat("abc", 1<<20/3)},
		{"noise 100 KB", noise(100 << 10)},
		{"utf8", strings.Repeat("héllo wörld 😀 ", 500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			comp := Compress([]byte("prefix"), []byte(tt.in))
			if !bytes.HasPrefix(comp, []byte("prefix")) {
				t.Fatalf("Compress() dropped dst")
			}
			comp = comp[len("prefix"):]
			if bytes.HasSuffix(comp, []byte(deflateTail)) {
				t.Fatalf("Compress() = % x, want 00 00 ff ff tail removed", comp)
			}
			// Any standard raw-deflate reader decodes it once the tail is restored.
			std, err := io.ReadAll(flate.NewReader(bytes.NewReader(append(append([]byte{}, comp...), deflateTail+"\x01\x00\x00\xff\xff"...))))
			if err != nil || string(std) != tt.in {
				t.Fatalf("compress/flate decode = %d bytes, %v, want %d bytes", len(std), err, len(tt.in))
			}
			for _, dst := range [][]byte{nil, []byte("xy"), make([]byte, 2, 2+len(tt.in)), make([]byte, 2, 10)} {
				prefix := string(dst)
				got, err := Decompress(dst, comp, len(tt.in))
				if err != nil || string(got[:len(prefix)]) != prefix || string(got[len(prefix):]) != tt.in {
					t.Fatalf("Decompress(dst len %d cap %d) = %d bytes, %v, want %d bytes", len(dst), cap(dst), len(got), err, len(prefix)+len(tt.in))
				}
			}
			if len(tt.in) > 0 {
				if _, err := Decompress(nil, comp, len(tt.in)-1); closeCode(err) != CloseMessageTooBig {
					t.Fatalf("Decompress(max = len-1) = %v, want 1009", err)
				}
			}
		})
	}
}

func TestDecompressEmptyMessage(t *testing.T) {
	t.Parallel()
	// Browsers send a single 0x00 byte for an empty compressed message.
	if got, err := Decompress(nil, []byte{0x00}, 0); err != nil || len(got) != 0 {
		t.Fatalf("Decompress(00) = %q, %v, want empty", got, err)
	}
	if got, err := Decompress(nil, nil, 0); err != nil || len(got) != 0 {
		t.Fatalf("Decompress(nil) = %q, %v, want empty", got, err)
	}
}

func TestDecompressCorrupt(t *testing.T) {
	t.Parallel()
	good := Compress(nil, []byte(noise(5000)))
	tests := map[string][]byte{
		"reserved block type": {0x07},
		"garbage":             []byte("\xff\xff\xff\xff\xff"),
		"truncated":           good[:len(good)/2],
		"bad stored length":   {0x00, 0x05, 0x00, 0x00, 0x00},
	}
	for name, in := range tests {
		if _, err := Decompress(nil, in, 1<<20); closeCode(err) != CloseInvalidPayload {
			t.Errorf("%s: Decompress() = %v, want 1007", name, err)
		}
	}
	// The pooled reader is usable after an error.
	if got, err := Decompress(nil, Compress(nil, []byte("again")), 10); err != nil || string(got) != "again" {
		t.Fatalf("Decompress() after error = %q, %v", got, err)
	}
}

func TestDecompressFinalBlock(t *testing.T) {
	t.Parallel()
	// A sender may end a message with a BFINAL block (RFC 7692 7.2.3.4); trailing bytes
	// after it are ignored.
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	fw.Write([]byte("final"))
	fw.Close()
	if got, err := Decompress(nil, buf.Bytes(), 100); err != nil || string(got) != "final" {
		t.Fatalf("Decompress(BFINAL) = %q, %v", got, err)
	}
}

func TestDecompressBombBounded(t *testing.T) {
	comp := compressZeros(100 << 20)
	const max = 4 << 20
	var err error
	d := heapDeltaWarm(func() { Decompress(nil, Compress(nil, []byte("warm")), 10) }, func() {
		_, err = Decompress(nil, comp, max)
	})
	if closeCode(err) != CloseMessageTooBig {
		t.Fatalf("Decompress() = %v, want 1009", err)
	}
	if d > 2*max+256<<10 { // pooled flate state may be rebuilt under -race
		t.Fatalf("heap delta = %d, want < %d", d, 2*max)
	}
	t.Logf("100 MB bomb, %d compressed bytes, cap %d: heap delta %d", len(comp), max, d)
}

func TestCompressConcurrent(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				in := []byte(strings.Repeat(string(rune('a'+g)), i) + noise(i))
				got, err := Decompress(nil, Compress(nil, in), len(in))
				if err != nil || !bytes.Equal(got, in) {
					t.Errorf("round trip %d/%d = %v", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCompressDecompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	in := []byte(noise(1024))
	comp := Compress(nil, in)
	dst := make([]byte, 0, 4096)
	out := make([]byte, 0, 4096)
	Decompress(out, comp, 2048)
	if n := testing.AllocsPerRun(100, func() { dst = Compress(dst[:0], in) }); n != 0 {
		t.Errorf("Compress() allocs = %v, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { out, _ = Decompress(out[:0], comp, 2048) }); n > 1 {
		t.Errorf("Decompress() allocs = %v, want <= 1", n)
	}
}
