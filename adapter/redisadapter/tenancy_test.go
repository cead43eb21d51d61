package redisadapter_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio"
	"github.com/dynamicio/dynamicio/internal/redistest"
)

// Virtual hosts and dynamic namespaces: the full name keys the channels, so
// the same namespace name of two hosts never mixes, and a namespace that
// retires leaves no subscription behind.
func TestTenantsAndRetirement(t *testing.T) {
	rs := redistest.Start(t)
	var mu sync.Mutex
	live := map[string]*dynamicio.Namespace{} // "<node> <full name>"
	setup := func(nodeName string) func(*dynamicio.Namespace, []string) bool {
		return func(ns *dynamicio.Namespace, _ []string) bool {
			mu.Lock()
			live[nodeName+" "+ns.FullName()] = ns
			mu.Unlock()
			return true
		}
	}
	cfg := dynamicio.Config{MainHost: dynamicio.NoMainHost, Retirement: 200 * time.Millisecond}
	a, b := startNode(t, rs, cfg), startNode(t, rs, cfg)
	must(t, a.srv.SetupNamespace("*", setup("a")))
	must(t, b.srv.SetupNamespace("*", setup("b")))
	get := func(key string) *dynamicio.Namespace {
		mu.Lock()
		defer mu.Unlock()
		return live[key]
	}

	const name = "/chat"
	onA := dial(t, a.url, "one.test")
	onA.connect(name)
	sameTenant := dial(t, b.url, "one.test")
	sameTenant.connect(name)
	otherTenant := dial(t, b.url, "two.test")
	otherTenant.connect(name)
	nsA := get("a //one.test/chat")
	waitServers(t, nsA, 2)
	waitServers(t, get("b //two.test/chat"), 1)

	must(t, nsA.Emit("hello", "one"))
	onA.expect(`2/chat,["hello","one"]`)
	sameTenant.expect(`2/chat,["hello","one"]`)
	// Nothing reached the other tenant: its next packet is the marker.
	must(t, get("b //two.test/chat").Emit("marker"))
	otherTenant.expect(`2/chat,["marker"]`)

	// Every socket leaves; the namespaces retire and unsubscribe.
	for _, c := range []*client{onA, sameTenant, otherTenant} {
		c.conn.Close()
	}
	// The servers' permanent main namespace "/" stays: its request and
	// two response channels per server, and its pattern (NUMPAT counts
	// distinct patterns).
	eventually(t, "every dynamic namespace channel unsubscribed", func() bool {
		chans, err := a.rdb.PubSubChannels(context.Background(), "socket.io*").Result()
		if err != nil {
			return false
		}
		for _, ch := range chans {
			if !strings.HasPrefix(ch, "socket.io-request#/#") && !strings.HasPrefix(ch, "socket.io-response#/#") {
				return false
			}
		}
		n, err := a.rdb.PubSubNumPat(context.Background()).Result()
		return err == nil && n == 1
	})
}

// The server refuses glob characters in names created on demand, but an
// application may name a namespace so with Of: its pattern subscription
// is escaped, so it matches only its own channels. Unescaped, b's pattern
// for /chat* would also match /chatX's channel, and b would receive a's
// /chatX broadcast twice.
func TestGlobNamesStayInTheirChannels(t *testing.T) {
	rs := redistest.Start(t)
	a, b := startNode(t, rs, dynamicio.Config{}), startNode(t, rs, dynamicio.Config{})
	globA, lookalikeA := a.srv.Of("/chat*"), a.srv.Of("/chatX")
	b.srv.Of("/chat*")
	b.srv.Of("/chatX")
	onB := dial(t, b.url, "")
	onB.connect("/chat*")
	lookalike := dial(t, b.url, "")
	lookalike.connect("/chatX")
	waitServers(t, globA, 2)
	waitServers(t, lookalikeA, 2)

	must(t, globA.Emit("hello"))
	onB.expect(`2/chat*,["hello"]`)
	before := b.cluster.Stats().Received
	must(t, lookalikeA.Emit("x"))
	lookalike.expect(`2/chatX,["x"]`)
	time.Sleep(200 * time.Millisecond) // a second copy would have come by now
	if got := b.cluster.Stats().Received - before; got != 1 {
		t.Errorf("b received /chatX's broadcast %d times, want once", got)
	}
	// The next packet of the /chat* client is its own marker.
	must(t, globA.Emit("marker"))
	onB.expect(`2/chat*,["marker"]`)
}
