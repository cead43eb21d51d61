//go:build unix

package websocket

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawConnOf returns the raw connection under src when src is a plain TCP
// or Unix connection (not TLS, not a wrapper that transforms the bytes):
// Wait can then wait for readability without a buffer and read with a full
// one.
func rawConnOf(src io.Reader) syscall.RawConn {
	var sc syscall.Conn
	switch c := src.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// waitRaw is Wait on a raw connection: each attempt borrows the pooled
// buffer only for the read(2) itself and gives it back when the socket has
// nothing (EAGAIN) before the runtime poller parks the goroutine, so an idle
// connection holds no buffer, and a ready one is read with a full buffer in
// one system call, not a 64-byte one followed by another for the rest of
// the frame.
func (r *Reader) waitRaw() {
	var n int
	var rerr error
	err := r.rc.Read(func(fd uintptr) bool {
		p := bufPool.Get().(*[bufSize]byte)
		for {
			n, rerr = syscall.Read(int(fd), p[:])
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			bufPool.Put(p)
			return false
		}
		r.pool, r.buf = p, p[:]
		return true
	})
	switch {
	case err != nil: // closed, or the read deadline passed; nothing borrowed
		r.srcErr = err
	case rerr != nil:
		r.srcErr = os.NewSyscallError("read", rerr)
	case n <= 0:
		r.srcErr = io.EOF
	default:
		r.rpos, r.wpos = 0, n
	}
}
