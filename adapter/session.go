package adapter

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/dynamicio/dynamicio/parser"
)

// Session is what connection state recovery keeps of a disconnected socket.
type Session struct {
	SID   string
	PID   string
	Rooms []string
	Data  any
}

// SessionStore keeps what connection state recovery needs: the events a
// disconnected client may have missed, and the sessions of disconnected
// sockets. An Adapter that implements it (a cluster adapter with a shared
// log) is used for recovery; otherwise the server keeps one in memory per
// namespace (NewSessionStore). Methods are safe for concurrent use.
type SessionStore interface {
	// Record gives an outgoing event its offset, appended to its arguments
	// as the official server does (the client keeps it as its last offset),
	// and keeps the packet for the sockets opts selects.
	Record(p *parser.Packet, opts Options)
	// PersistSession keeps a disconnected socket's state.
	PersistSession(s *Session)
	// RestoreSession returns a persisted session (once) and the packets it
	// missed after offset, or nil when it cannot be recovered.
	RestoreSession(pid, offset string) (*Session, []*parser.Packet)
}

// RecoveryOptions bound a SessionStore.
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long sessions and packets are kept
	// (default 2 minutes).
	MaxDisconnectionDuration time.Duration
	// MaxPackets caps the packets, and the sessions, kept (default 10,000).
	MaxPackets int
}

// NewSessionStore returns an in-memory SessionStore. It is bounded by
// count and age and needs no timer: it is trimmed as it is used.
func NewSessionStore(opts RecoveryOptions) SessionStore {
	if opts.MaxDisconnectionDuration <= 0 {
		opts.MaxDisconnectionDuration = 2 * time.Minute
	}
	if opts.MaxPackets <= 0 {
		opts.MaxPackets = 10000
	}
	var b [6]byte
	rand.Read(b[:])
	return &memoryStore{opts: opts, nonce: hex.EncodeToString(b[:]), index: make(map[string]uint64), sessions: make(map[string]*storedSession)}
}

type memoryStore struct {
	opts  RecoveryOptions
	nonce string

	mu       sync.Mutex
	seq      uint64
	packets  []logged          // oldest first
	index    map[string]uint64 // offset → seq
	sessions map[string]*storedSession
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

type storedSession struct {
	Session
	at time.Time
}

func (l *memoryStore) Record(p *parser.Packet, opts Options) {
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
	l.packets = append(l.packets, logged{seq: l.seq, offset: offset, at: now, rooms: slices.Clone(opts.Rooms), except: slices.Clone(opts.Except), data: p.Data, atts: p.Attachments})
	l.index[offset] = l.seq
	l.trimLocked(now)
}

// trimLocked drops packets past the count cap or the age limit.
func (l *memoryStore) trimLocked(now time.Time) {
	drop := 0
	for drop < len(l.packets) && (len(l.packets)-drop > l.opts.MaxPackets || now.Sub(l.packets[drop].at) > l.opts.MaxDisconnectionDuration) {
		delete(l.index, l.packets[drop].offset)
		drop++
	}
	if drop > 0 {
		clear(l.packets[:drop])
		l.packets = l.packets[drop:]
	}
}

func (l *memoryStore) PersistSession(s *Session) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sessions) >= l.opts.MaxPackets {
		l.sweepLocked(now)
		if len(l.sessions) >= l.opts.MaxPackets {
			return // bounded: a flood of disconnects does not grow memory
		}
	}
	l.sessions[s.PID] = &storedSession{Session: *s, at: now}
	if l.persists++; l.persists%256 == 0 {
		l.sweepLocked(now)
	}
}

func (l *memoryStore) sweepLocked(now time.Time) {
	for pid, ss := range l.sessions {
		if now.Sub(ss.at) > l.opts.MaxDisconnectionDuration {
			delete(l.sessions, pid)
		}
	}
}

func (l *memoryStore) RestoreSession(pid, offset string) (*Session, []*parser.Packet) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	ss := l.sessions[pid]
	if ss == nil {
		return nil, nil
	}
	delete(l.sessions, pid)
	if now.Sub(ss.at) > l.opts.MaxDisconnectionDuration {
		return nil, nil
	}
	l.trimLocked(now)
	seq, ok := l.index[offset]
	if !ok {
		return nil, nil
	}
	inRooms := func(rooms []string) bool {
		return slices.ContainsFunc(rooms, func(r string) bool { return slices.Contains(ss.Rooms, r) })
	}
	var missed []*parser.Packet
	for _, p := range l.packets {
		if p.seq <= seq || len(p.rooms) > 0 && !inRooms(p.rooms) || inRooms(p.except) {
			continue
		}
		missed = append(missed, &parser.Packet{Type: parser.Event, Data: p.data, Attachments: p.atts})
	}
	s := ss.Session
	return &s, missed
}
