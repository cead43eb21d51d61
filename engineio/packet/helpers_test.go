package packet

import (
	"bytes"
	"fmt"
	"strings"
	"unsafe"
)

// show formats a packet for test messages, quoting text data.
func show(p Packet) string {
	if p.Binary {
		return fmt.Sprintf("{%v binary %v}", p.Type, p.Data)
	}
	return fmt.Sprintf("{%v %q}", p.Type, p.Data)
}

// showAll formats a packet list for test messages.
func showAll(ps []Packet) string {
	if ps == nil {
		return "nil"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = show(p)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// equal reports whether two packets have the same type, binary flag and data
// (nil and empty data are equal).
func equal(a, b Packet) bool {
	return a.Type == b.Type && a.Binary == b.Binary && bytes.Equal(a.Data, b.Data)
}

func equalAll(a, b []Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// totalData returns the sum of the data lengths of ps.
func totalData(ps []Packet) int {
	n := 0
	for _, p := range ps {
		n += len(p.Data)
	}
	return n
}

// aliases reports whether sub lies within buf's memory.
func aliases(sub, buf []byte) bool {
	if len(sub) == 0 || len(buf) == 0 {
		return false
	}
	s := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return s >= b && s+uintptr(len(sub)) <= b+uintptr(len(buf))
}

// text is a shorthand for a text packet.
func text(t Type, data string) Packet {
	if data == "" {
		return Packet{Type: t}
	}
	return Packet{Type: t, Data: []byte(data)}
}

// bin is a shorthand for a binary packet.
func bin(t Type, data ...byte) Packet {
	return Packet{Type: t, Data: data, Binary: true}
}

// seq returns the bytes from..to-1.
func seq(from, to int) []byte {
	b := make([]byte, 0, to-from)
	for i := from; i < to; i++ {
		b = append(b, byte(i))
	}
	return b
}
