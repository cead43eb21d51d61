package websocket

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

const fuzzMax = 8 << 10

// Fuzz input layout for FuzzReader:
//
//	data[0]  flags (below; bits 4..7 are MaxFragments, 0 meaning the default 1024)
//	data[1]  repeat count: the rest of the stream is sent 1+data[1] times (capped near 16 KB),
//	         so short inputs reach the paths for payloads larger than the 4 KB buffer
//	data[2]  only with fzPrime: k, the number of following bytes primed (not repeated)
//
// Seeds stay small on purpose: Go's fuzzer minimizes every new interesting input with an
// O(n²) pass, and multi-KB inputs stall it for -fuzzminimizetime (60 s by default).
const (
	fzServer  = 1 << 0 // ReaderConfig.Server
	fzDeflate = 1 << 1 // ReaderConfig.Deflate
	fzOneByte = 1 << 2 // source returns one byte per Read
	fzPrime   = 1 << 3 // data[2] bytes after it are primed
)

// fuzzInput builds a FuzzReader input.
func fuzzInput(flags byte, reps byte, primed []byte, stream []byte) []byte {
	b := []byte{flags, reps}
	if flags&fzPrime != 0 {
		b = append(b, byte(len(primed)))
		b = append(b, primed...)
	}
	return append(b, stream...)
}

// compactStream is a short stream with every kind of frame.
func compactStream() []byte {
	comp := Compress(nil, []byte("compressed hello compressed hello"))
	return cat(
		cframe(fin|0x1, "hello"),
		cframe(fin|0x2, "\x00\x01"),
		cframe(fin|0x1, ""),
		cframe(fin|0x9, "ping"),
		cframe(0x1, "fr"), cframe(fin|0xA, "p"), cframe(0x0, "ag"), cframe(fin, "!"),
		frame(fin|rsv1|0x1, true, comp),
		frame(rsv1|0x2, true, comp[:3]), cframe(fin|0x9, ""), frame(fin, true, comp[3:]),
		frame(fin|rsv1|0x1, true, Compress(nil, nil)),
		cframe(fin|0x8, "\x03\xe8done"),
	)
}

func readerSeeds() [][]byte {
	const (
		srv = fzServer
		cli = 0
		def = fzServer | fzDeflate
	)
	in := fuzzInput
	bomb := compressZeros(1 << 20) // ~1 KB
	seeds := [][]byte{
		in(def, 0, nil, compactStream()),
		in(def|fzOneByte, 0, nil, compactStream()),
		in(def|fzPrime, 0, compactStream()[:20], compactStream()[20:]),
		in(srv, 0, nil, cframe(fin|0x1, "4hello")),
		in(srv, 9, nil, cframe(fin|0x1, "4hello")),
		in(cli, 0, nil, frame(fin|0x1, false, []byte("40"))),
		in(fzDeflate, 0, nil, AppendFrame(nil, OpText, true, Compress(nil, []byte("server compressed")))),
		// Payloads over the 4 KB buffer: a header declaring 5000 bytes, the stream repeated.
		in(srv, 60, nil, cat(hdr(fin|0x2, true, 5000), bytes.Repeat([]byte("x"), 100))),
		in(srv|fzPrime, 60, cframe(0x1, "a"), cat(hdr(0x0, true, 5000), bytes.Repeat([]byte("y"), 100))),
		in(def, 60, nil, cat(hdr(fin|rsv1|0x2, true, 5000), bytes.Repeat([]byte{0}, 100))),
		// Violations.
		in(srv, 0, nil, frame(fin|0x1, false, []byte("unmasked"))),
		in(cli, 0, nil, cframe(fin|0x1, "masked")),
		in(srv, 0, nil, cframe(fin|rsv2|0x1, "rsv2")),
		in(srv, 0, nil, cframe(fin|rsv3|0x1, "rsv3")),
		in(srv, 0, nil, cframe(fin|rsv1|0x1, "rsv1")),
		in(def, 0, nil, cframe(fin|rsv1|0x9, "")),
		in(srv, 0, nil, cframe(fin|0xF, "")),
		in(srv, 0, nil, []byte("\xff\xff\xff\xff\xff\xff")),
		in(srv, 0, nil, cframe(0x9, "")),
		in(srv, 0, nil, cframe(fin|0x9, strings.Repeat("p", 126))),
		in(srv, 0, nil, cframe(fin, "x")),
		in(srv, 0, nil, cat(cframe(0x1, "a"), cframe(fin|0x1, "b"))),
		in(srv, 0, nil, hdr(fin|0x2, true, 1<<63)),
		in(srv, 0, nil, hdr(fin|0x2, true, 1<<63-1)),
		in(srv, 0, nil, hdr(fin|0x2, true, 1<<32+1)),
		in(srv, 0, nil, hdr(fin|0x2, true, 64<<10+1)),
		in(srv, 0, nil, cat(cframe(0x1, "a"), hdr(fin, true, 1<<34))),
		in(srv|2<<4, 0, nil, cat(cframe(0x1, "a"), cframe(0x0, "b"), cframe(0x0, "c"), cframe(fin, "d"))),
		// Fragment floods: the continuation is repeated 256 times.
		in(srv|fzPrime|15<<4, 255, cframe(0x1, "a"), cframe(0x0, "a")),
		in(srv|fzPrime|15<<4, 255, cframe(0x1, ""), cframe(0x0, "")),
		in(srv|fzPrime, 255, cframe(0x1, ""), cframe(0x0, "")),
		in(srv, 0, nil, cframe(fin|0x8, "\x03")),
		in(srv, 0, nil, cframe(fin|0x8, "\x03\xed")),
		in(srv, 0, nil, cframe(fin|0x8, "\x03\xe8\xff")),
		in(srv, 0, nil, cframe(fin|0x8, "\x0f\xa0ok")),
		in(srv, 0, nil, cframe(fin|0x1, "\xed\xa0\x80")),
		in(srv, 0, nil, cat(cframe(0x1, "\xe2\x82"), cframe(fin|0x9, "x"), cframe(fin, "\xac"))),
		in(def, 0, nil, frame(fin|rsv1|0x2, true, bomb)),
		in(def, 0, nil, frame(fin|rsv1|0x1, true, []byte("\xff\xff\xff"))),
		in(def, 0, nil, cat(frame(rsv1|0x1, true, bomb[:10]), frame(fin, true, bomb[10:]))),
	}
	return seeds
}

func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds() {
		f.Add(s)
	}
	var largest atomic.Int64
	hook := func(n int) {
		for {
			old := largest.Load()
			if int64(n) <= old || largest.CompareAndSwap(old, int64(n)) {
				return
			}
		}
	}
	allocHook.Store(&hook)
	f.Cleanup(func() { allocHook.Store(nil) })
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		flags, reps := data[0], int(data[1])+1
		data = data[2:]
		cfg := ReaderConfig{
			MaxMessageSize: fuzzMax,
			MaxFragments:   int(flags >> 4),
			Server:         flags&fzServer != 0,
			Deflate:        flags&fzDeflate != 0,
		}
		var primed []byte
		if flags&fzPrime != 0 && len(data) > 0 {
			k := min(int(data[0]), len(data)-1)
			primed, data = data[1:1+k], data[1+k:]
		}
		if len(data) > 0 {
			reps = min(reps, 16<<10/len(data)+1)
		}
		var src io.Reader = &repeatReader{body: data, count: reps}
		if len(data) == 0 {
			src = bytes.NewReader(nil)
		}
		if flags&fzOneByte != 0 {
			src = iotest.OneByteReader(src)
		}
		largest.Store(0)
		r := NewReader(src, cfg)
		r.Prime(primed)
		for {
			op, p, err := r.Next()
			if err != nil {
				var pe *ProtocolError
				switch {
				case err == io.EOF, err == io.ErrUnexpectedEOF:
				case errors.As(err, &pe):
					if !validCloseCode(pe.Code) {
						t.Fatalf("ProtocolError code %d is not sendable", pe.Code)
					}
				default:
					t.Fatalf("Next() = unexpected error %v", err)
				}
				if r.pool != nil || r.msg != nil {
					t.Fatalf("buffers kept after error")
				}
				break
			}
			if len(p) > fuzzMax {
				t.Fatalf("Next() payload %d bytes > MaxMessageSize %d", len(p), fuzzMax)
			}
			switch op {
			case OpText:
				if !utf8.Valid(p) {
					t.Fatalf("Next() returned invalid UTF-8 text")
				}
			case OpBinary:
			case OpPing, OpPong:
				if len(p) > 125 {
					t.Fatalf("control payload %d bytes", len(p))
				}
			case OpClose:
				if len(p) == 1 || len(p) > 125 {
					t.Fatalf("close payload %d bytes", len(p))
				}
				if code, reason := ParseClose(p); len(p) >= 2 && (!validCloseCode(code) || !utf8.ValidString(reason)) {
					t.Fatalf("invalid close payload % x returned", p)
				}
			default:
				t.Fatalf("Next() op = %v", op)
			}
		}
		if n := largest.Load(); n > fuzzMax+4096 {
			t.Fatalf("allocated a %d-byte payload buffer, cap is %d", n, fuzzMax)
		}
	})
}

func FuzzNegotiateDeflate(f *testing.F) {
	for _, v := range hostileExtensionHeaders() {
		f.Add(v)
	}
	for _, v := range []string{
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=15",
		"permessage-deflate; server_max_window_bits=10, permessage-deflate",
		`permessage-deflate; client_max_window_bits="1\5"`,
		"x-webkit-deflate-frame\npermessage-deflate",
		"__proto__; permessage-deflate",
		"constructor",
		"permessage-deflate;; x, permessage-deflate",
	} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Sec-Websocket-Extensions": strings.Split(v, "\n")}
		resp, ok := NegotiateDeflate(h)
		switch {
		case !ok && resp != "":
			t.Fatalf("NegotiateDeflate() = %q, false", resp)
		case ok && resp != deflateResponse && resp != deflateResponseSMWB:
			t.Fatalf("NegotiateDeflate() = %q, true", resp)
		case ok && !strings.Contains(strings.ToLower(v), deflateName):
			t.Fatalf("NegotiateDeflate(%q) accepted without an offer", v)
		}
		// Our own answer must satisfy our client, and the client-side parser must not
		// panic on arbitrary input.
		if ok && !checkDeflateResponse([]string{resp}) {
			t.Fatalf("checkDeflateResponse(%q) = false", resp)
		}
		checkDeflateResponse(h["Sec-Websocket-Extensions"])
		r := &http.Request{Method: "GET", Header: http.Header{"Upgrade": {v}, "Connection": {v}, "Sec-Websocket-Key": {v}, "Sec-Websocket-Version": {v}}}
		IsUpgrade(r)
		CheckRequest(r)
	})
}
