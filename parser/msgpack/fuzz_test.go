package msgpack

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dynamicio/dynamicio/parser"
)

// FuzzDecode: no input panics; what decodes has bounded size, valid JSON
// data and a known type; and decode → encode → decode gives it back.
func FuzzDecode(f *testing.F) {
	for _, v := range decodeVectors {
		f.Add(hexBytes(v.hex))
	}
	for _, v := range encodeVectors {
		if len(v.hex) < 600 {
			f.Add(hexBytes(v.hex))
		}
	}
	f.Add(packet(typ2, nspRt, dataEv("93 a1 61 cb 7ff8000000000000 81 01 d7 00 0000000000000001")))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := Codec.NewDecoder(parser.DecoderOptions{})
		if _, err := d.Add(false, in); err == nil {
			t.Fatal("text frame accepted")
		}
		p, err := d.Add(true, in)
		if err != nil {
			return
		}
		if p.Type > parser.ConnectError {
			t.Fatalf("type %v", p.Type)
		}
		// Output is linear in the input: at most 6 bytes of JSON per input
		// byte (\u00XX), plus the placeholders.
		if len(p.Data) > 6*len(in)+32*len(p.Attachments) {
			t.Fatalf("%d bytes of data from %d bytes", len(p.Data), len(in))
		}
		n := 0
		for _, a := range p.Attachments {
			n += len(a)
		}
		if n > len(in) || len(p.Attachments) > parser.DefaultMaxAttachments {
			t.Fatalf("%d attachments, %d bytes, from %d bytes", len(p.Attachments), n, len(in))
		}
		if p.Data != nil && !json.Valid(p.Data) {
			t.Fatalf("invalid JSON %q", p.Data)
		}
		b, err := AppendPacket(nil, p)
		if err != nil {
			t.Fatalf("Encode(%+v %s): %v", *p, p.Data, err)
		}
		p2, err := d.Add(true, b)
		if err != nil {
			t.Fatalf("re-decode % x: %v", b, err)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("decode→encode→decode:\n got %+v %s\nwant %+v %s", *p2, p2.Data, *p, p.Data)
		}
	})
}

// FuzzEncode: Encode accepts exactly the JSON texts encoding/json accepts
// (except placeholder objects, which must be valid), and decoding gives the
// same JSON value back.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{
		`["a",1,-2,3.5,1e400,"\u00e9\ud800",{"k":[true,false,null]}]`,
		`[{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":0}}]`,
		`[18446744073709551615,-9223372036854775809,1E-7,0.1,-0]`,
		` [ { "" : "" } , [ ] ] `,
		`{"a":1}`, `"s"`, `[1,]`, `[01]`, "[\"\xff\"]",
	} {
		f.Add([]byte(s))
	}
	opts := parser.DecoderOptions{MaxAttachments: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := parser.Packet{Type: parser.BinaryAck, Namespace: "/", ID: 1, HasID: true, Data: data, Attachments: [][]byte{{1, 2, 3}}}
		b, err := AppendPacket(nil, &p)
		var orig any
		valid := json.Unmarshal(data, &orig) == nil
		if !json.Valid(data) {
			if err == nil {
				t.Fatalf("Encode(%q) accepted invalid JSON", data)
			}
			return
		}
		if err != nil {
			if !hasPlaceholder(orig) && len(data) < 10000 {
				t.Fatalf("Encode(%q): %v", data, err)
			}
			return
		}
		got, err := Decode(b, opts)
		if err != nil {
			return // not an array, or too deep
		}
		if valid && !hasPlaceholder(orig) {
			var back any
			if err := json.Unmarshal(got.Data, &back); err != nil {
				t.Fatalf("decoded invalid JSON %q", got.Data)
			}
			if !reflect.DeepEqual(orig, back) {
				t.Fatalf("JSON %q → msgpack % x → %q", data, b, got.Data)
			}
		}
		// One round later, the form is stable.
		b2, err := AppendPacket(nil, got)
		if err != nil {
			t.Fatal(err)
		}
		got2, err := Decode(b2, opts)
		if err != nil || !reflect.DeepEqual(got, got2) {
			t.Fatalf("not stable: %+v %s → %+v (%v)", got, got.Data, got2, err)
		}
	})
}

func hasPlaceholder(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		if v["_placeholder"] == true {
			return true
		}
		for _, x := range v {
			if hasPlaceholder(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasPlaceholder(x) {
				return true
			}
		}
	}
	return false
}
