//go:build linux

package engineio

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// iovec is one buffer of a sendmsg.
type iovec = unix.Iovec

// maxIovecs is the most buffers one writev takes (IOV_MAX).
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

// writeNonBlocking writes bufs to c with writev without ever waiting for
// the connection: it returns how many bytes the kernel took, and a nil
// error when it took less only because the connection was full. iovp is
// the caller's scratch space, kept between calls.
func writeNonBlocking(c syscall.RawConn, bufs net.Buffers, iovp *[]iovec) (int, error) {
	iov := (*iovp)[:0]
	written := 0
	var werr error
	err := c.Write(func(fd uintptr) bool {
		for i := 0; i < len(bufs); {
			iov = iov[:0]
			chunk := 0
			for ; i < len(bufs) && len(iov) < maxIovecs; i++ {
				b := bufs[i]
				if len(b) == 0 {
					continue
				}
				v := unix.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				iov = append(iov, v)
				chunk += len(b)
			}
			if len(iov) == 0 {
				break
			}
			// RawSyscall: a write that cannot block is short, and
			// entering the scheduler's syscall state for it let sysmon
			// hand the P to another thread and back, two context switches
			// a write with a single P (a third of the CPU per delivery).
			// sendmsg, not writev: it skips the file layer's position
			// lock and iterator set-up, which a socket does not need.
			msg := unix.Msghdr{Iov: &iov[0]}
			msg.SetIovlen(len(iov))
			n, _, e := syscall.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
			if e != 0 {
				// EAGAIN: full; EINTR: the waiting write retries.
				if e != syscall.EAGAIN && e != syscall.EINTR {
					werr = &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("writev", e)}
				}
				break
			}
			written += int(n)
			if int(n) < chunk {
				break
			}
		}
		return true // never wait here
	})
	clear(iov) // the frames may be freed
	*iovp = iov[:0]
	if err != nil {
		return written, err
	}
	return written, werr
}

// rawReader reads a connection with non-blocking read(2) calls made with
// RawSyscall, parking in the network poller when nothing is there, as
// net.Conn.Read does. A read of bytes that have arrived does not wait, and
// made as a plain Syscall it woke the runtime's sysmon thread after every
// idle spell, which then polled every 20 µs for a millisecond: with one
// CPU for the process, each of those wake-ups preempts the thread doing
// the work.
type rawReader struct {
	rc syscall.RawConn
}

func (r rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return r.read(p, nil)
}

// ReadLazy reads into a buffer of b's, taken only to read and given back
// before waiting (websocket.LazySource).
func (r rawReader) ReadLazy(b websocket.Lender) (int, error) {
	return r.read(nil, b)
}

// read reads into p, or, with p nil, into what b lends.
func (r rawReader) read(p []byte, b websocket.Lender) (int, error) {
	var n int
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		if b != nil {
			p = b.Take()
		}
		for {
			// recvfrom, not read: like sendmsg, it skips the file layer.
			m, _, e := syscall.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case 0:
				n = int(m)
				return true
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				if b != nil {
					b.Drop()
				}
				return false // wait for the poller
			default:
				errno = e
				return true
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", errno)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// readerOf returns what the WebSocket reader reads c through.
func readerOf(c net.Conn, raw syscall.RawConn) io.Reader {
	if raw == nil {
		return c
	}
	return rawReader{raw}
}
