package adapter

import (
	"testing"
	"time"

	"github.com/dynamicio/dynamicio/parser"
)

func eventPacket(data string) *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(data)}
}

func TestSessionStoreRecordsAndRestores(t *testing.T) {
	t.Parallel()
	st := NewSessionStore(RecoveryOptions{})
	first := eventPacket(`["a"]`)
	st.Record(first, Options{})
	offset := string(first.Data[len(`["a","`) : len(first.Data)-2])
	st.PersistSession(&Session{SID: "s1", PID: "p1", Rooms: []string{"s1", "team"}, Data: 7})
	st.Record(eventPacket(`["for team"]`), Options{Rooms: []string{"team"}})
	st.Record(eventPacket(`["not for us"]`), Options{Rooms: []string{"other"}})
	st.Record(eventPacket(`["except team"]`), Options{Except: []string{"team"}})
	st.Record(&parser.Packet{Type: parser.Event, Data: []byte(`["acked"]`), HasID: true}, Options{})
	st.Record(eventPacket(`["everyone"]`), Options{})

	ss, missed := st.RestoreSession("p1", offset)
	if ss == nil || ss.SID != "s1" || ss.Data != 7 {
		t.Fatalf("RestoreSession = %+v", ss)
	}
	var names []string
	for _, p := range missed {
		names = append(names, string(p.Data[:len(p.Data)-len(`,"xxxxxxxxxxxx-1"]`)]))
	}
	if len(missed) != 2 {
		t.Fatalf("missed %d packets (%q), want for team and everyone", len(missed), names)
	}
	if ss2, _ := st.RestoreSession("p1", offset); ss2 != nil {
		t.Error("a session was restored twice")
	}
}

func TestSessionStoreIsBounded(t *testing.T) {
	t.Parallel()
	st := NewSessionStore(RecoveryOptions{MaxPackets: 100, MaxDisconnectionDuration: time.Minute}).(*memoryStore)
	for range 1000 {
		st.Record(eventPacket(`["e"]`), Options{})
		st.PersistSession(&Session{PID: string(rune(len(st.sessions))) + "x"})
	}
	if len(st.packets) != 100 || len(st.index) != 100 || len(st.sessions) > 100 {
		t.Errorf("kept %d packets, %d offsets, %d sessions; want at most 100", len(st.packets), len(st.index), len(st.sessions))
	}
}

func TestSessionStoreExpires(t *testing.T) {
	t.Parallel()
	st := NewSessionStore(RecoveryOptions{MaxDisconnectionDuration: 10 * time.Millisecond})
	p := eventPacket(`["a"]`)
	st.Record(p, Options{})
	offset := string(p.Data[len(`["a","`) : len(p.Data)-2])
	st.PersistSession(&Session{SID: "s", PID: "p"})
	time.Sleep(30 * time.Millisecond)
	if ss, _ := st.RestoreSession("p", offset); ss != nil {
		t.Error("an expired session was restored")
	}
}
