package packet

import (
	"bytes"
	"slices"
	"testing"
)

// payload100 returns a v4 polling body of 100 packets: mostly socket.io
// events, with a ping reply and a few base64 binary messages.
func payload100() []byte {
	var ps []Packet
	for i := range 100 {
		switch {
		case i%25 == 0:
			ps = append(ps, bin(Message, seq(0, 64)...))
		case i%10 == 0:
			ps = append(ps, text(Pong, ""))
		default:
			ps = append(ps, text(Message, `2["chat message",{"user":"alice","text":"hello, world"}]`))
		}
	}
	return AppendPayload(nil, ps)
}

func BenchmarkDecodePayload_100Packets(b *testing.B) {
	body := payload100()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePayload(body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePayload_100TextPackets(b *testing.B) {
	body := AppendPayload(nil, slices.Repeat([]Packet{text(Message, `2["chat message","hello, world"]`)}, 100))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePayload(body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendText_100Bytes(b *testing.B) {
	p := text(Message, string(bytes.Repeat([]byte("x"), 100)))
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	b.SetBytes(100)
	for b.Loop() {
		buf = AppendText(buf[:0], p)
	}
}

func BenchmarkAppendText_100BytesBinary(b *testing.B) {
	p := bin(Message, seq(0, 100)...)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(100)
	for b.Loop() {
		buf = AppendText(buf[:0], p)
	}
}

func BenchmarkDecodePayloadV3String_100Packets(b *testing.B) {
	body := AppendPayloadV3String(nil, slices.Repeat([]Packet{text(Message, `2["chat message","héllo, wörld"]`)}, 100))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePayloadV3(body, false, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePayloadV3Binary_100Packets(b *testing.B) {
	body := AppendPayloadV3Binary(nil, slices.Repeat([]Packet{text(Message, `2["chat"]`), bin(Message, seq(0, 64)...)}, 50))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePayloadV3(body, true, 0); err != nil {
			b.Fatal(err)
		}
	}
}
