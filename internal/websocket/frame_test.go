package websocket

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		rsv1 bool
		op   Opcode
		want []byte
	}{
		{0, false, OpText, []byte{0x81, 0}},
		{125, false, OpBinary, []byte{0x82, 125}},
		{126, true, OpText, []byte{0xC1, 126, 0, 126}},
		{65535, false, OpText, []byte{0x81, 126, 0xFF, 0xFF}},
		{65536, false, OpText, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{1 << 32, false, OpBinary, []byte{0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		got := AppendHeader([]byte("x"), tt.op, tt.rsv1, tt.n)
		if !bytes.Equal(got, append([]byte("x"), tt.want...)) {
			t.Errorf("AppendHeader(%v, %v, %d) = % x, want x + % x", tt.op, tt.rsv1, tt.n, got, tt.want)
		}
		if HeaderLen(tt.n) != len(tt.want) {
			t.Errorf("HeaderLen(%d) = %d, want %d", tt.n, HeaderLen(tt.n), len(tt.want))
		}
	}
}

func TestAppendFrameRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 125, 126, 4000, 4096, 4097, 65535, 65536, 200000} {
		payload := bytes.Repeat([]byte("a"), n)
		f := AppendFrame(nil, OpText, false, payload)
		if len(f) != HeaderLen(n)+n {
			t.Fatalf("AppendFrame(%d) length = %d, want %d", n, len(f), HeaderLen(n)+n)
		}
		r := NewReader(bytes.NewReader(f), ReaderConfig{MaxMessageSize: 1 << 20})
		mustNext(t, r, OpText, string(payload))

		cf := AppendClientFrame(nil, OpBinary, false, payload, [4]byte{9, 8, 7, 6})
		if n > 0 && bytes.Equal(cf[len(cf)-n:], payload) {
			t.Fatalf("AppendClientFrame(%d) payload not masked", n)
		}
		r = NewReader(bytes.NewReader(cf), ReaderConfig{MaxMessageSize: 1 << 20, Server: true})
		mustNext(t, r, OpBinary, string(payload))
	}
}

func TestAppendClientFrameKeepsPayload(t *testing.T) {
	t.Parallel()
	p := []byte("hello, world, this is longer than eight bytes")
	orig := string(p)
	AppendClientFrame(nil, OpText, false, p, [4]byte{1, 2, 3, 4})
	if string(p) != orig {
		t.Fatalf("AppendClientFrame modified payload: %q", p)
	}
}

func TestAppendClose(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 200 bytes, 2-byte runes
	tests := []struct {
		name       string
		code       int
		reason     string
		wantCode   int
		wantReason string
	}{
		{"empty", 0, "ignored", closeNoStatus, ""},
		{"normal", CloseNormal, "", CloseNormal, ""},
		{"reason", CloseGoingAway, "server shutting down", CloseGoingAway, "server shutting down"},
		{"truncated ascii", ClosePolicyViolation, strings.Repeat("a", 200), ClosePolicyViolation, strings.Repeat("a", 123)},
		{"truncated utf8", CloseMessageTooBig, long, CloseMessageTooBig, strings.Repeat("é", 61)},
		{"truncated 4-byte", CloseInternalError, "a" + strings.Repeat("😀", 40), CloseInternalError, "a" + strings.Repeat("😀", 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := AppendClose(nil, tt.code, tt.reason)
			r := NewReader(bytes.NewReader(f), ReaderConfig{MaxMessageSize: 1024})
			op, p, err := r.Next()
			if err != nil || op != OpClose || len(p) > 125 {
				t.Fatalf("Next() = %v, %q, %v, want close frame <= 125 bytes", op, p, err)
			}
			code, reason := ParseClose(p)
			if code != tt.wantCode || reason != tt.wantReason || !utf8.ValidString(reason) {
				t.Fatalf("ParseClose() = %d, %q, want %d, %q", code, reason, tt.wantCode, tt.wantReason)
			}
		})
	}
}

func TestParseClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p          []byte
		wantCode   int
		wantReason string
	}{
		{nil, 1005, ""},
		{[]byte{3}, CloseProtocolError, ""},
		{[]byte{0x03, 0xE8}, 1000, ""},
		{[]byte{0x0F, 0xA0, 'b', 'y', 'e'}, 4000, "bye"},
	}
	for _, tt := range tests {
		if code, reason := ParseClose(tt.p); code != tt.wantCode || reason != tt.wantReason {
			t.Errorf("ParseClose(% x) = %d, %q, want %d, %q", tt.p, code, reason, tt.wantCode, tt.wantReason)
		}
	}
}

func TestMaskBytes(t *testing.T) {
	t.Parallel()
	key := [4]byte{0xA1, 0xB2, 0xC3, 0xD4}
	for n := 0; n < 100; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7)
		}
		want := make([]byte, n)
		for i := range want {
			want[i] = b[i] ^ key[i%4]
		}
		maskBytes(key, b)
		if !bytes.Equal(b, want) {
			t.Fatalf("maskBytes(%d bytes) = % x, want % x", n, b, want)
		}
	}
}

func TestOpcodeString(t *testing.T) {
	t.Parallel()
	if got := OpPong.String(); got != "pong" {
		t.Errorf("OpPong.String() = %q", got)
	}
	if got := Opcode(3).String(); got != "Opcode(3)" {
		t.Errorf("Opcode(3).String() = %q", got)
	}
}
