package redisadapter

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/dynamicio/dynamicio/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newClient returns a go-redis client of srv, closed when the test ends.
func newClient(t testing.TB, srv *redistest.Server) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// newCluster returns a Cluster on srv, closed when the test ends.
func newCluster(t testing.TB, srv *redistest.Server, cfg Config) *Cluster {
	t.Helper()
	cfg.Client = newClient(t, srv)
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// eventually polls cond every 10 ms until it holds or 15 s pass (the
// machine may be loaded).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
