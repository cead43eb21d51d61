package parser

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Fuzz targets. The committed corpus is in testdata/fuzz/<FuzzName>/ (see
// TestWriteCorpus); the seeds below are added in code as well.

// fuzzMaxAttachments is the decoder's cap in FuzzDecode, small so that the
// fuzzer reaches it.
const fuzzMaxAttachments = 3

// seedsText are Socket.IO text packets: every case of the decode tables
// small enough, the security seed corpus, and a few more shapes.
func seedsText() []string {
	var s []string
	for _, c := range validCases {
		if len(c.in) < 1<<10 {
			s = append(s, c.in)
		}
	}
	for _, c := range invalidCases {
		if len(c.in) < 1<<10 {
			s = append(s, c.in)
		}
	}
	return append(s,
		`53-["hello",`+ph0+`,`+ph1+`,{"_placeholder":true,"num":2}]`,
		`54-["hello",`+ph0+`]`,
		`62-/a?x=y,9007199254740991[`+ph1+`,{"a":[`+ph0+`]}]`,
		`2["chat",{"user":"a","text":"hello"}]`,
		`0/nsp?token=abc,{"x":1}`,
		"0/"+strings.Repeat("a", 300)+",",
		"2[\"x\","+nest(60, "")+"]",
	)
}

// FuzzDecode feeds a text message and up to frames%5 binary messages (bin1,
// bin2, bin1, …) to a decoder. It checks that decoding never panics, that a
// decoded packet holds no more than it was given and does not alias the
// input, that a completed packet re-encodes to frames that decode to the
// same packet, that the argument helpers accept what the decoder accepts,
// and that the decoder is reset after every error.
func FuzzDecode(f *testing.F) {
	for _, s := range seedsText() {
		f.Add([]byte(s), []byte("\x01\x02"), []byte(""), byte(3))
	}
	f.Add([]byte(`52-["a",`+ph0+`,`+ph1+`]`), []byte("x"), []byte("y"), byte(2))
	f.Add([]byte(`50-["x"]`), []byte("x"), []byte("y"), byte(4))
	f.Fuzz(func(t *testing.T, text, bin1, bin2 []byte, frames byte) {
		d := JSON.NewDecoder(DecoderOptions{MaxAttachments: fuzzMaxAttachments})
		bins := [][]byte{bin1, bin2}
		input := len(text)
		p, err := d.Add(false, text)
		n := int(frames % 5)
		for k := 0; err == nil && p == nil && k < n; k++ {
			input += len(bins[k%2])
			p, err = d.Add(true, bins[k%2])
		}
		if err != nil {
			if p != nil {
				t.Fatalf("Decode(%q) = %s with error %v", text, show(p), err)
			}
			if q, err := d.Add(true, []byte("x")); err != ErrUnexpectedBinary || q != nil {
				t.Fatalf("Decode(%q): after an error, Add(binary) = %s, %v, want %v", text, show(q), err, ErrUnexpectedBinary)
			}
			return
		}
		if p == nil {
			if q, err := d.Add(false, []byte(`2["x"]`)); err != ErrUnexpectedText || q != nil {
				t.Fatalf("Decode(%q): waiting for attachments, Add(text) = %s, %v, want %v", text, show(q), err, ErrUnexpectedText)
			}
			return
		}

		// The packet.
		size := len(p.Namespace) + cap(p.Data)
		for _, a := range p.Attachments {
			size += cap(a)
		}
		if p.Type > ConnectError || len(p.Attachments) > fuzzMaxAttachments || size > input ||
			p.Namespace == "" || p.Namespace[0] != '/' || len(p.Namespace) > len(text) ||
			(p.HasID && p.ID > maxSafeInteger) || (!p.HasID && p.ID != 0) {
			t.Fatalf("Decode(%q) = %s: invalid packet", text, show(p))
		}
		if p.Data != nil {
			if !json.Valid(p.Data) || !bytes.Contains(text, p.Data) {
				t.Fatalf("Decode(%q) = %s: data is not a valid part of the input", text, show(p))
			}
		}
		if p.Namespace != "/" && !bytes.Contains(text, []byte(p.Namespace)) {
			t.Fatalf("Decode(%q) = %s: namespace not verbatim", text, show(p))
		}
		want := clonePacket(p)
		for i := range text {
			text[i] ^= 0xff
		}
		for _, b := range bins {
			for i := range b {
				b[i] ^= 0xff
			}
		}
		if !equalPacket(p, want) {
			t.Fatalf("packet %s aliases its input", show(want))
		}

		// Round trip.
		enc, err := JSON.Encode(p)
		if err != nil {
			t.Fatalf("Encode(%s) error = %v", show(p), err)
		}
		d2 := JSON.NewDecoder(DecoderOptions{MaxAttachments: fuzzMaxAttachments})
		var got *Packet
		for i, fr := range enc {
			got, err = d2.Add(fr.Binary, fr.Data)
			if err != nil || (got != nil) != (i == len(enc)-1) {
				t.Fatalf("Decode(Encode(%s)) frame %d = %s, %v", show(p), i, show(got), err)
			}
		}
		if !equalPacket(got, p) {
			t.Fatalf("Decode(Encode(%s)) = %s", show(p), show(got))
		}

		// The helpers accept what the decoder accepted.
		if p.Data == nil {
			return
		}
		if r, err := ReplacePlaceholders(p.Data, p.Attachments); err != nil || !json.Valid(r) {
			t.Fatalf("ReplacePlaceholders(%q) = %q, %v", p.Data, r, err)
		}
		switch p.Type {
		case Event:
			name, rest, err := EventName(p.Data)
			if err != nil || !ValidEventName(name) || !json.Valid(rest) {
				t.Fatalf("EventName(%q) = %q, %q, %v", p.Data, name, rest, err)
			}
			fallthrough
		case Ack:
			elems, err := SplitArray(p.Data)
			if err != nil {
				t.Fatalf("SplitArray(%q) error = %v", p.Data, err)
			}
			for _, e := range elems {
				if _, isPH, ok := placeholderIndex(e, len(p.Attachments)); isPH && len(p.Attachments) > 0 && !ok {
					t.Fatalf("Decode(%q): argument %q is a bad placeholder", p.Data, e)
				}
			}
		}
	})
}

func clonePacket(p *Packet) *Packet {
	q := *p
	q.Data = bytes.Clone(p.Data)
	q.Attachments = nil
	for _, a := range p.Attachments {
		q.Attachments = append(q.Attachments, bytes.Clone(a))
	}
	return &q
}

// seedsArgs are JSON texts for the argument helpers.
var seedsArgs = []string{
	`["chat",{"user":"a","text":"hello"}]`, `["foo"]`, `[1,"a",{}]`, `[-1.5e3]`, `["\u0065rror\n"]`, `[]`, `{}`, `"x"`,
	`[{"toString":"foo"}]`, `[null,"x"]`, `["a\"b",["]"]]`, ` ["foo" , 1 ,2 ] `, `["x"`, `["x"]]`, `[1,]`, `[,1]`,
	`["a",` + ph0 + `,{"b":[` + ph1 + `]}]`, `{"_placeholder":true,"num":0,"x":` + ph1 + `}`,
	`{"\u005fplaceholder":true,"n\u0075m":1}`, `{"_placeholder":true,"num":5,"num":1}`,
	`{"_PLACEHOLDER":true,"NUM":0}`, `[{"_placeholder":true,"num":"splice"}]`, `[{"_placeholder":true,"num":1.5}]`,
	`{"_placeholder":true,"_placeholder":false,"num":0}`, `[{"_placeholder":{"_placeholder":true,"num":0},"num":1}]`,
	"[\"\xff\",1]", `["é😀\ud83d\ude00"]`, nest(40, ph0),
}

// FuzzEventName checks EventName and SplitArray against each other and
// against encoding/json on valid JSON, and that they never panic.
func FuzzEventName(f *testing.F) {
	for _, s := range seedsArgs {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		name, rest, err := EventName(data)
		elems, serr := SplitArray(data)
		if err == nil && (len(rest) < 2 || rest[0] != '[') {
			t.Fatalf("EventName(%q) = %q, %q: rest is not an array", data, name, rest)
		}
		if !json.Valid(data) || string(bytes.TrimSpace(data)) == "null" {
			return
		}
		// On valid JSON, SplitEvent is EventName and SplitArray of the
		// rest in one pass, appending to what it is given.
		sname, sargs, sperr := SplitEvent(data, [][]byte{[]byte("kept")})
		if (sperr == nil) != (err == nil) || sname != name {
			t.Fatalf("SplitEvent(%q) = %q, %v; EventName = %q, %v", data, sname, sperr, name, err)
		}
		if sperr == nil {
			if len(sargs) != len(elems) || string(sargs[0]) != "kept" {
				t.Fatalf("SplitEvent(%q) args = %q, want kept + %d", data, sargs, len(elems)-1)
			}
			for i := 1; i < len(sargs); i++ {
				if !bytes.Equal(sargs[i], elems[i]) {
					t.Fatalf("SplitEvent(%q) arg %d = %q, want %q", data, i-1, sargs[i], elems[i])
				}
			}
		}
		var v []json.RawMessage
		uerr := json.Unmarshal(data, &v)
		if (uerr == nil) != (serr == nil) || len(v) != len(elems) {
			t.Fatalf("SplitArray(%q) = %q, %v; json.Unmarshal says %d, %v", data, elems, serr, len(v), uerr)
		}
		for i := range v {
			if !bytes.Equal(v[i], elems[i]) {
				t.Fatalf("SplitArray(%q)[%d] = %q, want %q", data, i, elems[i], v[i])
			}
		}
		// The decoder accepts an EVENT with this data iff EventName finds a
		// name that is not reserved (depth aside).
		_, derr := decodeFrames(DecoderOptions{}, "2"+string(data))
		if !isDigit(data[0]) && depthOK(data, maxJSONDepth) && (derr == nil) != (err == nil && ValidEventName(name)) {
			t.Fatalf("Decode(2%q) error = %v, but EventName = %q, %v", data, derr, name, err)
		}
		if err != nil {
			return
		}
		if !json.Valid(rest) {
			t.Fatalf("EventName(%q): rest %q is not valid JSON", data, rest)
		}
		restElems, err := SplitArray(rest)
		if err != nil || len(restElems) != len(elems)-1 {
			t.Fatalf("SplitArray(rest %q) = %q, %v, want %d elements", rest, restElems, err, len(elems)-1)
		}
		for i := range restElems {
			if !bytes.Equal(restElems[i], elems[i+1]) {
				t.Fatalf("EventName(%q): rest element %d = %q, want %q", data, i, restElems[i], elems[i+1])
			}
		}
		var first any
		dec := json.NewDecoder(bytes.NewReader(elems[0]))
		dec.UseNumber()
		if err := dec.Decode(&first); err != nil {
			t.Fatal(err)
		}
		switch x := first.(type) {
		case string:
			if x != name {
				t.Fatalf("EventName(%q) = %q, json.Unmarshal says %q", data, name, x)
			}
		case json.Number:
			if name != string(elems[0]) {
				t.Fatalf("EventName(%q) = %q, want the number %q", data, name, elems[0])
			}
		default:
			t.Fatalf("EventName(%q) = %q for a first element %q", data, name, elems[0])
		}
	})
}

// FuzzPlaceholders checks that the decoder's placeholder scan
// (walkPlaceholders), AttachmentOf, Placeholder.UnmarshalJSON and
// ReplacePlaceholders agree on what a placeholder is, which is what keeps a
// binder from ever indexing an attachment the decoder did not check.
func FuzzPlaceholders(f *testing.F) {
	for _, s := range seedsArgs {
		f.Add([]byte(s), byte(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, count byte) {
		c := int(count%4) + 1
		atts := make([][]byte, c)
		for i := range atts {
			atts[i] = []byte{byte(i)}
		}
		var spans []span
		werr := walkPlaceholders(data, c, &spans)
		out, rerr := ReplacePlaceholders(data, atts)
		if !json.Valid(data) {
			return
		}
		if werr != rerr {
			t.Fatalf("walkPlaceholders(%q) = %v, ReplacePlaceholders = %v", data, werr, rerr)
		}
		num, isPH, ok := placeholderIndex(data, c)
		var p Placeholder
		perr := json.Unmarshal(data, &p)
		if isPH {
			if !ok && (perr == nil) && p.Num < c {
				t.Fatalf("placeholderIndex(%q) = bad, Placeholder = %+v", data, p)
			}
			if ok && (perr != nil || p != (Placeholder{true, num})) {
				t.Fatalf("placeholderIndex(%q) = %d, Placeholder = %+v, %v", data, num, p, perr)
			}
		} else if perr == nil && p.Placeholder {
			t.Fatalf("placeholderIndex(%q) = not a placeholder, Placeholder = %+v", data, p)
		}
		if b, aok := AttachmentOf(data, atts); aok != (isPH && ok) || (aok && !bytes.Equal(b, atts[num])) {
			t.Fatalf("AttachmentOf(%q) = %q, %v; placeholderIndex = %d, %v, %v", data, b, aok, num, isPH, ok)
		}
		if werr != nil {
			if werr == ErrIllegalAttachment && !bytes.Contains(data, []byte(`"`)) {
				t.Fatalf("walkPlaceholders(%q) = %v without any member name", data, werr)
			}
			return
		}
		// The whole value is a placeholder iff the scan says so.
		i := skipSpace(data, 0)
		whole := len(spans) == 1 && spans[0].start == i && spans[0].end == len(bytes.TrimRight(data, " \t\r\n"))
		if isPH != whole || (whole && (!ok || spans[0].num != num)) {
			t.Fatalf("placeholderIndex(%q) = %d, %v, %v; walkPlaceholders spans %v", data, num, isPH, ok, spans)
		}
		if !json.Valid(out) {
			t.Fatalf("ReplacePlaceholders(%q) = %q: not JSON", data, out)
		}
		var again []span
		if err := walkPlaceholders(out, c, &again); err != nil || len(again) != 0 {
			t.Fatalf("ReplacePlaceholders(%q) = %q: still has placeholders %v, %v", data, out, again, err)
		}
		if elems, err := SplitArray(data); err == nil {
			for _, e := range elems {
				if n, isPH, ok := placeholderIndex(e, c); isPH && !ok {
					t.Fatalf("walkPlaceholders(%q) = nil, but element %q is a bad placeholder (%d)", data, e, n)
				}
			}
		}
	})
}
