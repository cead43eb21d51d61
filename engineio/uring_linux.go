//go:build linux

package engineio

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A ring makes a writer pass's sends to many connections with one system
// call: an io_uring submission queue takes one send per connection, and
// one io_uring_enter makes them all. On this kind of machine a system call
// costs about a microsecond before it does any work (page-table isolation
// flushes the TLB on every entry and exit), a sixth of what a 100-byte
// send to a loopback connection costs in all; a broadcast to 5,000 idle
// connections made with sendto took 5.9 µs of CPU per delivery, and with
// the ring 3.6 (the standalone measurement is in the README).
//
// The sends are non-blocking (MSG_DONTWAIT, which io_uring honours by
// failing with EAGAIN instead of waiting for room), so every one has
// completed when io_uring_enter returns; the ring is waited on only to
// collect them. A descriptor is only valid until its connection closes,
// so each send's rawOut stays locked, as sendOne holds it, from the moment
// its number goes into the queue until its completion is read.
//
// Used by one goroutine at a time: its writer's.
type ring struct {
	fd      int
	entries uint32

	sqHead, sqTail *uint32
	sqMask         uint32
	sqes           []ringSQE
	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           []ringCQE

	mem, sqeMem []byte // the mappings, for close

	// Used per submission, kept to save allocations.
	msgs   []unix.Msghdr
	iov    []iovec
	locked []*rawOut
}

// The kernel's ABI (include/uapi/linux/io_uring.h).
const (
	ringSetupSubmitAll = 1 << 7 // submit the whole batch past a failed entry
	ringEnterGetEvents = 1 << 0
	ringOffSQRing      = 0
	ringOffSQEs        = 0x10000000
	ringFeatSingleMmap = 1 << 0

	ringOpSendmsg = 9
	ringOpSend    = 26
)

type ringSQOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type ringCQOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type ringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  ringSQOffsets
	cqOff                                                                  ringCQOffsets
}

type ringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	msgFlags    uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFDIn  int32
	addr3       uint64
	_           uint64
}

type ringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// ringProbe: whether this kernel lets the process make rings (seccomp
// profiles and kernel.io_uring_disabled often do not), unless the
// environment says not to try (DYNAMICIO_IO_URING=off).
var ringProbe = sync.OnceValue(func() bool {
	if os.Getenv("DYNAMICIO_IO_URING") == "off" {
		return false
	}
	r, err := openRing()
	if err != nil {
		return false
	}
	r.close()
	return true
})

// ringsAvailable reports whether writers can send through rings.
func ringsAvailable() bool { return ringProbe() }

// openRing makes a ring of ringEntries sends.
func openRing() (*ring, error) {
	var p ringParams
	p.flags = ringSetupSubmitAll
	fd, _, e := syscall.Syscall(unix.SYS_IO_URING_SETUP, ringEntries, uintptr(unsafe.Pointer(&p)), 0)
	if e == syscall.EINVAL {
		// Before Linux 5.18: no SUBMIT_ALL. complete resubmits what a
		// failed entry left unsubmitted.
		p = ringParams{}
		fd, _, e = syscall.Syscall(unix.SYS_IO_URING_SETUP, ringEntries, uintptr(unsafe.Pointer(&p)), 0)
	}
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", e)
	}
	r := &ring{fd: int(fd), entries: p.sqEntries}
	if p.features&ringFeatSingleMmap == 0 || p.sqEntries < 2 || p.cqEntries < p.sqEntries {
		unix.Close(r.fd)
		return nil, errors.New("io_uring: kernel too old")
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(ringCQE{})))
	mem, err := unix.Mmap(r.fd, ringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Close(r.fd)
		return nil, fmt.Errorf("io_uring mmap: %w", err)
	}
	sqeMem, err := unix.Mmap(r.fd, ringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(ringSQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Munmap(mem)
		unix.Close(r.fd)
		return nil, fmt.Errorf("io_uring mmap: %w", err)
	}
	r.mem, r.sqeMem = mem, sqeMem
	base := unsafe.Pointer(&mem[0])
	r.sqHead = (*uint32)(unsafe.Add(base, p.sqOff.head))
	r.sqTail = (*uint32)(unsafe.Add(base, p.sqOff.tail))
	r.sqMask = *(*uint32)(unsafe.Add(base, p.sqOff.ringMask))
	// Slot i of the queue always names entry i.
	array := unsafe.Slice((*uint32)(unsafe.Add(base, p.sqOff.array)), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.cqHead = (*uint32)(unsafe.Add(base, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(base, p.cqOff.tail))
	r.cqMask = *(*uint32)(unsafe.Add(base, p.cqOff.ringMask))
	r.cqes = unsafe.Slice((*ringCQE)(unsafe.Add(base, p.cqOff.cqes)), p.cqEntries)
	r.sqes = unsafe.Slice((*ringSQE)(unsafe.Pointer(&sqeMem[0])), p.sqEntries)
	return r, nil
}

// close releases the ring. Nothing may be in flight.
func (r *ring) close() {
	unix.Munmap(r.sqeMem)
	unix.Munmap(r.mem)
	unix.Close(r.fd)
}

// errRingLost is the outcome of a send whose completion never came.
var errRingLost = errors.New("engineio: io_uring lost a send's completion")

// send makes the sends of jobs (at most r.entries), setting each job's n
// and err as sender.send would. A job of more than maxIovecs buffers is
// left with n = -1 for the caller to send in several calls.
func (r *ring) send(jobs []sendJob) {
	// Room for every job's header and buffers before any pointer to
	// them goes into the queue: the slices must not move after.
	nIov := 0
	for i := range jobs {
		if len(jobs[i].bufs) > 1 {
			nIov += min(len(jobs[i].bufs), maxIovecs)
		}
	}
	if cap(r.iov) < nIov {
		r.iov = make([]iovec, 0, nIov)
	}
	if cap(r.msgs) < len(jobs) {
		r.msgs = make([]unix.Msghdr, len(jobs))
	}
	msgs := r.msgs[:len(jobs)]
	iov := r.iov[:0]
	locked := r.locked[:0]

	tail := atomic.LoadUint32(r.sqTail)
	queued := uint32(0)
	for i := range jobs {
		j := &jobs[i]
		if len(j.bufs) > maxIovecs {
			j.n = -1
			continue
		}
		o := &j.t.out
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			j.n, j.err = 0, net.ErrClosed
			continue
		}
		locked = append(locked, o)
		q := &r.sqes[(tail+queued)&r.sqMask]
		*q = ringSQE{fd: o.fd, msgFlags: unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL, userData: uint64(i)}
		j.n, j.err = 0, errRingLost // until its completion says otherwise
		switch bufs := j.bufs; {
		case len(bufs) == 1 && len(bufs[0]) > 0:
			q.opcode = ringOpSend
			q.addr = uint64(uintptr(unsafe.Pointer(&bufs[0][0])))
			q.len = uint32(len(bufs[0]))
		default:
			start := len(iov)
			for _, b := range bufs {
				if len(b) > 0 {
					v := iovec{Base: &b[0]}
					v.SetLen(len(b))
					iov = append(iov, v)
				}
			}
			if len(iov) == start {
				// Nothing to send: not worth a queue entry.
				j.err = nil
				o.mu.Unlock()
				locked = locked[:len(locked)-1]
				continue
			}
			m := &msgs[i]
			*m = unix.Msghdr{Iov: &iov[start]}
			m.SetIovlen(len(iov) - start)
			q.opcode = ringOpSendmsg
			q.addr = uint64(uintptr(unsafe.Pointer(m)))
			q.len = 1
		}
		queued++
	}
	if queued > 0 {
		atomic.StoreUint32(r.sqTail, tail+queued)
		r.complete(jobs, queued)
	}
	for i, o := range locked {
		o.mu.Unlock()
		locked[i] = nil
	}
	r.locked = locked[:0]
	clear(iov) // the frames may be freed
	clear(msgs)
}

// complete submits the queued sends and reads their completions, queued
// in all, into jobs.
//
// The wait for completions cannot block: a MSG_DONTWAIT send on io_uring
// completes (with EAGAIN if the connection is full) during the submission
// itself rather than waiting for room (io_sendmsg_prep sets REQ_F_NOWAIT).
func (r *ring) complete(jobs []sendJob, queued uint32) {
	tail := atomic.LoadUint32(r.sqTail)
	for done, failures := uint32(0), 0; done < queued; {
		toSubmit := tail - atomic.LoadUint32(r.sqHead)
		// RawSyscall, as for sendmsg: the sends cannot block, and a
		// ring of them takes about a millisecond, which sysmon would
		// otherwise answer by handing the P to another thread.
		_, _, e := syscall.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(queued-done), ringEnterGetEvents, 0, 0)
		before := done
		head := atomic.LoadUint32(r.cqHead)
		for cqTail := atomic.LoadUint32(r.cqTail); head != cqTail; head++ {
			c := &r.cqes[head&r.cqMask]
			j := &jobs[c.userData]
			j.err = nil
			if c.res >= 0 {
				j.n = int(c.res)
			} else {
				j.err = sendErr("io_uring send", syscall.Errno(-c.res))
			}
			done++
		}
		atomic.StoreUint32(r.cqHead, head)
		if e == 0 || e == syscall.EINTR {
			failures = 0
			continue
		}
		// The kernel refused to take some (short of memory): take them
		// back. Their jobs keep n = 0, so their frames go to the
		// goroutine that waits for a full connection.
		if left := tail - atomic.LoadUint32(r.sqHead); left > 0 {
			for i := tail - left; i != tail; i++ {
				jobs[r.sqes[i&r.sqMask].userData].err = nil
			}
			tail -= left
			queued -= left
			atomic.StoreUint32(r.sqTail, tail)
			continue
		}
		// Everything submitted, completions missing: sends of this kind
		// complete during the submission, so they are done, only
		// unreported. After enough tries, their jobs keep errRingLost
		// and their sessions close.
		if done == before {
			if failures++; failures == 100 {
				return
			}
		}
	}
}
