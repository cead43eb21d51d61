package engineio

import (
	"bytes"
	"strings"
	"testing"
)

// A message built in place has the same wire forms as one made with
// NewMessage, at every length where the frame header changes size, and its
// WebSocket frame is the buffer it was built in.
func TestNewTextMessageAtFramesInPlace(t *testing.T) {
	deflate := &Compression{Threshold: 1} // everything of a byte or more is compressed
	for _, n := range []int{0, 1, 124, 125, 126, 65534, 65535, 65536} {
		data := []byte(strings.Repeat("x", n))
		buf := append(make([]byte, MessageHeadroom), data...)
		m := NewTextMessageAt(buf, true)
		ref := NewMessage(Text, data, true)
		if !bytes.Equal(m.Data(), data) || m.Type() != Text {
			t.Fatalf("n=%d: Data/Type differ", n)
		}
		for _, proto := range []int{3, 4} {
			for _, pmd := range []*Compression{nil, deflate} {
				got, want := m.wsFrame(proto, true, pmd), ref.wsFrame(proto, true, pmd)
				if !bytes.Equal(got, want) {
					t.Fatalf("n=%d v%d: frame %q…, want %q…", n, proto, got[:min(len(got), 12)], want[:min(len(want), 12)])
				}
			}
		}
		if f := m.wsFrame(4, true, nil); &f[len(f)-1] != &buf[len(buf)-1] {
			t.Fatalf("n=%d: the frame is a copy, not the buffer", n)
		}
		if got, want := m.packet(), ref.packet(); !bytes.Equal(got.Data, want.Data) || got.Binary != want.Binary {
			t.Fatalf("n=%d: polling packet differs", n)
		}
	}
}

func TestNewTextMessageAtNeedsHeadroom(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a buffer shorter than MessageHeadroom")
		}
	}()
	NewTextMessageAt(make([]byte, MessageHeadroom-1), false)
}
