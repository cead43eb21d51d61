//go:build linux

package engineio

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// iovec is one buffer of a sendmsg.
type iovec = unix.Iovec

// maxIovecs is the most buffers one sendmsg takes (IOV_MAX).
const maxIovecs = 1024

// rawConnOf returns the raw connection under c for non-blocking writes, or
// nil when c has none (TLS, pipes): its sessions then write from a
// goroutine of their own.
func rawConnOf(c net.Conn) syscall.RawConn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// rawOut is the descriptor of a connection the writers send to without
// going through net.Conn: a send through RawConn.Write locks the netFD and
// resets its poll descriptor, two more structures per recipient to bring
// into the cache (6% of the CPU per delivery of a broadcast to 5,000
// clients). The descriptor is only valid until the connection closes, and
// a closed number is soon another connection's, so every send holds mu
// and checks closed, and every close sets closed under mu first
// (wsTransport.close).
type rawOut struct {
	mu     sync.Mutex
	fd     int32
	set    bool // fd is a descriptor to send to
	closed bool
}

// init sets o to send to rc's descriptor; rc nil leaves it none.
func (o *rawOut) init(rc syscall.RawConn) {
	if rc != nil {
		rc.Control(func(fd uintptr) { o.fd, o.set = int32(fd), true })
	}
}

// usable reports whether the writers can send to o.
func (o *rawOut) usable() bool { return o.set }

// close marks o closed, after any send under way; the caller then closes
// the connection.
func (o *rawOut) close() {
	if !o.set {
		return
	}
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
}

// sender makes a writer's non-blocking sends. Used by one goroutine at a
// time.
type sender struct {
	iov []iovec
}

// send writes bufs to o without ever waiting for the connection: it
// returns how many bytes the kernel took, and a nil error when it took
// less only because the connection was full.
func (s *sender) send(o *rawOut, bufs net.Buffers) (int, error) {
	if len(bufs) == 1 {
		return o.sendOne(bufs[0])
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return 0, net.ErrClosed
	}
	written := 0
	for i := 0; i < len(bufs); {
		iov := s.iov[:0]
		chunk := 0
		for ; i < len(bufs) && len(iov) < maxIovecs; i++ {
			b := bufs[i]
			if len(b) == 0 {
				continue
			}
			v := iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
			chunk += len(b)
		}
		s.iov = iov
		if len(iov) == 0 {
			break
		}
		// RawSyscall: a write that cannot block is short, and entering
		// the scheduler's syscall state for it let sysmon hand the P to
		// another thread and back, two context switches a write with a
		// single P (a third of the CPU per delivery). sendmsg, not
		// writev: it skips the file layer's position lock and iterator
		// set-up, which a socket does not need.
		msg := unix.Msghdr{Iov: &iov[0]}
		msg.SetIovlen(len(iov))
		n, _, e := syscall.RawSyscall(unix.SYS_SENDMSG, uintptr(o.fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		clear(iov) // the frames may be freed
		if e != 0 {
			return written, sendErr("sendmsg", e)
		}
		written += int(n)
		if int(n) < chunk {
			break
		}
	}
	return written, nil
}

// sendOne writes b to o as send does a vector of one buffer; it needs no
// sender, so any goroutine may call it.
func (o *rawOut) sendOne(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return 0, net.ErrClosed
	}
	return sendTo(uintptr(o.fd), b)
}

// sendTo sends one buffer with sendto, which unlike sendmsg has no message
// header and vector to copy in: a broadcast's frame is one buffer.
func sendTo(fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, sendErr("sendto", e)
	}
	return int(n), nil
}

// sendErr is the error of a send (system call call) that failed with e:
// none when the connection was only full (EAGAIN) or the call interrupted
// (EINTR), as the waiting write then sends the rest.
func sendErr(call string, e syscall.Errno) error {
	if e == syscall.EAGAIN || e == syscall.EINTR {
		return nil
	}
	return &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError(call, e)}
}

// rawReader reads a connection with non-blocking recvfrom calls made with
// RawSyscall, parking in the network poller when nothing is there, as
// net.Conn.Read does. A read of bytes that have arrived does not wait, and
// made as a plain Syscall it woke the runtime's sysmon thread after every
// idle spell, which then polled every 20 µs for a millisecond: with one
// CPU for the process, each of those wake-ups preempts the thread doing
// the work. Used by the connection's one reading goroutine.
type rawReader struct {
	rc    syscall.RawConn
	p     []byte
	lend  websocket.Lender
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool // r.recv, bound once (see sender)
}

func newRawReader(rc syscall.RawConn) *rawReader {
	r := &rawReader{rc: rc}
	r.fn = r.recv
	return r
}

func (r *rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return r.read(p, nil)
}

// ReadLazy reads into a buffer of b's, taken only to read and given back
// before waiting (websocket.LazySource).
func (r *rawReader) ReadLazy(b websocket.Lender) (int, error) {
	return r.read(nil, b)
}

// read reads into p, or, with p nil, into what b lends.
func (r *rawReader) read(p []byte, b websocket.Lender) (int, error) {
	r.p, r.lend, r.n, r.errno = p, b, 0, 0
	err := r.rc.Read(r.fn)
	errno, n := r.errno, r.n
	r.p, r.lend = nil, nil
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("recvfrom", errno)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (r *rawReader) recv(fd uintptr) bool {
	if r.lend != nil {
		r.p = r.lend.Take()
	}
	for {
		// recvfrom, not read: like sendmsg, it skips the file layer.
		m, _, e := syscall.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			r.n = int(m)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if r.lend != nil {
				r.lend.Drop()
			}
			return false // wait for the poller
		default:
			r.errno = e
			return true
		}
	}
}

// readerOf returns what the WebSocket reader reads c through.
func readerOf(c net.Conn, raw syscall.RawConn) io.Reader {
	if raw == nil {
		return c
	}
	return newRawReader(raw)
}
