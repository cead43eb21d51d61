package packet

import (
	"bytes"
	"strings"
	"testing"
)

// handshakeV3 is the v3 handshake packet of the protocol documentation; its
// string payload form is "96:" + handshakeV3.
const handshakeV3 = `0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}`

func TestDecodeTextV3(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Packet
		err  error
	}{
		{"0", text(Open, ""), nil},
		{handshakeV3, text(Open, handshakeV3[1:]), nil},
		{`0{"some":"json"}`, text(Open, `{"some":"json"}`), nil},
		{"1", text(Close, ""), nil},
		{"2", text(Ping, ""), nil},
		{"21", text(Ping, "1"), nil},
		{"2probe", text(Ping, "probe"), nil},
		{"3", text(Pong, ""), nil},
		{"31", text(Pong, "1"), nil},
		{"3probe", text(Pong, "probe"), nil},
		{"4", text(Message, ""), nil},
		{"4aaa", text(Message, "aaa"), nil},
		{"4hello", text(Message, "hello"), nil},
		{"4€€€", text(Message, "€€€"), nil},
		{"4utf8 — string", text(Message, "utf8 — string"), nil},
		{"41", text(Message, "1"), nil},
		{`42["error"]`, text(Message, `2["error"]`), nil},
		{"5", text(Upgrade, ""), nil},
		{"6", text(Noop, ""), nil},

		// Base64: the type digit follows 'b'.
		{"b4AQID", bin(Message, 1, 2, 3), nil},
		{"b4AQIDBA==", bin(Message, 1, 2, 3, 4), nil},
		{"b4AAECAwQ=", bin(Message, 0, 1, 2, 3, 4), nil},
		{"b0AQID", bin(Open, 1, 2, 3), nil},
		{"b6AQID", bin(Noop, 1, 2, 3), nil},
		{"b4", bin(Message), nil},
		{"b2", bin(Ping), nil},

		// Errors.
		{"", Packet{}, ErrEmpty},
		{":::", Packet{}, ErrUnknownType},
		{"94103", Packet{}, ErrUnknownType},
		{"abc", Packet{}, ErrUnknownType},
		{"a", Packet{}, ErrUnknownType},
		{"7", Packet{}, ErrUnknownType},
		{"b", Packet{}, ErrUnknownType},
		{"bAQIDBA==", Packet{}, ErrUnknownType}, // the v4 form
		{"b7AQID", Packet{}, ErrUnknownType},
		{"b:AQID", Packet{}, ErrUnknownType},
		{"b4!!!!", Packet{}, ErrBase64},
		{"b4A", Packet{}, ErrBase64},
	}
	for _, tt := range tests {
		got, err := DecodeTextV3([]byte(tt.in))
		if err != tt.err || !equal(got, tt.want) {
			t.Errorf("DecodeTextV3(%q) = %s, %v, want %s, %v", tt.in, show(got), err, show(tt.want), tt.err)
		}
	}
}

func TestDecodeBinaryV3(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []byte
		want Packet
		err  error
	}{
		{[]byte{4, 1, 2, 3}, bin(Message, 1, 2, 3), nil},
		{[]byte{4, 3, 2, 1}, bin(Message, 3, 2, 1), nil}, // "undeclared type" test of engine.io-parser 2.x
		{[]byte{4}, bin(Message), nil},
		{[]byte{0}, bin(Open), nil},
		{[]byte{2, 'p'}, bin(Ping, 'p'), nil},
		{[]byte{6, 0xff}, bin(Noop, 0xff), nil},
		{nil, Packet{}, ErrEmpty},
		{[]byte{}, Packet{}, ErrEmpty},
		{[]byte{7}, Packet{}, ErrUnknownType},
		{[]byte{0xff, 1}, Packet{}, ErrUnknownType},
		{[]byte("4hello"), Packet{}, ErrUnknownType}, // '4' is 0x34
	}
	for _, tt := range tests {
		got, err := DecodeBinaryV3(tt.in)
		if err != tt.err || !equal(got, tt.want) {
			t.Errorf("DecodeBinaryV3(%v) = %s, %v, want %s, %v", tt.in, show(got), err, show(tt.want), tt.err)
		}
	}
	in := []byte{4, 1, 2, 3}
	if p, _ := DecodeBinaryV3(in); !aliases(p.Data, in) || cap(p.Data) != len(p.Data) {
		t.Errorf("DecodeBinaryV3(%v).Data does not alias the input with clipped capacity", in)
	}
}

func TestAppendTextV3(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Packet
		want string
	}{
		{text(Open, handshakeV3[1:]), handshakeV3},
		{text(Close, ""), "1"},
		{text(Ping, ""), "2"},
		{text(Pong, ""), "3"},
		{text(Message, "hello"), "4hello"},
		{text(Message, "€€€"), "4€€€"},
		{text(Upgrade, ""), "5"},
		{text(Noop, ""), "6"},
		{bin(Message, 1, 2, 3), "b4AQID"},
		{bin(Message, 1, 2, 3, 4), "b4AQIDBA=="},
		{bin(Message), "b4"},
		{bin(Open, 1, 2, 3), "b0AQID"},
	}
	for _, tt := range tests {
		if got := AppendTextV3(nil, tt.p); string(got) != tt.want {
			t.Errorf("AppendTextV3(nil, %s) = %q, want %q", show(tt.p), got, tt.want)
		}
	}
}

func TestAppendBinaryV3(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Packet
		want []byte
	}{
		{bin(Message, 1, 2, 3), []byte{4, 1, 2, 3}},
		{bin(Message), []byte{4}},
		{bin(Open), []byte{0}},
		{text(Message, "hi"), []byte{4, 'h', 'i'}},
	}
	for _, tt := range tests {
		if got := AppendBinaryV3(nil, tt.p); !bytes.Equal(got, tt.want) {
			t.Errorf("AppendBinaryV3(nil, %s) = %v, want %v", show(tt.p), got, tt.want)
		}
	}
}

func TestRoundTripV3(t *testing.T) {
	t.Parallel()
	var ps []Packet
	for typ := Open; typ <= Noop; typ++ {
		ps = append(ps, text(typ, ""), text(typ, "data"), text(typ, "é😀"), bin(typ), bin(typ, seq(0, 256)...))
		for n := 1; n <= 4; n++ {
			ps = append(ps, bin(typ, seq(250, 250+n)...))
		}
	}
	for _, p := range ps {
		enc := AppendTextV3(nil, p)
		if got, err := DecodeTextV3(enc); err != nil || !equal(got, p) {
			t.Errorf("DecodeTextV3(AppendTextV3(%s) = %q) = %s, %v, want %s", show(p), enc, show(got), err, show(p))
		}
		if !p.Binary {
			continue
		}
		enc = AppendBinaryV3(nil, p)
		if got, err := DecodeBinaryV3(enc); err != nil || !equal(got, p) {
			t.Errorf("DecodeBinaryV3(AppendBinaryV3(%s) = %v) = %s, %v, want %s", show(p), enc, show(got), err, show(p))
		}
	}
	for _, form := range []struct {
		name   string
		binary bool
		append func([]byte, []Packet) []byte
	}{
		{"AppendPayloadV3String", false, AppendPayloadV3String},
		{"AppendPayloadV3Binary", true, AppendPayloadV3Binary},
	} {
		enc := form.append(nil, ps)
		got, err := DecodePayloadV3(enc, form.binary, len(ps))
		if err != nil || !equalAll(got, ps) {
			t.Errorf("DecodePayloadV3(%s(%d packets), %v) = %d packets, %v, want %d packets", form.name, len(ps), form.binary, len(got), err, len(ps))
		}
		if _, err := DecodePayloadV3(enc, form.binary, len(ps)-1); err != ErrTooManyPackets {
			t.Errorf("DecodePayloadV3(%s(%d packets), %v, %d) error = %v, want %v", form.name, len(ps), form.binary, len(ps)-1, err, ErrTooManyPackets)
		}
	}
}

func TestDecodePayloadV3String(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want []Packet
		err  error
	}{
		{"6:4hello6:4world", 0, []Packet{text(Message, "hello"), text(Message, "world")}, nil},
		{"96:" + handshakeV3, 0, []Packet{text(Open, handshakeV3[1:])}, nil},
		{"96:" + handshakeV3 + "2:40", 0, []Packet{text(Open, handshakeV3[1:]), text(Message, "0")}, nil},
		{"0:", 0, []Packet{}, nil},
		{"0:0:", 0, []Packet{}, nil},
		{"00:", 0, []Packet{}, nil},
		{"0:2:4a0:", 0, []Packet{text(Message, "a")}, nil},
		{"1:2", 0, []Packet{text(Ping, "")}, nil},
		{"1:21:3", 0, []Packet{text(Ping, ""), text(Pong, "")}, nil},
		{"2:4a1:2", 0, []Packet{text(Message, "a"), text(Ping, "")}, nil},
		{"6:2probe", 0, []Packet{text(Ping, "probe")}, nil},
		{"01:6", 0, []Packet{text(Noop, "")}, nil}, // leading zeros, as Number("01")

		// UTF-16 lengths: a rune below U+10000 is one unit, above is two.
		{"4:4€€€2:4α", 0, []Packet{text(Message, "€€€"), text(Message, "α")}, nil},
		{"2:4é", 0, []Packet{text(Message, "é")}, nil},
		{"3:4😀", 0, []Packet{text(Message, "😀")}, nil},
		{"4:4é😀3:4😀", 0, []Packet{text(Message, "é😀"), text(Message, "😀")}, nil},
		{"14:4utf8 — string", 0, []Packet{text(Message, "utf8 — string")}, nil},
		{"2:4\uffff", 0, []Packet{text(Message, "\uffff")}, nil},
		{"3:4\U00010000", 0, []Packet{text(Message, "\U00010000")}, nil},
		// Invalid UTF-8: one unit per byte.
		{"2:4\xff", 0, []Packet{text(Message, "\xff")}, nil},
		{"3:4\xe2\x82", 0, []Packet{text(Message, "\xe2\x82")}, nil},
		{"4:4\xed\xa0\x80", 0, []Packet{text(Message, "\xed\xa0\x80")}, nil}, // an encoded surrogate
		{"4:4\xf0\x9f\x98" + "2:4a", 0, []Packet{text(Message, "\xf0\x9f\x98"), text(Message, "a")}, nil},

		// Base64 packets.
		{"6:b4AQID", 0, []Packet{bin(Message, 1, 2, 3)}, nil},
		{"6:4hello6:b4AQID", 0, []Packet{text(Message, "hello"), bin(Message, 1, 2, 3)}, nil},
		{"2:b4", 0, []Packet{bin(Message)}, nil},

		// Caps: records of length 0 are not packets.
		{"2:4a2:4b2:4c", 3, []Packet{text(Message, "a"), text(Message, "b"), text(Message, "c")}, nil},
		{"2:4a2:4b2:4c", 2, nil, ErrTooManyPackets},
		{"0:0:0:2:4a", 1, []Packet{text(Message, "a")}, nil},
		{"1:a1:a1:a", 2, nil, ErrTooManyPackets}, // the cap is checked before decoding

		// Framing errors (engine.io-parser 2.x test cases first).
		{"", 0, nil, ErrEmpty},
		{"1!", 0, nil, ErrLength},
		{"))", 0, nil, ErrLength},
		{"1:", 0, nil, ErrLength},
		{"1:aa", 0, nil, ErrLength},
		{"1:a2:b", 0, nil, ErrLength},
		{":", 0, nil, ErrLength},
		{":4a", 0, nil, ErrLength},
		{"6", 0, nil, ErrLength},
		{"6:4hello6", 0, nil, ErrLength},
		{"6:4hello6:4worl", 0, nil, ErrLength},
		{"5:4hi", 0, nil, ErrLength},
		{"2:4😀", 0, nil, ErrLength}, // ends inside a surrogate pair
		{"4:4😀", 0, nil, ErrLength},
		{"3:4é", 0, nil, ErrLength},
		{"+1:2", 0, nil, ErrLength},
		{" 1:2", 0, nil, ErrLength},
		{"1e0:2", 0, nil, ErrLength},
		{"0x1:2", 0, nil, ErrLength},
		{"-1:2", 0, nil, ErrLength},
		{"1.0:2", 0, nil, ErrLength},
		{"99999999999999999999:4", 0, nil, ErrLength},
		{"9223372036854775808:4", 0, nil, ErrLength},
		{"18446744073709551617:4", 0, nil, ErrLength},
		{"4hello", 0, nil, ErrLength}, // a v4 payload
		{"4hello\x1e4world", 0, nil, ErrLength},

		// Packet errors.
		{"3:99:", 0, nil, ErrUnknownType},
		{"1:a", 0, nil, ErrUnknownType},
		{"6:4hello1:9", 0, nil, ErrUnknownType},
		{"1:b", 0, nil, ErrUnknownType},
		{"9:bAQIDBA==", 0, nil, ErrUnknownType},
		{"4:b4!!", 0, nil, ErrBase64},
	}
	for _, tt := range tests {
		got, err := DecodePayloadV3([]byte(tt.in), false, tt.max)
		if err != tt.err || !equalAll(got, tt.want) || (err != nil && got != nil) {
			t.Errorf("DecodePayloadV3(%q, false, %d) = %s, %v, want %s, %v", tt.in, tt.max, showAll(got), err, showAll(tt.want), tt.err)
		}
	}
}

// v3bin builds a v3 binary payload from its parts: an int or rune is one
// byte, strings and byte slices are appended as they are.
func v3bin(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			b = append(b, byte(p))
		case rune:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		default:
			panic("v3bin: bad part")
		}
	}
	return b
}

func TestDecodePayloadV3Binary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		max  int
		want []Packet
		err  error
	}{
		{"two buffers", v3bin(1, 6, 255, 4, seq(0, 5), 1, 5, 255, 4, seq(5, 9)), 0,
			[]Packet{bin(Message, seq(0, 5)...), bin(Message, seq(5, 9)...)}, nil},
		{"buffer, string, close", v3bin(1, 1, 2, 4, 255, 4, seq(0, 123), 0, 6, 255, "4hello", 0, 1, 255, "1"), 0,
			[]Packet{bin(Message, seq(0, 123)...), text(Message, "hello"), text(Close, "")}, nil},
		{"utf-8 string and buffer", v3bin(0, 1, 3, 255, "4€€€€", 1, 4, 255, 4, 1, 2, 3), 0,
			[]Packet{text(Message, "€€€€"), bin(Message, 1, 2, 3)}, nil},
		{"base64 string packet", v3bin(0, 6, 255, "b4AQID"), 0, []Packet{bin(Message, 1, 2, 3)}, nil},
		{"ping", v3bin(0, 1, 255, "2"), 0, []Packet{text(Ping, "")}, nil},
		{"binary open", v3bin(1, 1, 255, 0), 0, []Packet{bin(Open)}, nil},
		{"leading zero digit", v3bin(0, 0, 1, 255, "2"), 0, []Packet{text(Ping, "")}, nil},
		{"long length", v3bin(1, 1, 0, 0, 1, 255, 4, bytes.Repeat([]byte{7}, 1000)), 0,
			[]Packet{bin(Message, bytes.Repeat([]byte{7}, 1000)...)}, nil},
		{"cap ok", v3bin(0, 1, 255, "2", 0, 1, 255, "2"), 2, []Packet{text(Ping, ""), text(Ping, "")}, nil},

		{"cap exceeded", v3bin(0, 1, 255, "2", 0, 1, 255, "2"), 1, nil, ErrTooManyPackets},
		{"cap before decoding", v3bin(0, 1, 255, "x", 0, 1, 255, "x"), 1, nil, ErrTooManyPackets},
		{"empty", nil, 0, nil, ErrEmpty},
		{"header 64 (engine.io-parser 2.x)", v3bin(64), 0, nil, ErrLength},
		{"header 2", v3bin(2, 1, 255, 4), 0, nil, ErrLength},
		{"header only", v3bin(0), 0, nil, ErrLength},
		{"no digits", v3bin(0, 255, "2"), 0, nil, ErrLength},
		{"no terminator", v3bin(0, 1), 0, nil, ErrLength},
		{"digit above 9", v3bin(0, 10, 255, "4aaaaaaaa"), 0, nil, ErrLength},
		{"ASCII digit", v3bin(0, '1', 255, "2"), 0, nil, ErrLength},
		{"truncated", v3bin(1, 5, 255, 4, 1, 2), 0, nil, ErrLength},
		{"truncated second", v3bin(0, 1, 255, "2", 1, 9, 9, 255, 4), 0, nil, ErrLength},
		{"trailing byte", v3bin(0, 1, 255, "2", 0), 0, nil, ErrLength},
		{"17 digits", v3bin(1, bytes.Repeat([]byte{9}, 17), 255, 4), 0, nil, ErrLength},
		{"huge length", v3bin(1, bytes.Repeat([]byte{9}, 16), 255, 4), 0, nil, ErrLength},
		{"empty string packet", v3bin(0, 0, 255), 0, nil, ErrEmpty},
		{"empty binary packet", v3bin(1, 0, 255), 0, nil, ErrEmpty},
		{"binary type 7", v3bin(1, 1, 255, 7), 0, nil, ErrUnknownType},
		{"string type x", v3bin(0, 1, 255, "x"), 0, nil, ErrUnknownType},
		{"bad base64", v3bin(0, 4, 255, "b4!!"), 0, nil, ErrBase64},
	}
	for _, tt := range tests {
		got, err := DecodePayloadV3(tt.in, true, tt.max)
		if err != tt.err || !equalAll(got, tt.want) || (err != nil && got != nil) {
			t.Errorf("%s: DecodePayloadV3(%q, true, %d) = %s, %v, want %s, %v", tt.name, tt.in, tt.max, showAll(got), err, showAll(tt.want), tt.err)
		}
	}
}

func TestDecodePayloadV3Aliases(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in     []byte
		binary bool
	}{
		{[]byte("6:4hello6:4world"), false},
		{v3bin(0, 6, 255, "4hello", 1, 6, 255, 4, "world"), true},
	} {
		ps, err := DecodePayloadV3(tt.in, tt.binary, 0)
		if err != nil || len(ps) != 2 {
			t.Fatalf("DecodePayloadV3(%q, %v) = %s, %v", tt.in, tt.binary, showAll(ps), err)
		}
		for i, p := range ps {
			if !aliases(p.Data, tt.in) || cap(p.Data) != len(p.Data) {
				t.Errorf("DecodePayloadV3(%q, %v)[%d].Data does not alias the input with clipped capacity", tt.in, tt.binary, i)
			}
		}
	}
}

func TestAppendPayloadV3String(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ps   []Packet
		want string
	}{
		{nil, "0:"},
		{[]Packet{}, "0:"},
		{[]Packet{text(Message, "hello"), text(Message, "world")}, "6:4hello6:4world"},
		{[]Packet{text(Open, handshakeV3[1:])}, "96:" + handshakeV3},
		{[]Packet{text(Message, "€€€"), text(Message, "α")}, "4:4€€€2:4α"},
		{[]Packet{text(Message, "é")}, "2:4é"},
		{[]Packet{text(Message, "😀")}, "3:4😀"},
		{[]Packet{text(Message, "a"), text(Ping, "")}, "2:4a1:2"},
		{[]Packet{text(Pong, "")}, "1:3"},
		{[]Packet{text(Noop, "")}, "1:6"},
		{[]Packet{bin(Message, 1, 2, 3)}, "6:b4AQID"},
		{[]Packet{text(Message, "hello"), bin(Message, 1, 2, 3, 4)}, "6:4hello10:b4AQIDBA=="},
		{[]Packet{bin(Message)}, "2:b4"},
	}
	for _, tt := range tests {
		if got := AppendPayloadV3String(nil, tt.ps); string(got) != tt.want {
			t.Errorf("AppendPayloadV3String(nil, %s) = %q, want %q", showAll(tt.ps), got, tt.want)
		}
	}
}

func TestAppendPayloadV3Binary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ps   []Packet
		want []byte
	}{
		{nil, nil},
		{[]Packet{bin(Message, seq(0, 5)...), bin(Message, seq(5, 9)...)},
			v3bin(1, 6, 255, 4, seq(0, 5), 1, 5, 255, 4, seq(5, 9))},
		{[]Packet{bin(Message, seq(0, 123)...), text(Message, "hello"), text(Close, "")},
			v3bin(1, 1, 2, 4, 255, 4, seq(0, 123), 0, 6, 255, "4hello", 0, 1, 255, "1")},
		{[]Packet{text(Message, "€€€€"), bin(Message, 1, 2, 3)},
			v3bin(0, 1, 3, 255, "4€€€€", 1, 4, 255, 4, 1, 2, 3)},
		{[]Packet{bin(Message, bytes.Repeat([]byte{7}, 1000)...)},
			v3bin(1, 1, 0, 0, 1, 255, 4, bytes.Repeat([]byte{7}, 1000))},
	}
	for _, tt := range tests {
		if got := AppendPayloadV3Binary(nil, tt.ps); !bytes.Equal(got, tt.want) {
			t.Errorf("AppendPayloadV3Binary(nil, %s) = %v, want %v", showAll(tt.ps), got, tt.want)
		}
	}
}

func TestPayloadV3NeedsBinary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ps   []Packet
		want bool
	}{
		{nil, false},
		{[]Packet{text(Message, "hello"), text(Ping, "")}, false},
		{[]Packet{text(Message, "hello"), bin(Message, 1)}, true},
		{[]Packet{bin(Message)}, true},
	}
	for _, tt := range tests {
		if got := PayloadV3NeedsBinary(tt.ps); got != tt.want {
			t.Errorf("PayloadV3NeedsBinary(%s) = %v, want %v", showAll(tt.ps), got, tt.want)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"hello", 5},
		{"é", 1},
		{"€€€", 3},
		{"😀", 2},
		{"a😀b", 4},
		{"\uffff", 1},
		{"\U0010ffff", 2},
		{"\xff", 1},
		{"\xe2\x82", 2},
		{"\xed\xa0\x80", 3},
		{strings.Repeat("😀", 100), 200},
	}
	for _, tt := range tests {
		if got := utf16Len([]byte(tt.in)); got != tt.want {
			t.Errorf("utf16Len(%q) = %d, want %d", tt.in, got, tt.want)
		}
		if got := utf16Prefix([]byte(tt.in+"x"), tt.want); got != len(tt.in) {
			t.Errorf("utf16Prefix(%q, %d) = %d, want %d", tt.in+"x", tt.want, got, len(tt.in))
		}
	}
}

func TestDecodePayloadV3Hostile(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	pings := bytes.Repeat([]byte("1:2"), size/3)
	if ps, err := DecodePayloadV3(pings, false, 0); err != nil || len(ps) != size/3 {
		t.Errorf("DecodePayloadV3(1 MB of pings) = %d packets, %v, want %d packets", len(ps), err, size/3)
	}
	if _, err := DecodePayloadV3(pings, false, 100); err != ErrTooManyPackets {
		t.Errorf("DecodePayloadV3(1 MB of pings, cap 100) error = %v, want %v", err, ErrTooManyPackets)
	}
	empties := bytes.Repeat([]byte("0:"), size/2)
	if ps, err := DecodePayloadV3(empties, false, 1); err != nil || len(ps) != 0 {
		t.Errorf("DecodePayloadV3(1 MB of empty records) = %d packets, %v, want 0 packets", len(ps), err)
	}
	zeros := append(bytes.Repeat([]byte("0"), size), ':')
	if _, err := DecodePayloadV3(zeros, false, 0); err != ErrLength {
		t.Errorf("DecodePayloadV3(1 MB of zero digits) error = %v, want %v", err, ErrLength)
	}
	wide := append([]byte("999999:4"), strings.Repeat("😀", size/4)...)
	if _, err := DecodePayloadV3(wide, false, 0); err != ErrLength {
		t.Errorf("DecodePayloadV3(1 MB of emoji, short length) error = %v, want %v", err, ErrLength)
	}
	binPings := bytes.Repeat(v3bin(0, 1, 255, "2"), size/4)
	if ps, err := DecodePayloadV3(binPings, true, 0); err != nil || len(ps) != size/4 {
		t.Errorf("DecodePayloadV3(1 MB of binary pings) = %d packets, %v, want %d packets", len(ps), err, size/4)
	}
}

func TestDecodePayloadV3Allocs(t *testing.T) {
	// Not parallel: AllocsPerRun is disturbed by concurrent allocation.
	huge := []byte("9999999999999999:4")
	hugeBin := v3bin(1, 9, 9, 9, 9, 9, 9, 9, 9, 255, 4)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = DecodePayloadV3(huge, false, 0)
		_, _ = DecodePayloadV3(hugeBin, true, 0)
	})
	if allocs != 0 {
		t.Errorf("DecodePayloadV3(huge declared lengths) allocs = %v, want 0", allocs)
	}
	body := bytes.Repeat([]byte("6:4hello"), 100)
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := DecodePayloadV3(body, false, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 1 {
		t.Errorf("DecodePayloadV3(100 text packets) allocs = %v, want 1", allocs)
	}
}
