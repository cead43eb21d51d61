package msgpack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dynamicio/dynamicio/parser"
)

func hexBytes(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// mp builds msgpack test input from hex, with "s:text" parts for fixstr.
func mp(parts ...string) []byte {
	var b []byte
	for _, p := range parts {
		if t, ok := strings.CutPrefix(p, "s:"); ok {
			b = append(b, 0xa0|byte(len(t)))
			b = append(b, t...)
			continue
		}
		b = append(b, hexBytes(p)...)
	}
	return b
}

func decode(t *testing.T, b []byte) (*parser.Packet, error) {
	t.Helper()
	return Codec.NewDecoder(parser.DecoderOptions{}).Add(true, b)
}

func encode(t *testing.T, p *parser.Packet) []byte {
	t.Helper()
	frames, err := Codec.Encode(p)
	if err != nil {
		t.Fatalf("Encode(%+v): %v", p, err)
	}
	if len(frames) != 1 || !frames[0].Binary {
		t.Fatalf("Encode: want one binary frame, got %+v", frames)
	}
	return frames[0].Data
}

// normalize gives the packet the decoder returns for what p encodes to.
func normalize(p parser.Packet) parser.Packet {
	switch p.Type {
	case parser.BinaryEvent:
		p.Type = parser.Event
	case parser.BinaryAck:
		p.Type = parser.Ack
	}
	if len(p.Attachments) == 0 {
		p.Attachments = nil
	}
	return p
}

func TestEncodeMatchesNode(t *testing.T) {
	t.Parallel()
	for _, v := range encodeVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			got := encode(t, &v.p)
			if h := hex.EncodeToString(got); h != v.hex {
				t.Fatalf("Encode:\n got %s\nwant %s", h, v.hex)
			}
			// And back: the round trip is exact for these canonical inputs.
			p, err := decode(t, got)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if want := normalize(v.p); !reflect.DeepEqual(*p, want) {
				t.Fatalf("round trip:\n got %+v %s\nwant %+v %s", *p, p.Data, want, want.Data)
			}
		})
	}
}

func TestDecodeNodeClientPackets(t *testing.T) {
	t.Parallel()
	for _, v := range decodeVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			p, err := decode(t, hexBytes(v.hex))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(*p, v.want) {
				t.Fatalf("Decode:\n got %+v %s\nwant %+v %s", *p, p.Data, v.want, v.want.Data)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	bin := func(n int) []byte { return bytes.Repeat([]byte{0xab}, n) }
	ph := func(i string) string { return `{"_placeholder":true,"num":` + i + `}` }
	tests := []parser.Packet{
		pkt(parser.Connect, "/", 0, false, "", nil),
		pkt(parser.Connect, "/admin", 0, false, `{"token":"t","n":[1,2]}`, nil),
		pkt(parser.Connect, "/", 0, false, `{"blob":`+ph("0")+`}`, [][]byte{bin(3)}),
		pkt(parser.Disconnect, "/chat", 0, false, "", nil),
		pkt(parser.Event, "/", 0, false, `["a"]`, nil),
		pkt(parser.Event, "/", 0, false, `[42,"numeric event name"]`, nil),
		pkt(parser.Event, "/x", 1<<53-1, true, `["e",null,true,false,-1.25,"\u0000\t\"\\"]`, nil),
		pkt(parser.BinaryEvent, "/", 7, true,
			`["up",`+ph("0")+`,{"deep":[[{"x":`+ph("1")+`}]],"again":`+ph("2")+`},[]]`,
			[][]byte{bin(0), bin(300), bin(70000)}),
		pkt(parser.Ack, "/", 0, true, `[]`, nil),
		pkt(parser.Ack, "/", 3, true, `[{},[],{"":""}]`, nil),
		pkt(parser.BinaryAck, "/", 3, true, `[`+ph("0")+`]`, [][]byte{bin(1)}),
		pkt(parser.ConnectError, "/", 0, false, `"plain string"`, nil),
		pkt(parser.ConnectError, "/", 0, false, `{"message":"no","data":{"k":[1]}}`, nil),
		pkt(parser.Event, "/", 0, false, `["long",`+`"`+strings.Repeat("é", 40000)+`"]`, nil),
	}
	for _, p := range tests {
		b := encode(t, &p)
		got, err := decode(t, b)
		if err != nil {
			t.Errorf("%s %s: Decode: %v", p.Type, p.Data, err)
			continue
		}
		if want := normalize(p); !reflect.DeepEqual(*got, want) {
			t.Errorf("round trip:\n got %+v %s\nwant %+v %s", *got, got.Data, want, want.Data)
		}
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    parser.Packet
		hex  string // data value only, when the packet is type 2 with data
	}{
		// JSON.parse + notepack: integral numbers are ints whatever their text.
		{"one point zero", pkt(parser.Event, "/", 0, false, `[1.0,1e2,-0,-0.0,1E+0]`, nil), "95 01 64 00 00 01"},
		{"exact big ints", pkt(parser.Event, "/", 0, false, `[18446744073709551615,-9223372036854775808,1234567890123456789]`, nil),
			"93 cf ffffffffffffffff d3 8000000000000000 cf 112210f47de98115"},
		// notepack 2.2 writes garbage for integral numbers from 2^64 (1e21
		// as cf 35c9adc5dea00000, 1e300 as cf 0000000000000000); a float64
		// is what it meant.
		{"1e21 is a float", pkt(parser.Event, "/", 0, false, `[1e21,18446744073709551616,1e300]`, nil),
			"93 cb 444b1ae4d6e2ef50 cb 43f0000000000000 cb 7e37e43c8800759c"},
		{"overflow is infinity", pkt(parser.Event, "/", 0, false, `[1e400,-1e400]`, nil), "92 cb 7ff0000000000000 cb fff0000000000000"},
		{"escapes", pkt(parser.Event, "/", 0, false, `["\u00e9\/\b\f\n\r\t\ud83d\ude00"]`, nil), "91 ac c3a9 2f 08 0c 0a 0d 09 f09f9880"},
		{"lone surrogates", pkt(parser.Event, "/", 0, false, `["\ud800x","\udc00\ud800"]`, nil), "92 a4 efbfbd 78 a6 efbfbd efbfbd"},
		{"invalid utf-8", pkt(parser.Event, "/", 0, false, "[\"a\xffb\"]", nil), "91 a5 61 efbfbd 62"},
		{"whitespace", pkt(parser.Event, "/", 0, false, " \t\r\n[ 1 , { \"a\" : [ ] } ] \n", nil), "92 01 81 a1 61 90"},
		{"escaped placeholder key", pkt(parser.Event, "/", 0, false, `[{"\u005fplaceholder":true,"num":0.0,"x":1}]`, [][]byte{{9}}), "91 c4 01 09"},
		{"placeholder false is an object", pkt(parser.Event, "/", 0, false, `[{"_placeholder":false,"num":0}]`, nil), "91 82 ac 5f706c616365686f6c646572 c2 a3 6e756d 00"},
		{"unreferenced attachments are dropped", pkt(parser.BinaryEvent, "/", 0, false, `["x"]`, [][]byte{{1}}), "91 a1 78"},
		{"attachment used twice", pkt(parser.BinaryEvent, "/", 0, false, `[{"_placeholder":true,"num":0},{"num":0,"_placeholder":true}]`, [][]byte{{1}}), "92 c401 01 c401 01"},
	}
	for _, tc := range tests {
		b := encode(t, &tc.p)
		prefix := hexBytes("83 a4 74797065 02 a4 64617461")
		suffix := hexBytes("a3 6e7370 a1 2f")
		if !bytes.HasPrefix(b, prefix) || !bytes.HasSuffix(b, suffix) {
			t.Errorf("%s: unexpected frame % x", tc.name, b)
			continue
		}
		got := b[len(prefix) : len(b)-len(suffix)]
		if want := hexBytes(tc.hex); !bytes.Equal(got, want) {
			t.Errorf("%s: data\n got % x\nwant % x", tc.name, got, want)
		}
	}

	// An empty namespace is "/".
	if got, want := encode(t, &parser.Packet{Type: parser.Disconnect}), hexBytes("82 a474797065 01 a36e7370 a12f"); !bytes.Equal(got, want) {
		t.Errorf("empty namespace: got % x, want % x", got, want)
	}
	// Long namespaces use str 8.
	long := "/" + strings.Repeat("n", 40)
	if got := encode(t, &parser.Packet{Type: parser.Disconnect, Namespace: long}); !bytes.HasSuffix(got, append([]byte{0xd9, 41}, long...)) {
		t.Errorf("long namespace: % x", got)
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	badJSON := []string{
		``, ` `, `[`, `]`, `[1,]`, `[,1]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `{"a" 1}`, `[1 2]`,
		`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `Infinity`, `tru`, `nul`, `True`,
		`"abc`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"\x01\"", `'a'`, `[1]]`, `[1] 2`, `{}}`, `[}`, `{]`,
		`{"a":1 "b":2}`, `[1,,2]`, "[\"a\"\x00]",
	}
	for _, s := range badJSON {
		p := parser.Packet{Type: parser.Event, Data: []byte(s)}
		if _, err := Codec.Encode(&p); !errors.Is(err, parser.ErrInvalidPayload) {
			t.Errorf("Encode(%q): err = %v, want ErrInvalidPayload", s, err)
		}
	}
	badPH := []string{
		`[{"_placeholder":true}]`, `[{"_placeholder":true,"num":1}]`, `[{"_placeholder":true,"num":-1}]`,
		`[{"_placeholder":true,"num":0.5}]`, `[{"_placeholder":true,"num":"0"}]`, `[{"num":0,"_placeholder":true,"num":null}]`,
	}
	for _, s := range badPH {
		p := parser.Packet{Type: parser.Event, Data: []byte(s), Attachments: [][]byte{{1}}}
		if _, err := Codec.Encode(&p); !errors.Is(err, parser.ErrIllegalAttachment) {
			t.Errorf("Encode(%q): err = %v, want ErrIllegalAttachment", s, err)
		}
	}
	if _, err := Codec.Encode(&parser.Packet{Type: 7}); !errors.Is(err, parser.ErrUnknownType) {
		t.Errorf("type 7: err = %v", err)
	}
	if _, err := Codec.Encode(nil); err == nil {
		t.Error("nil packet: no error")
	}
}

// A packet map with the given hex members, each "key value".
func packet(members ...[]byte) []byte {
	b := []byte{0x80 | byte(len(members))}
	for _, m := range members {
		b = append(b, m...)
	}
	return b
}

var (
	typ2   = mp("s:type", "02")
	nspRt  = mp("s:nsp", "s:/")
	dataEv = func(v string) []byte { return append(mp("s:data"), hexBytes(v)...) }
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want parser.Packet
	}{
		{"any key order", packet(nspRt, dataEv("91 a1 61"), mp("s:id", "07"), typ2),
			pkt(parser.Event, "/", 7, true, `["a"]`, nil)},
		{"unknown members are skipped", packet(typ2, mp("s:x", "c7 02 05 0000"), mp("s:y", "92 c0 d5 09 0102"), nspRt, dataEv("91 00"), mp("s:z", "cb 7ff8000000000000")),
			pkt(parser.Event, "/", 0, false, `[0]`, nil)},
		{"skipped members of every kind", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:x",
			"dc 0022 01 ff c0 c2 c3 81 a1 6b 90 a1 61 c4 01 00 c5 0001 00 c6 00000001 00",
			"c7 01 05 00 c8 0001 05 00 c9 00000001 05 00 ca 00000000 cb 0000000000000000",
			"cc 00 cd 0000 ce 00000000 cf 0000000000000000 d0 00 d1 0000 d2 00000000 d3 0000000000000000",
			"d4 05 00 d5 05 0000 d6 05 00000000 d7 05 0000000000000000 d8 05 00000000000000000000000000000000",
			"d9 01 61 da 0001 61 db 00000001 61 dd 00000000 de 0000 df 00000000")),
			pkt(parser.Event, "/", 0, false, `["a"]`, nil)},
		{"last member wins", packet(mp("s:type", "09"), typ2, mp("s:nsp", "c0"), nspRt, dataEv("90"), dataEv("91 a1 62"), mp("s:id", "c0"), mp("s:id", "d4 00 00")),
			pkt(parser.Event, "/", 0, false, `["b"]`, nil)},
		{"integral float type and id", packet(mp("s:type", "cb 4000000000000000"), nspRt, dataEv("91 a1 61"), mp("s:id", "ca 40a00000")),
			pkt(parser.Event, "/", 5, true, `["a"]`, nil)},
		{"largest id", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:id", "cf 001fffffffffffff")),
			pkt(parser.Event, "/", 1<<53-1, true, `["a"]`, nil)},
		{"undefined id is absent", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:id", "05"), mp("s:id", "d4 00 00")),
			pkt(parser.Event, "/", 0, false, `["a"]`, nil)},
		{"numeric event name", packet(typ2, nspRt, dataEv("92 d0 80 cb 3ff8000000000000")),
			pkt(parser.Event, "/", 0, false, `[-128,1.5]`, nil)},
		{"float event name", packet(typ2, nspRt, dataEv("91 ca 3fc00000")),
			pkt(parser.Event, "/", 0, false, `[1.5]`, nil)},
		{"int forms", packet(typ2, nspRt, dataEv("9a 7f e0 cc ff cd ffff ce ffffffff cf ffffffffffffffff d0 80 d1 8000 d2 80000000 d3 8000000000000000")),
			pkt(parser.Event, "/", 0, false, `[127,-32,255,65535,4294967295,18446744073709551615,-128,-32768,-2147483648,-9223372036854775808]`, nil)},
		{"non-finite floats are null, -0 is 0", packet(typ2, nspRt, dataEv("96 a1 61 cb 7ff8000000000000 cb 7ff0000000000000 ca ff800000 cb 8000000000000000 ca 3dcccccd")),
			pkt(parser.Event, "/", 0, false, `["a",null,null,null,0,0.10000000149011612]`, nil)},
		{"floats like JavaScript", packet(typ2, nspRt, dataEv("96 a1 61 cb 3eb0c6f7a0b5ed8d cb 3e7ad7f29abcaf48 cb 444b1ae4d6e2ef50 cb 4415af1d78b58c40 cb 4000000000000000")),
			pkt(parser.Event, "/", 0, false, `["a",0.000001,1e-7,1e+21,100000000000000000000,2]`, nil)},
		{"integral floats", packet(typ2, nspRt, dataEv("95 a1 61 ca df000000 cb 43dfffffffffffff ca 5f800000 cb 4340000000000001")),
			pkt(parser.Event, "/", 0, false, `["a",-9223372036854775808,9223372036854774784,18446744073709552000,9007199254740994]`, nil)},
		{"integer keys become strings", packet(typ2, nspRt, dataEv("92 a1 61 83 01 a1 78 ff c0 cf ffffffffffffffff c2")),
			pkt(parser.Event, "/", 0, false, `["a",{"1":"x","-1":null,"18446744073709551615":false}]`, nil)},
		{"undefined member dropped, undefined element null", packet(typ2, nspRt, dataEv("93 a1 61 d4 00 00 83 a1 78 d4 00 ff a1 79 01 a1 7a d4 00 00")),
			pkt(parser.Event, "/", 0, false, `["a",null,{"y":1}]`, nil)},
		{"all members undefined", packet(typ2, nspRt, dataEv("92 a1 61 82 a1 78 d4 00 00 a1 79 d4 00 00")),
			pkt(parser.Event, "/", 0, false, `["a",{}]`, nil)},
		{"connect data undefined", packet(mp("s:type", "00"), mp("s:data", "d4 00 00"), nspRt),
			pkt(parser.Connect, "/", 0, false, "", nil)},
		{"connect data undefined in a data byte", packet(mp("s:type", "00"), mp("s:data", "d4 00 2a"), nspRt),
			pkt(parser.Connect, "/", 0, false, "", nil)},
		{"str8/16/32, bin and ext sizes", packet(mp("s:type", "03"), nspRt, mp("s:data", "96 d9 01 61 da 0001 62 db 00000001 63 c5 0001 01 c6 00000001 02 c9 00000001 00 03")),
			pkt(parser.Ack, "/", 0, false, `["a","b","c",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`, [][]byte{{1}, {2}, {3}})},
		{"ext8 type 0 of length 1 is binary, not undefined", packet(mp("s:type", "03"), nspRt, mp("s:data", "91 c7 01 00 2a")),
			pkt(parser.Ack, "/", 0, false, `[{"_placeholder":true,"num":0}]`, [][]byte{{42}})},
		{"array16, map16/32", packet(mp("s:type", "03"), nspRt, mp("s:data", "dd 00000002 dc 0000 de 0001 a1 6b df 00000000 ")),
			pkt(parser.Ack, "/", 0, false, `[[],{"k":{}}]`, nil)},
		{"dates", packet(typ2, nspRt, dataEv("93 a1 64 d7 00 ffe14df73d240000 d7 00 001eb208c2dc0001")),
			pkt(parser.Event, "/", 0, false, `["d","-271821-04-20T00:00:00.000Z",null]`, nil)},
		{"escaping", packet(typ2, nspRt, dataEv("92 a1 61 a9 22 5c 2f 7f 1b e2 80 a8 0a")),
			pkt(parser.Event, "/", 0, false, "[\"a\",\"\\\"\\\\/\x7f\\u001b\u2028\\n\"]", nil)},
		{"connect error string", packet(mp("s:type", "04"), nspRt, mp("s:data", "a2 6e 6f")),
			pkt(parser.ConnectError, "/", 0, false, `"no"`, nil)},
		{"namespace", packet(typ2, mp("s:nsp", "s:/ü"), dataEv("91 a1 61")),
			pkt(parser.Event, "/ü", 0, false, `["a"]`, nil)},
		{"map16 packet", append(hexBytes("de 0003"), append(append(typ2, nspRt...), dataEv("91 a1 61")...)...),
			pkt(parser.Event, "/", 0, false, `["a"]`, nil)},
	}
	for _, tc := range tests {
		p, err := decode(t, tc.in)
		if err != nil {
			t.Errorf("%s: Decode(% x): %v", tc.name, tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*p, tc.want) {
			t.Errorf("%s:\n got %+v %s\nwant %+v %s", tc.name, *p, p.Data, tc.want, tc.want.Data)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"not a map", mp("92 02 a1 2f"), parser.ErrUnknownType},
		{"no type", packet(nspRt, dataEv("91 a1 61")), parser.ErrUnknownType},
		{"type 5", packet(mp("s:type", "05"), nspRt, dataEv("91 a1 61")), parser.ErrUnknownType},
		{"type 6", packet(mp("s:type", "06"), nspRt, dataEv("90")), parser.ErrUnknownType},
		{"type -1", packet(mp("s:type", "ff"), nspRt), parser.ErrUnknownType},
		{"type 2.5", packet(mp("s:type", "cb 4004000000000000"), nspRt, dataEv("91 a1 61")), parser.ErrUnknownType},
		{"type string", packet(mp("s:type", "s:2"), nspRt, dataEv("91 a1 61")), parser.ErrUnknownType},
		{"type undefined", packet(mp("s:type", "d4 00 00"), nspRt), parser.ErrUnknownType},
		{"no nsp", packet(typ2, dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp nil", packet(typ2, mp("s:nsp", "c0"), dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp empty", packet(typ2, mp("s:nsp", "a0"), dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp without slash", packet(typ2, mp("s:nsp", "s:chat"), dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp of 255 bytes", packet(typ2, mp("s:nsp", "d9 ff 2f"+strings.Repeat("61", 254)), dataEv("91 a1 61")), nil},
		{"nsp longer than 256", packet(typ2, mp("s:nsp", "da 0101 2f"+strings.Repeat("61", 256)), dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp invalid utf-8", packet(typ2, mp("s:nsp", "a2 2f ff"), dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp with a space", packet(typ2, mp("s:nsp", "a3 2f 20 61"), dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp with a control character", packet(typ2, mp("s:nsp", "a3 2f 0a 61"), dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp with a no-break space", packet(typ2, mp("s:nsp", "a3 2f c2 a0"), dataEv("91 a1 61")), parser.ErrNamespace},
		{"nsp with a zero-width space", packet(typ2, mp("s:nsp", "a4 2f e2 80 8b"), dataEv("91 a1 61")), parser.ErrNamespace},
		{"event without data", packet(typ2, nspRt), parser.ErrInvalidPayload},
		{"event data undefined", packet(typ2, nspRt, dataEv("d4 00 00")), parser.ErrInvalidPayload},
		{"event empty", packet(typ2, nspRt, dataEv("90")), parser.ErrInvalidPayload},
		{"event object", packet(typ2, nspRt, dataEv("80")), parser.ErrInvalidPayload},
		{"event name null", packet(typ2, nspRt, dataEv("91 c0")), parser.ErrInvalidPayload},
		{"event name undefined", packet(typ2, nspRt, dataEv("91 d4 00 00")), parser.ErrInvalidPayload},
		{"event name array", packet(typ2, nspRt, dataEv("91 90")), parser.ErrInvalidPayload},
		{"event name NaN", packet(typ2, nspRt, dataEv("91 cb 7ff8000000000000")), parser.ErrInvalidPayload},
		{"event name Inf", packet(typ2, nspRt, dataEv("91 ca 7f800000")), parser.ErrInvalidPayload},
		{"event name binary", packet(typ2, nspRt, dataEv("91 c4 01 61")), parser.ErrInvalidPayload},
		{"ack object", packet(mp("s:type", "03"), nspRt, dataEv("80")), parser.ErrInvalidPayload},
		{"ack without data", packet(mp("s:type", "03"), nspRt, mp("s:id", "01")), parser.ErrInvalidPayload},
		{"connect array", packet(mp("s:type", "00"), nspRt, dataEv("90")), parser.ErrInvalidPayload},
		{"connect null", packet(mp("s:type", "00"), nspRt, dataEv("c0")), parser.ErrInvalidPayload},
		{"connect string", packet(mp("s:type", "00"), nspRt, dataEv("a1 61")), parser.ErrInvalidPayload},
		{"connect date", packet(mp("s:type", "00"), nspRt, dataEv("d7 00 0000000000000000")), parser.ErrInvalidPayload},
		{"disconnect with data", packet(mp("s:type", "01"), nspRt, dataEv("80")), parser.ErrInvalidPayload},
		{"disconnect with null", packet(mp("s:type", "01"), nspRt, dataEv("c0")), parser.ErrInvalidPayload},
		{"connect error array", packet(mp("s:type", "04"), nspRt, dataEv("90")), parser.ErrInvalidPayload},
		{"connect error absent", packet(mp("s:type", "04"), nspRt), parser.ErrInvalidPayload},
		{"id negative", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:id", "ff")), parser.ErrInvalidPayload},
		{"id 2^53", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:id", "cf 0020000000000000")), parser.ErrInvalidPayload},
		{"id float 2^53", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:id", "cb 4340000000000000")), parser.ErrInvalidPayload},
		{"id fraction", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:id", "cb 3ff8000000000000")), parser.ErrInvalidPayload},
		{"id null", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:id", "c0")), parser.ErrInvalidPayload},
		{"id string", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:id", "s:1")), parser.ErrInvalidPayload},
		{"trailing bytes", append(packet(typ2, nspRt, dataEv("91 a1 61")), 0xc0), parser.ErrInvalidPayload},
		{"reserved byte", packet(typ2, nspRt, dataEv("92 a1 61 c1")), parser.ErrInvalidPayload},
		{"reserved byte skipped", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:x", "c1")), parser.ErrInvalidPayload},
		{"ext type 1", packet(typ2, nspRt, dataEv("92 a1 61 c7 01 01 00")), parser.ErrInvalidPayload},
		{"ext type -1 timestamp", packet(typ2, nspRt, dataEv("92 a1 61 d6 ff 00000000")), parser.ErrInvalidPayload},
		{"fixext1 type 1", packet(typ2, nspRt, dataEv("92 a1 61 d4 01 00")), parser.ErrInvalidPayload},
		{"fixext2 type 0", packet(typ2, nspRt, dataEv("92 a1 61 d5 00 0000")), parser.ErrInvalidPayload},
		{"fixext16 type 0", packet(typ2, nspRt, dataEv("92 a1 61 d8 00"+strings.Repeat("00", 16))), parser.ErrInvalidPayload},
		{"fixext8 type 1", packet(typ2, nspRt, dataEv("92 a1 61 d7 01 0000000000000000")), parser.ErrInvalidPayload},
		{"invalid utf-8 string", packet(typ2, nspRt, dataEv("92 a1 61 a2 c3 28")), parser.ErrInvalidPayload},
		{"invalid utf-8 event name", packet(typ2, nspRt, dataEv("91 a1 ff")), parser.ErrInvalidPayload},
		{"surrogate in utf-8", packet(typ2, nspRt, dataEv("92 a1 61 a3 eda080")), parser.ErrInvalidPayload},
		{"invalid utf-8 key", packet(typ2, nspRt, dataEv("92 a1 61 81 a1 ff 01")), parser.ErrInvalidPayload},
		{"float key", packet(typ2, nspRt, dataEv("92 a1 61 81 cb 3ff8000000000000 01")), parser.ErrInvalidPayload},
		{"nil key", packet(typ2, nspRt, dataEv("92 a1 61 81 c0 01")), parser.ErrInvalidPayload},
		{"array key", packet(typ2, nspRt, dataEv("92 a1 61 81 90 01")), parser.ErrInvalidPayload},
		{"undefined key", packet(typ2, nspRt, dataEv("92 a1 61 81 d4 00 00 01")), parser.ErrInvalidPayload},
		{"literal placeholder", packet(typ2, nspRt, dataEv("92 a1 61 82 ac 5f706c616365686f6c646572 c3 a3 6e756d 00")), parser.ErrIllegalAttachment},
		{"too many attachments", packet(typ2, nspRt, dataEv("9c a1 61"+strings.Repeat(" c4 00", 11))), parser.ErrTooManyAttachment},
		{"ten attachments", packet(typ2, nspRt, dataEv("9b a1 61"+strings.Repeat(" c4 00", 10))), nil},
		{"too many in two data members", packet(typ2, nspRt, dataEv("9b a1 61"+strings.Repeat(" c4 00", 10)), dataEv("9b a1 61"+strings.Repeat(" c4 00", 10))), nil},
		{"huge map", mp("df ffffffff a4"), parser.ErrInvalidPayload},
		{"huge map in data", packet(typ2, nspRt, dataEv("92 a1 61 df ffffffff")), parser.ErrInvalidPayload},
		{"huge array", packet(typ2, nspRt, dataEv("dd ffffffff a1 61")), parser.ErrInvalidPayload},
		{"huge str", packet(typ2, nspRt, dataEv("92 a1 61 db ffffffff 61")), parser.ErrInvalidPayload},
		{"huge bin", packet(typ2, nspRt, dataEv("92 a1 61 c6 ffffffff 61")), parser.ErrInvalidPayload},
		{"huge ext", packet(typ2, nspRt, dataEv("92 a1 61 c9 ffffffff 00 61")), parser.ErrInvalidPayload},
		{"huge skipped map", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:x", "df ffffffff")), parser.ErrInvalidPayload},
		{"huge skipped ext", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:x", "c9 ffffffff 05")), parser.ErrInvalidPayload},
		{"deep data", packet(typ2, nspRt, dataEv("92 a1 61"+strings.Repeat(" 91", MaxDepth)+" c0")), parser.ErrInvalidPayload},
		{"deepest data", packet(typ2, nspRt, dataEv("92 a1 61"+strings.Repeat(" 91", MaxDepth-1)+" c0")), nil},
		{"deep map", packet(typ2, nspRt, dataEv("92 a1 61"+strings.Repeat(" 81 a0", MaxDepth)+" c0")), parser.ErrInvalidPayload},
		{"deep skipped", packet(typ2, nspRt, dataEv("91 a1 61"), mp("s:x", strings.Repeat("91", MaxDepth+1)+"c0")), parser.ErrInvalidPayload},
	}
	for _, tc := range tests {
		_, err := decode(t, tc.in)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: Decode(% x): unexpected error %v", tc.name, tc.in, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: Decode(% x): err = %v, want %v", tc.name, tc.in, err, tc.want)
		}
	}
}

func TestDecodeReservedEvents(t *testing.T) {
	t.Parallel()
	for name := range parser.ReservedEvents {
		in := packet(typ2, nspRt, append(mp("s:data", "92"), mp("s:"+name, "01")...))
		if _, err := decode(t, in); !errors.Is(err, parser.ErrInvalidPayload) {
			t.Errorf("%q: err = %v, want ErrInvalidPayload", name, err)
		}
		// Reserved names are fine elsewhere: as ack arguments.
		in = packet(mp("s:type", "03"), nspRt, append(mp("s:data", "91"), mp("s:"+name)...))
		if _, err := decode(t, in); err != nil {
			t.Errorf("ack %q: %v", name, err)
		}
	}
	// "error" and "message" are not reserved.
	for _, name := range []string{"error", "message", "connection"} {
		in := packet(typ2, nspRt, append(mp("s:data", "91"), mp("s:"+name)...))
		if _, err := decode(t, in); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestDecoderFrames(t *testing.T) {
	t.Parallel()
	d := Codec.NewDecoder(parser.DecoderOptions{})
	if _, err := d.Add(false, []byte(`2["a"]`)); !errors.Is(err, ErrTextFrame) {
		t.Errorf("text frame: err = %v", err)
	}
	if _, err := d.Add(true, nil); !errors.Is(err, parser.ErrEmpty) {
		t.Errorf("empty frame: err = %v", err)
	}
	// The decoder keeps nothing of the input.
	in := hexBytes(decodeVectors[5].hex) // clientBinary
	p, err := d.Add(true, in)
	if err != nil {
		t.Fatal(err)
	}
	want := *p
	want.Attachments = [][]byte{bytes.Clone(p.Attachments[0])}
	for i := range in {
		in[i] = 0
	}
	if !bytes.Equal(p.Attachments[0], want.Attachments[0]) || !bytes.Contains(p.Data, []byte(`"up"`)) {
		t.Errorf("decoded packet aliases the input: %+v", p)
	}
	d.Reset()
	if _, err := d.Add(true, hexBytes(decodeVectors[0].hex)); err != nil {
		t.Errorf("after Reset: %v", err)
	}
}

func TestDecoderOptions(t *testing.T) {
	t.Parallel()
	d := Codec.NewDecoder(parser.DecoderOptions{MaxAttachments: 2, MaxNamespaceLength: 4})
	if _, err := d.Add(true, packet(typ2, nspRt, dataEv("93 a1 61 c4 00 c4 00"))); err != nil {
		t.Errorf("2 attachments: %v", err)
	}
	if _, err := d.Add(true, packet(typ2, nspRt, dataEv("94 a1 61 c4 00 c4 00 c7 00 00"))); !errors.Is(err, parser.ErrTooManyAttachment) {
		t.Errorf("3 attachments: err = %v", err)
	}
	if _, err := d.Add(true, packet(typ2, mp("s:nsp", "s:/abc"), dataEv("91 a1 61"))); err != nil {
		t.Errorf("namespace of 4 bytes: %v", err)
	}
	if _, err := d.Add(true, packet(typ2, mp("s:nsp", "s:/abcd"), dataEv("91 a1 61"))); !errors.Is(err, parser.ErrNamespace) {
		t.Errorf("namespace of 5 bytes: err = %v", err)
	}
}

// Every proper prefix of a valid packet is an error, never a panic.
func TestDecodeTruncated(t *testing.T) {
	t.Parallel()
	var inputs [][]byte
	for _, v := range decodeVectors {
		inputs = append(inputs, hexBytes(v.hex))
	}
	for _, v := range encodeVectors {
		inputs = append(inputs, hexBytes(v.hex))
	}
	for _, in := range inputs {
		for n := 1; n < len(in); n++ {
			if p, err := decode(t, in[:n]); err == nil {
				t.Errorf("Decode(% x) = %+v, want an error", in[:n], p)
			}
		}
	}
}

// Declared lengths are checked before anything is allocated: a hostile
// length fails without allocating at all.
func TestDecodeHugeLengthsDoNotAllocate(t *testing.T) {
	inputs := [][]byte{
		mp("df ffffffff a4"),
		packet(typ2, nspRt, dataEv("dd ffffffff")),
		packet(typ2, nspRt, dataEv("92 a1 61 c6 ffffffff")),
		packet(typ2, nspRt, dataEv("92 a1 61 db ffffffff")),
		append(mp("df 7fffffff"), bytes.Repeat([]byte{0xc0}, 10)...),
	}
	d := Codec.NewDecoder(parser.DecoderOptions{})
	for _, in := range inputs {
		allocs := testing.AllocsPerRun(10, func() {
			if _, err := d.Add(true, in); err == nil {
				t.Fatalf("Decode(% x): no error", in)
			}
		})
		// The data buffer (sized from the actual input) may be allocated.
		if allocs > 1 {
			t.Errorf("Decode(% x): %v allocations", in, allocs)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		json string
		atts [][]byte
	}{
		{`["uid",{"type":2,"data":["ev",1,-2,1.5,"x"],"nsp":"/"},{"rooms":["a"],"except":[],"flags":{"volatile":true}}]`, nil},
		{`{"requestId":"abc","packet":{"_placeholder":true,"num":0}}`, [][]byte{{1, 2, 3}}},
		{`null`, nil},
		{`[[],{},true,false,null]`, nil},
	} {
		b, err := AppendJSON(nil, []byte(tc.json), tc.atts)
		if err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		got, atts, err := ToJSON(b, 10)
		if err != nil {
			t.Fatalf("%s: ToJSON: %v", tc.json, err)
		}
		if string(got) != tc.json {
			t.Errorf("round trip: got %s, want %s", got, tc.json)
		}
		if len(atts) != len(tc.atts) {
			t.Errorf("%s: %d attachments, want %d", tc.json, len(atts), len(tc.atts))
		}
	}
	if _, _, err := ToJSON([]byte{0x91, 0x01, 0x02}, 10); err == nil {
		t.Error("ToJSON accepted a trailing byte")
	}
	if _, err := AppendJSON(nil, []byte(`{"a":`), nil); err == nil {
		t.Error("AppendJSON accepted bad JSON")
	}
}
