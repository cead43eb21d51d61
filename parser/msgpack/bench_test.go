package msgpack

import (
	"testing"

	"github.com/dynamicio/dynamicio/parser"
)

var benchPacket = parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["chat",{"user":"a","text":"hello"}]`)}

func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Codec.Encode(&benchPacket); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 128)
	for b.Loop() {
		var err error
		if buf, err = AppendPacket(buf[:0], &benchPacket); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	in, err := AppendPacket(nil, &benchPacket)
	if err != nil {
		b.Fatal(err)
	}
	d := Codec.NewDecoder(parser.DecoderOptions{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Add(true, in); err != nil {
			b.Fatal(err)
		}
	}
}
