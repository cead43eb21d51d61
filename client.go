package dynamicio

import (
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/dynamicio/dynamicio/engineio"
	"github.com/dynamicio/dynamicio/parser"
)

// client is one Engine.IO connection and the namespace sockets multiplexed
// on it. Its onMessage runs on the connection's reading goroutine and never
// runs user code: events go to each socket's dispatcher.
type client struct {
	srv  *Server
	conn *engineio.Session
	dec  parser.Decoder // used by the reading goroutine only

	mu        sync.Mutex
	sockets   smallMap[*Socket] // by namespace, connecting ones included (nil: a name being resolved)
	connected bool              // some namespace connected: no connect timeout
	closed    bool
	created   int32 // namespaces this connection created (guarded by srv.mu)
	creating  int32 // CONNECTs to names not live yet, being resolved (guarded by mu)
	timer     *time.Timer
}

func newClient(srv *Server, conn *engineio.Session) *client {
	return &client{
		srv:  srv,
		conn: conn,
		dec:  srv.cfg.Parser.NewDecoder(parser.DecoderOptions{MaxAttachments: srv.cfg.MaxAttachments}),
	}
}

// v2 reports whether the client speaks protocol v4 (socket.io-client 2.x,
// over Engine.IO v3).
func (c *client) v2() bool { return c.conn.Protocol() == 3 }

func (c *client) start() {
	if c.v2() {
		// Protocol v4 connects to the main namespace implicitly.
		c.connect("/", nil)
		return
	}
	c.mu.Lock()
	c.timer = time.AfterFunc(c.srv.cfg.ConnectTimeout, c.connectTimeout)
	c.mu.Unlock()
}

func (c *client) connectTimeout() {
	c.mu.Lock()
	late := !c.connected && !c.closed
	c.mu.Unlock()
	if late {
		c.close(ReasonForcedServerClose)
	}
}

// onMessage decodes and routes one Engine.IO message.
func (c *client) onMessage(binary bool, data []byte) {
	p, err := c.dec.Add(binary, data)
	if err != nil {
		c.srv.cfg.Logger.Debug("dynamicio: invalid packet", "sid", c.conn.ID(), "err", err)
		c.close(ReasonForcedClose)
		return
	}
	if p == nil {
		return // waiting for attachments
	}
	c.mu.Lock()
	s, known := c.sockets.get(p.Namespace)
	c.mu.Unlock()
	switch {
	case p.Type == parser.Connect && !known:
		c.connect(p.Namespace, p.Data)
	case s != nil && s.isConnected() && (p.Type == parser.Event || p.Type == parser.Ack || p.Type == parser.Disconnect):
		s.onPacket(p)
	default:
		// A second CONNECT, a packet for a namespace not connected, a
		// CONNECT_ERROR from the client: the official server closes.
		c.close(ReasonForcedServerClose)
	}
}

// connect handles a CONNECT to a namespace.
func (c *client) connect(name string, auth []byte) {
	if c.v2() {
		// v2 clients put the namespace query in the name: /nsp?token=1.
		if path, query, ok := strings.Cut(name, "?"); ok {
			name = path
			auth = queryAuth(query)
		}
	}
	if auth == nil {
		auth = emptyAuth
	}
	if c.srv.closing.Load() {
		c.writeConnectError(name, &ConnectError{Message: "Invalid namespace"})
		return
	}
	if strings.HasPrefix(name, "//") {
		// Only the server names virtual hosts; a client that writes one
		// reaches nothing, on its host or any other.
		c.writeConnectError(name, &ConnectError{Message: "Invalid namespace"})
		return
	}
	host := c.conn.Tenant()
	full := fullName(host, name)
	if ns := c.srv.acquire(full); ns != nil {
		c.join(ns, auth)
		return
	}
	if !creatable(name) {
		c.writeConnectError(name, &ConnectError{Message: "Invalid namespace"})
		return
	}
	// Maybe a parent creates it; its matcher may take time, so it runs off
	// the reading goroutine. The name is reserved meanwhile, so a second
	// CONNECT to it is a duplicate, as it would be upstream.
	// A connection may create only so many namespaces, so it need not
	// resolve more names than that at once: a flood of CONNECTs to new
	// names (with a slow parent matcher, say) holds at most
	// MaxNamespacesPerConnection goroutines.
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if int(c.creating) >= c.srv.cfg.MaxNamespacesPerConnection {
		c.mu.Unlock()
		c.writeConnectError(name, &ConnectError{Message: "Too many namespaces"})
		return
	}
	c.creating++
	c.sockets.set(name, nil)
	c.mu.Unlock()
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		ns, err := c.srv.createBySetup(c, host, name)
		if ns == nil && err == nil {
			if p := c.srv.findParent(c.conn.Context(), full, auth); p != nil {
				ns, err = p.child(c, host, name)
			}
		}
		c.mu.Lock()
		c.creating--
		if s, _ := c.sockets.get(name); s == nil {
			c.sockets.delete(name)
		}
		c.mu.Unlock()
		switch {
		case err != nil:
			c.writeConnectError(name, &ConnectError{Message: "Too many namespaces"})
		case ns == nil:
			c.writeConnectError(name, &ConnectError{Message: "Invalid namespace"})
		default:
			c.join(ns, auth)
		}
	}()
}

// join creates the socket of a CONNECT to an existing namespace.
func (c *client) join(ns *Namespace, auth []byte) {
	name := ns.name
	s := newSocket(ns, c, json.RawMessage(auth))
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		ns.mu.Lock()
		ns.connecting--
		ns.mu.Unlock()
		ns.released()
		return
	}
	c.sockets.set(name, s)
	c.mu.Unlock()
	ns.connect(s)
}

// emptyAuth is the auth payload of a CONNECT without one, shared by every
// such socket (Handshake's callers must not modify it).
var emptyAuth = []byte("{}")

// queryAuth turns a v2 namespace query into an auth object.
func queryAuth(query string) []byte {
	q, _ := url.ParseQuery(query)
	m := make(map[string]string, len(q))
	for k, v := range q {
		m[k] = v[len(v)-1]
	}
	b, _ := json.Marshal(m)
	return b
}

// connected records that a socket joined its namespace.
func (c *client) connectedSocket() {
	c.mu.Lock()
	c.connected = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.mu.Unlock()
}

// remove forgets a socket.
func (c *client) remove(s *Socket) {
	c.mu.Lock()
	if cur, _ := c.sockets.get(s.ns.name); cur == s {
		c.sockets.delete(s.ns.name)
	}
	c.mu.Unlock()
}

// close disconnects every socket with reason and closes the connection.
func (c *client) close(reason DisconnectReason) {
	c.closeSockets(reason)
	c.conn.Close()
}

// disconnectAll disconnects every namespace of the connection, telling the
// client about each, then closes the connection (Socket.Disconnect(true)).
func (c *client) disconnectAll() {
	for _, s := range c.liveSockets(false) {
		s.closeWith(ReasonServerNamespaceDisconnect, true)
	}
	c.close(ReasonServerNamespaceDisconnect)
}

// liveSockets returns the connection's sockets (not the names reserved
// while a parent matches them); with markClosed, the client stops taking
// new ones and its connect timer stops.
func (c *client) liveSockets(markClosed bool) []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if markClosed {
		c.closed = true
		if c.timer != nil {
			c.timer.Stop()
			c.timer = nil
		}
	}
	socks := make([]*Socket, 0, c.sockets.len())
	c.sockets.all(func(_ string, s *Socket) {
		if s != nil {
			socks = append(socks, s)
		}
	})
	return socks
}

// onEngineClose runs when the Engine.IO session ended.
func (c *client) onEngineClose(reason DisconnectReason) { c.closeSockets(reason) }

func (c *client) closeSockets(reason DisconnectReason) {
	for _, s := range c.liveSockets(true) {
		s.closeWith(reason, false)
	}
}

// write encodes and sends one packet.
func (c *client) write(p *parser.Packet, volatile bool) error {
	if len(p.Attachments) == 0 && p.Type <= parser.ConnectError && c.plainJSON() {
		if volatile && !c.conn.Writable() {
			return nil
		}
		return c.conn.WriteMessage(engineio.NewTextMessageAt(wireBuf(p, 0), true))
	}
	ms, err := encodeMessages(c.srv.cfg.Parser, p, true)
	if err != nil {
		return err
	}
	return c.writeMessages(ms, volatile)
}

// plainJSON reports whether the connection's packets are text in the
// default JSON format, which client.write and writeAck build in place.
func (c *client) plainJSON() bool { return c.srv.cfg.Parser == parser.JSON }

// wireBuf returns p's JSON text form in a buffer that has the room
// engineio.NewTextMessageAt needs before it, for the Engine.IO and
// WebSocket framing, and room for extra more bytes after it: the packet
// goes to the wire without a copy.
func wireBuf(p *parser.Packet, extra int) []byte {
	buf := make([]byte, engineio.MessageHeadroom, engineio.MessageHeadroom+parser.EncodedLen(p)+extra)
	return parser.AppendEncode(buf, p)
}

// writeMessages sends an encoded packet; a volatile one is dropped when the
// transport cannot take it at once.
func (c *client) writeMessages(ms []*engineio.Message, volatile bool) error {
	if volatile && !c.conn.Writable() {
		return nil
	}
	return c.conn.WriteMessages(ms...)
}

// writeShared sends a broadcast's encoded packet, which many connections
// are sent at once (engineio.Session.WriteShared).
func (c *client) writeShared(ms []*engineio.Message, volatile bool) error {
	if len(ms) != 1 {
		return c.writeMessages(ms, volatile)
	}
	if volatile && !c.conn.Writable() {
		return nil
	}
	return c.conn.WriteShared(ms[0])
}

// encodeMessages encodes a packet into Engine.IO messages.
func encodeMessages(codec parser.Codec, p *parser.Packet, compress bool) ([]*engineio.Message, error) {
	frames, err := codec.Encode(p)
	if err != nil {
		return nil, err
	}
	ms := make([]*engineio.Message, len(frames))
	for i, f := range frames {
		typ := engineio.Text
		if f.Binary {
			typ = engineio.Binary
		}
		ms[i] = engineio.NewMessage(typ, f.Data, compress)
	}
	return ms, nil
}

// writeConnectError refuses a namespace.
func (c *client) writeConnectError(nsp string, e *ConnectError) {
	var data []byte
	if c.v2() {
		// Protocol v4 sends err.data, or else the message, as is.
		if e.Data != nil {
			data, _ = json.Marshal(e.Data)
		} else {
			data, _ = json.Marshal(e.Message)
		}
	} else {
		data, _ = json.Marshal(struct {
			Message string `json:"message"`
			Data    any    `json:"data,omitempty"`
		}{e.Message, e.Data})
	}
	c.write(&parser.Packet{Type: parser.ConnectError, Namespace: nsp, Data: data}, false)
}

// creatable reports whether a client may have a namespace of that name
// created on demand (by a setup or a parent). Names with characters that
// cluster adapters give a meaning to are refused: '#' separates the parts
// of a Redis channel name, and * ? [ ] \ are glob characters in channel
// patterns. So are "." and ".." segments, which look like paths but name
// nothing. Namespaces the application creates with Of may be named freely.
func creatable(name string) bool {
	if strings.ContainsAny(name, "#*?[]\\") {
		return false
	}
	for seg := range strings.SplitSeq(name[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
