package redisadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/parser"
	"github.com/dynamicio/dynamicio/parser/msgpack"
)

// Request types of the classic adapter's request and response channels
// (RequestType in @socket.io/redis-adapter).
const (
	reqSockets              = 0
	reqAllRooms             = 1
	reqRemoteJoin           = 2
	reqRemoteLeave          = 3
	reqRemoteDisconnect     = 4
	reqRemoteFetch          = 5
	reqServerSideEmit       = 6
	reqBroadcast            = 7
	reqBroadcastClientCount = 8
	reqBroadcastAck         = 9
)

var (
	errMalformed = errors.New("redisadapter: malformed message")
	errNotEvent  = errors.New("redisadapter: broadcast packet is not an event")
)

// roomList is a list of room names. Node's adapter tolerates numeric room
// names, so numbers are accepted and kept as their decimal text.
type roomList []string

func (r *roomList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make([]string, 0, len(raw))
	for _, x := range raw {
		var n roomName
		if err := n.UnmarshalJSON(x); err != nil {
			return err
		}
		out = append(out, string(n))
	}
	*r = out
	return nil
}

// roomName is a room name given as a string or a number.
type roomName string

func (n *roomName) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = roomName(s)
		return nil
	}
	var f json.Number
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = roomName(f.String())
	return nil
}

type wireFlags struct {
	Volatile bool     `json:"volatile,omitempty"`
	Compress *bool    `json:"compress,omitempty"`
	Timeout  *float64 `json:"timeout,omitempty"`
}

type wireOpts struct {
	Rooms  roomList   `json:"rooms"`
	Except roomList   `json:"except"`
	Flags  *wireFlags `json:"flags,omitempty"`
}

func toWireOpts(opts adapter.Options, flags *wireFlags) wireOpts {
	w := wireOpts{Rooms: opts.Rooms, Except: opts.Except, Flags: flags}
	if w.Rooms == nil {
		w.Rooms = roomList{}
	}
	if w.Except == nil {
		w.Except = roomList{}
	}
	return w
}

func (w *wireOpts) options() adapter.Options {
	return adapter.Options{Rooms: w.Rooms, Except: w.Except}
}

func (w *wireOpts) volatile() bool { return w.Flags != nil && w.Flags.Volatile }
func (w *wireOpts) compress() bool {
	return w.Flags == nil || w.Flags.Compress == nil || *w.Flags.Compress
}

func flagsOf(out *adapter.Outgoing) *wireFlags {
	f := &wireFlags{Volatile: out.Volatile}
	if !out.Compress {
		no := false
		f.Compress = &no
	}
	return f
}

// wirePacket is a Socket.IO packet as the JS adapter carries it.
type wirePacket struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data"`
	Nsp  *string         `json:"nsp"`
}

// packet checks w is an event with an array of data and returns it as a
// packet for local sockets. nsp is the packet's namespace ("/" when old
// emitters leave it out).
func (w *wirePacket) packet(atts [][]byte) (p *parser.Packet, nsp string, err error) {
	// 5 is BINARY_EVENT: the JS encoder never puts it here, but it means
	// the same.
	if w.Type != int(parser.Event) && w.Type != int(parser.BinaryEvent) {
		return nil, "", errNotEvent
	}
	if len(w.Data) == 0 || w.Data[0] != '[' {
		return nil, "", errNotEvent
	}
	if _, _, err := parser.EventName(w.Data); err != nil {
		return nil, "", errNotEvent
	}
	nsp = "/"
	if w.Nsp != nil {
		nsp = *w.Nsp
	}
	return &parser.Packet{Type: parser.Event, Data: w.Data, Attachments: atts}, nsp, nil
}

// encodeBroadcast returns the message the classic adapter publishes for a
// broadcast: msgpack([uid, packet, opts]), packet being {type: 2, data,
// nsp} with binary values as bin.
func encodeBroadcast(uid, nsp string, out *adapter.Outgoing, opts adapter.Options) ([]byte, error) {
	p := *out.Packet
	p.Namespace, p.HasID, p.ID = nsp, false, 0
	b := make([]byte, 0, 64+len(p.Data)+len(nsp))
	b = append(b, 0x93)
	var err error
	if b, err = msgpack.AppendJSON(b, quote(uid), nil); err != nil {
		return nil, err
	}
	if b, err = msgpack.AppendPacket(b, &p); err != nil {
		return nil, err
	}
	o, err := json.Marshal(toWireOpts(opts, flagsOf(out)))
	if err != nil {
		return nil, err
	}
	return msgpack.AppendJSON(b, o, nil)
}

func quote(s string) []byte { return strconv.AppendQuote(nil, s) }

// broadcastMsg is a decoded broadcast message.
type broadcastMsg struct {
	uid    string
	nsp    string
	packet *parser.Packet
	opts   wireOpts
}

// decodeBroadcast decodes msgpack([uid, packet, opts]). Anything else, or
// a packet that is not an event, is an error.
func decodeBroadcast(b []byte, maxAtt int) (*broadcastMsg, error) {
	if len(b) == 0 || b[0] != 0x93 {
		return nil, errMalformed
	}
	j, atts, err := msgpack.ToJSON(b, maxAtt)
	if err != nil {
		return nil, err
	}
	var parts [3]json.RawMessage
	if err := json.Unmarshal(j, &parts); err != nil {
		return nil, errMalformed
	}
	m := &broadcastMsg{}
	var uid *string
	if err := json.Unmarshal(parts[0], &uid); err != nil {
		return nil, errMalformed
	}
	if uid != nil {
		m.uid = *uid
	}
	var w wirePacket
	if err := json.Unmarshal(parts[1], &w); err != nil {
		return nil, errMalformed
	}
	if m.packet, m.nsp, err = w.packet(atts); err != nil {
		return nil, err
	}
	if !bytes.Equal(parts[2], []byte("null")) {
		if err := json.Unmarshal(parts[2], &m.opts); err != nil {
			return nil, errMalformed
		}
	}
	return m, nil
}

// message is a request or a response of the classic adapter: every field
// any type uses. Packet is the broadcast packet of a BROADCAST request and
// the acknowledgement of a BROADCAST_ACK response.
type message struct {
	UID         string          `json:"uid,omitempty"`
	RequestID   string          `json:"requestId,omitempty"`
	Type        *int            `json:"type,omitempty"`
	Rooms       roomList        `json:"rooms,omitempty"`
	Opts        *wireOpts       `json:"opts,omitempty"`
	Close       bool            `json:"close,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Packet      json.RawMessage `json:"packet,omitempty"`
	Sockets     json.RawMessage `json:"sockets,omitempty"`
	ClientCount *int            `json:"clientCount,omitempty"`
	// Legacy single-socket forms of REMOTE_JOIN, LEAVE and DISCONNECT.
	Sid  string    `json:"sid,omitempty"`
	Room *roomName `json:"room,omitempty"`

	atts [][]byte // binary values the JSON of a msgpack message refers to
}

func typ(t int) *int { return &t }

// decodeMessage decodes a request or response: JSON when it starts with
// '{', msgpack otherwise, as the JS adapter decides.
func decodeMessage(b []byte, maxAtt int) (*message, error) {
	if len(b) == 0 {
		return nil, errMalformed
	}
	m := &message{}
	j := b
	if b[0] != '{' {
		var err error
		if j, m.atts, err = msgpack.ToJSON(b, maxAtt); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(j, m); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return m, nil
}

// encodeJSON encodes m as JSON, the default form of requests and responses.
func encodeJSON(m *message) ([]byte, error) { return json.Marshal(m) }

// encodeMsgpack encodes m as msgpack, with atts as bin values: the form of
// BROADCAST requests and BROADCAST_ACK responses, and of any message with
// binary data.
func encodeMsgpack(m *message, atts [][]byte) ([]byte, error) {
	j, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return msgpack.AppendJSON(nil, j, atts)
}

func msgpackToJSON(b []byte, maxAtt int) ([]byte, [][]byte, error) { return msgpack.ToJSON(b, maxAtt) }

func msgpackFromJSON(j []byte, atts [][]byte) ([]byte, error) {
	return msgpack.AppendJSON(nil, j, atts)
}
