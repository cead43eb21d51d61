package engineio

import (
	"context"
	"testing"
	"time"
)

// Done and Context work whether they are asked for before the session
// closes (the channel is made then) or only after (a closed one).
func TestSessionDoneBeforeAndAfterClose(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	for _, early := range []bool{true, false} {
		c := s.dial("EIO=4&transport=websocket", nil)
		c.read() // open
		s.h.next("open")
		var sess *Session
		for _, x := range s.sessions() {
			sess = x
		}
		var done <-chan struct{}
		if early {
			done = sess.Done()
			if sess.Context().Err() != nil {
				t.Fatal("an open session's context has ended")
			}
		}
		sess.Close()
		s.h.next("close")
		if !early {
			done = sess.Done()
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Done (asked for early: %v) not closed after Close", early)
		}
		if err := sess.Context().Err(); err != context.Canceled {
			t.Errorf("Context().Err() after close = %v", err)
		}
	}
}
