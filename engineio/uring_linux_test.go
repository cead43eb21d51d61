//go:build linux

package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

func testRing(t *testing.T) *ring {
	t.Helper()
	if !ringsAvailable() {
		t.Skip("io_uring is not available to this process")
	}
	r, err := openRing()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	return r
}

// One submission sends to many connections, single frames and vectors
// alike, and each connection gets exactly its bytes.
func TestRingSendsToEveryConnectionOnce(t *testing.T) {
	r := testRing(t)
	ln := loopbackListener(t)
	const conns = 40
	var jobs []sendJob
	var clients []net.Conn
	var want [][]byte
	for i := range conns {
		srv, cli := tcpPair(t, ln)
		j := sendJob{t: rawTransport(srv)}
		if i%2 == 0 {
			f := []byte(fmt.Sprintf("frame %d", i))
			j.bufs, j.total = [][]byte{f}, len(f)
			want = append(want, f)
		} else {
			// An empty buffer among them, as a vector may hold.
			j.bufs = [][]byte{[]byte("vec "), nil, []byte(fmt.Sprint(i)), []byte("!")}
			for _, b := range j.bufs {
				j.total += len(b)
			}
			want = append(want, bytes.Join(j.bufs, nil))
		}
		jobs = append(jobs, j)
		clients = append(clients, cli)
	}
	for range 3 { // the ring is reused
		r.send(jobs)
		for i := range jobs {
			if jobs[i].n != jobs[i].total || jobs[i].err != nil {
				t.Fatalf("job %d: n = %d of %d, err %v", i, jobs[i].n, jobs[i].total, jobs[i].err)
			}
			got := make([]byte, len(want[i]))
			clients[i].SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(clients[i], got); err != nil || !bytes.Equal(got, want[i]) {
				t.Fatalf("connection %d read %q, %v; want %q", i, got, err, want[i])
			}
		}
	}
}

// A connection that cannot take more makes its send end at once with what
// fitted (or nothing), never wait: the writer that submitted it serves
// every other connection too.
func TestRingSendToAFullConnectionDoesNotWait(t *testing.T) {
	r := testRing(t)
	ln := loopbackListener(t)
	srvFull, _ := tcpPair(t, ln) // the client never reads
	srvOK, cliOK := tcpPair(t, ln)
	go io.Copy(io.Discard, cliOK)
	big := bytes.Repeat([]byte("x"), 1<<20)
	jobs := []sendJob{
		{t: rawTransport(srvFull), bufs: [][]byte{big}, total: len(big)},
		{t: rawTransport(srvOK), bufs: [][]byte{[]byte("ok")}, total: 2},
	}
	done := make(chan struct{})
	var short bool
	go func() {
		defer close(done)
		for range 200 {
			r.send(jobs)
			if jobs[0].err != nil || jobs[1].err != nil {
				t.Errorf("errors: %v, %v", jobs[0].err, jobs[1].err)
				return
			}
			if jobs[1].n != 2 {
				t.Errorf("the other connection took %d of 2 bytes", jobs[1].n)
				return
			}
			if jobs[0].n < len(big) {
				short = true
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a send to a full connection waited")
	}
	if !short {
		t.Fatal("the connection never filled: the test shows nothing")
	}
}

// A closed transport's send is not submitted (its number may be another
// connection's by now), and a connection the peer reset reports its error.
func TestRingSendFailures(t *testing.T) {
	r := testRing(t)
	ln := loopbackListener(t)
	srvClosed, _ := tcpPair(t, ln)
	closed := rawTransport(srvClosed)
	closed.out.close()
	srvReset, cliReset := tcpPair(t, ln)
	cliReset.(*net.TCPConn).SetLinger(0)
	cliReset.Close()
	srvOK, cliOK := tcpPair(t, ln)
	jobs := []sendJob{
		{t: closed, bufs: [][]byte{[]byte("never")}, total: 5},
		{t: rawTransport(srvReset), bufs: [][]byte{[]byte("reset")}, total: 5},
		{t: rawTransport(srvOK), bufs: [][]byte{[]byte("fine")}, total: 4},
	}
	var resetErr error
	for range 50 { // the reset may take a moment to arrive
		r.send(jobs)
		if resetErr = jobs[1].err; resetErr != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(jobs[0].err, net.ErrClosed) || jobs[0].n != 0 {
		t.Errorf("closed transport: n = %d, err %v; want net.ErrClosed", jobs[0].n, jobs[0].err)
	}
	var op *net.OpError
	if !errors.As(resetErr, &op) {
		t.Errorf("reset connection: err %v; want a *net.OpError", resetErr)
	}
	buf := make([]byte, 4)
	cliOK.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(cliOK, buf); err != nil || string(buf) != "fine" {
		t.Errorf("the healthy connection read %q, %v", buf, err)
	}
}

// A vector longer than one sendmsg takes is not submitted: the writer sends
// it in several calls (sendJobs), rather than stall the rest.
func TestRingLeavesLongVectorsToTheWriter(t *testing.T) {
	r := testRing(t)
	ln := loopbackListener(t)
	srvLong, _ := tcpPair(t, ln)
	srvOK, cliOK := tcpPair(t, ln)
	long := make([][]byte, maxIovecs+1)
	for i := range long {
		long[i] = []byte("x")
	}
	jobs := []sendJob{
		{t: rawTransport(srvLong), bufs: long, total: len(long)},
		{t: rawTransport(srvOK), bufs: [][]byte{[]byte("ok")}, total: 2},
	}
	r.send(jobs)
	if jobs[0].n != -1 {
		t.Errorf("long vector: n = %d, err %v; want -1 (not sent)", jobs[0].n, jobs[0].err)
	}
	if jobs[1].n != 2 || jobs[1].err != nil {
		t.Errorf("other job: n = %d, err %v", jobs[1].n, jobs[1].err)
	}
	buf := make([]byte, 2)
	cliOK.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(cliOK, buf); err != nil || string(buf) != "ok" {
		t.Errorf("read %q, %v", buf, err)
	}
}
