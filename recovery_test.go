package dynamicio

import (
	"strings"
	"testing"
	"time"
)

// connectRecovering joins "/" and returns the sid and pid of the reply.
func connectRecovering(t *testing.T, c *rawClient, auth string) (sid, pid string) {
	t.Helper()
	c.send("0" + auth)
	got := c.recv()
	var ok bool
	rest, ok := strings.CutPrefix(got, `0{"sid":"`)
	if !ok {
		t.Fatalf("connect reply = %q", got)
	}
	sid, rest, _ = strings.Cut(rest, `","pid":"`)
	pid, _, _ = strings.Cut(rest, `"`)
	if len(sid) != 20 || len(pid) != 20 {
		t.Fatalf("connect reply = %q, want a sid and a pid", got)
	}
	return sid, pid
}

// lastArg returns the last string argument of an event packet: the offset.
func lastArg(t *testing.T, pkt string) string {
	t.Helper()
	i := strings.LastIndex(pkt, `,"`)
	if i < 0 || !strings.HasSuffix(pkt, `"]`) {
		t.Fatalf("no offset in %q", pkt)
	}
	return pkt[i+2 : len(pkt)-2]
}

func TestConnectionStateRecovery(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Config{ConnectionStateRecovery: &Recovery{}})
	recovered := make(chan bool, 4)
	srv.OnConnection(func(s *Socket) {
		if !s.Recovered() {
			s.Join("team")
			s.SetData("kept")
		} else if s.Data() != "kept" {
			t.Errorf("recovered data = %v", s.Data())
		}
		recovered <- s.Recovered()
	})
	c := dial(t, url)
	sid, pid := connectRecovering(t, c, "")
	<-recovered
	srv.To("team").Emit("first", 1)
	got := c.recv()
	if !strings.HasPrefix(got, `2["first",1,"`) {
		t.Fatalf("event = %q, want the offset appended", got)
	}
	offset := lastArg(t, got)
	c.conn.Close() // "transport close": recoverable
	waitFor(t, "the disconnect", func() bool { return len(srv.Of("/").Sockets()) == 0 })

	srv.To("team").Emit("missed", 2)
	srv.To("elsewhere").Emit("not for us")
	srv.Emit("missed too", 3)

	c2 := dial(t, url)
	c2.send(`0{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if got := c2.recv(); !strings.HasPrefix(got, `2["missed",2,"`) {
		t.Fatalf("first replayed = %q", got)
	}
	if got := c2.recv(); !strings.HasPrefix(got, `2["missed too",3,"`) {
		t.Fatalf("second replayed = %q", got)
	}
	if got := c2.recv(); got != `0{"sid":"`+sid+`","pid":"`+pid+`"}` {
		t.Fatalf("connect reply = %q, want the old sid and pid", got)
	}
	if !<-recovered {
		t.Error("Recovered() = false")
	}
	// Its rooms came back.
	srv.To("team").Emit("welcome back")
	if got := c2.recv(); !strings.HasPrefix(got, `2["welcome back","`) {
		t.Errorf("after recovery = %q", got)
	}

	// A session is used once; an unknown offset gets a fresh socket.
	c3 := dial(t, url)
	sid3, _ := connectRecovering(t, c3, `{"pid":"`+pid+`","offset":"`+offset+`"}`)
	if sid3 == sid || <-recovered {
		t.Error("a session was recovered twice")
	}
}

func TestRecoveryNotAfterClientDisconnect(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Config{ConnectionStateRecovery: &Recovery{}})
	srv.OnConnection(func(s *Socket) {})
	c := dial(t, url)
	sid, pid := connectRecovering(t, c, "")
	srv.Emit("x")
	offset := lastArg(t, c.recv())
	c.send("1") // client namespace disconnect: not recoverable
	waitFor(t, "the disconnect", func() bool { return len(srv.Of("/").Sockets()) == 0 })
	sid2, _ := connectRecovering(t, c, `{"pid":"`+pid+`","offset":"`+offset+`"}`)
	if sid2 == sid {
		t.Error("recovered after a client namespace disconnect")
	}
}

// A recovery id obtained on one virtual host is worthless on another: each
// host's namespaces keep their own sessions.
func TestRecoveryStaysOnItsHost(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Config{MainHost: ExactHost("a.test"), ConnectionStateRecovery: &Recovery{}})
	recovered := make(chan string, 4)
	for _, full := range []string{"/", "//b.test/"} {
		srv.Of(full).OnConnection(func(s *Socket) {
			if s.Recovered() {
				recovered <- s.Namespace().FullName()
			}
		})
	}
	b := dialHost(t, url, "b.test")
	sid, pid := connectRecovering(t, b, "")
	srv.Of("//b.test/").Emit("x")
	offset := lastArg(t, b.recv())
	b.conn.Close() // recoverable
	waitFor(t, "the disconnect", func() bool { return len(srv.Of("//b.test/").Sockets()) == 0 })

	a := dialHost(t, url, "a.test")
	sidA, _ := connectRecovering(t, a, `{"pid":"`+pid+`","offset":"`+offset+`"}`)
	if sidA == sid {
		t.Fatal("a.test recovered a session of b.test")
	}
	select {
	case full := <-recovered:
		t.Errorf("%s recovered a session of b.test", full)
	case <-time.After(100 * time.Millisecond):
	}
	// On its own host the session is still there.
	b2 := dialHost(t, url, "b.test")
	b2.send(`0{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if got := b2.recv(); got != `0{"sid":"`+sid+`","pid":"`+pid+`"}` {
		t.Errorf("b.test connect reply = %q, want its session back", got)
	}
}
