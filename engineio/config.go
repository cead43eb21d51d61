package engineio

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Transport names, as they appear in the "transport" query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Defaults, matching the official Node.js server where it has one.
const (
	DefaultPath              = "/engine.io/"
	DefaultPingInterval      = 25 * time.Second
	DefaultPingTimeout       = 20 * time.Second
	DefaultUpgradeTimeout    = 10 * time.Second
	DefaultMaxHTTPBufferSize = 1_000_000
	DefaultCompressThreshold = 1024
	DefaultMaxPayloadPackets = 16384
	DefaultMaxQueueBytes     = 4 << 20
	DefaultWriteTimeout      = 10 * time.Second
	DefaultCloseTimeout      = 30 * time.Second
)

// Config configures a Server. The zero value of every field means the
// documented default, so &Config{} (or nil) is a server configured like the
// official one, except that cross-origin browser requests are refused until
// CORS or CheckOrigin allows them.
type Config struct {
	// Path is the URL path prefix the server answers on (default
	// "/engine.io/"). Like the official server it is a prefix match:
	// "/engine.io/anything" is served too.
	Path string

	// PingInterval is how often the server pings a v4 client (default 25s).
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong (default 20s).
	// For v3 clients, which ping the server, a session times out after
	// PingInterval+PingTimeout without a ping.
	PingTimeout time.Duration
	// UpgradeTimeout bounds the polling-to-WebSocket upgrade (default 10s).
	UpgradeTimeout time.Duration

	// MaxHTTPBufferSize caps a polling request body and a WebSocket message,
	// in bytes (default 1,000,000). Clients learn it as "maxPayload".
	MaxHTTPBufferSize int64
	// MaxPayloadPackets caps the packets in one polling request body
	// (default 16384); more closes the session.
	MaxPayloadPackets int

	// Transports lists the enabled transports, among "polling" and
	// "websocket" (default both).
	Transports []string
	// DisableUpgrades stops polling sessions from upgrading to WebSocket
	// (the official allowUpgrades: false).
	DisableUpgrades bool

	// AllowEIO3 accepts protocol v3 clients (engine.io-client 3.x,
	// socket.io-client 2.x).
	AllowEIO3 bool

	// AllowRequest, when set, decides whether a handshake may proceed. A nil
	// error accepts it. A *RequestError chooses the status and message;
	// any other error answers 403 {"code":4,"message":err.Error()}.
	// It runs for handshakes only, never for requests of an open session.
	AllowRequest func(r *http.Request) error

	// Tenant, when set, names the tenant a request belongs to (the
	// Socket.IO layer uses the normalised Host). It is computed at the
	// handshake and kept by the session (Session.Tenant); every later
	// request of the session, polling or upgrade, must name the same
	// tenant, else it is answered as an unknown session: a session id
	// obtained on one host is worthless on another. An error refuses the
	// request with 400.
	Tenant func(r *http.Request) (string, error)

	// GenerateID, when set, returns the id of a new session. It must be
	// unique and unguessable; the default is 15 random bytes from
	// crypto/rand in URL-safe base64 (20 characters).
	GenerateID func(r *http.Request) (string, error)

	// InitialPacket, when non-nil, is sent as a message right after the
	// open packet.
	InitialPacket []byte

	// Cookie, when non-nil, sets a cookie holding the session id on the
	// polling handshake response (the official cookie option).
	Cookie *Cookie

	// CORS, when non-nil, answers CORS preflights and adds CORS headers to
	// polling responses. It also allows the listed origins in the origin
	// check.
	CORS *CORS

	// CheckOrigin, when set, decides whether a request carrying an Origin
	// header may proceed; it replaces the default policy. The default
	// allows requests without Origin (non-browser clients), same-origin
	// requests (Origin host equals the Host header) and origins allowed by
	// CORS, and refuses the rest with 403. It applies to polling and to
	// WebSocket upgrades, which CORS does not protect.
	CheckOrigin func(r *http.Request) bool

	// HTTPCompression configures gzip/deflate of polling responses.
	HTTPCompression Compression

	// PerMessageDeflate, when non-nil, negotiates WebSocket permessage-
	// deflate (RFC 7692) without context takeover, so one compressed frame
	// can still be shared by many recipients. Inflating is bounded by
	// MaxHTTPBufferSize while it happens.
	PerMessageDeflate *Compression

	// InitialHeaders, when set, may add headers to the handshake response
	// (polling or the WebSocket 101).
	InitialHeaders func(h http.Header, r *http.Request)
	// Headers, when set, may add headers to every polling response and to
	// WebSocket 101 responses.
	Headers func(h http.Header, r *http.Request)

	// OnRequestError, when set, is told about every refused request (the
	// official "connection_error" event).
	OnRequestError func(r *http.Request, err *RequestError)

	// MaxQueueBytes caps the bytes queued for one session that its client
	// has not read yet (default 4 MiB). A session over the cap is closed
	// with ReasonTransportError and ErrSlowConsumer, so a client that stops
	// reading cannot hold memory or stall broadcasts.
	MaxQueueBytes int
	// WriteTimeout bounds one WebSocket write (default 10s); a client that
	// takes longer is disconnected.
	WriteTimeout time.Duration

	// Logger receives the server's diagnostics (default: discarded).
	Logger *slog.Logger
}

// Cookie configures the session cookie. Zero fields take the official
// defaults: name "io", path "/", HttpOnly, SameSite=Lax.
type Cookie struct {
	Name   string
	Path   string // "/" by default; use "-" for no Path attribute
	Domain string
	Secure bool
	// AllowScript drops the HttpOnly attribute.
	AllowScript bool
	SameSite    http.SameSite
	MaxAge      int
}

// CORS configures cross-origin resource sharing for polling requests.
type CORS struct {
	// AllowedOrigins lists exact origins ("https://example.com"); "*"
	// allows every origin.
	AllowedOrigins []string
	// AllowOriginFunc, when set, is asked about origins not listed.
	AllowOriginFunc func(origin string) bool
	// AllowCredentials sends Access-Control-Allow-Credentials: true. The
	// allowed origin is then echoed, never "*".
	AllowCredentials bool
	// AllowedHeaders answers preflights; by default the requested headers
	// are echoed.
	AllowedHeaders []string
	// ExposedHeaders lists response headers scripts may read.
	ExposedHeaders []string
	// MaxAge is how long a preflight may be cached (0: not sent).
	MaxAge time.Duration
}

// Compression configures a compression: off when Disabled, and applied to
// bodies of at least Threshold bytes (default 1024).
type Compression struct {
	Disabled  bool
	Threshold int
}

// settings is a Config with every default applied, read-only after NewServer.
type settings struct {
	Config
	polling, websocket bool
}

func newSettings(c *Config) *settings {
	s := &settings{}
	if c != nil {
		s.Config = *c
	}
	if s.Path == "" {
		s.Path = DefaultPath
	}
	if !strings.HasSuffix(s.Path, "/") {
		s.Path += "/"
	}
	if s.PingInterval <= 0 {
		s.PingInterval = DefaultPingInterval
	}
	if s.PingTimeout <= 0 {
		s.PingTimeout = DefaultPingTimeout
	}
	if s.UpgradeTimeout <= 0 {
		s.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if s.MaxHTTPBufferSize <= 0 {
		s.MaxHTTPBufferSize = DefaultMaxHTTPBufferSize
	}
	if s.MaxPayloadPackets <= 0 {
		s.MaxPayloadPackets = DefaultMaxPayloadPackets
	}
	if s.MaxQueueBytes <= 0 {
		s.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if s.WriteTimeout <= 0 {
		s.WriteTimeout = DefaultWriteTimeout
	}
	if s.HTTPCompression.Threshold <= 0 {
		s.HTTPCompression.Threshold = DefaultCompressThreshold
	}
	if s.PerMessageDeflate != nil {
		pmd := *s.PerMessageDeflate
		if pmd.Threshold <= 0 {
			pmd.Threshold = DefaultCompressThreshold
		}
		s.PerMessageDeflate = &pmd
	}
	if len(s.Transports) == 0 {
		s.Transports = []string{TransportPolling, TransportWebSocket}
	}
	for _, t := range s.Transports {
		switch t {
		case TransportPolling:
			s.polling = true
		case TransportWebSocket:
			s.websocket = true
		}
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// upgradesFor lists the transports a session on transport t may upgrade to.
func (s *settings) upgradesFor(t string) []string {
	if t == TransportPolling && s.websocket && !s.DisableUpgrades {
		return []string{TransportWebSocket}
	}
	return nil
}

func (s *settings) transportEnabled(t string) bool {
	switch t {
	case TransportPolling:
		return s.polling
	case TransportWebSocket:
		return s.websocket
	}
	return false
}
