package loadgen

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

var epoch = time.Now()

// Now is the load generator's monotonic clock in nanoseconds.
func Now() int64 { return int64(time.Since(epoch)) }

// TextPayload returns a JSON string argument of about size bytes that
// carries the timestamp ts: "T" then 16 hex digits then padding.
func TextPayload(dst []byte, ts int64, size int) []byte {
	dst = append(dst, '"', 'T')
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ts))
	dst = hex.AppendEncode(dst, b[:])
	for i := 17; i < size; i++ {
		dst = append(dst, 'x')
	}
	return append(dst, '"')
}

// BinaryPayload returns size bytes (at least 8) that start with ts.
func BinaryPayload(ts int64, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b, uint64(ts))
	return b
}

// textStamp finds the timestamp of a TextPayload inside a packet.
func textStamp(p []byte) (int64, bool) {
	for i := 0; i+18 <= len(p); i++ {
		if p[i] == '"' && p[i+1] == 'T' {
			var b [8]byte
			if _, err := hex.Decode(b[:], p[i+2:i+18]); err != nil {
				return 0, false
			}
			return int64(binary.BigEndian.Uint64(b[:])), true
		}
	}
	return 0, false
}

func binaryStamp(p []byte) (int64, bool) {
	if len(p) < 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(p)), true
}

// Hist is a latency histogram with about 3% resolution from 1 µs to hours,
// safe for concurrent use.
type Hist struct {
	b [64 * 32]atomic.Uint64
	n atomic.Uint64
}

func bucket(us uint64) int {
	if us < 32 {
		return int(us)
	}
	l := bits.Len64(us) // ≥ 6
	return (l-5)*32 + int(us>>(l-6)&31)
}

func bucketValue(i int) float64 {
	if i < 32 {
		return float64(i)
	}
	l := i/32 + 5
	m := uint64(i%32) | 32
	return float64(m<<(l-6)) + math.Ldexp(1, l-7) // midpoint
}

// Record adds one observation.
func (h *Hist) Record(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	i := bucket(us)
	if i >= len(h.b) {
		i = len(h.b) - 1
	}
	h.b[i].Add(1)
	h.n.Add(1)
}

// Count returns the number of observations.
func (h *Hist) Count() uint64 { return h.n.Load() }

// Quantile returns the q-quantile (0 < q ≤ 1) in milliseconds; 0 when empty.
func (h *Hist) Quantile(q float64) float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for i := range h.b {
		seen += h.b[i].Load()
		if seen >= rank {
			return bucketValue(i) / 1000
		}
	}
	return bucketValue(len(h.b)-1) / 1000
}

// Reset clears the histogram.
func (h *Hist) Reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
	h.n.Store(0)
}
