package redisadapter

import (
	"testing"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/adapter/adaptertest"
	"github.com/dynamicio/dynamicio/internal/redistest"
)

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"classic", Config{}},
		{"sharded", Config{Sharded: true}},
	} {
		t.Run(tc.name, func(t *testing.T) { testConformance(t, tc.cfg) })
	}
}

func testConformance(t *testing.T, cfg Config) {
	srv := redistest.Start(t)
	c := newCluster(t, srv, cfg)
	adaptertest.Run(t, func(t *testing.T, ns adapter.Namespace) adapter.Adapter {
		a := c.Factory()(ns)
		t.Cleanup(func() { a.Close() })
		return a
	})
	if s := c.Stats(); s.Dropped != 0 {
		t.Errorf("own traffic dropped: %+v", s)
	}
}
