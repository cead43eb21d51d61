//go:build !linux

package engineio

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// rawConnOf returns nil: outside Linux every WebSocket session writes from
// a goroutine of its own (flushWS).
func rawConnOf(net.Conn) syscall.RawConn { return nil }

// rawOut is a stand-in: nothing here writes without a goroutine to wait.
type rawOut struct{}

func (*rawOut) init(syscall.RawConn) {}
func (*rawOut) usable() bool         { return false }
func (*rawOut) close()               {}
func (*rawOut) sendOne([]byte) (int, error) {
	return 0, errors.New("engineio: no non-blocking writes on this platform")
}

// sender is a stand-in, as rawOut.
type sender struct{}

func (*sender) send(*rawOut, net.Buffers) (int, error) {
	return 0, errors.New("engineio: no non-blocking writes on this platform")
}

func readerOf(c net.Conn, _ syscall.RawConn) io.Reader { return c }

// ring is a stand-in: io_uring is Linux's.
type ring struct{}

func ringsAvailable() bool     { return false }
func openRing() (*ring, error) { return nil, errors.New("engineio: no io_uring on this platform") }
func (*ring) close()           {}
func (*ring) send([]sendJob)   {}
