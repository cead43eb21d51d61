package redisadapter

import (
	"encoding/json"
	"testing"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/parser"
)

// FuzzDecode feeds arbitrary bytes to the decoders of channel messages:
// they must never panic, and what they accept must be usable (an event
// packet whose data is valid JSON, attachments within the cap).
func FuzzDecode(f *testing.F) {
	out := &adapter.Outgoing{Packet: &parser.Packet{Type: parser.Event, Data: []byte(`["ev",{"_placeholder":true,"num":0},1.5,"é"]`),
		Attachments: [][]byte{{1, 2, 3}}}, Volatile: true}
	b, err := encodeBroadcast("abcdef", "/chat", out, adapter.Options{Rooms: []string{"r1"}, Except: []string{"x"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	m, _ := encodeMsgpack(&message{UID: "u", RequestID: "r", Type: typ(reqBroadcast),
		Packet: json.RawMessage(`{"type":2,"data":["a",{"_placeholder":true,"num":0}],"nsp":"/"}`)}, [][]byte{{9}})
	f.Add(m)
	f.Add([]byte(`{"uid":"emitter","type":6,"data":["ev",1]}`))
	f.Add([]byte(`{"type":2,"opts":{"rooms":["a",1],"except":[]},"rooms":["b"]}`))
	f.Add([]byte(`{"requestId":"x","sockets":[{"id":"a","handshake":{},"rooms":["a"],"data":null}]}`))
	f.Add([]byte{0x93, 0xa7, 'e', 'm', 'i', 't', 't', 'e', 'r', 0x80, 0x80})
	f.Add([]byte(`{"uid":"0123456789abcdef","nsp":"/","type":3,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"packet":{"type":2,"data":["a"],"nsp":"/"}}}`))
	cm, _ := encodeClusterMsg(&clusterMsg{UID: "u", Nsp: "/", Type: msgBroadcastAck,
		Data: &clusterData{RequestID: "r", Packet: json.RawMessage(`{"_placeholder":true,"num":0}`)}}, [][]byte{{1}})
	f.Add(cm)
	f.Fuzz(func(t *testing.T, data []byte) {
		if bm, err := decodeBroadcast(data, 4); err == nil {
			if !json.Valid(bm.packet.Data) || len(bm.packet.Attachments) > 4 {
				t.Fatalf("accepted a bad packet: %s", bm.packet.Data)
			}
			if _, _, err := parser.EventName(bm.packet.Data); err != nil {
				t.Fatalf("accepted a packet that is not an event: %s", bm.packet.Data)
			}
		}
		if m, err := decodeClusterMsg(data, 4); err == nil {
			if len(m.atts) > 4 {
				t.Fatalf("%d attachments over the cap", len(m.atts))
			}
			if m.Data != nil {
				for _, raw := range []json.RawMessage{m.Data.Packet, m.Data.Sockets} {
					if len(raw) > 0 && !json.Valid(raw) {
						t.Fatalf("invalid JSON kept: %s", raw)
					}
				}
			}
		}
		if m, err := decodeMessage(data, 4); err == nil {
			if len(m.atts) > 4 {
				t.Fatalf("%d attachments over the cap", len(m.atts))
			}
			for _, raw := range []json.RawMessage{m.Data, m.Packet, m.Sockets} {
				if len(raw) > 0 && !json.Valid(raw) {
					t.Fatalf("invalid JSON kept: %s", raw)
				}
			}
		}
	})
}

func TestBroadcastRoundTrip(t *testing.T) {
	out := &adapter.Outgoing{Packet: &parser.Packet{Type: parser.BinaryEvent, Namespace: "/x",
		Data: []byte(`["ev",{"_placeholder":true,"num":0},"s"]`), Attachments: [][]byte{{1, 2}}}, Compress: false}
	b, err := encodeBroadcast("uid123", "//host/chat", out, adapter.Options{Rooms: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeBroadcast(b, 10)
	if err != nil {
		t.Fatal(err)
	}
	if m.uid != "uid123" || m.nsp != "//host/chat" || string(m.packet.Data) != string(out.Packet.Data) ||
		len(m.packet.Attachments) != 1 || m.opts.compress() || m.opts.volatile() ||
		len(m.opts.Rooms) != 2 || len(m.opts.Except) != 0 {
		t.Fatalf("round trip: %+v %+v", m, m.opts)
	}
	// An old emitter's packet without nsp is for "/".
	noNsp := []byte{0x93, 0xa1, 'e', 0x82, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa4, 'd', 'a', 't', 'a', 0x91, 0xa1, 'e', 0xc0}
	m, err = decodeBroadcast(noNsp, 10)
	if err != nil || m.nsp != "/" {
		t.Fatalf("packet without nsp: %v %+v", err, m)
	}
	// Numeric room names, as Node tolerates them.
	r, err := decodeMessage([]byte(`{"type":2,"opts":{"rooms":[1,"a"],"except":[]},"rooms":[2]}`), 10)
	if err != nil || r.Opts.Rooms[0] != "1" || r.Rooms[0] != "2" {
		t.Fatalf("numeric rooms: %v %+v", err, r)
	}
}

func TestEscapeGlob(t *testing.T) {
	for in, want := range map[string]string{"/chat": "/chat", "/a*b": `/a\*b`, "/[x]?": `/\[x\]\?`, `/\`: `/\\`} {
		if got := escapeGlob(in); got != want {
			t.Errorf("escapeGlob(%q) = %q, want %q", in, got, want)
		}
	}
	if clientName("//h.example/chat") != "/chat" || clientName("/chat") != "/chat" || clientName("//h/") != "/" {
		t.Error("clientName")
	}
}
