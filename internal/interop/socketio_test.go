package interop

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dynamicio/dynamicio"
	"github.com/dynamicio/dynamicio/parser/msgpack"
)

// sioServer is the Go server the socket.io-client scenarios run against.
type sioServer struct {
	srv         *dynamicio.Server
	url         string
	disconnects chan string // "<nsp> <reason>"
}

func startSocketIO(t *testing.T, cfg *dynamicio.Config) *sioServer {
	t.Helper()
	if cfg == nil {
		cfg = &dynamicio.Config{}
	}
	cfg.EngineIO.AllowEIO3 = true
	srv := dynamicio.NewServer(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	s := &sioServer{srv: srv, url: ts.URL, disconnects: make(chan string, 64)}
	for _, name := range []string{"/", "/chat", "/admin"} {
		s.serve(srv.Of(name))
	}
	srv.Of("/admin").Use(func(ctx context.Context, so *dynamicio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		json.Unmarshal(so.Handshake().Auth, &auth)
		if auth.Token != "secret" {
			return &dynamicio.ConnectError{Message: "nope", Data: map[string]int{"code": 42}}
		}
		return nil
	})
	return s
}

// serve installs the scenario handlers on a namespace.
func (s *sioServer) serve(ns *dynamicio.Namespace) {
	ns.OnConnection(func(so *dynamicio.Socket) {
		so.Emit("welcome", ns.Name(), so.ID())
		so.On("echo", func(ctx context.Context, e *dynamicio.Event) error {
			return so.Emit("echo", args(e)...)
		})
		so.On("ack", func(ctx context.Context, e *dynamicio.Event) error {
			return e.Ack(args(e)...)
		})
		so.On("join", dynamicio.Typed(func(ctx context.Context, so *dynamicio.Socket, room string) error {
			so.Join(room)
			return so.Emit("joined", room)
		}))
		so.On("to", func(ctx context.Context, e *dynamicio.Event) error {
			var room, msg string
			e.Bind(0, &room)
			e.Bind(1, &msg)
			return so.To(room).Emit("msg", msg)
		})
		so.On("ask", dynamicio.Typed(func(ctx context.Context, so *dynamicio.Socket, q string) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			reply, err := so.EmitWithAck(ctx, "question", q)
			if err != nil {
				return so.Emit("answer", "error: "+err.Error())
			}
			var a string
			reply.Bind(0, &a)
			return so.Emit("answer", a)
		}))
		so.On("ask-unanswered", func(ctx context.Context, e *dynamicio.Event) error {
			_, err := so.Timeout(300*time.Millisecond).EmitWithAck(ctx, "unanswered")
			return so.Emit("gave-up", err != nil)
		})
		so.On("kick", func(ctx context.Context, e *dynamicio.Event) error {
			so.Disconnect(false)
			return nil
		})
		so.OnDisconnect(func(r dynamicio.DisconnectReason) {
			s.disconnects <- ns.Name() + " " + string(r)
		})
	})
}

// args returns an event's arguments as they came, binaries as binaries.
func args(e *dynamicio.Event) []any {
	out := make([]any, e.Len())
	for i := range out {
		out[i], _ = e.Value(i)
	}
	return out
}

func (s *sioServer) expectDisconnect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-s.disconnects:
		if got != want {
			t.Errorf("server saw disconnect %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("server saw no disconnect (want %q)", want)
	}
}

func runSIO(t *testing.T, params map[string]any) *nodeRun {
	t.Helper()
	params["script"] = "sio.mjs"
	return runNode(t, params)
}

// eventsNamed returns the args of the received events with that name.
func eventsNamed(run *nodeRun, nsp, name string) []json.RawMessage {
	var out []json.RawMessage
	for _, e := range run.events {
		if e.Ev == "event" && e.Nsp == nsp && e.Event == name {
			out = append(out, e.Args)
		}
	}
	return out
}

func TestSocketIOClientEveryTransport(t *testing.T) {
	t.Parallel()
	for name, transports := range transportSets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startSocketIO(t, nil)
			run := runSIO(t, map[string]any{
				"url": s.url, "transports": transports, "upgrade": name == "upgrade",
				"steps": []any{
					map[string]any{"op": "connect", "nsp": "/"},
					map[string]any{"op": "connect", "nsp": "/chat"},
					map[string]any{"op": "connect", "nsp": "/admin", "auth": map[string]any{"token": "wrong"}, "expectError": true},
					map[string]any{"op": "connect", "nsp": "/admin", "auth": map[string]any{"token": "secret"}},
					map[string]any{"op": "wait", "nsp": "/chat", "event": "welcome"},
					// every JSON type, and binary at the top level and nested
					map[string]any{"op": "emit", "nsp": "/", "event": "echo", "args": []any{1, 2.5, "é😀", true, nil, []any{1, "x"}, map[string]any{"a": map[string]any{"b": false}}}},
					map[string]any{"op": "wait", "nsp": "/", "event": "echo"},
					map[string]any{"op": "emit", "nsp": "/chat", "event": "echo", "args": []any{map[string]any{"$binary": "AQID"}, map[string]any{"file": map[string]any{"$binary": "BAUG"}}}},
					map[string]any{"op": "wait", "nsp": "/chat", "event": "echo"},
					// acks both ways
					map[string]any{"op": "emit", "nsp": "/", "event": "ack", "args": []any{"x", map[string]any{"$binary": "Bwg="}}, "ack": true},
					map[string]any{"op": "ackNext", "nsp": "/", "event": "question", "reply": []any{"forty-two"}},
					map[string]any{"op": "emit", "nsp": "/", "event": "ask", "args": []any{"meaning?"}},
					map[string]any{"op": "wait", "nsp": "/", "event": "answer"},
					// ack timeouts both ways: the server never acks "silence",
					// the client never acks "unanswered"
					map[string]any{"op": "emit", "nsp": "/", "event": "silence", "ack": true, "ackTimeoutMs": 300, "expectTimeout": true},
					map[string]any{"op": "emit", "nsp": "/", "event": "ask-unanswered"},
					map[string]any{"op": "wait", "nsp": "/", "event": "gave-up"},
					// a server kick
					map[string]any{"op": "emit", "nsp": "/chat", "event": "kick"},
					map[string]any{"op": "waitDisconnect", "nsp": "/chat", "reason": "io server disconnect"},
				},
			})
			if !run.ok() {
				t.Fatalf("client run failed:\n%s", run)
			}
			var ce *nodeEvent
			for i := range run.events {
				if run.events[i].Ev == "connect_error" {
					ce = &run.events[i]
				}
			}
			if ce == nil || ce.Message != "nope" || string(ce.Data) != `{"code":42}` {
				t.Errorf("connect_error = %+v", ce)
			}
			if got := eventsNamed(run, "/", "echo"); len(got) != 1 || string(got[0]) != `[1,2.5,"é😀",true,null,[1,"x"],{"a":{"b":false}}]` {
				t.Errorf("echo = %s", got)
			}
			if got := eventsNamed(run, "/chat", "echo"); len(got) != 1 || string(got[0]) != `[{"$binary":"AQID"},{"file":{"$binary":"BAUG"}}]` {
				t.Errorf("binary echo = %s", got)
			}
			if got := eventsNamed(run, "/", "gave-up"); len(got) != 1 || string(got[0]) != `[true]` {
				t.Errorf("server ack timeout = %s", got)
			}
			if got := eventsNamed(run, "/", "answer"); len(got) != 1 || string(got[0]) != `["forty-two"]` {
				t.Errorf("answer = %s", got)
			}
			var acks []json.RawMessage
			for _, e := range run.events {
				if e.Ev == "ack" {
					acks = append(acks, e.Args)
				}
			}
			if len(acks) != 1 || string(acks[0]) != `["x",{"$binary":"Bwg="}]` {
				t.Errorf("ack = %s", acks)
			}
			s.expectDisconnect(t, "/chat server namespace disconnect")
		})
	}
}

func TestSocketIORoomsAndReasons(t *testing.T) {
	t.Parallel()
	s := startSocketIO(t, nil)
	// A member in room "r" waits for a message; the sender is not in it.
	member := make(chan *nodeRun, 1)
	go func() {
		member <- runSIO(t, map[string]any{"url": s.url, "steps": []any{
			map[string]any{"op": "connect", "nsp": "/"},
			map[string]any{"op": "emit", "nsp": "/", "event": "join", "args": []any{"r"}},
			map[string]any{"op": "wait", "nsp": "/", "event": "joined"},
			map[string]any{"op": "wait", "nsp": "/", "event": "msg", "timeoutMs": 15000},
		}})
	}()
	deadline := time.Now().Add(15 * time.Second)
	for len(s.srv.Of("/").To("r").Sockets()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	sender := runSIO(t, map[string]any{"url": s.url, "steps": []any{
		map[string]any{"op": "connect", "nsp": "/"},
		map[string]any{"op": "emit", "nsp": "/", "event": "to", "args": []any{"r", "hello room"}},
		map[string]any{"op": "sleep", "ms": 300},
	}})
	if !sender.ok() {
		t.Fatalf("sender failed:\n%s", sender)
	}
	if len(eventsNamed(sender, "/", "msg")) != 0 {
		t.Error("the sender received its own room message")
	}
	m := <-member
	if !m.ok() {
		t.Fatalf("member failed:\n%s", m)
	}
	if got := eventsNamed(m, "/", "msg"); len(got) != 1 || string(got[0]) != `["hello room"]` {
		t.Errorf("member got %s", got)
	}
	// Both clients disconnected themselves at the end.
	s.expectDisconnect(t, "/ client namespace disconnect")
	s.expectDisconnect(t, "/ client namespace disconnect")
}

func TestSocketIOReconnect(t *testing.T) {
	t.Parallel()
	s := startSocketIO(t, nil)
	run := runSIO(t, map[string]any{"url": s.url, "transports": []string{"websocket"}, "steps": []any{
		map[string]any{"op": "connect", "nsp": "/"},
		map[string]any{"op": "closeEngine"},
		map[string]any{"op": "waitReconnect", "nsp": "/", "expectRecovered": false},
		map[string]any{"op": "emit", "nsp": "/", "event": "ack", "args": []any{"again"}, "ack": true},
	}})
	if !run.ok() {
		t.Fatalf("client run failed:\n%s", run)
	}
	s.expectDisconnect(t, "/ transport close")
}

func TestSocketIOMsgpack(t *testing.T) {
	t.Parallel()
	s := startSocketIO(t, &dynamicio.Config{Parser: msgpack.Codec})
	run := runSIO(t, map[string]any{"url": s.url, "msgpack": true, "steps": []any{
		map[string]any{"op": "connect", "nsp": "/"},
		map[string]any{"op": "connect", "nsp": "/admin", "auth": map[string]any{"token": "wrong"}, "expectError": true},
		map[string]any{"op": "emit", "nsp": "/", "event": "echo", "args": []any{1, "two", map[string]any{"b": map[string]any{"$binary": "AQID"}}}},
		map[string]any{"op": "wait", "nsp": "/", "event": "echo"},
		map[string]any{"op": "emit", "nsp": "/", "event": "ack", "args": []any{[]any{true, nil}}, "ack": true},
	}})
	if !run.ok() {
		t.Fatalf("client run failed:\n%s", run)
	}
	if got := eventsNamed(run, "/", "echo"); len(got) != 1 || string(got[0]) != `[1,"two",{"b":{"$binary":"AQID"}}]` {
		t.Errorf("msgpack echo = %s", got)
	}
}

func TestSocketIOClientV2(t *testing.T) {
	t.Parallel()
	for name, transports := range transportSets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startSocketIO(t, nil)
			run := runSIO(t, map[string]any{"url": s.url, "v2": true, "transports": transports, "upgrade": name == "upgrade", "steps": []any{
				map[string]any{"op": "connect", "nsp": "/"},
				map[string]any{"op": "connect", "nsp": "/chat"},
				map[string]any{"op": "connect", "nsp": "/admin", "auth": map[string]any{"token": "secret"}},
				map[string]any{"op": "emit", "nsp": "/chat", "event": "echo", "args": []any{"v2", map[string]any{"$binary": "AQID"}}},
				map[string]any{"op": "wait", "nsp": "/chat", "event": "echo"},
				map[string]any{"op": "emit", "nsp": "/", "event": "ack", "args": []any{7}, "ack": true},
			}})
			if !run.ok() {
				t.Fatalf("client run failed:\n%s", run)
			}
			if got := eventsNamed(run, "/chat", "echo"); len(got) != 1 || string(got[0]) != `["v2",{"$binary":"AQID"}]` {
				t.Errorf("v2 echo = %s", got)
			}
			// v2 socket ids: the engine id on /, "<nsp>#<engine id>" elsewhere.
			for _, e := range run.events {
				if e.Ev == "connect" && e.Nsp == "/chat" && !strings.HasPrefix(e.ID, "/chat#") {
					t.Errorf("v2 /chat id = %q", e.ID)
				}
			}
		})
	}
}

func TestSocketIOConnectionStateRecovery(t *testing.T) {
	t.Parallel()
	for name, transports := range map[string][]string{"websocket": {"websocket"}, "polling": {"polling"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startSocketIO(t, &dynamicio.Config{ConnectionStateRecovery: &dynamicio.Recovery{}})
			s.srv.OnConnection(func(so *dynamicio.Socket) {
				so.On("later", func(ctx context.Context, e *dynamicio.Event) error {
					// Sent while the client is away (it reconnects after ~1 s).
					time.AfterFunc(300*time.Millisecond, func() { s.srv.Emit("missed", "while away") })
					return nil
				})
			})
			run := runSIO(t, map[string]any{"url": s.url, "transports": transports, "steps": []any{
				map[string]any{"op": "connect", "nsp": "/"},
				map[string]any{"op": "wait", "nsp": "/", "event": "welcome"},
				map[string]any{"op": "emit", "nsp": "/", "event": "later"},
				map[string]any{"op": "sleep", "ms": 100},
				map[string]any{"op": "closeEngine"},
				map[string]any{"op": "waitReconnect", "nsp": "/", "expectRecovered": true, "timeoutMs": 10000},
				map[string]any{"op": "wait", "nsp": "/", "event": "missed"},
			}})
			if !run.ok() {
				t.Fatalf("client run failed:\n%s", run)
			}
			var ids []string
			for _, e := range run.events {
				if e.Ev == "connect" && e.Nsp == "/" {
					ids = append(ids, e.ID)
				}
			}
			if len(ids) != 2 || ids[0] != ids[1] {
				t.Errorf("socket ids across the recovery = %v, want the same twice", ids)
			}
		})
	}
}
