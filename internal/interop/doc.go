// Package interop holds the interoperability tests: they drive the official
// JavaScript clients from npm (engine.io-client 6.x and 3.x, installed under
// testdata/ by `make node-deps`) against the Go servers, over every
// transport. The package has no non-test code; testdata/eio.mjs is the
// Node side, and reports what the real client saw as JSON lines.
package interop
