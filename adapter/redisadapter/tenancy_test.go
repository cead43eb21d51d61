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
// the same namespace name of two hosts never mixes, a name with glob
// characters matches only its own channels, and a namespace that retires
// leaves no subscription behind.
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

	const name = "/chat*"
	onA := dial(t, a.url, "one.test")
	onA.connect(name)
	sameTenant := dial(t, b.url, "one.test")
	sameTenant.connect(name)
	otherTenant := dial(t, b.url, "two.test")
	otherTenant.connect(name)
	lookalike := dial(t, b.url, "one.test")
	lookalike.connect("/chatX") // the unescaped pattern /chat*#* would match it
	nsA := get("a //one.test/chat*")
	waitServers(t, nsA, 2)
	waitServers(t, get("b //two.test/chat*"), 1)

	must(t, nsA.Emit("hello", "one"))
	onA.expect(`2/chat*,["hello","one"]`)
	sameTenant.expect(`2/chat*,["hello","one"]`)
	// Nothing reached the other tenant or the look-alike: their next
	// packet is the marker.
	must(t, get("b //two.test/chat*").Emit("marker"))
	otherTenant.expect(`2/chat*,["marker"]`)
	must(t, get("b //one.test/chatX").Emit("marker"))
	lookalike.expect(`2/chatX,["marker"]`)

	// Every socket leaves; the namespaces retire and unsubscribe.
	for _, c := range []*client{onA, sameTenant, otherTenant, lookalike} {
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
