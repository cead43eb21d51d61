package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawws:", err)
		os.Exit(1)
	}
	h := newHub()
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	fmt.Printf("listening %s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	h.closeAll()
	hs.Close()
}

const queueFrames = 4096

// conn is one client. Its frames wait in queue; a writer goroutine exists
// only while there is something to write, and sends one frame per write.
type conn struct {
	id     uint64
	c      net.Conn
	mu     sync.Mutex
	queue  [][]byte
	writer bool
	closed bool
	rooms  []string // guarded by hub.mu
}

// hub holds every connection and the rooms. Broadcasts take the read lock.
type hub struct {
	mu    sync.RWMutex
	conns map[uint64]*conn
	rooms map[string]map[uint64]*conn
	next  atomic.Uint64
}

func newHub() *hub {
	return &hub{conns: map[uint64]*conn{}, rooms: map[string]map[uint64]*conn{}}
}

func (h *hub) closeAll() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range h.conns {
		c.c.Close()
	}
}

// send queues f for c; a full queue disconnects c.
func (c *conn) send(f []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if len(c.queue) >= queueFrames {
		c.closed = true
		c.queue = nil
		c.c.Close()
		return
	}
	c.queue = append(c.queue, f)
	if !c.writer {
		c.writer = true
		go c.writeLoop()
	}
}

func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writer = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		f := c.queue[0]
		c.queue = c.queue[1:]
		c.mu.Unlock()
		c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.c.Write(f); err != nil {
			c.close()
		}
	}
}

func (c *conn) close() {
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	c.mu.Unlock()
	c.c.Close()
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, err := websocket.CheckRequest(r)
	if err != nil {
		http.Error(w, "websocket only", http.StatusBadRequest)
		return
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	var leftover []byte
	if n := brw.Reader.Buffered(); n > 0 {
		leftover, _ = brw.Reader.Peek(n)
	}
	c := &conn{id: h.next.Add(1), c: nc}
	sid := strconv.FormatUint(c.id, 10)
	resp := websocket.AppendResponse(nil, key, "", nil)
	resp = websocket.AppendFrame(resp, websocket.OpText, false,
		[]byte(`0{"sid":"`+sid+`","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))
	if _, err := nc.Write(resp); err != nil {
		nc.Close()
		return
	}
	rd := websocket.NewReader(nc, websocket.ReaderConfig{MaxMessageSize: 1e6, Server: true})
	if leftover != nil {
		rd.Prime(leftover)
	}
	h.mu.Lock()
	h.conns[c.id] = c
	h.mu.Unlock()
	h.read(c, rd, sid)
}

func (h *hub) read(c *conn, rd *websocket.Reader, sid string) {
	defer func() {
		h.mu.Lock()
		delete(h.conns, c.id)
		for _, r := range c.rooms {
			delete(h.rooms[r], c.id)
		}
		h.mu.Unlock()
		c.close()
	}()
	var pendingBinary []byte // the placeholder frame waiting for its attachment
	for {
		op, p, err := rd.Next()
		if err != nil {
			return
		}
		switch op {
		case websocket.OpClose:
			return
		case websocket.OpBinary:
			if pendingBinary != nil {
				att := websocket.AppendFrame(nil, websocket.OpBinary, false, p)
				h.broadcast(nil, pendingBinary, att)
				pendingBinary = nil
			}
			continue
		case websocket.OpText:
		default:
			continue
		}
		switch {
		case bytes.Equal(p, []byte("40")):
			c.send(websocket.AppendFrame(nil, websocket.OpText, false, []byte(`40{"sid":"`+sid+`"}`)))
		case bytes.HasPrefix(p, []byte(`42["all",`)):
			h.broadcast(nil, websocket.AppendFrame(nil, websocket.OpText, false, p))
		case bytes.HasPrefix(p, []byte(`451-["all",`)):
			pendingBinary = websocket.AppendFrame(nil, websocket.OpText, false, p)
		case bytes.HasPrefix(p, []byte(`42["room","`)):
			rest := p[len(`42["room","`):]
			i := bytes.IndexByte(rest, '"')
			if i < 0 || len(rest) < i+2 {
				return
			}
			room := string(rest[:i])
			f := websocket.AppendFrame(nil, websocket.OpText, false, append([]byte(`42["room",`), rest[i+2:]...))
			h.toRoom(room, c, f)
		case bytes.HasPrefix(p, []byte("42")):
			// 42<id>["echo",x] or 42<id>["join","room"]
			i := 2
			for i < len(p) && p[i] >= '0' && p[i] <= '9' {
				i++
			}
			id, body := p[2:i], p[i:]
			switch {
			case bytes.HasPrefix(body, []byte(`["echo",`)):
				reply := append(append(append([]byte("43"), id...), '['), body[len(`["echo",`):]...)
				c.send(websocket.AppendFrame(nil, websocket.OpText, false, reply))
			case bytes.HasPrefix(body, []byte(`["join","`)):
				room := string(bytes.TrimSuffix(body[len(`["join","`):], []byte(`"]`)))
				h.mu.Lock()
				m := h.rooms[room]
				if m == nil {
					m = map[uint64]*conn{}
					h.rooms[room] = m
				}
				m[c.id] = c
				c.rooms = append(c.rooms, room)
				h.mu.Unlock()
				c.send(websocket.AppendFrame(nil, websocket.OpText, false, append(append([]byte("43"), id...), "[true]"...)))
			}
		}
	}
}

func (h *hub) broadcast(except *conn, frames ...[]byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range h.conns {
		if c != except {
			for _, f := range frames {
				c.send(f)
			}
		}
	}
}

func (h *hub) toRoom(room string, except *conn, f []byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range h.rooms[room] {
		if c != except {
			c.send(f)
		}
	}
}
