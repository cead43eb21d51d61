package websocket

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Opcode is a WebSocket frame opcode (RFC 6455 section 5.2).
type Opcode byte

// Frame opcodes.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// String returns the opcode name, or "Opcode(n)" for unknown values.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "Opcode(" + strconv.Itoa(int(op)) + ")"
}

func (op Opcode) isControl() bool { return op&0x8 != 0 }

// Close codes used by the engine (RFC 6455 section 7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	CloseInternalError   = 1011

	closeNoStatus = 1005 // reported by ParseClose for an empty payload; never sent
)

const (
	finBit  = 0x80
	rsv1Bit = 0x40
	rsv2Bit = 0x20
	rsv3Bit = 0x10
	maskBit = 0x80

	maxControlPayload = 125
)

// HeaderLen returns the length of the header AppendHeader writes for n payload bytes
// (2, 4 or 10).
func HeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	default:
		return 10
	}
}

// AppendHeader appends only a frame header (unmasked, FIN set) for a payload of length n;
// the caller appends the payload. Control frames must have n <= 125; that is the caller's
// responsibility (it is not checked here).
func AppendHeader(dst []byte, op Opcode, rsv1 bool, n int) []byte {
	return appendHeader(dst, op, rsv1, n, 0)
}

func appendHeader(dst []byte, op Opcode, rsv1 bool, n int, mask byte) []byte {
	b0 := finBit | byte(op)&0x0F
	if rsv1 {
		b0 |= rsv1Bit
	}
	switch {
	case n < 126:
		return append(dst, b0, mask|byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, b0, mask|126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, b0, mask|127), uint64(n))
	}
}

// AppendFrame appends one complete unmasked server frame with FIN set. rsv1 marks a
// compressed message (the payload must then be the output of Compress).
func AppendFrame(dst []byte, op Opcode, rsv1 bool, payload []byte) []byte {
	dst = appendHeader(dst, op, rsv1, len(payload), 0)
	return append(dst, payload...)
}

// AppendClose appends a close frame with code and reason. The reason is truncated so the
// payload stays <= 125 bytes, cut at a UTF-8 boundary. code 0 means an empty close payload
// (the reason is then ignored). The code is written as given; sending a valid one (1000-1003,
// 1007-1014, 3000-4999) is the caller's responsibility.
func AppendClose(dst []byte, code int, reason string) []byte {
	if code == 0 {
		return appendHeader(dst, OpClose, false, 0, 0)
	}
	reason = truncateUTF8(reason, maxControlPayload-2)
	dst = appendHeader(dst, OpClose, false, 2+len(reason), 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// truncateUTF8 returns s cut to at most n bytes without splitting a UTF-8 sequence.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	// Back up to the start of the rune that straddles the cut (at most utf8.UTFMax-1 steps).
	for j := 0; j < utf8.UTFMax && i > 0 && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	return s[:i]
}

// AppendClientFrame appends a masked client frame (FIN set) using maskKey; payload is not
// modified.
func AppendClientFrame(dst []byte, op Opcode, rsv1 bool, payload []byte, maskKey [4]byte) []byte {
	dst = appendHeader(dst, op, rsv1, len(payload), maskBit)
	dst = append(dst, maskKey[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(maskKey, dst[start:])
	return dst
}

// maskBytes XORs b with the masking key, key[0] applying to b[0]. It works 8 bytes at a
// time; the little-endian load/store compiles to plain MOVs on amd64 and arm64 and the
// byte order only has to agree between the key word and the data word.
func maskBytes(key [4]byte, b []byte) {
	if len(b) >= 8 {
		k := uint64(binary.LittleEndian.Uint32(key[:]))
		k |= k << 32
		for len(b) >= 32 {
			binary.LittleEndian.PutUint64(b[0:], binary.LittleEndian.Uint64(b[0:])^k)
			binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^k)
			binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])^k)
			binary.LittleEndian.PutUint64(b[24:], binary.LittleEndian.Uint64(b[24:])^k)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
			b = b[8:]
		}
	}
	// Every step above consumed a multiple of 4 bytes, so the key phase is still 0.
	for i := range b {
		b[i] ^= key[i&3]
	}
}

// validCloseCode reports whether code may appear in a received close frame
// (RFC 6455 section 7.4; 1012-1014 are registered with IANA).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose splits a close payload into code and reason (code 1005 "no status" for an
// empty payload). A 1-byte payload, which Reader never returns, yields CloseProtocolError.
func ParseClose(p []byte) (code int, reason string) {
	switch len(p) {
	case 0:
		return closeNoStatus, ""
	case 1:
		return CloseProtocolError, ""
	}
	return int(binary.BigEndian.Uint16(p)), string(p[2:])
}
