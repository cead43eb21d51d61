package packet

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

const handshakeV4 = `0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`

func TestTypeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    Type
		want string
	}{
		{Open, "open"},
		{Close, "close"},
		{Ping, "ping"},
		{Pong, "pong"},
		{Message, "message"},
		{Upgrade, "upgrade"},
		{Noop, "noop"},
		{7, "Type(7)"},
		{255, "Type(255)"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("Type(%d).String() = %q, want %q", byte(tt.t), got, tt.want)
		}
	}
}

func TestDecodeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Packet
		err  error
	}{
		// Every packet type, with and without data.
		{"0", text(Open, ""), nil},
		{handshakeV4, text(Open, handshakeV4[1:]), nil},
		{`0{"some":"json"}`, text(Open, `{"some":"json"}`), nil},
		{"1", text(Close, ""), nil},
		{"2", text(Ping, ""), nil},
		{"2probe", text(Ping, "probe"), nil},
		{"3", text(Pong, ""), nil},
		{"3probe", text(Pong, "probe"), nil},
		{"4", text(Message, ""), nil},
		{"4hello", text(Message, "hello"), nil},
		{"4test", text(Message, "test"), nil},
		{"4abc", text(Message, "abc"), nil},
		{"40", text(Message, "0"), nil},
		{`42["error"]`, text(Message, `2["error"]`), nil},
		{`42["some event"]`, text(Message, `2["some event"]`), nil},
		{"41€", text(Message, "1€"), nil},
		{"4utf8 — string", text(Message, "utf8 — string"), nil},
		{"4😀\x00\x1f", text(Message, "😀\x00\x1f"), nil},
		{"4\xff\xfe", text(Message, "\xff\xfe"), nil}, // not UTF-8 validated
		{"5", text(Upgrade, ""), nil},
		{"6", text(Noop, ""), nil},
		{"66", text(Noop, "6"), nil},

		// Binary messages in base64: no type digit in v4.
		{"bAQIDBA==", bin(Message, 1, 2, 3, 4), nil},
		{"bAQID", bin(Message, 1, 2, 3), nil},
		{"bAA==", bin(Message, 0), nil},
		{"b", bin(Message), nil},                         // Buffer.from("", "base64") is empty
		{"bAQIDBA", bin(Message, 1, 2, 3, 4), nil},       // unpadded, as Node accepts
		{"bAQIDBB==", bin(Message, 1, 2, 3, 4), nil},     // non-zero trailing bits, as Node accepts
		{"bAQID\r\nBA==", bin(Message, 1, 2, 3, 4), nil}, // line-wrapped (Android Base64.DEFAULT)
		{"bAQIDBA==\n", bin(Message, 1, 2, 3, 4), nil},
		{"b\r\n", bin(Message), nil},
		{"b+/+/", bin(Message, 0xfb, 0xff, 0xbf), nil},

		// Errors.
		{"", Packet{}, ErrEmpty},
		{"abc", Packet{}, ErrUnknownType},
		{"a123", Packet{}, ErrUnknownType},
		{"9", Packet{}, ErrUnknownType},
		{"7", Packet{}, ErrUnknownType},
		{"999", Packet{}, ErrUnknownType},
		{"{", Packet{}, ErrUnknownType},
		{"{}", Packet{}, ErrUnknownType},
		{`["a123", "a456"]`, Packet{}, ErrUnknownType},
		{":::", Packet{}, ErrUnknownType},
		{"B", Packet{}, ErrUnknownType},
		{" 4", Packet{}, ErrUnknownType},
		{"\x04hello", Packet{}, ErrUnknownType},
		{"\x1e", Packet{}, ErrUnknownType},
		{"/4", Packet{}, ErrUnknownType},
		{"b!!!!", Packet{}, ErrBase64},
		{"bA", Packet{}, ErrBase64},
		{"bAQIDBA=", Packet{}, ErrBase64},
		{"bAQ==AQ==", Packet{}, ErrBase64},
		{"b-_-_", Packet{}, ErrBase64}, // URL alphabet: never sent by a client
		{"bAQID BA==", Packet{}, ErrBase64},
		{"b====", Packet{}, ErrBase64},
		{"b4AQID", Packet{}, ErrBase64}, // the v3 form: 5 base64 characters cannot be decoded
	}
	for _, tt := range tests {
		got, err := DecodeText([]byte(tt.in))
		if err != tt.err || !equal(got, tt.want) {
			t.Errorf("DecodeText(%q) = %s, %v, want %s, %v", tt.in, show(got), err, show(tt.want), tt.err)
		}
	}
}

func TestDecodeTextAliases(t *testing.T) {
	t.Parallel()
	in := []byte("4hello")
	p, err := DecodeText(in)
	if err != nil {
		t.Fatalf("DecodeText(%q) error %v", in, err)
	}
	if !aliases(p.Data, in) {
		t.Errorf("DecodeText(%q).Data does not alias the input", in)
	}
	if cap(p.Data) != len(p.Data) {
		t.Errorf("DecodeText(%q): cap(Data) = %d, want %d", in, cap(p.Data), len(p.Data))
	}
	// The base64 form is a fresh copy.
	in = []byte("bAQIDBA==")
	if p, _ = DecodeText(in); aliases(p.Data, in) {
		t.Errorf("DecodeText(%q).Data aliases the input", in)
	}
}

func TestDecodeBinary(t *testing.T) {
	t.Parallel()
	tests := [][]byte{
		{1, 2, 3, 4},
		{4, 3, 2, 1},
		{'4', 'h', 'i'}, // a binary frame is never parsed
		{0},
		{},
		nil,
		seq(0, 256),
	}
	for _, in := range tests {
		got := DecodeBinary(in)
		want := Packet{Type: Message, Data: in, Binary: true}
		if !equal(got, want) {
			t.Errorf("DecodeBinary(%v) = %s, want %s", in, show(got), show(want))
		}
		if len(in) > 0 && !aliases(got.Data, in) {
			t.Errorf("DecodeBinary(%v).Data does not alias the input", in)
		}
	}
}

func TestAppendText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Packet
		want string
	}{
		{text(Open, ""), "0"},
		{text(Open, handshakeV4[1:]), handshakeV4},
		{text(Close, ""), "1"},
		{text(Ping, ""), "2"},
		{text(Ping, "probe"), "2probe"},
		{text(Pong, "probe"), "3probe"},
		{text(Message, "test"), "4test"},
		{text(Message, ""), "4"},
		{text(Message, "1€"), "41€"},
		{text(Upgrade, ""), "5"},
		{text(Noop, ""), "6"},
		{bin(Message, 1, 2, 3, 4), "bAQIDBA=="},
		{bin(Message, 1, 2, 3), "bAQID"},
		{bin(Message), "b"},
		{bin(Ping, 'p'), "2p"}, // Binary is only meaningful for Message
	}
	for _, tt := range tests {
		if got := AppendText(nil, tt.p); string(got) != tt.want {
			t.Errorf("AppendText(nil, %s) = %q, want %q", show(tt.p), got, tt.want)
		}
		// Appending keeps the prefix.
		if got := AppendText([]byte("xy"), tt.p); string(got) != "xy"+tt.want {
			t.Errorf("AppendText(%q, %s) = %q, want %q", "xy", show(tt.p), got, "xy"+tt.want)
		}
	}
}

func TestRoundTripText(t *testing.T) {
	t.Parallel()
	var ps []Packet
	for typ := Open; typ <= Noop; typ++ {
		ps = append(ps, text(typ, ""), text(typ, "data"), text(typ, "é😀\x1e"))
	}
	for n := 0; n <= 6; n++ {
		ps = append(ps, bin(Message, seq(0, n)...))
	}
	ps = append(ps, bin(Message, seq(0, 256)...), bin(Message, bytes.Repeat([]byte{0xff}, 1000)...))
	for _, p := range ps {
		enc := AppendText(nil, p)
		got, err := DecodeText(enc)
		if err != nil || !equal(got, p) {
			t.Errorf("DecodeText(AppendText(%s) = %q) = %s, %v, want %s", show(p), enc, show(got), err, show(p))
		}
	}
}

func TestDecodePayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want []Packet
		err  error
	}{
		{"4hello\x1ebAQIDBA==", 0, []Packet{text(Message, "hello"), bin(Message, 1, 2, 3, 4)}, nil},
		{"0\x1e1\x1e2probe\x1e3probe\x1e4test", 0, []Packet{
			text(Open, ""), text(Close, ""), text(Ping, "probe"), text(Pong, "probe"), text(Message, "test"),
		}, nil},
		{"4test\x1ebAQIDBA==", 0, []Packet{text(Message, "test"), bin(Message, 1, 2, 3, 4)}, nil},
		{"4hello\x1e4world", 0, []Packet{text(Message, "hello"), text(Message, "world")}, nil},
		{"6\x1e1", 0, []Packet{text(Noop, ""), text(Close, "")}, nil},
		{"4hello", 0, []Packet{text(Message, "hello")}, nil},
		{"1", 0, []Packet{text(Close, "")}, nil},
		{"b", 0, []Packet{bin(Message)}, nil},
		{"b\x1eb", 0, []Packet{bin(Message), bin(Message)}, nil},
		{`42["error"]` + "\x1e" + `42["some event"]`, 0, []Packet{
			text(Message, `2["error"]`), text(Message, `2["some event"]`),
		}, nil},
		{handshakeV4 + "\x1e40", 0, []Packet{text(Open, handshakeV4[1:]), text(Message, "0")}, nil},

		// Caps.
		{"4a\x1e4b\x1e4c", 3, []Packet{text(Message, "a"), text(Message, "b"), text(Message, "c")}, nil},
		{"4a\x1e4b\x1e4c", -1, []Packet{text(Message, "a"), text(Message, "b"), text(Message, "c")}, nil},
		{"4a\x1e4b\x1e4c", 2, nil, ErrTooManyPackets},
		{"4a\x1e4b", 1, nil, ErrTooManyPackets},
		{"abc\x1eabc\x1eabc", 2, nil, ErrTooManyPackets}, // the cap is checked before decoding

		// Errors invalidate the whole payload.
		{"", 0, nil, ErrEmpty},
		{"\x1e", 0, nil, ErrEmpty},
		{"4a\x1e", 0, nil, ErrEmpty},
		{"\x1e4a", 0, nil, ErrEmpty},
		{"4a\x1e\x1e4b", 0, nil, ErrEmpty},
		{"{", 0, nil, ErrUnknownType},
		{"{}", 0, nil, ErrUnknownType},
		{`["a123", "a456"]`, 0, nil, ErrUnknownType},
		{"abc", 0, nil, ErrUnknownType},
		{"4a\x1eabc", 0, nil, ErrUnknownType},
		{"4a\x1e9", 0, nil, ErrUnknownType},
		{"4a\x1eb!!!!\x1e4b", 0, nil, ErrBase64},
		// A v3 payload is valid v4 grammar: a noop with data. The engine
		// must pick the codec by the EIO query parameter, never by sniffing.
		{"6:4hello6:4world", 0, []Packet{text(Noop, ":4hello6:4world")}, nil},
	}
	for _, tt := range tests {
		got, err := DecodePayload([]byte(tt.in), tt.max)
		if err != tt.err || !equalAll(got, tt.want) || (err != nil && got != nil) {
			t.Errorf("DecodePayload(%q, %d) = %s, %v, want %s, %v", tt.in, tt.max, showAll(got), err, showAll(tt.want), tt.err)
		}
	}
}

func TestDecodePayloadAliases(t *testing.T) {
	t.Parallel()
	in := []byte("4hello\x1e4world\x1ebAQIDBA==")
	ps, err := DecodePayload(in, 0)
	if err != nil {
		t.Fatalf("DecodePayload(%q) error %v", in, err)
	}
	for i, p := range ps[:2] {
		if !aliases(p.Data, in) {
			t.Errorf("DecodePayload(%q)[%d].Data does not alias the input", in, i)
		}
		if cap(p.Data) != len(p.Data) {
			t.Errorf("DecodePayload(%q)[%d]: cap(Data) = %d, want %d", in, i, cap(p.Data), len(p.Data))
		}
	}
	// Appending to one packet's data must not clobber the next packet.
	_ = append(ps[0].Data, 'X')
	if string(in) != "4hello\x1e4world\x1ebAQIDBA==" || string(ps[1].Data) != "world" {
		t.Errorf("append to DecodePayload data modified the input: %q", in)
	}
}

func TestAppendPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ps   []Packet
		want string
	}{
		{nil, ""},
		{[]Packet{text(Message, "hello"), bin(Message, 1, 2, 3, 4)}, "4hello\x1ebAQIDBA=="},
		{[]Packet{text(Open, ""), text(Close, ""), text(Ping, "probe"), text(Pong, "probe"), text(Message, "test")},
			"0\x1e1\x1e2probe\x1e3probe\x1e4test"},
		{[]Packet{text(Noop, ""), text(Close, "")}, "6\x1e1"},
		{[]Packet{text(Noop, "")}, "6"},
	}
	for _, tt := range tests {
		if got := AppendPayload(nil, tt.ps); string(got) != tt.want {
			t.Errorf("AppendPayload(nil, %s) = %q, want %q", showAll(tt.ps), got, tt.want)
		}
	}
}

func TestRoundTripPayload(t *testing.T) {
	t.Parallel()
	var ps []Packet
	for i := range 500 {
		switch i % 4 {
		case 0:
			ps = append(ps, text(Message, strings.Repeat("x", i)))
		case 1:
			ps = append(ps, bin(Message, seq(0, i%256)...))
		case 2:
			ps = append(ps, text(Type(i%7), ""))
		case 3:
			ps = append(ps, text(Message, `2["event",{"a":"é😀"}]`))
		}
	}
	for _, n := range []int{1, 2, 10, 500} {
		enc := AppendPayload(nil, ps[:n])
		got, err := DecodePayload(enc, n)
		if err != nil || !equalAll(got, ps[:n]) {
			t.Errorf("DecodePayload(AppendPayload(%d packets)) = %d packets, %v, want %d packets", n, len(got), err, n)
		}
		if _, err := DecodePayload(enc, n-1); n > 1 && err != ErrTooManyPackets {
			t.Errorf("DecodePayload(AppendPayload(%d packets), %d) error = %v, want %v", n, n-1, err, ErrTooManyPackets)
		}
	}
}

func TestDecodePayloadAllocs(t *testing.T) {
	// Not parallel: AllocsPerRun is disturbed by concurrent allocation.
	body := bytes.Repeat([]byte("4hello\x1e"), 100)
	body = body[:len(body)-1]
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := DecodePayload(body, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Errorf("DecodePayload(100 text packets) allocs = %v, want 1", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := DecodePayload(body, 10); err != ErrTooManyPackets {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodePayload(100 packets, cap 10) allocs = %v, want 0", allocs)
	}
}

// TestDecodeHostile decodes large worst-case inputs. A superlinear decoder
// would take minutes on them; a linear one takes milliseconds.
func TestDecodeHostile(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	noops := bytes.Repeat([]byte("6\x1e"), size/2)
	noops = noops[:len(noops)-1]
	deadline := time.Now().Add(20 * time.Second)
	check := func(name string, f func() error, want error) {
		t.Helper()
		if err := f(); !errors.Is(err, want) {
			t.Errorf("%s: error %v, want %v", name, err, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: hostile inputs took too long", name)
		}
	}
	check("DecodePayload(1 MB of noops)", func() error {
		ps, err := DecodePayload(noops, 0)
		if len(ps) != size/2 {
			t.Errorf("DecodePayload(1 MB of noops) = %d packets, want %d", len(ps), size/2)
		}
		return err
	}, nil)
	check("DecodePayload(1 MB of noops, cap 100)", func() error {
		_, err := DecodePayload(noops, 100)
		return err
	}, ErrTooManyPackets)
	check("DecodePayload(1 MB of separators)", func() error {
		_, err := DecodePayload(bytes.Repeat([]byte{0x1e}, size), 0)
		return err
	}, ErrEmpty)
	check("DecodeText(1 MB of base64)", func() error {
		_, err := DecodeText(append([]byte("b"), bytes.Repeat([]byte("AAAA"), size/4)...))
		return err
	}, nil)
	check("DecodeText(1 MB of bad base64)", func() error {
		_, err := DecodeText(append([]byte("b"), bytes.Repeat([]byte("AAA="), size/4)...))
		return err
	}, ErrBase64)
}
