package dynamicio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"

	"github.com/dynamicio/dynamicio/parser"
)

// Args are the arguments of an event or an acknowledgement, kept as they
// arrived and decoded on demand by Bind.
type Args struct {
	raw  [][]byte // one JSON element per argument
	atts [][]byte // binary attachments the elements refer to
}

func newArgs(array []byte, atts [][]byte) (*Args, error) {
	raw, err := parser.SplitArray(array)
	if err != nil {
		return nil, err
	}
	return &Args{raw: raw, atts: atts}, nil
}

// eventArgs splits an EVENT's data into its name and its arguments.
func eventArgs(p *parser.Packet) (string, Args, error) {
	name, raw, err := parser.SplitEvent(p.Data, [][]byte{})
	if err != nil {
		return "", Args{}, err
	}
	return name, Args{raw: raw, atts: p.Attachments}, nil
}

// Len returns the number of arguments.
func (a *Args) Len() int { return len(a.raw) }

// Raw returns argument i as JSON. Binary values in it are placeholders that
// refer to this event's attachments: to relay an argument that may hold
// binaries, emit Value(i) instead.
func (a *Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a.raw) {
		return nil
	}
	return a.raw[i]
}

// Value decodes argument i into a Go value: map[string]any, []any,
// json.Number, string, bool or nil, and []byte for binary values wherever
// they are. Emitting the value sends the binaries as binaries again, so an
// event can be relayed as it came.
func (a *Args) Value(i int) (any, error) {
	if i < 0 || i >= len(a.raw) {
		return nil, ErrNoArgument
	}
	if b, ok := parser.AttachmentOf(a.raw[i], a.atts); ok {
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader(a.raw[i]))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(a.atts) == 0 {
		return v, nil
	}
	return a.withBinaries(v), nil
}

// withBinaries replaces placeholders in a decoded value by their
// attachments.
func (a *Args) withBinaries(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 2 && v["_placeholder"] == true {
			if n, ok := v["num"].(json.Number); ok {
				if i, err := n.Int64(); err == nil && i >= 0 && i < int64(len(a.atts)) {
					return a.atts[i]
				}
			}
		}
		for k, e := range v {
			v[k] = a.withBinaries(e)
		}
	case []any:
		for i, e := range v {
			v[i] = a.withBinaries(e)
		}
	}
	return v
}

// Binary returns argument i when it is binary (a Buffer on the client).
func (a *Args) Binary(i int) ([]byte, bool) {
	if i < 0 || i >= len(a.raw) {
		return nil, false
	}
	return parser.AttachmentOf(a.raw[i], a.atts)
}

// Bind decodes argument i into v, like json.Unmarshal. A binary argument
// (a Buffer on the client) binds to a *[]byte; binary values nested in an
// object bind to []byte fields.
func (a *Args) Bind(i int, v any) error {
	if i < 0 || i >= len(a.raw) {
		return ErrNoArgument
	}
	if b, ok := v.(*[]byte); ok {
		if att, ok := parser.AttachmentOf(a.raw[i], a.atts); ok {
			*b = att
			return nil
		}
	}
	data, err := parser.ReplacePlaceholders(a.raw[i], a.atts)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Event is an event received from a client.
type Event struct {
	Args
	// Name is the event name.
	Name   string
	socket *Socket
	ackID  uint64
	hasAck bool
	acked  atomic.Bool
	reply  func(args []any) error // answers a server-side event instead
	// inline holds the arguments of most events, so that splitting them
	// costs no allocation of its own.
	inline [2][]byte
}

// Socket returns the socket the event came from (nil for a server-side
// event from another server).
func (e *Event) Socket() *Socket { return e.socket }

// HasAck reports whether the client waits for an acknowledgement.
func (e *Event) HasAck() bool { return e.hasAck }

// Ack acknowledges the event with args (the arguments of the client's
// callback). Only the first call sends.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck {
		return ErrNoAck
	}
	if !e.acked.CompareAndSwap(false, true) {
		return ErrAckSent
	}
	if e.reply != nil {
		return e.reply(args)
	}
	return e.socket.client.writeAck(e.socket.ns.name, e.ackID, args)
}

// EventFunc handles an event. ctx ends when the socket disconnects. A
// returned error goes to the socket's OnError handlers.
type EventFunc func(ctx context.Context, e *Event) error

// Typed adapts a function of one typed argument: the event's first argument
// is decoded into T (its zero value when the client sent none).
//
//	s.On("chat", dynamicio.Typed(func(ctx context.Context, s *dynamicio.Socket, m ChatMessage) error {
//		return s.To("room").Emit("chat", m)
//	}))
func Typed[T any](fn func(ctx context.Context, s *Socket, arg T) error) EventFunc {
	return func(ctx context.Context, e *Event) error {
		var v T
		if e.Len() > 0 {
			if err := e.Bind(0, &v); err != nil {
				return err
			}
		}
		return fn(ctx, e.socket, v)
	}
}

// TypedAck adapts a function that answers the client's callback: the reply
// is the acknowledgement. A returned *AckError is sent as the
// acknowledgement ({"message","data"}); any other error is acknowledged as
// {"message":"internal server error"} and reported to OnError.
func TypedAck[T, R any](fn func(ctx context.Context, s *Socket, arg T) (R, error)) EventFunc {
	return func(ctx context.Context, e *Event) error {
		var v T
		if e.Len() > 0 {
			if err := e.Bind(0, &v); err != nil {
				if e.HasAck() {
					e.Ack(&AckError{Message: "invalid argument"})
				}
				return err
			}
		}
		r, err := fn(ctx, e.socket, v)
		if err != nil {
			var ae *AckError
			if errors.As(err, &ae) {
				e.Ack(ae)
				return nil
			}
			if e.HasAck() {
				e.Ack(&AckError{Message: "internal server error"})
			}
			return err
		}
		if e.HasAck() {
			return e.Ack(r)
		}
		return nil
	}
}
