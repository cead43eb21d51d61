package dynamicio

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSetupNamespaceOnDemand(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Config{Retirement: 100 * time.Millisecond})
	var calls atomic.Int32
	expired := make(chan string, 4)
	err := srv.SetupNamespace(`^/dyn/([^/]*)$`, func(ns *Namespace, m []string) bool {
		if m[1] == "nope" {
			return false
		}
		calls.Add(1)
		ns.OnConnection(func(s *Socket) { s.Emit("hi", m[1]) })
		ns.OnExpire(func(ns *Namespace) { expired <- ns.FullName() })
		if m[1] == "keep" {
			ns.SetRetirement(0)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, url)
	c.connect("/dyn/abc")
	c.expect(`2/dyn/abc,["hi","abc"]`)
	c2 := dial(t, url)
	c2.connect("/dyn/abc")
	c2.expect(`2/dyn/abc,["hi","abc"]`)
	if n := calls.Load(); n != 1 {
		t.Errorf("setup ran %d times for one namespace", n)
	}
	c.send("0/dyn/nope,")
	c.expect(`4/dyn/nope,{"message":"Invalid namespace"}`)
	if srv.namespace("/dyn/nope") != nil {
		t.Error("a refused namespace was created")
	}

	// Idle, it retires; the next connection sets it up again.
	c.send("1/dyn/abc,")
	c2.send("1/dyn/abc,")
	select {
	case got := <-expired:
		if got != "/dyn/abc" {
			t.Errorf("expired %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the idle namespace did not retire")
	}
	if srv.namespace("/dyn/abc") != nil {
		t.Error("a retired namespace is still there")
	}
	c.connect("/dyn/abc")
	c.expect(`2/dyn/abc,["hi","abc"]`)
	if n := calls.Load(); n != 2 {
		t.Errorf("setup ran %d times, want 2 (created again)", n)
	}

	// SetRetirement(0) and Of make namespaces permanent.
	c.connect("/dyn/keep")
	c.recv()
	c.send("1/dyn/keep,")
	srv.Of("/perm").OnConnection(func(s *Socket) {})
	c.connect("/perm")
	c.send("1/perm,")
	time.Sleep(300 * time.Millisecond)
	if srv.namespace("/dyn/keep") == nil || srv.namespace("/perm") == nil {
		t.Error("a permanent namespace retired")
	}
}

func TestSetupPriorities(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	tag := func(name string) SetupFunc {
		return func(ns *Namespace, m []string) bool {
			ns.OnConnection(func(s *Socket) { s.Emit("by", name) })
			return true
		}
	}
	srv.SetupNamespace("/p/exact", tag("exact"))
	srv.SetupNamespace("*", tag("star"))
	srv.SetupNamespace(regexp.MustCompile(`^/p/`), tag("p"))
	c := dial(t, url)
	for nsp, want := range map[string]string{"/p/exact": "exact", "/p/other": "p", "/q": "star"} {
		c.connect(nsp)
		c.expect("2" + nsp + `,["by","` + want + `"]`)
	}
}

func TestSetupRunsForExistingNamespacesOnce(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	srv.Of("/existing")
	seen := map[string]int{}
	var mu sync.Mutex
	count := func(ns *Namespace, m []string) bool {
		mu.Lock()
		seen[ns.FullName()]++
		mu.Unlock()
		return true
	}
	srv.SetupNamespace("*", count)
	srv.SetupNamespace("*", count) // a later setup does not run again for them
	if seen["/"] != 1 || seen["/existing"] != 1 {
		t.Errorf("setup runs for existing namespaces = %v, want / and /existing once", seen)
	}
	if err := srv.SetupNamespace("bad", count); err == nil {
		t.Error("a pattern that is neither a name, * nor a regexp was accepted")
	}
}

func TestConcurrentConnectsCreateOneInstance(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	var calls atomic.Int32
	srv.SetupNamespace("/race", func(ns *Namespace, m []string) bool {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond) // a slow setup widens the race
		return true
	})
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c := dial(t, url)
			c.connect("/race")
		})
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("setup ran %d times", calls.Load())
	}
	waitFor(t, "every socket in the one instance", func() bool { return len(srv.namespace("/race").Sockets()) == n })
}

func TestNamespaceCaps(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Config{MaxNamespacesPerConnection: 3, MaxNamespaces: 6})
	srv.SetupNamespace("*", func(ns *Namespace, m []string) bool { return true })
	c := dial(t, url)
	for _, nsp := range []string{"/a", "/b", "/c"} {
		c.connect(nsp)
	}
	c.send("0/d,")
	c.expect(`4/d,{"message":"Too many namespaces"}`)
	if srv.namespace("/d") != nil {
		t.Error("a namespace past the cap was created")
	}
	// The total cap holds across connections: / + 3 + 2 = 6; namespaces
	// that exist stay open to everyone.
	c2 := dial(t, url)
	c2.connect("/a")
	c2.connect("/e")
	c2.connect("/f")
	c2.send("0/g,")
	c2.expect(`4/g,{"message":"Too many namespaces"}`)
}

// A socket still in a connect middleware keeps its namespace alive past the
// retirement deadline, and a broadcast by name right after it connects
// reaches it.
func TestRetirementWaitsForConnectingSockets(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, &Config{Retirement: 50 * time.Millisecond})
	var instances atomic.Int32
	srv.SetupNamespace("/slow", func(ns *Namespace, m []string) bool {
		instances.Add(1)
		ns.Use(func(ctx context.Context, s *Socket) error {
			if strings.Contains(string(s.Handshake().Auth), "slow") {
				time.Sleep(200 * time.Millisecond)
			}
			return nil
		})
		ns.OnConnection(func(s *Socket) { srv.Of("/slow").Emit("by name") })
		return true
	})
	first := dial(t, url)
	first.connect("/slow")
	first.expect(`2/slow,["by name"]`)
	first.send("1/slow,") // idle now: retires in 50 ms unless held
	second := dial(t, url)
	second.send(`0/slow,{"slow":true}`)
	if got := second.recv(); !strings.HasPrefix(got, `0/slow,{"sid":"`) {
		t.Fatalf("connect reply = %q", got)
	}
	second.expect(`2/slow,["by name"]`)
	if n := instances.Load(); n != 1 {
		t.Errorf("%d instances, want 1: the namespace retired under a connecting socket", n)
	}
}

// Creations in flight count against the caps: setups that run at the same
// time cannot together create more than a cap allows.
func TestCapsHoldForConcurrentCreations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   Config
		conns int
		want  int
	}{
		{"per connection", Config{MainHost: NoMainHost}, 1, DefaultMaxNamespacesPerConnection},
		{"per host", Config{MainHost: NoMainHost, MaxNamespacesPerHost: 5}, 3, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, url := newTestServer(t, &tc.cfg)
			release := make(chan struct{})
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			t.Cleanup(unblock) // before the server's shutdown, should the test fail
			var started atomic.Int32
			srv.SetupNamespace("*", func(ns *Namespace, _ []string) bool {
				if ns.Host() == "" {
					return true // "/", set up when registering
				}
				started.Add(1)
				<-release // every setup stays in flight until the refusals are in
				return true
			})
			const perConn = 40
			var joined, refused, other atomic.Int32
			for i := range tc.conns {
				c := dialHost(t, url, "flood.test")
				for j := range perConn {
					c.send(fmt.Sprintf("0/n-%d-%d,", i, j))
				}
				go func() {
					for range perConn {
						c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
						_, p, err := c.rd.Next()
						switch s := string(p); {
						case err != nil:
							return
						case strings.HasPrefix(s, "40/n-"):
							joined.Add(1)
						case strings.HasPrefix(s, "44/n-") && strings.HasSuffix(s, `,{"message":"Too many namespaces"}`):
							refused.Add(1)
						default:
							other.Add(1)
						}
					}
				}()
			}
			total := int32(tc.conns * perConn)
			waitFor(t, "every CONNECT past the cap to be refused", func() bool { return refused.Load() >= total-int32(tc.want) })
			unblock()
			waitFor(t, "the namespaces within the cap to be joined", func() bool { return joined.Load()+refused.Load()+other.Load() >= total })
			if started.Load() != int32(tc.want) || joined.Load() != int32(tc.want) || other.Load() != 0 {
				t.Errorf("%d setups, %d joined, %d refused, %d other replies; cap %d", started.Load(), joined.Load(), refused.Load(), other.Load(), tc.want)
			}
			if got := len(srv.Status("flood.test").Namespaces); got != tc.want {
				t.Errorf("%d namespaces live, cap %d", got, tc.want)
			}
		})
	}
}

// Names a cluster adapter would read as channel separators or glob
// patterns, and path-like dot segments, are never created on demand; the
// application may still name a namespace so with Of.
func TestUncreatableNames(t *testing.T) {
	t.Parallel()
	srv, url := newTestServer(t, nil)
	srv.SetupNamespace("*", func(ns *Namespace, _ []string) bool { return true })
	srv.Of("/app#1")
	c := dial(t, url)
	for _, name := range []string{"/a#b", "/a*", "/a?", "/a[1]", `/a\b`, "/../x", "/x/..", "/x/./y", "/."} {
		c.send("0" + name + ",")
		c.expect("4" + name + `,{"message":"Invalid namespace"}`)
		if srv.namespace(name) != nil {
			t.Errorf("%s was created", name)
		}
	}
	c.connect("/app#1")    // made by the application
	c.connect("/x/..y/.z") // dots inside segments are just characters
}
