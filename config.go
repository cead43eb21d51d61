package dynamicio

import (
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/dynamicio/dynamicio/adapter"
	"github.com/dynamicio/dynamicio/engineio"
	"github.com/dynamicio/dynamicio/parser"
)

// Defaults.
const (
	DefaultPath             = "/socket.io/"
	DefaultConnectTimeout   = 45 * time.Second
	DefaultMaxPendingEvents = 1024
)

// Config configures a Server. The zero value of every field means the
// documented default.
type Config struct {
	// Path is the URL path prefix (default "/socket.io/"); it replaces
	// EngineIO.Path.
	Path string
	// EngineIO configures the transport layer: heartbeats, limits, CORS,
	// origins, compression, AllowEIO3 for socket.io-client 2.x.
	EngineIO engineio.Config
	// ConnectTimeout closes a connection that joined no namespace in time
	// (default 45s).
	ConnectTimeout time.Duration
	// Parser is the wire format (default parser.JSON; msgpack.Codec for
	// clients that use socket.io-msgpack-parser).
	Parser parser.Codec
	// MaxAttachments caps the binary attachments of one packet (default 10).
	MaxAttachments int
	// MaxPendingEvents caps the events of one socket waiting for its
	// handlers (default 1024); a client that floods past it is disconnected.
	MaxPendingEvents int
	// Adapter creates each namespace's adapter (default adapter.New, in
	// memory).
	Adapter adapter.Factory
	// MainHost decides which hosts see the plain namespaces (/, /chat).
	// nil means every host, which makes an ordinary Socket.IO server. Any
	// other host gets namespaces of its own, //<host><name>, which no other
	// host can reach: ExactHost("example.com"), HostPattern(re), or
	// NoMainHost to give every host its own.
	MainHost HostMatcher
	// HostFunc, when set, returns the normalised host of a request (strip
	// www., map aliases…); "" refuses the request. By default the Host
	// header is lower-cased and stripped of its port and one trailing dot,
	// and must be a valid host name or IP address.
	HostFunc func(r *http.Request) string

	// Retirement is how long a namespace created by SetupNamespace waits,
	// once empty, before it is deleted (default 10s; per namespace
	// SetRetirement).
	Retirement time.Duration
	// MaxNamespaces caps the live namespaces (default 10,000),
	// MaxNamespacesPerHost those of one virtual host (default 1,000), and
	// MaxNamespacesPerConnection those one connection may create (default
	// 32). A CONNECT past a cap gets the connect_error "Too many
	// namespaces" and creates nothing.
	MaxNamespaces              int
	MaxNamespacesPerHost       int
	MaxNamespacesPerConnection int

	// ConnectionStateRecovery, when set, lets a client that lost its
	// connection get its socket and the events it missed back (see
	// Recovery). Off when nil, as upstream.
	ConnectionStateRecovery *Recovery

	// CleanupEmptyChildNamespaces deletes a child namespace of a
	// ParentNamespace when its last socket leaves; the next connection
	// creates it again.
	CleanupEmptyChildNamespaces bool

	// ClientFS, when set, serves the client bundle like the official
	// serveClient option: the files of socket.io-client's dist folder
	// (socket.io.js, socket.io.min.js, socket.io.esm.min.js,
	// socket.io.msgpack.min.js and their .map files) at <Path><file>, with
	// ETag and caching headers. Give it the dist folder of the npm package,
	// e.g. os.DirFS("node_modules/socket.io-client/dist"). Off when nil.
	ClientFS fs.FS

	// PublicStatus serves the status page at <Path>status (by default
	// /socket.io/status): for the requesting host only, its live
	// namespaces, their rooms and sockets (id, remote address, transport,
	// rooms) and the countdown of idle ones to retirement; as HTML, or as
	// JSON with ?format=json or "Accept: application/json" (schema in
	// package status). Anyone who can reach the server can read it, so it
	// is off by default; Server.Status gives the same data to code.
	PublicStatus bool

	// Logger receives diagnostics (default: discarded).
	Logger *slog.Logger
}

func (c *Config) withDefaults() Config {
	var s Config
	if c != nil {
		s = *c
	}
	if s.Path == "" {
		s.Path = DefaultPath
	}
	s.EngineIO.Path = s.Path
	if s.ConnectTimeout <= 0 {
		s.ConnectTimeout = DefaultConnectTimeout
	}
	if s.Parser == nil {
		s.Parser = parser.JSON
	}
	if s.MaxPendingEvents <= 0 {
		s.MaxPendingEvents = DefaultMaxPendingEvents
	}
	if s.Retirement <= 0 {
		s.Retirement = DefaultRetirement
	}
	if s.MaxNamespaces <= 0 {
		s.MaxNamespaces = DefaultMaxNamespaces
	}
	if s.MaxNamespacesPerHost <= 0 {
		s.MaxNamespacesPerHost = DefaultMaxNamespacesPerHost
	}
	if s.MaxNamespacesPerConnection <= 0 {
		s.MaxNamespacesPerConnection = DefaultMaxNamespacesPerConnection
	}
	if s.Adapter == nil {
		s.Adapter = adapter.New
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.EngineIO.Logger == nil {
		s.EngineIO.Logger = s.Logger
	}
	return s
}
