package websocket

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// ProtocolError is returned by Reader for a peer violation; Code is the close code to send
// back.
type ProtocolError struct {
	Code   int
	Reason string
}

func (e *ProtocolError) Error() string { return "websocket: " + e.Reason }

// Protocol errors are shared values: returning them allocates nothing.
var (
	errUnmasked          = &ProtocolError{CloseProtocolError, "client frame is not masked"}
	errMasked            = &ProtocolError{CloseProtocolError, "server frame is masked"}
	errRSV23             = &ProtocolError{CloseProtocolError, "RSV2/RSV3 set"}
	errRSV1              = &ProtocolError{CloseProtocolError, "RSV1 set without permessage-deflate"}
	errRSV1Control       = &ProtocolError{CloseProtocolError, "RSV1 set on a control frame"}
	errRSV1Continuation  = &ProtocolError{CloseProtocolError, "RSV1 set on a continuation frame"}
	errOpcode            = &ProtocolError{CloseProtocolError, "unknown opcode"}
	errFragmentedControl = &ProtocolError{CloseProtocolError, "fragmented control frame"}
	errControlTooLong    = &ProtocolError{CloseProtocolError, "control frame payload longer than 125 bytes"}
	errContinuation      = &ProtocolError{CloseProtocolError, "continuation frame without a message"}
	errDataInMessage     = &ProtocolError{CloseProtocolError, "data frame while a fragmented message is in progress"}
	errLength63          = &ProtocolError{CloseProtocolError, "64-bit payload length with the most significant bit set"}
	errTooBig            = &ProtocolError{CloseMessageTooBig, "message exceeds limit"}
	errTooManyFragments  = &ProtocolError{CloseMessageTooBig, "too many fragments in one message"}
	errCloseLength       = &ProtocolError{CloseProtocolError, "close frame payload of 1 byte"}
	errCloseCode         = &ProtocolError{CloseProtocolError, "invalid close code"}
	errCloseUTF8         = &ProtocolError{CloseInvalidPayload, "close reason is not valid UTF-8"}
	errTextUTF8          = &ProtocolError{CloseInvalidPayload, "text message is not valid UTF-8"}
)

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	MaxMessageSize int  // cap on one message, after reassembly and after decompression; required (> 0)
	MaxFragments   int  // cap on frames per fragmented message (0 means 1024); empty continuations count too
	Server         bool // true: frames must be masked (server side); false: frames must be unmasked (client side)
	Deflate        bool // permessage-deflate was negotiated: RSV1 allowed on the first frame of a data message
}

const (
	defaultMaxFragments = 1024
	smallSize           = 64      // inline buffer the idle Read targets
	bufSize             = 4 << 10 // pooled parse buffer
	maxEmptyReads       = 100
)

var bufPool = sync.Pool{New: func() any { return new([bufSize]byte) }}

// allocHook, when set (by tests), is told the capacity of every buffer this package
// allocates for payloads; see makeBuf.
var allocHook atomic.Pointer[func(n int)]

// makeBuf allocates a payload buffer. Every allocation whose size derives from peer input
// goes through here, after the size has been checked against the caller's cap.
func makeBuf(n, c int) []byte {
	if h := allocHook.Load(); h != nil {
		(*h)(c)
	}
	return make([]byte, n, c)
}

// Reader reads frames from a connection. It is used by exactly one goroutine.
//
// Buffering: while idle (blocked waiting for a frame) the Reader reads into small, an
// array inside the struct. When a frame does not fit there it borrows a 4 KB buffer from a
// pool, and it gives that back as soon as every buffered byte is consumed and it has to
// read again at a frame boundary. Payloads that fit in the buffer are unmasked in place
// and returned as sub-slices; larger ones get one allocation of exactly their (already
// capped) length.
type Reader struct {
	src io.Reader

	maxMsg  int // MaxMessageSize
	maxComp int // cap on the wire size of a compressed message
	maxFrag int

	buf    []byte         // small[:], pool[:], or a primed slice larger than bufSize
	pool   *[bufSize]byte // non-nil while a pooled buffer is borrowed
	rpos   int            // next unread byte in buf
	wpos   int            // end of buffered bytes in buf
	srcErr error          // error returned by src, delivered when more bytes are needed
	err    error          // sticky error returned by every later Next

	server  bool
	deflate bool

	// fragmented message being reassembled
	inMsg      bool
	msgOp      Opcode
	compressed bool
	frags      int
	msg        []byte

	small [smallSize]byte
}

// NewReader returns a Reader of frames from r. It panics if cfg.MaxMessageSize <= 0.
func NewReader(r io.Reader, cfg ReaderConfig) *Reader {
	if cfg.MaxMessageSize <= 0 {
		panic("websocket: ReaderConfig.MaxMessageSize must be > 0")
	}
	rd := &Reader{
		src:     r,
		maxMsg:  cfg.MaxMessageSize,
		maxComp: compressedLimit(cfg.MaxMessageSize),
		maxFrag: cfg.MaxFragments,
		server:  cfg.Server,
		deflate: cfg.Deflate,
	}
	if rd.maxFrag <= 0 {
		rd.maxFrag = defaultMaxFragments
	}
	rd.buf = rd.small[:]
	return rd
}

// compressedLimit bounds the wire size of a compressed message whose inflated size is at
// most max: deflate's worst case (stored blocks) adds 5 bytes per 64 KB block, so allow
// max + max/8192 + 64 bytes.
func compressedLimit(max int) int {
	extra := max>>13 + 64
	if max > math.MaxInt-extra {
		return math.MaxInt
	}
	return max + extra
}

// Prime makes bytes already read from the connection (e.g. bufio leftovers after
// http.Hijacker) the start of the stream, ahead of anything read from the connection and
// after any bytes primed before. b is copied.
func (r *Reader) Prime(b []byte) {
	if len(b) == 0 {
		return
	}
	unread := r.wpos - r.rpos
	total := unread + len(b)
	switch {
	case total <= len(r.buf)-r.rpos:
		// fits after the unread bytes of the current buffer
		if len(r.buf)-r.wpos < len(b) {
			copy(r.buf, r.buf[r.rpos:r.wpos])
			r.rpos, r.wpos = 0, unread
		}
	case total <= bufSize:
		r.makeRoom(total)
	default:
		nb := make([]byte, unread, total)
		copy(nb, r.buf[r.rpos:r.wpos])
		r.release()
		r.buf = nb[:total]
		r.rpos, r.wpos = 0, unread
	}
	r.wpos += copy(r.buf[r.wpos:], b)
}

// release returns the pooled buffer, if any, and switches back to the inline buffer. Only
// valid when no unread bytes remain (or they are being discarded).
func (r *Reader) release() {
	if r.pool != nil {
		bufPool.Put(r.pool)
		r.pool = nil
	}
	r.buf = r.small[:]
	r.rpos, r.wpos = 0, 0
}

// makeRoom makes sure buf has room for need bytes starting at rpos (need <= bufSize).
func (r *Reader) makeRoom(need int) {
	if len(r.buf)-r.rpos >= need {
		return
	}
	unread := r.wpos - r.rpos
	switch {
	case r.pool != nil:
		copy(r.buf, r.buf[r.rpos:r.wpos])
	case need <= smallSize:
		copy(r.small[:], r.buf[r.rpos:r.wpos])
		r.buf = r.small[:]
	default:
		p := bufPool.Get().(*[bufSize]byte)
		copy(p[:], r.buf[r.rpos:r.wpos])
		r.pool = p
		r.buf = p[:]
	}
	r.rpos, r.wpos = 0, unread
}

// fill makes sure at least need (<= bufSize) unread bytes are buffered.
func (r *Reader) fill(need int) error {
	if r.wpos-r.rpos >= need {
		return nil
	}
	r.makeRoom(need)
	empty := 0
	for r.wpos-r.rpos < need {
		if r.srcErr != nil {
			return r.srcErr
		}
		n, err := r.src.Read(r.buf[r.wpos:])
		if n < 0 || n > len(r.buf)-r.wpos {
			return errBadRead
		}
		r.wpos += n
		if err != nil {
			r.srcErr = err
		} else if n == 0 {
			if empty++; empty >= maxEmptyReads {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

var errBadRead = errors.New("websocket: source reader returned an invalid count")

// readInto fills p with the next len(p) bytes of the stream: buffered bytes first, then
// reads straight from src into p (used for payloads larger than the buffer).
func (r *Reader) readInto(p []byte) error {
	k := copy(p, r.buf[r.rpos:r.wpos])
	r.rpos += k
	empty := 0
	for k < len(p) {
		if r.srcErr != nil {
			return r.srcErr
		}
		n, err := r.src.Read(p[k:])
		if n < 0 || n > len(p)-k {
			return errBadRead
		}
		k += n
		if err != nil {
			r.srcErr = err
		} else if n == 0 {
			if empty++; empty >= maxEmptyReads {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// fail records a sticky error, drops all buffers and returns err.
func (r *Reader) fail(err error) (Opcode, []byte, error) {
	r.err = err
	r.release()
	r.msg = nil
	r.inMsg = false
	return 0, nil, err
}

// midFrame converts a source error met inside a frame or message: io.EOF becomes
// io.ErrUnexpectedEOF.
func midFrame(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Next returns the next complete data message (OpText or OpBinary, reassembled from
// fragments, decompressed, text checked to be valid UTF-8) or the next control frame
// (OpPing, OpPong, OpClose with its raw payload, validated). Control frames that arrive
// between fragments of a data message are returned immediately; the partial message is
// kept. The returned payload is valid only until the next call to Next.
//
// Errors: io.EOF when the connection ends at a frame boundary outside a message,
// io.ErrUnexpectedEOF when it ends inside a frame or a fragmented message, other errors
// from the connection as-is, and *ProtocolError for every peer violation. After an error
// every later call returns the same error and the Reader holds no buffers.
func (r *Reader) Next() (op Opcode, payload []byte, err error) {
	if r.err != nil {
		return 0, nil, r.err
	}
	for {
		if r.rpos == r.wpos {
			// About to block at a frame boundary: give the pooled buffer back and read
			// into the inline array.
			r.release()
		}
		if err := r.fill(2); err != nil {
			if r.rpos != r.wpos || r.inMsg {
				err = midFrame(err)
			}
			return r.fail(err)
		}
		b0, b1 := r.buf[r.rpos], r.buf[r.rpos+1]
		fin := b0&finBit != 0
		rsv1 := b0&rsv1Bit != 0
		op := Opcode(b0 & 0x0F)
		masked := b1&maskBit != 0
		len7 := int(b1 & 0x7F)

		// Everything decidable from the first two bytes is checked before reading more.
		if b0&(rsv2Bit|rsv3Bit) != 0 {
			return r.fail(errRSV23)
		}
		if masked != r.server {
			if r.server {
				return r.fail(errUnmasked)
			}
			return r.fail(errMasked)
		}
		switch op {
		case OpText, OpBinary:
			if r.inMsg {
				return r.fail(errDataInMessage)
			}
			if rsv1 && !r.deflate {
				return r.fail(errRSV1)
			}
		case OpContinuation:
			if !r.inMsg {
				return r.fail(errContinuation)
			}
			if rsv1 {
				return r.fail(errRSV1Continuation)
			}
		case OpClose, OpPing, OpPong:
			if !fin {
				return r.fail(errFragmentedControl)
			}
			if len7 > maxControlPayload {
				return r.fail(errControlTooLong)
			}
			if rsv1 {
				return r.fail(errRSV1Control)
			}
		default:
			return r.fail(errOpcode)
		}

		hlen := headerLen(b1)
		if err := r.fill(hlen); err != nil {
			return r.fail(midFrame(err))
		}
		h := r.buf[r.rpos : r.rpos+hlen]
		n64 := payloadLen(h)
		if n64>>63 != 0 {
			return r.fail(errLength63)
		}
		var key [4]byte
		if masked {
			copy(key[:], h[hlen-4:])
		}

		if op.isControl() {
			n := int(n64)
			r.rpos += hlen
			if err := r.fill(n); err != nil {
				return r.fail(midFrame(err))
			}
			p := r.buf[r.rpos : r.rpos+n : r.rpos+n]
			r.rpos += n
			if masked {
				maskBytes(key, p)
			}
			if op == OpClose {
				if err := checkClose(p); err != nil {
					return r.fail(err)
				}
			}
			return op, p, nil
		}

		// Data frame. Caps are checked from the header, before reading or allocating.
		first := op != OpContinuation
		compressed := rsv1
		if !first {
			compressed = r.compressed
		}
		limit := r.maxMsg
		if compressed {
			limit = r.maxComp
		}
		have := 0
		if !first {
			have = len(r.msg)
			if r.frags++; r.frags > r.maxFrag {
				return r.fail(errTooManyFragments)
			}
		}
		if n64 > uint64(limit-have) {
			return r.fail(errTooBig)
		}
		n := int(n64)
		r.rpos += hlen

		if first && fin {
			// Unfragmented message.
			var p []byte
			if n <= bufSize {
				if err := r.fill(n); err != nil {
					return r.fail(midFrame(err))
				}
				p = r.buf[r.rpos : r.rpos+n : r.rpos+n]
				r.rpos += n
			} else {
				var err error
				if p, err = r.readAppend(nil, n); err != nil {
					return r.fail(midFrame(err))
				}
			}
			if masked {
				maskBytes(key, p)
			}
			return r.finish(op, compressed, p)
		}

		// Fragment of a message: append to r.msg.
		if first {
			r.inMsg, r.msgOp, r.compressed, r.frags = true, op, rsv1, 1
		}
		start := len(r.msg)
		if n <= bufSize {
			r.msg = growMsg(r.msg, n, limit)
			if err := r.fill(n); err != nil {
				return r.fail(midFrame(err))
			}
			r.msg = append(r.msg, r.buf[r.rpos:r.rpos+n]...)
			r.rpos += n
		} else {
			var err error
			if r.msg, err = r.readAppend(r.msg, n); err != nil {
				return r.fail(midFrame(err))
			}
		}
		if masked {
			maskBytes(key, r.msg[start:])
		}
		if !fin {
			continue
		}
		p := r.msg
		r.msg = nil // not kept once returned
		r.inMsg = false
		return r.finish(r.msgOp, r.compressed, p)
	}
}

// finish decompresses and validates a complete data message.
func (r *Reader) finish(op Opcode, compressed bool, p []byte) (Opcode, []byte, error) {
	if compressed {
		var err error
		if p, err = Decompress(nil, p, r.maxMsg); err != nil {
			return r.fail(err)
		}
	}
	if op == OpText && !utf8.Valid(p) {
		return r.fail(errTextUTF8)
	}
	return op, p, nil
}

// growStep is the first allocation for a payload larger than the parse
// buffer; the buffer then doubles as bytes arrive.
const growStep = 64 << 10

// readAppend appends the next n bytes of the stream to dst. It grows dst as
// the bytes arrive, starting from at most growStep and doubling, never past
// len(dst)+n: a peer that declares a large frame and then trickles pins
// memory in proportion to what it sent, not to what it declared.
func (r *Reader) readAppend(dst []byte, n int) ([]byte, error) {
	for n > 0 {
		if len(dst) == cap(dst) {
			grow := min(max(cap(dst), growStep), n)
			nb := makeBuf(len(dst), len(dst)+grow)
			copy(nb, dst)
			dst = nb
		}
		k := min(cap(dst)-len(dst), n)
		if err := r.readInto(dst[len(dst) : len(dst)+k]); err != nil {
			return dst, err
		}
		dst = dst[:len(dst)+k]
		n -= k
	}
	return dst, nil
}

// Wait blocks until the next frame has started to arrive (or the connection
// failed; Next then reports it). It reads into the inline buffer only, and
// does nothing when bytes are already buffered. A reading goroutine that
// waits here from a shallow frame, and calls Next only when Wait returns,
// keeps a small stack while its connection is idle: the runtime can shrink
// a goroutine's stack only down to a few times what it uses while blocked.
//
// From a LazySource it reads into a pooled buffer borrowed only once bytes
// are there, so a frame larger than the inline buffer arrives with one read,
// not two, and a waiting Reader still holds no pooled buffer.
func (r *Reader) Wait() {
	if r.err != nil || r.srcErr != nil || r.rpos < r.wpos {
		return
	}
	r.release()
	if ls, ok := r.src.(LazySource); ok {
		n, err := ls.ReadLazy((*lender)(r))
		if n > 0 && n <= len(r.buf) {
			r.wpos = n
		} else {
			r.release()
		}
		if err != nil {
			r.srcErr = err
		}
		return
	}
	n, err := r.src.Read(r.small[:])
	if n > 0 && n <= len(r.small) {
		r.wpos = n
	}
	if err != nil {
		r.srcErr = err
	}
}

// A LazySource is a source that can wait for bytes before it needs a
// buffer to read them into (a non-blocking socket read whose caller parks
// on "would block"). Reader.Wait prefers it to Read.
type LazySource interface {
	// ReadLazy reads once bytes are there, into the buffer that b.Take
	// lends it; when it took a buffer and then finds nothing to read, it
	// gives it back with b.Drop before it waits.
	ReadLazy(b Lender) (int, error)
}

// Lender lends a Reader's read buffer to a LazySource.
type Lender interface {
	Take() []byte
	Drop()
}

// lender is a Reader seen as the Lender of its buffer.
type lender Reader

func (l *lender) Take() []byte {
	r := (*Reader)(l)
	if r.pool == nil {
		r.pool = bufPool.Get().(*[bufSize]byte)
	}
	r.buf = r.pool[:]
	r.rpos, r.wpos = 0, 0
	return r.buf
}

func (l *lender) Drop() { (*Reader)(l).release() }

// Buffered returns the number of unread bytes the Reader holds when they
// begin with a complete frame (header and payload), so that the next call to
// Next returns that frame without reading from the connection, and 0 when
// nothing is buffered or only part of the next frame has arrived. (A complete
// frame that is a non-final fragment still makes Next read on for the rest of
// its message.) A client that owes the peer answers can write them all
// together once Buffered reports 0, instead of one write per message.
func (r *Reader) Buffered() int {
	if r.err != nil {
		return 0
	}
	b := r.buf[r.rpos:r.wpos]
	if len(b) < 2 {
		return 0
	}
	hlen := headerLen(b[1])
	if len(b) < hlen || payloadLen(b[:hlen]) > uint64(len(b)-hlen) {
		return 0
	}
	return len(b)
}

// headerLen is the length of a frame header whose second byte is b1.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// payloadLen reads the payload length from a whole frame header h.
func payloadLen(h []byte) uint64 {
	switch n := h[1] & 0x7F; n {
	case 126:
		return uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		return binary.BigEndian.Uint64(h[2:])
	default:
		return uint64(n)
	}
}

// growMsg returns b with room for n more bytes, never growing the capacity beyond limit
// (len(b)+n <= limit is guaranteed by the caller).
func growMsg(b []byte, n, limit int) []byte {
	need := len(b) + n
	if need <= cap(b) {
		return b
	}
	c := 2 * cap(b)
	if c < 512 {
		c = 512
	}
	if c < need {
		c = need
	}
	if c > limit {
		c = limit
	}
	nb := makeBuf(len(b), c)
	copy(nb, b)
	return nb
}

func checkClose(p []byte) error {
	switch len(p) {
	case 0:
		return nil
	case 1:
		return errCloseLength
	}
	if !validCloseCode(int(binary.BigEndian.Uint16(p))) {
		return errCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return errCloseUTF8
	}
	return nil
}
