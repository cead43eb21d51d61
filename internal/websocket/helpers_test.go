package websocket

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// First-byte bits for raw test frames. Opcodes are written as literals next to them;
// a bare fin is a final continuation frame (opcode 0).
const (
	fin  = 0x80
	rsv1 = 0x40
	rsv2 = 0x20
	rsv3 = 0x10
)

var testKey = [4]byte{0x12, 0x34, 0x56, 0x78}

// hdr builds a raw frame header with first byte b0 and declared length n, masked with
// testKey when masked is set. It always uses the minimal length encoding.
func hdr(b0 byte, masked bool, n uint64) []byte {
	var m byte
	if masked {
		m = 0x80
	}
	var b []byte
	switch {
	case n < 126:
		b = []byte{b0, m | byte(n)}
	case n <= 0xFFFF:
		b = binary.BigEndian.AppendUint16([]byte{b0, m | 126}, uint16(n))
	default:
		b = binary.BigEndian.AppendUint64([]byte{b0, m | 127}, n)
	}
	if masked {
		b = append(b, testKey[:]...)
	}
	return b
}

// frame builds a raw frame with first byte b0 (FIN, RSV bits and opcode) and payload,
// masked with testKey when masked is set.
func frame(b0 byte, masked bool, payload []byte) []byte {
	b := hdr(b0, masked, uint64(len(payload)))
	start := len(b)
	b = append(b, payload...)
	if masked {
		maskBytes(testKey, b[start:])
	}
	return b
}

// cframe is a masked client frame (what a server reads).
func cframe(b0 byte, payload string) []byte { return frame(b0, true, []byte(payload)) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func repeat(b []byte, n int) []byte {
	out := make([]byte, 0, len(b)*n)
	for range n {
		out = append(out, b...)
	}
	return out
}

type msg struct {
	op      Opcode
	payload string
	err     error
}

// readAll runs Next until it fails and returns every result, the error last.
func readAll(r *Reader) []msg {
	var out []msg
	for {
		op, p, err := r.Next()
		if err != nil {
			return append(out, msg{err: err})
		}
		out = append(out, msg{op: op, payload: string(p)})
	}
}

func closeCode(err error) int {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

// countingReader counts bytes handed out by the wrapped reader.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// chunkReader serves data in pieces of at most size bytes.
type chunkReader struct {
	data []byte
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.size, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// repeatReader serves a frame forever: header (once) then body repeated, used for floods
// without materialising them.
type repeatReader struct {
	head  []byte
	body  []byte
	count int // number of bodies left; <0 means forever
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.head) > 0 {
			k := copy(p[n:], r.head)
			r.head = r.head[k:]
			n += k
			continue
		}
		if r.count == 0 {
			break
		}
		k := copy(p[n:], r.body[r.off:])
		n += k
		r.off += k
		if r.off == len(r.body) {
			r.off = 0
			if r.count > 0 {
				r.count--
			}
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func mustNext(t *testing.T, r *Reader, wantOp Opcode, want string) {
	t.Helper()
	op, p, err := r.Next()
	if err != nil || op != wantOp || string(p) != want {
		t.Fatalf("Next() = %v, %q, %v; want %v, %q, nil", op, trunc(p), err, wantOp, trunc([]byte(want)))
	}
}

func trunc(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
