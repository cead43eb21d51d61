package websocket

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"
)

func TestReaderViolations(t *testing.T) {
	t.Parallel()
	server := ReaderConfig{MaxMessageSize: 1024, Server: true}
	client := ReaderConfig{MaxMessageSize: 1024}
	deflate := ReaderConfig{MaxMessageSize: 1024, Server: true, Deflate: true}
	ofs := func(n int) string { return strings.Repeat("a", n) }
	closeP := func(code int, reason string) string { return string([]byte{byte(code >> 8), byte(code)}) + reason }
	tests := []struct {
		name  string
		cfg   ReaderConfig
		input []byte
		want  int // close code
	}{
		{"unmasked client frame", server, frame(fin|0x1, false, []byte("hi")), CloseProtocolError},
		{"masked server frame", client, frame(fin|0x1, true, []byte("hi")), CloseProtocolError},
		{"RSV2", server, cframe(fin|rsv2|0x1, "hi"), CloseProtocolError},
		{"RSV3", server, cframe(fin|rsv3|0x2, "hi"), CloseProtocolError},
		{"RSV2 with deflate", deflate, cframe(fin|rsv2|0x1, "hi"), CloseProtocolError},
		{"RSV1 without deflate", server, cframe(fin|rsv1|0x1, "hi"), CloseProtocolError},
		{"RSV1 on ping", deflate, cframe(fin|rsv1|0x9, ""), CloseProtocolError},
		{"RSV1 on close", deflate, cframe(fin|rsv1|0x8, ""), CloseProtocolError},
		{"RSV1 on continuation", deflate, cat(cframe(0x1, "a"), cframe(fin|rsv1 /* continuation */, "b")), CloseProtocolError},
		{"opcode 3", server, cframe(fin|0x3, ""), CloseProtocolError},
		{"opcode 7", server, cframe(fin|0x7, ""), CloseProtocolError},
		{"opcode 0xB", server, cframe(fin|0xB, ""), CloseProtocolError},
		{"opcode 0xF", server, cframe(fin|0xF, ""), CloseProtocolError},
		{"fragmented ping", server, cframe(0x9, "x"), CloseProtocolError},
		{"fragmented close", server, cframe(0x8, ""), CloseProtocolError},
		{"ping 126", server, cframe(fin|0x9, ofs(126)), CloseProtocolError},
		{"pong 200", server, cframe(fin|0xA, ofs(200)), CloseProtocolError},
		{"close 126", server, cframe(fin|0x8, closeP(1000, ofs(124))), CloseProtocolError},
		{"lone continuation", server, cframe(fin, "x"), CloseProtocolError},
		{"lone empty continuation", server, cframe(0x0, ""), CloseProtocolError},
		{"continuation after message", server, cat(cframe(fin|0x1, "a"), cframe(fin, "b")), CloseProtocolError},
		{"text during message", server, cat(cframe(0x1, "a"), cframe(fin|0x1, "b")), CloseProtocolError},
		{"binary during message", server, cat(cframe(0x2, "a"), cframe(0x2, "b")), CloseProtocolError},
		{"length top bit", server, hdr(fin|0x2, true, 1<<63), CloseProtocolError},
		{"length all ones", server, hdr(fin|0x2, true, math.MaxUint64), CloseProtocolError},
		{"message too big", server, cframe(fin|0x1, ofs(1025)), CloseMessageTooBig},
		{"message too big in fragments", server, cat(cframe(0x1, ofs(1000)), cframe(0x0, ofs(24)), cframe(fin, ofs(1))), CloseMessageTooBig},
		{"fragments exactly max", server, cat(cframe(0x1, ofs(1000)), cframe(fin, ofs(24)), cframe(fin|0x8, "")), 0},
		{"close payload 1 byte", server, cframe(fin|0x8, "\x03"), CloseProtocolError},
		{"close code 999", server, cframe(fin|0x8, closeP(999, "")), CloseProtocolError},
		{"close code 1004", server, cframe(fin|0x8, closeP(1004, "")), CloseProtocolError},
		{"close code 1005", server, cframe(fin|0x8, closeP(1005, "")), CloseProtocolError},
		{"close code 1006", server, cframe(fin|0x8, closeP(1006, "")), CloseProtocolError},
		{"close code 1015", server, cframe(fin|0x8, closeP(1015, "")), CloseProtocolError},
		{"close code 2999", server, cframe(fin|0x8, closeP(2999, "")), CloseProtocolError},
		{"close code 5000", server, cframe(fin|0x8, closeP(5000, "")), CloseProtocolError},
		{"close code 0", server, cframe(fin|0x8, closeP(0, "")), CloseProtocolError},
		{"close reason bad UTF-8", server, cframe(fin|0x8, closeP(1000, "\xff\xfe")), CloseInvalidPayload},
		{"close reason truncated rune", server, cframe(fin|0x8, closeP(1000, "\xc3")), CloseInvalidPayload},
		{"text bad UTF-8", server, cframe(fin|0x1, "a\xffb"), CloseInvalidPayload},
		{"text surrogate", server, cframe(fin|0x1, "\xed\xa0\x80"), CloseInvalidPayload},
		{"text bad UTF-8 fragmented", server, cat(cframe(0x1, "ab\xc3"), cframe(fin, "(")), CloseInvalidPayload},
		{"text ends mid rune", server, cat(cframe(0x1, "ab"), cframe(fin, "\xe2\x82")), CloseInvalidPayload},
		{"binary bad UTF-8 ok", server, cat(cframe(fin|0x2, "\xff"), cframe(fin|0x8, "")), 0},
		{"corrupt deflate", deflate, cframe(fin|rsv1|0x1, "\xff\xff\xff\xff"), CloseInvalidPayload},
		{"garbage after 101 (C4)", server, []byte("\xff\xff\xff\xff\xff\xff"), CloseProtocolError},
		{"http request as frames", server, []byte("GET / HTTP/1.1\r\n\r\n"), CloseProtocolError},
		{"client: unmasked ok", client, cat(frame(fin|0x1, false, []byte("hi")), frame(fin|0x8, false, nil)), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := NewReader(bytes.NewReader(tt.input), tt.cfg)
			var err error
			for err == nil {
				_, _, err = r.Next()
			}
			if tt.want == 0 {
				if err != io.EOF {
					t.Fatalf("Next() = %v, want io.EOF", err)
				}
				return
			}
			if got := closeCode(err); got != tt.want {
				t.Fatalf("Next() = %v (code %d), want ProtocolError %d", err, got, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "websocket: ") {
				t.Fatalf("Error() = %q, want websocket: prefix", err)
			}
			// Sticky, and no buffers kept.
			if _, _, err2 := r.Next(); err2 != err {
				t.Fatalf("second Next() = %v, want %v", err2, err)
			}
			if r.pool != nil || r.msg != nil {
				t.Fatalf("after error: pool=%v msg=%d, want released", r.pool != nil, len(r.msg))
			}
		})
	}
}

func TestReaderValidCloseCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999} {
		p := string([]byte{byte(code >> 8), byte(code)}) + "ok é"
		r := NewReader(bytes.NewReader(cframe(fin|0x8, p)), ReaderConfig{MaxMessageSize: 16, Server: true})
		mustNext(t, r, OpClose, p)
	}
}

// heapDeltaWarm runs warm after a GC, then f, and returns the bytes allocated by f.
func heapDeltaWarm(warm, f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	warm()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// heapDelta runs f and returns the bytes allocated while it ran.
func heapDelta(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Scenario B3: lengths declared in the header are checked before anything is allocated.
func TestReaderDeclaredLengthNoAlloc(t *testing.T) {
	tests := []struct {
		name string
		n    uint64
		want int
	}{
		{"64 KB over 32 KB cap", 64 << 10, CloseMessageTooBig},
		{"2^32+1", 1<<32 + 1, CloseMessageTooBig},
		{"2^34", 1 << 34, CloseMessageTooBig},
		{"2^63-1", 1<<63 - 1, CloseMessageTooBig},
		{"2^63", 1 << 63, CloseProtocolError},
	}
	for _, tt := range tests {
		for _, op := range []byte{0x1, 0x2} {
			for _, fragmented := range []bool{false, true} {
				input := hdr(fin|op, true, tt.n)
				if fragmented {
					input = cat(cframe(op, "abc"), hdr(fin, true, tt.n))
				}
				var src bytes.Reader
				var err error
				run := func() {
					src.Reset(input)
					r := NewReader(&src, ReaderConfig{MaxMessageSize: 32 << 10, Server: true})
					for err == nil {
						_, _, err = r.Next()
					}
				}
				run()
				if got := closeCode(err); got != tt.want {
					t.Fatalf("%s: Next() = %v, want code %d", tt.name, err, tt.want)
				}
				// One allocation: the Reader itself (plus the fragment buffer when
				// fragmented). Nothing sized by the header.
				allocs := testing.AllocsPerRun(50, func() { err = nil; run() })
				wantAllocs := 1.0
				if fragmented {
					wantAllocs = 2
				}
				if allocs > wantAllocs {
					t.Errorf("%s fragmented=%v: allocs = %v, want <= %v", tt.name, fragmented, allocs, wantAllocs)
				}
				if d := heapDelta(func() {
					for range 100 {
						err = nil
						run()
					}
				}); d > 100<<10 {
					t.Errorf("%s fragmented=%v: heap delta = %d bytes per run, want < 1 KB", tt.name, fragmented, d/100)
				}
			}
		}
	}
}

// Scenario B5: fragment floods are stopped by MaxFragments (and by the size cap) with
// bounded memory.
func TestReaderFragmentFlood(t *testing.T) {
	one := cframe(0x0, "a")
	empty := cframe(0x0, "")
	tests := []struct {
		name     string
		cfg      ReaderConfig
		body     []byte
		count    int
		want     int
		maxBytes int64 // wire bytes consumed at most
	}{
		{"131000 one-byte continuations", ReaderConfig{MaxMessageSize: 1 << 20, Server: true}, one, 131000, CloseMessageTooBig, 1100 * int64(len(one))},
		{"1000000 empty continuations", ReaderConfig{MaxMessageSize: 1 << 20, Server: true}, empty, 1000000, CloseMessageTooBig, 1100 * int64(len(empty))},
		{"MaxFragments 16", ReaderConfig{MaxMessageSize: 1 << 20, MaxFragments: 16, Server: true}, empty, 1000, CloseMessageTooBig, 20*int64(len(empty)) + smallSize},
		// With fragments uncapped the byte cap still stops a one-byte flood at 64 KB.
		{"byte cap", ReaderConfig{MaxMessageSize: 64 << 10, MaxFragments: math.MaxInt, Server: true}, one, 131000, CloseMessageTooBig, 66 << 10 * int64(len(one))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingReader{r: &repeatReader{head: cframe(0x1, "a"), body: tt.body, count: tt.count}}
			var err error
			d := heapDelta(func() {
				r := NewReader(src, tt.cfg)
				for err == nil {
					_, _, err = r.Next()
				}
			})
			if got := closeCode(err); got != tt.want {
				t.Fatalf("Next() = %v, want code %d", err, tt.want)
			}
			if src.n > tt.maxBytes {
				t.Fatalf("read %d bytes before stopping, want <= %d", src.n, tt.maxBytes)
			}
			t.Logf("stopped after %d wire bytes, heap delta %d bytes", src.n, d)
			if limit := uint64(2*min(tt.cfg.MaxMessageSize, 64<<10) + 64<<10); d > limit {
				t.Fatalf("heap delta = %d, want <= %d", d, limit)
			}
		})
	}
}

func TestReaderMaxFragmentsExact(t *testing.T) {
	t.Parallel()
	cfg := ReaderConfig{MaxMessageSize: 1 << 20, MaxFragments: 3, Server: true}
	ok := cat(cframe(0x1, "a"), cframe(0x0, ""), cframe(fin, "c"))
	r := NewReader(bytes.NewReader(ok), cfg)
	mustNext(t, r, OpText, "ac")
	bad := cat(cframe(0x1, "a"), cframe(0x0, ""), cframe(0x0, "b"), cframe(fin, "c"))
	r = NewReader(bytes.NewReader(bad), cfg)
	if _, _, err := r.Next(); closeCode(err) != CloseMessageTooBig {
		t.Fatalf("Next() = %v, want 1009", err)
	}
	// The count restarts with every message.
	r = NewReader(bytes.NewReader(cat(ok, ok, ok)), cfg)
	for range 3 {
		mustNext(t, r, OpText, "ac")
	}
}

func TestReaderInterleavedControl(t *testing.T) {
	t.Parallel()
	input := cat(
		cframe(0x1, "hel"),
		cframe(fin|0x9, "ping-1"),
		cframe(0x0, "lo "),
		cframe(fin|0xA, "pong"),
		cframe(fin|0x9, ""),
		cframe(0x0, strings.Repeat("x", 5000)),
		cframe(fin|0x9, "ping-2"),
		cframe(fin, "!"),
		cframe(fin|0x2, "next"),
		cframe(fin|0x8, "\x03\xe8bye"),
	)
	want := []msg{
		{op: OpPing, payload: "ping-1"},
		{op: OpPong, payload: "pong"},
		{op: OpPing, payload: ""},
		{op: OpPing, payload: "ping-2"},
		{op: OpText, payload: "hello " + strings.Repeat("x", 5000) + "!"},
		{op: OpBinary, payload: "next"},
		{op: OpClose, payload: "\x03\xe8bye"},
		{err: io.EOF},
	}
	got := readAll(NewReader(bytes.NewReader(input), ReaderConfig{MaxMessageSize: 1 << 20, Server: true}))
	compareMsgs(t, got, want)
}

func compareMsgs(t *testing.T, got, want []msg) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d results, want %d: %v", len(got), len(want), summarize(got))
	}
	for i := range got {
		if got[i].op != want[i].op || got[i].payload != want[i].payload || !errors.Is(got[i].err, want[i].err) {
			t.Fatalf("result %d: Next() = %v, %q, %v, want %v, %q, %v", i, got[i].op, trunc([]byte(got[i].payload)), got[i].err, want[i].op, trunc([]byte(want[i].payload)), want[i].err)
		}
	}
}

func summarize(ms []msg) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.op.String()+":"+trunc([]byte(m.payload)))
		if m.err != nil {
			s = append(s, m.err.Error())
		}
	}
	return s
}

func TestReaderUTF8AcrossFragments(t *testing.T) {
	t.Parallel()
	// "é" = c3 a9, "€" = e2 82 ac, "😀" = f0 9f 98 80, each split between frames.
	input := cat(
		cframe(0x1, "a\xc3"), cframe(0x0, "\xa9\xe2"), cframe(0x0, "\x82"), cframe(0x0, ""),
		cframe(0x0, "\xac\xf0\x9f"), cframe(fin, "\x98\x80z"),
	)
	r := NewReader(bytes.NewReader(input), ReaderConfig{MaxMessageSize: 64, Server: true})
	mustNext(t, r, OpText, "aé€😀z")
}

func TestReaderEOF(t *testing.T) {
	t.Parallel()
	full := cframe(fin|0x1, "hello")
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty", nil, io.EOF},
		{"after frame", full, io.EOF},
		{"one header byte", full[:1], io.ErrUnexpectedEOF},
		{"partial mask", full[:4], io.ErrUnexpectedEOF},
		{"partial payload", full[:len(full)-1], io.ErrUnexpectedEOF},
		{"partial extended length", cframe(fin|0x2, strings.Repeat("a", 300))[:3], io.ErrUnexpectedEOF},
		{"partial large payload", cframe(fin|0x2, strings.Repeat("a", 10000))[:9000], io.ErrUnexpectedEOF},
		{"inside fragmented message", cframe(0x1, "hel"), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, src := range []io.Reader{bytes.NewReader(tt.input), iotest.DataErrReader(bytes.NewReader(tt.input)), iotest.OneByteReader(bytes.NewReader(tt.input))} {
				r := NewReader(src, ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
				var err error
				for err == nil {
					_, _, err = r.Next()
				}
				if err != tt.want {
					t.Fatalf("Next() = %v, want %v", err, tt.want)
				}
			}
		})
	}
}

func TestReaderSourceError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := NewReader(iotest.ErrReader(boom), ReaderConfig{MaxMessageSize: 10, Server: true})
	if _, _, err := r.Next(); err != boom {
		t.Fatalf("Next() = %v, want %v", err, boom)
	}
	// Data delivered together with an error is still parsed first.
	src := io.MultiReader(bytes.NewReader(cframe(fin|0x1, "ok")), iotest.ErrReader(boom))
	r = NewReader(src, ReaderConfig{MaxMessageSize: 10, Server: true})
	mustNext(t, r, OpText, "ok")
	if _, _, err := r.Next(); err != boom {
		t.Fatalf("Next() = %v, want %v", err, boom)
	}
	// A reader that never makes progress.
	r = NewReader(zeroReader{}, ReaderConfig{MaxMessageSize: 10, Server: true})
	if _, _, err := r.Next(); err != io.ErrNoProgress {
		t.Fatalf("Next() = %v, want io.ErrNoProgress", err)
	}
	// A reader that claims more bytes than it was given must not cause a panic.
	r = NewReader(liarReader{}, ReaderConfig{MaxMessageSize: 10, Server: true})
	if _, _, err := r.Next(); err == nil {
		t.Fatalf("Next() = nil error, want error for invalid read count")
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

type liarReader struct{}

func (liarReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

// mixedStream builds a stream of every kind of frame, used by the split-read test and the
// fuzz seeds. bigSize (> 4 KB) selects the size of the payloads that take the allocated
// path.
func mixedStream(bigSize int) []byte {
	big := noise(bigSize) // compresses to several KB
	comp := Compress(nil, []byte(big))
	compSmall := Compress(nil, []byte("compressed hello"))
	return cat(
		cframe(fin|0x1, "hello"),
		cframe(fin|0x2, "\x00\x01\x02"),
		cframe(fin|0x1, ""),
		cframe(fin|0x9, "are you there"),
		cframe(fin|0x1, strings.Repeat("é", 1000)), // 2000 bytes: zero-copy path
		cframe(fin|0x2, big),                       // > 4 KB: allocated path
		cframe(0x1, "frag"), cframe(fin|0xA, "p"), cframe(0x0, big), cframe(fin, "end"),
		frame(fin|rsv1|0x1, true, compSmall),
		frame(fin|rsv1|0x2, true, comp),
		frame(rsv1|0x1, true, comp[:7]), cframe(fin|0x9, "mid"), frame(0x0, true, comp[7:100]), frame(fin, true, comp[100:]),
		frame(fin|rsv1|0x1, true, []byte{}), // empty compressed payload
		frame(fin|rsv1|0x1, true, Compress(nil, nil)),
		cframe(fin|0x8, "\x03\xe8done"),
	)
}

func TestReaderSplitReads(t *testing.T) {
	t.Parallel()
	input := mixedStream(10000)
	cfg := ReaderConfig{MaxMessageSize: 1 << 20, Server: true, Deflate: true}
	want := readAll(NewReader(bytes.NewReader(input), cfg))
	if len(want) != 16 || want[len(want)-1].err != io.EOF {
		t.Fatalf("reading all at once: %d results %v", len(want), summarize(want))
	}
	big := noise(10000)
	if want[5].payload != big || want[7].payload != "frag"+big+"end" || want[9].payload != big || want[8].payload != "compressed hello" {
		t.Fatalf("unexpected decoding: %v", summarize(want))
	}
	sources := map[string]func() io.Reader{
		"one byte":    func() io.Reader { return iotest.OneByteReader(bytes.NewReader(input)) },
		"half":        func() io.Reader { return iotest.HalfReader(bytes.NewReader(input)) },
		"data+err":    func() io.Reader { return iotest.DataErrReader(bytes.NewReader(input)) },
		"chunks 63":   func() io.Reader { return &chunkReader{data: input, size: 63} },
		"chunks 4095": func() io.Reader { return &chunkReader{data: input, size: 4095} },
		"chunks 4097": func() io.Reader { return &chunkReader{data: input, size: 4097} },
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			compareMsgs(t, readAll(NewReader(src(), cfg)), want)
		})
	}
	// Primed: every split point of the first 200 bytes between Prime and the source.
	for cut := 0; cut < 200; cut++ {
		r := NewReader(bytes.NewReader(input[cut:]), cfg)
		r.Prime(input[:cut])
		compareMsgs(t, readAll(r), want)
	}
	// Primed with more than the pooled buffer holds, in two calls.
	r := NewReader(bytes.NewReader(input[9000:]), cfg)
	r.Prime(input[:10])
	r.Prime(input[10:9000])
	compareMsgs(t, readAll(r), want)
}

// idleCheckReader checks, on every Read that starts a frame, that the Reader holds no
// pooled buffer and reads into its inline array.
type idleCheckReader struct {
	r      *Reader
	src    io.Reader
	t      *testing.T
	checks int
}

func (c *idleCheckReader) Read(p []byte) (int, error) {
	if len(p) > 0 && inside(p, c.r.small[:]) {
		if c.r.pool != nil {
			c.t.Errorf("Read into the inline array while a pooled buffer is held")
		}
		if c.r.rpos == 0 && c.r.wpos == 0 && len(p) == smallSize {
			c.checks++ // blocking at a frame boundary, nothing buffered
		}
	}
	return c.src.Read(p)
}

func TestReaderIdleHoldsNoBuffer(t *testing.T) {
	t.Parallel()
	// One Read per frame, as on a real connection where each message arrives separately.
	frames := [][]byte{
		cframe(fin|0x1, "3"),                        // fits inline
		cframe(fin|0x1, strings.Repeat("a", 1000)),  // needs the pool
		cframe(fin|0x2, strings.Repeat("b", 20000)), // allocated
		cframe(fin|0x9, ""),
	}
	var chunks []io.Reader
	for _, f := range frames {
		chunks = append(chunks, bytes.NewReader(f))
	}
	c := &idleCheckReader{src: &perChunkReader{chunks: chunks}, t: t}
	r := NewReader(c, ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
	c.r = r
	for range frames {
		if _, _, err := r.Next(); err != nil {
			t.Fatalf("Next() = %v", err)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next() = %v, want io.EOF", err)
	}
	if c.checks < len(frames) {
		t.Fatalf("idle checks = %d, want >= %d", c.checks, len(frames))
	}
	if r.pool != nil {
		t.Fatalf("after EOF Reader holds a pooled buffer")
	}
}

// perChunkReader returns each chunk through separate Read calls, never crossing chunks.
type perChunkReader struct{ chunks []io.Reader }

func (p *perChunkReader) Read(b []byte) (int, error) {
	for len(p.chunks) > 0 {
		n, err := p.chunks[0].Read(b)
		if err == io.EOF {
			p.chunks = p.chunks[1:]
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
	return 0, io.EOF
}

func TestReaderZeroCopy(t *testing.T) {
	t.Parallel()
	input := cat(cframe(fin|0x1, "small"), cframe(fin|0x1, strings.Repeat("m", 3000)))
	r := NewReader(bytes.NewReader(input), ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
	_, p, _ := r.Next()
	if !inside(p, r.small[:]) {
		t.Fatalf("small payload not returned from the inline buffer")
	}
	_, p, _ = r.Next()
	if r.pool == nil || !inside(p, r.pool[:]) {
		t.Fatalf("3000-byte payload not returned from the pooled buffer")
	}
	if cap(p) != len(p) {
		t.Fatalf("payload cap = %d, want len %d (callers must not append into the buffer)", cap(p), len(p))
	}
}

func inside(p, buf []byte) bool {
	if len(p) == 0 {
		return false
	}
	for i := range buf {
		if &buf[i] == &p[0] {
			return true
		}
	}
	return false
}

// Scenario B4: a deflate bomb is stopped during inflation.
func TestReaderDeflateBomb(t *testing.T) {
	tests := []struct {
		name  string
		zeros int
		cap   int
	}{
		{"64 KiB under 1 KiB cap", 64 << 10, 1 << 10},
		{"100 MB under 1 MB cap", 100 << 20, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp := compressZeros(tt.zeros)
			if len(comp) > tt.cap {
				t.Fatalf("bomb is %d bytes, want < cap %d", len(comp), tt.cap)
			}
			input := frame(fin|rsv1|0x2, true, comp)
			var err error
			d := heapDeltaWarm(func() {
				// Warm the pools (emptied by the GC) so the measurement shows only
				// per-message cost.
				Decompress(nil, Compress(nil, []byte("warm")), 10)
			}, func() {
				r := NewReader(bytes.NewReader(input), ReaderConfig{MaxMessageSize: tt.cap, Server: true, Deflate: true})
				_, _, err = r.Next()
			})
			if closeCode(err) != CloseMessageTooBig {
				t.Fatalf("Next() = %v, want 1009", err)
			}
			// Allowance: the compressed payload itself and flate's per-message Huffman
			// tables, on top of 2 x cap.
			limit := uint64(2*tt.cap + len(comp) + 16<<10)
			if raceEnabled {
				limit += 256 << 10 // pooled flate state may be dropped and rebuilt
			}
			t.Logf("compressed %d bytes, cap %d: heap delta %d bytes", len(comp), tt.cap, d)
			if d > limit {
				t.Fatalf("heap delta = %d bytes, want < %d", d, limit)
			}
		})
	}
}

// compressZeros returns the compressed form (tail removed) of n zero bytes, n a multiple
// of 1 MB or below 1 MB. Fully flushed deflate segments can be concatenated, so large
// bombs repeat the segment for 1 MB instead of compressing n bytes.
func compressZeros(n int) []byte {
	const mb = 1 << 20
	if n < mb {
		return zeroSegment(n, true)
	}
	seg := zeroSegment(mb, false)
	out := repeat(seg, n/mb)
	return out[:len(out)-len(deflateTail)]
}

func zeroSegment(n int, stripTail bool) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(make([]byte, n))
	fw.Flush()
	if stripTail {
		return bytes.TrimSuffix(buf.Bytes(), []byte(deflateTail))
	}
	return buf.Bytes()
}

func TestReaderDeflateRoundTrip(t *testing.T) {
	t.Parallel()
	const max = 100 << 10
	for _, n := range []int{0, 1, 100, 4096, 50000, max} {
		payload := []byte(strings.Repeat("abcdefghij", n/10+1)[:n])
		comp := Compress(nil, payload)
		// server side: masked, single and fragmented
		third := len(comp) / 3
		input := cat(
			frame(fin|rsv1|0x1, true, comp),
			frame(rsv1|0x1, true, comp[:third]), frame(0x0, true, comp[third:2*third]), frame(fin, true, comp[2*third:]),
		)
		r := NewReader(bytes.NewReader(input), ReaderConfig{MaxMessageSize: max, Server: true, Deflate: true})
		mustNext(t, r, OpText, string(payload))
		mustNext(t, r, OpText, string(payload))
		// client side: unmasked
		r = NewReader(bytes.NewReader(AppendFrame(nil, OpBinary, true, comp)), ReaderConfig{MaxMessageSize: max, Deflate: true})
		mustNext(t, r, OpBinary, string(payload))
	}
	// One byte over the cap after inflation.
	comp := Compress(nil, bytes.Repeat([]byte("z"), max+1))
	r := NewReader(bytes.NewReader(frame(fin|rsv1|0x1, true, comp)), ReaderConfig{MaxMessageSize: max, Server: true, Deflate: true})
	if _, _, err := r.Next(); closeCode(err) != CloseMessageTooBig {
		t.Fatalf("Next() = %v, want 1009", err)
	}
	// Compressed invalid UTF-8 text.
	comp = Compress(nil, []byte("ok\xff"))
	r = NewReader(bytes.NewReader(frame(fin|rsv1|0x1, true, comp)), ReaderConfig{MaxMessageSize: max, Server: true, Deflate: true})
	if _, _, err := r.Next(); closeCode(err) != CloseInvalidPayload {
		t.Fatalf("Next() = %v, want 1007", err)
	}
}

func TestNewReaderPanicsWithoutCap(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatalf("NewReader(MaxMessageSize: 0) did not panic")
		}
	}()
	NewReader(bytes.NewReader(nil), ReaderConfig{})
}

// noise returns n bytes of deterministic, poorly compressible ASCII.
func noise(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}

func TestReaderSize(t *testing.T) {
	t.Parallel()
	// The whole per-connection footprint of an idle Reader is this struct.
	size := unsafe.Sizeof(Reader{})
	t.Logf("sizeof(Reader) = %d bytes", size)
	if size > 320 {
		t.Fatalf("sizeof(Reader) = %d, want <= 320", size)
	}
}

// A frame that declares a large payload within the cap and then delivers a
// few bytes pins memory in proportion to what arrived, not to the header.
func TestReaderDeclaredLengthGrowsWithArrivals(t *testing.T) {
	const declared = 8 << 20
	input := cat(hdr(fin|0x2, true, declared), bytes.Repeat([]byte{'x'}, 10))
	var biggest int
	hook := func(n int) { biggest = max(biggest, n) }
	allocHook.Store(&hook)
	defer allocHook.Store(nil)
	r := NewReader(bytes.NewReader(input), ReaderConfig{MaxMessageSize: 16 << 20, Server: true})
	if _, _, err := r.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("Next() = %v, want io.ErrUnexpectedEOF", err)
	}
	if biggest > growStep {
		t.Errorf("allocated %d bytes for 10 that arrived, want <= %d", biggest, growStep)
	}
	// The whole payload still arrives intact when it is all sent.
	payload := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16)
	r = NewReader(bytes.NewReader(frame(fin|0x2, true, payload)), ReaderConfig{MaxMessageSize: 16 << 20, Server: true})
	op, got, err := r.Next()
	if err != nil || op != OpBinary || !bytes.Equal(got, payload) {
		t.Fatalf("Next() = %v, %d bytes, %v; want the 300 KB payload", op, len(got), err)
	}
}

// Wait blocks only until the first byte of a frame; Next then returns it.
func TestReaderWait(t *testing.T) {
	t.Parallel()
	src := &chunkReader{data: cat(cframe(fin|0x1, "hello"), cframe(fin|0x1, "world")), size: 1}
	r := NewReader(src, ReaderConfig{MaxMessageSize: 1 << 10, Server: true})
	r.Wait()
	if r.pool != nil || r.wpos-r.rpos != 1 {
		t.Fatalf("after Wait: pool=%v buffered=%d, want the inline buffer holding 1 byte", r.pool != nil, r.wpos-r.rpos)
	}
	mustNext(t, r, OpText, "hello")
	r.Wait()
	mustNext(t, r, OpText, "world")
	r.Wait() // at EOF: returns, and Next reports it
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("Next() at end = %v, want io.EOF", err)
	}
}

// lazySource hands out its chunks one per ReadLazy, as a non-blocking
// socket would: an empty chunk is "would block" (the buffer is taken, then
// dropped, as before waiting), and then the next chunk arrives.
type lazySource struct {
	chunks [][]byte
	takes  int
	drops  int
}

func (s *lazySource) Read(p []byte) (int, error) { panic("Wait must prefer ReadLazy") }

func (s *lazySource) ReadLazy(b Lender) (int, error) {
	for len(s.chunks) > 0 {
		c := s.chunks[0]
		s.chunks = s.chunks[1:]
		buf := b.Take()
		s.takes++
		if len(c) == 0 {
			b.Drop()
			s.drops++
			continue
		}
		return copy(buf, c), nil
	}
	return 0, io.EOF
}

func TestWaitReadsLazySourceInOneRead(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1000) // more than the inline buffer
	frame := AppendClientFrame(nil, OpText, false, big, [4]byte{1, 2, 3, 4})
	src := &lazySource{chunks: [][]byte{{}, frame}}
	r := NewReader(src, ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
	r.Wait()
	if src.takes != 2 || src.drops != 1 {
		t.Errorf("takes, drops = %d, %d; want 2, 1", src.takes, src.drops)
	}
	op, p, err := r.Next()
	if err != nil || op != OpText || !bytes.Equal(p, big) {
		t.Fatalf("Next = %v %d bytes %v", op, len(p), err)
	}
	// Waiting again at the end of the stream holds no pooled buffer.
	r.Wait()
	if r.pool != nil {
		t.Error("a Reader that found nothing to read kept its pooled buffer")
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("Next at the end = %v, want EOF", err)
	}
}

// Buffered reports the unread bytes only while they start with a whole frame.
func TestReaderBuffered(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300) // 16-bit length
	stream := cat(frame(fin|0x1, false, []byte("one")), frame(fin|0x1, false, []byte(long)), frame(fin|0x1, false, []byte("two")))
	for size := 1; size <= len(stream); size++ {
		r := NewReader(&chunkReader{data: stream, size: size}, ReaderConfig{MaxMessageSize: 1 << 10})
		if n := r.Buffered(); n != 0 {
			t.Fatalf("size %d: Buffered() before reading = %d, want 0", size, n)
		}
		for i, want := range []string{"one", long, "two"} {
			mustNext(t, r, OpText, want)
			n := r.Buffered()
			unread := r.wpos - r.rpos
			// Whether the next frame is complete, from the bytes left.
			rest := stream[len(stream)-unread:]
			whole := i < 2 && unread >= len(frame(fin|0x1, false, []byte([]string{long, "two"}[i])))
			switch {
			case whole && n != unread:
				t.Fatalf("size %d, after %d: Buffered() = %d, want %d (a whole frame is buffered: % x)", size, i, n, unread, trunc(rest))
			case !whole && n != 0:
				t.Fatalf("size %d, after %d: Buffered() = %d with %d unread bytes, want 0 (no whole frame)", size, i, n, unread)
			}
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("size %d: Next() at end = %v, want io.EOF", size, err)
		}
		if n := r.Buffered(); n != 0 {
			t.Fatalf("size %d: Buffered() after the error = %d, want 0", size, n)
		}
	}
	// A masked frame (server side) counts its mask key in the header.
	r := NewReader(&chunkReader{data: cat(cframe(fin|0x1, "a"), cframe(fin|0x1, "bc")[:7]), size: 100}, ReaderConfig{MaxMessageSize: 1 << 10, Server: true})
	mustNext(t, r, OpText, "a")
	if n := r.Buffered(); n != 0 {
		t.Fatalf("masked: Buffered() with 7 of 8 bytes of the next frame = %d, want 0", n)
	}
}
