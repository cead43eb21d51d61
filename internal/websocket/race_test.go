//go:build race

package websocket

// raceEnabled: sync.Pool drops items at random under the race detector, so allocation
// counts that rely on pooling are not checked.
const raceEnabled = true
