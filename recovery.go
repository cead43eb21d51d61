package dynamicio

import (
	"encoding/json"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
)

// Recovery configures connection state recovery, as the official
// connectionStateRecovery option: a client that lost its connection and
// comes back within MaxDisconnectionDuration gets its socket back (id,
// rooms, data) and the events it missed, and Socket.Recovered reports true.
type Recovery struct {
	// MaxDisconnectionDuration is how long a session and the packets sent
	// meanwhile are kept (default 2 minutes).
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs the namespace middlewares for a recovered socket
	// too (the official skipMiddlewares: false).
	RunMiddlewares bool
	// MaxPackets caps the packets kept per namespace for recovery (default
	// 10,000): under a burst the oldest go first, and clients that missed
	// them get a fresh socket instead of a partial history.
	MaxPackets int
}

// sessionStore returns the namespace's recovery store: the adapter's own
// when it keeps one (a cluster log), else one in memory.
func sessionStore(a adapter.Adapter, r *Recovery) adapter.SessionStore {
	if st, ok := a.(adapter.SessionStore); ok {
		return st
	}
	return adapter.NewSessionStore(adapter.RecoveryOptions{MaxDisconnectionDuration: r.MaxDisconnectionDuration, MaxPackets: r.MaxPackets})
}

// recoverable lists the reasons after which a socket may be recovered.
func recoverable(r DisconnectReason) bool {
	switch r {
	case ReasonParseError, ReasonClientNamespaceDisconnect, ReasonServerNamespaceDisconnect:
		return false
	}
	return true
}

// recoveryAuth reads the pid and offset a reconnecting client sends in its
// CONNECT payload.
func recoveryAuth(auth json.RawMessage) (pid, offset string, ok bool) {
	var a struct {
		PID    any `json:"pid"`
		Offset any `json:"offset"`
	}
	if json.Unmarshal(auth, &a) != nil {
		return "", "", false
	}
	pid, ok1 := a.PID.(string)
	offset, ok2 := a.Offset.(string)
	return pid, offset, ok1 && ok2
}
