package packet

import (
	"bytes"
	"testing"
)

// Fuzz targets. Each checks that decoding never panics, that a decoded
// packet's data is never larger than the input (no allocation driven by a
// declared length), and the round-trip property: what decodes re-encodes to
// something that decodes to the same packets (and, where the encoding is
// canonical, to the same bytes). The committed corpus is in
// testdata/fuzz/<FuzzName>/.

// seedsText are string-form packets from the protocol documents,
// engine.io-parser's tests and the security seed corpus.
var seedsText = []string{
	"", "0", handshakeV4, handshakeV3, `0{"some":"json"}`, "1", "2", "2probe", "3", "3probe", "4", "4hello",
	"4test", "4abc", "40", `42["error"]`, `42["some event"]`, `442["some","data"`, "41€", "4utf8 — string", "5", "6",
	"abc", "a123", "9", "999", "{", "{}", `["a123", "a456"]`, ":::", "94103",
	"b", "bAQIDBA==", "bAQID", "bAQIDBA", "b!!!!", "bA", "bAQIDBA=", "b-_-_", "bAQID\r\nBA==",
	"b4AQID", "b4", "b7AQID", "b4!!!!", "4\xff\xfe", "4😀",
	// Security seed corpus: Socket.IO packets carried in an Engine.IO message.
	`42[{"toString":"foo"}]`, `451-["hello",{"_placeholder":true,"num":"splice"}]`, `450-["x"]`,
	`453-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`,
	"45", "451", "45a-", "451.23-", "45woooot", `40/admin,"invalid"`, `41/admin,{}`, `42/admin,"invalid`,
	`42/admin,{}`, `42[true,"foo"]`, `42[null,"bar"]`, `42["connect"]`, `42["disconnect","123"]`, "4999",
	`4{"sid":"__proto__"}`, `{"sid":"__proto__"}`, "__proto__", "b__proto__", "bconstructor",
}

// seedsPayload are v4 polling bodies.
var seedsPayload = []string{
	"4hello\x1ebAQIDBA==", "0\x1e1\x1e2probe\x1e3probe\x1e4test", "4test\x1ebAQIDBA==", "6\x1e1",
	"4hello\x1e4world", "", "\x1e", "4a\x1e", "4a\x1e\x1e4b", "{", "{}", `["a123", "a456"]`,
	"4a\x1eb!!!!", "b\x1eb", "6:4hello6:4world",
	"40\x1e40", `42["some event"]` + "\x1e40", `42["error"]` + "\x1e4abc\x1eabc\x1e9", "2probe\x1e5", "3probe\x1e5\x1e6",
	`451-["hello",{"_placeholder":true,"num":0}]` + "\x1ebAQID",
}

// seedsPayloadV3 are v3 polling bodies.
var seedsPayloadV3 = []struct {
	binary bool
	body   string
}{
	{false, "6:4hello6:4world"},
	{false, "96:" + handshakeV3},
	{false, "96:" + handshakeV3 + "2:40"},
	{false, "0:"},
	{false, "4:4€€€2:4α"},
	{false, "2:4é"},
	{false, "3:4😀"},
	{false, "2:4😀"},
	{false, "6:b4AQID"},
	{false, "6:4hello6:b4AQID"},
	{false, "1!"},
	{false, ""},
	{false, "))"},
	{false, "1:"},
	{false, "3:99:"},
	{false, "1:aa"},
	{false, "1:a2:b"},
	{false, "99999999999999999999:4"},
	{false, "3:4\xe2\x82"},
	{true, "\x01\x06\xff\x04\x00\x01\x02\x03\x04\x01\x05\xff\x04\x05\x06\x07\x08"},
	{true, "\x00\x01\x03\xff4€€€€\x01\x04\xff\x04\x01\x02\x03"},
	{true, "\x00\x06\xffb4AQID"},
	{true, "\x00\x01\xff2"},
	{true, "@"},
	{true, "\x00\x01"},
	{true, "\x01\x05\xff\x04\x01\x02"},
	{true, "\x01\x00\xff"},
	{true, "\x01\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\xff\x04"},
}

func FuzzDecodeText(f *testing.F) {
	for _, s := range seedsText {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := DecodeText(in)
		if err != nil {
			if !equal(p, Packet{}) {
				t.Fatalf("DecodeText(%q) = %s, %v, want the zero packet with an error", in, show(p), err)
			}
			return
		}
		if !p.Type.valid() || (p.Binary && p.Type != Message) || len(p.Data) > len(in) {
			t.Fatalf("DecodeText(%q) = %s: invalid packet", in, show(p))
		}
		enc := AppendText(nil, p)
		if !p.Binary && !bytes.Equal(enc, in) {
			t.Fatalf("AppendText(DecodeText(%q) = %s) = %q, want the input", in, show(p), enc)
		}
		got, err := DecodeText(enc)
		if err != nil || !equal(got, p) {
			t.Fatalf("DecodeText(AppendText(DecodeText(%q))) = %s, %v, want %s", in, show(got), err, show(p))
		}

		b := DecodeBinary(in)
		if !bytes.Equal(b.Data, in) || b.Type != Message || !b.Binary {
			t.Fatalf("DecodeBinary(%q) = %s, want a binary message of the input", in, show(b))
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range seedsPayload {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ps, err := DecodePayload(in, 0)
		if err != nil {
			if ps != nil {
				t.Fatalf("DecodePayload(%q) = %s, %v, want nil packets with an error", in, showAll(ps), err)
			}
			return
		}
		if n := bytes.Count(in, []byte{recordSeparator}) + 1; len(ps) != n {
			t.Fatalf("DecodePayload(%q) = %d packets, want %d", in, len(ps), n)
		}
		if totalData(ps) > len(in) {
			t.Fatalf("DecodePayload(%q) = %d data bytes, more than the input", in, totalData(ps))
		}
		enc := AppendPayload(nil, ps)
		if !PayloadV3NeedsBinary(ps) && !bytes.Equal(enc, in) {
			t.Fatalf("AppendPayload(DecodePayload(%q)) = %q, want the input", in, enc)
		}
		got, err := DecodePayload(enc, len(ps))
		if err != nil || !equalAll(got, ps) {
			t.Fatalf("DecodePayload(AppendPayload(DecodePayload(%q))) = %s, %v, want %s", in, showAll(got), err, showAll(ps))
		}
		if len(ps) > 1 {
			if _, err := DecodePayload(in, len(ps)-1); err != ErrTooManyPackets {
				t.Fatalf("DecodePayload(%q, %d) error = %v, want %v", in, len(ps)-1, err, ErrTooManyPackets)
			}
		}
	})
}

func FuzzDecodeTextV3(f *testing.F) {
	for _, s := range seedsText {
		f.Add([]byte(s))
	}
	f.Add([]byte{4, 1, 2, 3})
	f.Add([]byte{0})
	f.Add([]byte{7})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := DecodeTextV3(in)
		if err == nil {
			if !p.Type.valid() || len(p.Data) > len(in) {
				t.Fatalf("DecodeTextV3(%q) = %s: invalid packet", in, show(p))
			}
			enc := AppendTextV3(nil, p)
			if !p.Binary && !bytes.Equal(enc, in) {
				t.Fatalf("AppendTextV3(DecodeTextV3(%q) = %s) = %q, want the input", in, show(p), enc)
			}
			got, err := DecodeTextV3(enc)
			if err != nil || !equal(got, p) {
				t.Fatalf("DecodeTextV3(AppendTextV3(DecodeTextV3(%q))) = %s, %v, want %s", in, show(got), err, show(p))
			}
		} else if !equal(p, Packet{}) {
			t.Fatalf("DecodeTextV3(%q) = %s, %v, want the zero packet with an error", in, show(p), err)
		}

		p, err = DecodeBinaryV3(in)
		if err != nil {
			return
		}
		if !p.Type.valid() || !p.Binary {
			t.Fatalf("DecodeBinaryV3(%q) = %s: invalid packet", in, show(p))
		}
		if enc := AppendBinaryV3(nil, p); !bytes.Equal(enc, in) {
			t.Fatalf("AppendBinaryV3(DecodeBinaryV3(%q)) = %q, want the input", in, enc)
		}
	})
}

func FuzzDecodePayloadV3(f *testing.F) {
	for _, s := range seedsPayloadV3 {
		f.Add(s.binary, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, binary bool, in []byte) {
		ps, err := DecodePayloadV3(in, binary, 0)
		if err != nil {
			if ps != nil {
				t.Fatalf("DecodePayloadV3(%q, %v) = %s, %v, want nil packets with an error", in, binary, showAll(ps), err)
			}
			return
		}
		if totalData(ps) > len(in) {
			t.Fatalf("DecodePayloadV3(%q, %v) = %d data bytes, more than the input", in, binary, totalData(ps))
		}
		for _, p := range ps {
			if !p.Type.valid() {
				t.Fatalf("DecodePayloadV3(%q, %v) = %s: invalid packet", in, binary, showAll(ps))
			}
		}

		// Both payload forms must round-trip.
		enc := AppendPayloadV3String(nil, ps)
		got, err := DecodePayloadV3(enc, false, len(ps))
		if err != nil || !equalAll(got, ps) {
			t.Fatalf("DecodePayloadV3(AppendPayloadV3String(DecodePayloadV3(%q, %v)) = %q) = %s, %v, want %s",
				in, binary, enc, showAll(got), err, showAll(ps))
		}
		if len(ps) > 0 {
			enc = AppendPayloadV3Binary(nil, ps)
			got, err = DecodePayloadV3(enc, true, len(ps))
			if err != nil || !equalAll(got, ps) {
				t.Fatalf("DecodePayloadV3(AppendPayloadV3Binary(DecodePayloadV3(%q, %v)) = %q) = %s, %v, want %s",
					in, binary, enc, showAll(got), err, showAll(ps))
			}
		}
		if len(ps) > 1 {
			if _, err := DecodePayloadV3(in, binary, len(ps)-1); err != ErrTooManyPackets {
				t.Fatalf("DecodePayloadV3(%q, %v, %d) error = %v, want %v", in, binary, len(ps)-1, err, ErrTooManyPackets)
			}
		}
	})
}
