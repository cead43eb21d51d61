package adaptertest

import (
	"sync"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/parser"
)

// Namespace is an adapter.Namespace with a fixed name.
type Namespace string

// Name returns n.
func (n Namespace) Name() string { return string(n) }

// ServerSideEvent ignores server-side events.
func (n Namespace) ServerSideEvent(*parser.Packet, func([]byte)) {}

// Recorder is a fake adapter.Socket that records what it is sent. Set its
// fields before giving it to an adapter; its methods are then safe for
// concurrent use.
type Recorder struct {
	id string

	// Encode, if set, is passed to Outgoing.Encoded by every Send, as a
	// real socket asks for the wire form of what it queues.
	Encode func(*adapter.Outgoing) any
	// OnSend, if set, runs at the end of every Send, on the goroutine of
	// the broadcast. It may call the adapter: Send is called without
	// adapter locks held.
	OnSend func(*adapter.Outgoing)

	mu  sync.Mutex
	got []*adapter.Outgoing
}

var _ adapter.Socket = (*Recorder)(nil)

// NewRecorder returns a Recorder with the given socket id.
func NewRecorder(id string) *Recorder { return &Recorder{id: id} }

// ID returns the socket id.
func (r *Recorder) ID() string { return r.id }

// Send records out.
func (r *Recorder) Send(out *adapter.Outgoing) {
	if r.Encode != nil {
		out.Encoded(r.Encode)
	}
	r.mu.Lock()
	r.got = append(r.got, out)
	r.mu.Unlock()
	if r.OnSend != nil {
		r.OnSend(out)
	}
}

// Received returns what the socket was sent, in order.
func (r *Recorder) Received() []*adapter.Outgoing {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*adapter.Outgoing(nil), r.got...)
}

// Len returns the number of packets the socket was sent.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// Count returns how many times the socket was sent out.
func (r *Recorder) Count(out *adapter.Outgoing) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, o := range r.got {
		if o == out {
			n++
		}
	}
	return n
}

// Reset forgets what the socket was sent.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.got = nil
	r.mu.Unlock()
}
