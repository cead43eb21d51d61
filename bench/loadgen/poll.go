package loadgen

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// poller reads every client that is not on a goroutine of its own: one
// epoll set, level-triggered, waited on through the Go runtime's netpoller
// (the epoll descriptor is itself pollable), so waiting blocks no thread.
// A ready connection costs one read(2), whatever it holds; a connection
// read by its own goroutine costs two (the second returns EAGAIN before
// the goroutine parks) plus a park and a wake-up. With one generator core,
// that is most of what a delivery costs the generator.
type poller struct {
	mu      sync.Mutex // held while a batch of ready connections is read
	epfd    int
	rc      syscall.RawConn
	clients map[int]*Client
	ev      [256]syscall.EpollEvent
	buf     [64 << 10]byte
}

var (
	pollOnce sync.Once
	thePoll  *poller
	pollErr  error
)

// sharedPoller returns the process's poller, started on first use; it
// lives as long as the process.
func sharedPoller() (*poller, error) {
	pollOnce.Do(func() { thePoll, pollErr = newPoller() })
	return thePoll, pollErr
}

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	// A non-blocking descriptor given to os.NewFile is registered with the
	// runtime's netpoller: RawConn.Read then parks until epfd is readable.
	f := os.NewFile(uintptr(epfd), "loadgen-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &poller{epfd: epfd, rc: rc, clients: map[int]*Client{}}
	go func() {
		// f stays referenced (and open) for as long as the loop runs.
		p.rc.Read(p.drain)
		f.Close()
	}()
	return p, nil
}

// drain reads every ready connection until none is ready, then returns
// false so that the runtime parks the loop until the set is ready again.
// (Readiness that arrives after epoll_wait found none wakes the netpoller:
// nothing is lost between the check and the park.)
func (p *poller) drain(fd uintptr) bool {
	for {
		p.mu.Lock()
		n, err := epollPoll(int(fd), p.ev[:])
		if err != nil && err != syscall.EINTR {
			p.mu.Unlock()
			return true // the set is broken: stop
		}
		for _, e := range p.ev[:max(n, 0)] {
			if c := p.clients[int(e.Fd)]; c != nil && !c.readReady(p.buf[:]) {
				p.dropLocked(c, !c.closeReq.Load())
			}
		}
		p.mu.Unlock()
		if n <= 0 {
			return false
		}
	}
}

func (p *poller) add(c *Client) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, c.fd, &syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd)}); err != nil {
		return err
	}
	p.clients[c.fd] = c
	return nil
}

// dropLocked stops reading c and closes it; closed records that the
// server, not the caller, ended the connection.
func (p *poller) dropLocked(c *Client, closed bool) {
	if p.clients[c.fd] != c {
		return
	}
	syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	delete(p.clients, c.fd)
	if closed {
		c.Closed.Store(true)
	}
	c.closeConn()
	close(c.done)
}

func (p *poller) drop(c *Client) {
	p.mu.Lock()
	p.dropLocked(c, false)
	p.mu.Unlock()
}

// setReading turns reading c on or off (a paused consumer).
func (p *poller) setReading(c *Client, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clients[c.fd] != c {
		return
	}
	var ev uint32
	if on {
		ev = syscall.EPOLLIN | syscall.EPOLLRDHUP
	}
	syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, c.fd, &syscall.EpollEvent{Events: ev, Fd: int32(c.fd)})
}

// epollPoll returns the ready events of the set without waiting, and
// recvNow reads what a connection holds without waiting. Both use
// RawSyscall: as plain syscalls, every call entered the scheduler's
// system-call state, which let the runtime's sysmon thread wake and take
// the P from the reading thread, so that each delivery paid context
// switches on the generator's one core (a third of its CPU in a broadcast
// to 5,000 clients, most of it switching in and out of threads).
func epollPoll(epfd int, ev []syscall.EpollEvent) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&ev[0])), uintptr(len(ev)), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func recvNow(fd int, buf []byte) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), syscall.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// readReady reads what the connection holds (one read) and handles every
// complete message; false when the connection ended. Under the poller's
// lock: buf is the poller's.
func (c *Client) readReady(buf []byte) bool {
	n, err := recvNow(c.fd, buf)
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return true
	case err != nil || n <= 0:
		return false
	}
	c.rtime = Now()
	data := buf[:n]
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		data = c.in
	}
	rest, err := c.consume(data)
	if err != nil {
		if s := c.sink.Load(); s != nil && err != errServerClose {
			s.Errors.Add(1)
		}
		return false
	}
	// Keep the incomplete tail (it may overlap c.in: append copies as
	// memmove does).
	c.in = append(c.in[:0], rest...)
	if len(c.out) > 0 {
		c.flush()
	}
	return true
}

var (
	errServerClose = errors.New("loadgen: close frame")
	errFrame       = errors.New("loadgen: bad frame from the server")
)

// maxMessage caps a message from the server.
const maxMessage = 2 << 20

// parseFrame parses an unmasked server frame at the start of b; n is 0
// while the frame is incomplete.
func parseFrame(b []byte) (op websocket.Opcode, fin bool, payload []byte, n int, err error) {
	if len(b) < 2 {
		return 0, false, nil, 0, nil
	}
	if b[1]&0x80 != 0 || b[0]&0x70 != 0 {
		return 0, false, nil, 0, errFrame // masked, or RSV bits (no extension is negotiated)
	}
	h, l := 2, uint64(b[1]&0x7F)
	switch l {
	case 126:
		if len(b) < 4 {
			return 0, false, nil, 0, nil
		}
		h, l = 4, uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		if len(b) < 10 {
			return 0, false, nil, 0, nil
		}
		h, l = 10, binary.BigEndian.Uint64(b[2:])
	}
	if l > maxMessage {
		return 0, false, nil, 0, errFrame
	}
	if uint64(len(b)-h) < l {
		return 0, false, nil, 0, nil
	}
	end := h + int(l)
	return websocket.Opcode(b[0] & 0x0F), b[0]&0x80 != 0, b[h:end:end], end, nil
}

// consume handles every complete frame at the start of b and returns the
// rest.
func (c *Client) consume(b []byte) ([]byte, error) {
	for {
		op, fin, p, n, err := parseFrame(b)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return b, nil
		}
		b = b[n:]
		switch op {
		case websocket.OpClose:
			return nil, errServerClose
		case websocket.OpPing:
			c.out = websocket.AppendClientFrame(c.out, websocket.OpPong, false, p, [4]byte{})
		case websocket.OpPong:
		case websocket.OpText, websocket.OpBinary:
			if c.inMsg {
				return nil, errFrame
			}
			if fin {
				c.handle(op, p)
				continue
			}
			c.inMsg, c.msgOp, c.msg = true, op, append(c.msg[:0], p...)
		case websocket.OpContinuation:
			if !c.inMsg || len(c.msg)+len(p) > maxMessage {
				return nil, errFrame
			}
			c.msg = append(c.msg, p...)
			if fin {
				c.inMsg = false
				c.handle(c.msgOp, c.msg)
			}
		default:
			return nil, errFrame
		}
	}
}
