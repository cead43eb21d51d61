//go:build !unix

package websocket

import (
	"io"
	"syscall"
)

func rawConnOf(io.Reader) syscall.RawConn { return nil }

func (r *Reader) waitRaw() {}
