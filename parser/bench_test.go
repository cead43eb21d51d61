package parser

import "testing"

var benchData = []byte(`["chat",{"user":"a","text":"hello"}]`)

// BenchmarkEncode encodes 42["chat",{"user":"a","text":"hello"}] without
// the Engine.IO "4": one allocation (frame slice and text together).
func BenchmarkEncode(b *testing.B) {
	p := &Packet{Type: Event, Namespace: "/", Data: benchData}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JSON.Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendEncode encodes the same packet into a reused buffer.
func BenchmarkAppendEncode(b *testing.B) {
	p := &Packet{Type: Event, Namespace: "/", Data: benchData}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEncode(buf[:0], p)
	}
}

// BenchmarkEncodeBinary encodes a binary event with two attachments.
func BenchmarkEncodeBinary(b *testing.B) {
	p := &Packet{Type: Event, Namespace: "/chat", ID: 12, HasID: true,
		Data:        []byte(`["file",` + ph0 + `,{"thumb":` + ph1 + `}]`),
		Attachments: [][]byte{make([]byte, 1024), make([]byte, 64)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := JSON.Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode decodes 2["chat",{"user":"a","text":"hello"}].
func BenchmarkDecode(b *testing.B) {
	in := append([]byte("2"), benchData...)
	d := JSON.NewDecoder(DecoderOptions{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if p, err := d.Add(false, in); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBinary decodes a binary event with its two attachments.
func BenchmarkDecodeBinary(b *testing.B) {
	in := []byte(`52-/chat,12["file",` + ph0 + `,{"thumb":` + ph1 + `}]`)
	a1, a2 := make([]byte, 1024), make([]byte, 64)
	d := JSON.NewDecoder(DecoderOptions{})
	b.ReportAllocs()
	for b.Loop() {
		_, _ = d.Add(false, in)
		_, _ = d.Add(true, a1)
		if p, err := d.Add(true, a2); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeLarge decodes an event with a 64 KB argument.
func BenchmarkDecodeLarge(b *testing.B) {
	in := []byte(`2["big",[`)
	for len(in) < 64<<10 {
		in = append(in, `{"k":"value with \"escapes\"","n":12345.5,"b":[true,false,null]},`...)
	}
	in = append(in, "1]]"...)
	d := JSON.NewDecoder(DecoderOptions{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if p, err := d.Add(false, in); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEventName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := EventName(benchData); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitArray(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SplitArray(benchData); err != nil {
			b.Fatal(err)
		}
	}
}
