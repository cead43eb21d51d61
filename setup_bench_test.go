package dynamicio

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

// release drops the hold createBySetup took, as a socket that left would.
func release(ns *Namespace) {
	ns.mu.Lock()
	ns.connecting--
	ns.mu.Unlock()
	ns.released()
}

func benchServer(retire time.Duration) *Server {
	srv := NewServer(&Config{Retirement: retire, MaxNamespaces: 1 << 30, MaxNamespacesPerHost: 1 << 30})
	srv.SetupNamespace("*", func(ns *Namespace, m []string) bool { return true })
	return srv
}

func (srv *Server) namespaceCount() int {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return len(srv.nsps)
}

// BenchmarkNamespaceLifecycle creates namespaces through a setup, lets them
// go idle and retire; it reports namespaces created and retired per second.
func BenchmarkNamespaceLifecycle(b *testing.B) {
	srv := benchServer(time.Millisecond)
	defer srv.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ns, _ := srv.createBySetup(nil, "", "/n"+strconv.Itoa(i))
		release(ns)
	}
	for srv.namespaceCount() > 1 {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "namespaces/s")
}

// BenchmarkRetire100k measures retiring 100,000 idle namespaces at once
// (one timer for all of them) and the memory an idle namespace holds.
func BenchmarkRetire100k(b *testing.B) {
	const n = 100000
	for range b.N {
		srv := benchServer(time.Hour)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		all := make([]*Namespace, n)
		for i := range all {
			all[i], _ = srv.createBySetup(nil, "", "/n"+strconv.Itoa(i))
			release(all[i])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/idle-namespace")
		start := time.Now()
		// Everything is due now: one timer firing retires them all.
		srv.expiry.mu.Lock()
		for i := range srv.expiry.items {
			srv.expiry.items[i].at = start
		}
		srv.expiry.mu.Unlock()
		srv.expiry.fire()
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms/retire-100k")
		if c := srv.namespaceCount(); c != 1 {
			b.Fatalf("%d namespaces left", c)
		}
		srv.Close()
	}
}
