package parser

import (
	"bytes"
	"fmt"
	"strings"
)

// show formats a packet for test messages.
func show(p *Packet) string {
	if p == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{%v nsp=%q", p.Type, p.Namespace)
	if p.HasID {
		fmt.Fprintf(&b, " id=%d", p.ID)
	}
	if p.Data != nil {
		fmt.Fprintf(&b, " data=%q", p.Data)
	}
	if p.Attachments != nil {
		fmt.Fprintf(&b, " attachments=%q", p.Attachments)
	}
	b.WriteString("}")
	return b.String()
}

// showFrames formats encoded frames for test messages.
func showFrames(frames []Frame) string {
	if frames == nil {
		return "<nil>"
	}
	parts := make([]string, len(frames))
	for i, f := range frames {
		parts[i] = fmt.Sprintf("%q", f.Data)
		if f.Binary {
			parts[i] = "bin" + parts[i]
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// equalPacket compares packets field by field ("" and "/" are the same
// namespace; nil and empty Data are not the same).
func equalPacket(a, b *Packet) bool {
	if a == nil || b == nil {
		return a == b
	}
	nsp := func(s string) string {
		if s == "" {
			return "/"
		}
		return s
	}
	if a.Type != b.Type || nsp(a.Namespace) != nsp(b.Namespace) || a.HasID != b.HasID || a.ID != b.ID ||
		(a.Data == nil) != (b.Data == nil) || !bytes.Equal(a.Data, b.Data) || len(a.Attachments) != len(b.Attachments) {
		return false
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return false
		}
	}
	return true
}

// decodeFrames feeds a text frame and then binary frames to a fresh decoder
// and returns the packet completed by the last frame (nil if none) or the
// first error.
func decodeFrames(opts DecoderOptions, text string, bins ...string) (*Packet, error) {
	d := JSON.NewDecoder(opts)
	p, err := d.Add(false, []byte(text))
	for _, b := range bins {
		if err != nil {
			break
		}
		if p != nil {
			return nil, fmt.Errorf("packet %s completed before binary frame %q", show(p), b)
		}
		p, err = d.Add(true, []byte(b))
	}
	return p, err
}

// ev builds an expected packet.
func ev(t Type, nsp string, data string, atts ...string) *Packet {
	p := &Packet{Type: t, Namespace: nsp}
	if data != "" {
		p.Data = []byte(data)
	}
	for _, a := range atts {
		p.Attachments = append(p.Attachments, []byte(a))
	}
	return p
}

// withID sets the ack id of p.
func withID(p *Packet, id uint64) *Packet {
	p.ID, p.HasID = id, true
	return p
}

// nest returns n opening brackets, x, and n closing brackets.
func nest(n int, x string) string {
	return strings.Repeat("[", n) + x + strings.Repeat("]", n)
}
