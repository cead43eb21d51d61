// Package adaptertest is the conformance suite of package adapter, in the
// manner of testing/fstest: every Adapter implementation runs it from its
// own tests.
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, func(t *testing.T, ns adapter.Namespace) adapter.Adapter {
//			a := New(ns)
//			t.Cleanup(func() { a.Close() })
//			return a
//		})
//	}
//
// Run checks the local behaviour of one adapter instance: registration,
// joins and leaves, the queries, the socket selection of Broadcast,
// AddSockets and DelSockets (the union of rooms, each socket once, minus
// the except rooms, every socket when no room is given), that a broadcast
// encodes its packet once whatever its audience, that Send is called
// without locks held, Close, and all of it under concurrent use (run the
// suite with -race).
//
// It needs no global state, so a cluster adapter can run it too: every
// subtest asks newAdapter for an adapter of a namespace whose name is its
// own (the test name plus a random suffix), so subtests, and concurrent runs
// of the suite against one Redis, never see each other's traffic. A subtest
// asks for more than one adapter only to check that namespaces stay apart,
// and that a namespace can be served again by a new adapter after the old
// one is closed.
//
// Run requires that a broadcast reaches the local sockets before Broadcast
// returns (a cluster adapter may forward it to other servers later), and
// that local recipients get the very *adapter.Outgoing passed to Broadcast.
// The fake sockets, [Recorder], are exported for an adapter's own tests.
// Like the server, the suite puts each socket in the room named after its
// id; socket ids are 20 characters long, like the ids of the official
// server, and room names never are.
package adaptertest
