// Package redistest runs a real redis-server for tests: on a free loopback
// port, without persistence, killed when the test ends. Tests that need
// Redis skip when redis-server is not installed, except in CI (CI set),
// where they fail: CI installs it (.ci/run), and a missing server must not
// pass silently.
package redistest
