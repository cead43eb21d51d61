package msgpack

// Whole msgpack values, not only packets: the Redis adapter carries packets
// inside larger messages (notepack 3 arrays and maps) and reads and writes
// them with the same translation rules as packet data.

// AppendJSON appends the msgpack encoding of the JSON text src to dst, with
// the rules of packet data: each placeholder {"_placeholder":true,"num":i}
// becomes bin of atts[i], numbers take the smallest format, strings and
// keys are str. On error it returns dst unchanged.
func AppendJSON(dst, src []byte, atts [][]byte) ([]byte, error) {
	e := encoderPool.Get().(*encoder)
	defer e.release()
	if err := e.tokenize(src); err != nil {
		return dst, err
	}
	orig := dst
	dst, err := e.emit(dst, atts)
	if err != nil {
		return orig, err
	}
	return dst, nil
}

// ToJSON translates one whole msgpack value to JSON text, with the rules of
// packet data: bin (and notepack 2's ext type 0) become placeholders
// numbered depth-first into the returned attachments, at most
// maxAttachments of them; maps with integer keys get string keys;
// notepack's undefined is dropped from maps and is null elsewhere. Trailing
// bytes are an error. The result does not alias data.
func ToJSON(data []byte, maxAttachments int) ([]byte, [][]byte, error) {
	r := reader{b: data}
	t := translator{maxAtt: maxAttachments, out: make([]byte, 0, len(data)+len(data)/2+8)}
	undef, err := t.value(&r, 0)
	if err != nil {
		return nil, nil, err
	}
	if r.left() != 0 {
		return nil, nil, errTrailing
	}
	if undef {
		t.out = append(t.out, "null"...)
	}
	return t.out, t.atts, nil
}
