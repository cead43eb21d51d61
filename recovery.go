package dynamicio

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/dynamicio/dynamicio/parser"
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

const (
	defaultMaxDisconnection = 2 * time.Minute
	defaultMaxRecoveryPkts  = 10000
)

// recoverable lists the reasons after which a socket may be recovered.
func recoverable(r DisconnectReason) bool {
	switch r {
	case ReasonParseError, ReasonClientNamespaceDisconnect, ReasonServerNamespaceDisconnect:
		return false
	}
	return true
}

// recoveryLog keeps, for one namespace, the packets that recovering clients
// may have missed and the sessions of disconnected sockets. It is bounded
// by count and age, and needs no timer: it is trimmed as it is used.
type recoveryLog struct {
	cfg   Recovery
	nonce string

	mu       sync.Mutex
	seq      uint64
	packets  []logged       // oldest first
	index    map[string]int // offset → seq of the packet
	sessions map[string]*session
	persists int
}

type logged struct {
	seq    uint64
	offset string
	at     time.Time
	rooms  []string
	except []string
	data   []byte
	atts   [][]byte
}

type session struct {
	sid, pid string
	rooms    []string
	data     any
	at       time.Time
}

func newRecoveryLog(cfg Recovery) *recoveryLog {
	if cfg.MaxDisconnectionDuration <= 0 {
		cfg.MaxDisconnectionDuration = defaultMaxDisconnection
	}
	if cfg.MaxPackets <= 0 {
		cfg.MaxPackets = defaultMaxRecoveryPkts
	}
	var b [6]byte
	rand.Read(b[:])
	return &recoveryLog{cfg: cfg, nonce: hex.EncodeToString(b[:]), index: make(map[string]int), sessions: make(map[string]*session)}
}

// record gives an event packet its offset (appended to its arguments, as
// the official server does; the client keeps it as its last offset) and
// logs it for the sockets that rooms/except select.
func (l *recoveryLog) record(p *parser.Packet, rooms, except []string) {
	if p.Type != parser.Event || p.HasID || len(p.Data) < 2 {
		return
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	offset := l.nonce + "-" + strconv.FormatUint(l.seq, 36)
	data := make([]byte, 0, len(p.Data)+len(offset)+3)
	data = append(data, p.Data[:len(p.Data)-1]...)
	if len(p.Data) > 2 {
		data = append(data, ',')
	}
	data = strconv.AppendQuote(data, offset)
	p.Data = append(data, ']')
	l.packets = append(l.packets, logged{seq: l.seq, offset: offset, at: now, rooms: slices.Clone(rooms), except: slices.Clone(except), data: p.Data, atts: p.Attachments})
	l.index[offset] = int(l.seq)
	l.trimLocked(now)
}

// trimLocked drops packets past the count cap or the age limit.
func (l *recoveryLog) trimLocked(now time.Time) {
	drop := 0
	for drop < len(l.packets) && (len(l.packets)-drop > l.cfg.MaxPackets || now.Sub(l.packets[drop].at) > l.cfg.MaxDisconnectionDuration) {
		delete(l.index, l.packets[drop].offset)
		drop++
	}
	if drop > 0 {
		clear(l.packets[:drop])
		l.packets = l.packets[drop:]
	}
}

// persist keeps a disconnected socket's state for a later recovery.
func (l *recoveryLog) persist(s *Socket) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sessions) >= l.cfg.MaxPackets {
		l.sweepLocked(now)
		if len(l.sessions) >= l.cfg.MaxPackets {
			return // bounded: a flood of disconnects does not grow memory
		}
	}
	l.sessions[s.pid] = &session{sid: s.id, pid: s.pid, rooms: s.Rooms(), data: s.Data(), at: now}
	if l.persists++; l.persists%256 == 0 {
		l.sweepLocked(now)
	}
}

func (l *recoveryLog) sweepLocked(now time.Time) {
	for pid, ss := range l.sessions {
		if now.Sub(ss.at) > l.cfg.MaxDisconnectionDuration {
			delete(l.sessions, pid)
		}
	}
}

// restore returns a persisted session and the packets it missed after
// offset, or nil when it cannot be recovered.
func (l *recoveryLog) restore(pid, offset string) (*session, []logged) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	ss := l.sessions[pid]
	if ss == nil {
		return nil, nil
	}
	delete(l.sessions, pid)
	if now.Sub(ss.at) > l.cfg.MaxDisconnectionDuration {
		return nil, nil
	}
	l.trimLocked(now)
	seq, ok := l.index[offset]
	if !ok {
		return nil, nil
	}
	var missed []logged
	for _, p := range l.packets {
		if int(p.seq) <= seq {
			continue
		}
		if len(p.rooms) > 0 && !slices.ContainsFunc(p.rooms, func(r string) bool { return slices.Contains(ss.rooms, r) }) {
			continue
		}
		if slices.ContainsFunc(p.except, func(r string) bool { return slices.Contains(ss.rooms, r) }) {
			continue
		}
		missed = append(missed, p)
	}
	return ss, missed
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
