//go:build linux

package engineio

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func loopbackListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// rawTransport returns a transport of c that the writers could send to.
func rawTransport(c net.Conn) *wsTransport {
	tr := &wsTransport{conn: c}
	tr.out.init(rawConnOf(c))
	return tr
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T, ln net.Listener) (server, client net.Conn) {
	t.Helper()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

// The writers send to a connection's descriptor number without going
// through its net.Conn. Once the transport is closed, that number can be
// another connection's: a send must then fail rather than reach it.
func TestSendAfterCloseNeverReachesAReusedDescriptor(t *testing.T) {
	ln := loopbackListener(t)

	srv1, cli1 := tcpPair(t, ln)
	tr := rawTransport(srv1)
	if !tr.out.usable() {
		t.Fatal("a TCP connection has no descriptor to send to")
	}
	var snd sender
	if n, err := snd.send(&tr.out, [][]byte{[]byte("hello")}); n != 5 || err != nil {
		t.Fatalf("send = %d, %v", n, err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(cli1, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q, %v", buf, err)
	}

	oldFD := tr.out.fd
	tr.close()
	// The kernel hands out the lowest free number: one end of the next
	// connection gets the one just closed.
	srv2, cli2 := tcpPair(t, ln)
	reused := false
	for _, c := range []net.Conn{srv2, cli2} {
		var o rawOut
		o.init(rawConnOf(c))
		reused = reused || o.fd == oldFD
	}
	if !reused {
		t.Fatalf("descriptor %d not reused: the test shows nothing", oldFD)
	}

	for _, bufs := range [][][]byte{{[]byte("leak")}, {[]byte("le"), []byte("ak")}} {
		if n, err := snd.send(&tr.out, bufs); n != 0 || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("send after close = %d, %v; want 0, net.ErrClosed", n, err)
		}
	}
	for _, c := range []net.Conn{srv2, cli2} {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if n, err := c.Read(buf); n > 0 {
			t.Fatalf("the new connection received %q, sent to the closed one", buf[:n])
		} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("read on the new connection: %v", err)
		}
	}
}

// A vector of buffers leaves in one sendmsg, in order, and a full
// connection makes send return what the kernel took, without an error.
func TestSendVectorAndFullConnection(t *testing.T) {
	ln := loopbackListener(t)
	srv, cli := tcpPair(t, ln)
	tr := rawTransport(srv)
	var snd sender

	if n, err := snd.send(&tr.out, [][]byte{[]byte("ab"), nil, []byte("cd")}); n != 4 || err != nil {
		t.Fatalf("send = %d, %v", n, err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(cli, buf); err != nil || string(buf) != "abcd" {
		t.Fatalf("read %q, %v", buf, err)
	}

	big := make([]byte, 1<<20)
	total := 0
	for range 256 { // the kernel's buffers hold a few MB at most
		n, err := snd.send(&tr.out, [][]byte{big, big})
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if n < 2*len(big) {
			return // full: a short count, no error
		}
	}
	t.Fatalf("%d bytes sent to a client that never reads, never full", total)
}
