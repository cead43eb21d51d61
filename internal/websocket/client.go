package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DialConfig configures Dial.
type DialConfig struct {
	Header         http.Header // extra request headers (e.g. Origin; "Host" overrides the Host line)
	Deflate        bool        // offer permessage-deflate
	MaxMessageSize int         // default 16 MB
	NetDialer      *net.Dialer // optional; lets the load generator set LocalAddr (several 127.0.0.x source addresses)
	TLSConfig      *tls.Config // optional, for wss:// and https:// URLs
}

const (
	defaultClientMaxMessage = 16 << 20
	clientOffer             = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	maxErrorBody            = 512
	maxResponseHead         = 64 << 10
)

// Dial opens a WebSocket to rawURL ("ws://host:port/path?query", "http://…", or wss/https
// with TLS), performs the handshake, checks the accept key, and returns the conn, a Reader
// (Server: false) primed with any bytes read past the response, the response, and whether
// permessage-deflate was negotiated. ctx bounds the whole handshake (dial, TLS, request,
// response); once Dial returns, ctx no longer affects the connection.
//
// When deflate is true the connection runs without context takeover in both directions:
// send messages with Compress and rsv1 set (and masked, via AppendClientFrame); the Reader
// inflates received ones.
//
// On a status other than 101 the error includes the status and up to 512 bytes of the
// body; resp is then returned too (its Body holds that snippet) and conn is closed.
func Dial(ctx context.Context, rawURL string, cfg DialConfig) (conn net.Conn, rd *Reader, resp *http.Response, deflate bool, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, nil, false, fmt.Errorf("websocket: dial: %w", err)
	}
	var useTLS bool
	var port string
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		port = "80"
	case "wss", "https":
		useTLS, port = true, "443"
	default:
		return nil, nil, nil, false, fmt.Errorf("websocket: dial: unsupported URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, nil, nil, false, errors.New("websocket: dial: URL has no host")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	d := cfg.NetDialer
	if d == nil {
		d = &net.Dialer{}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, nil, false, fmt.Errorf("websocket: dial: %w", err)
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()

	// Any I/O below is aborted when ctx is done (by its deadline or cancellation), and
	// the error then reported is ctx.Err().
	raw := c
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	ctxErr := func(err error) error {
		if ce := ctx.Err(); ce != nil {
			return fmt.Errorf("websocket: dial: %w", ce)
		}
		return fmt.Errorf("websocket: dial: %w", err)
	}

	if useTLS {
		tc := cfg.TLSConfig.Clone()
		if tc == nil {
			tc = &tls.Config{}
		}
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		tlsConn := tls.Client(c, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, nil, nil, false, ctxErr(err)
		}
		c = tlsConn
	}

	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := appendRequest(nil, u, key, cfg)
	if _, err := c.Write(req); err != nil {
		return nil, nil, nil, false, ctxErr(err)
	}

	// The response head is read through a limit so a hostile server cannot make it
	// unbounded; bytes bufio reads past the head are primed into the Reader below.
	br := bufio.NewReaderSize(&io.LimitedReader{R: c, N: maxResponseHead}, 4096)
	resp, err = http.ReadResponse(br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil {
		return nil, nil, nil, false, ctxErr(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// Read a snippet of the body, without waiting long for it.
		c.SetReadDeadline(time.Now().Add(time.Second))
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(snippet))
		return nil, nil, resp, false, fmt.Errorf("websocket: dial %s: handshake failed: status %d: %q", u.Redacted(), resp.StatusCode, snippet)
	}
	if !headerHasToken(resp.Header["Upgrade"], "websocket") || !headerHasToken(resp.Header["Connection"], "upgrade") {
		return nil, nil, resp, false, errors.New("websocket: dial: 101 response without Upgrade: websocket / Connection: upgrade")
	}
	if got := resp.Header.Get("Sec-Websocket-Accept"); got != AcceptKey(key) {
		return nil, nil, resp, false, fmt.Errorf("websocket: dial: bad Sec-WebSocket-Accept %q", got)
	}
	if exts := resp.Header["Sec-Websocket-Extensions"]; len(exts) > 0 {
		if !cfg.Deflate {
			return nil, nil, resp, false, errors.New("websocket: dial: server selected an extension that was not offered")
		}
		if !checkDeflateResponse(exts) {
			return nil, nil, resp, false, fmt.Errorf("websocket: dial: unacceptable Sec-WebSocket-Extensions %q", exts)
		}
		deflate = true
	}
	if !stop() && ctx.Err() != nil {
		// The context fired while finishing; its deadline may already be on the conn.
		return nil, nil, resp, false, fmt.Errorf("websocket: dial: %w", ctx.Err())
	}
	c.SetDeadline(time.Time{})

	max := cfg.MaxMessageSize
	if max <= 0 {
		max = defaultClientMaxMessage
	}
	rd = NewReader(c, ReaderConfig{MaxMessageSize: max, Deflate: deflate})
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		rd.Prime(b)
	}
	return c, rd, resp, deflate, nil
}

func appendRequest(b []byte, u *url.URL, key string, cfg DialConfig) []byte {
	host := u.Host
	if h := cfg.Header.Get("Host"); h != "" && validHeaderValue(h) {
		host = h
	}
	b = append(b, "GET "...)
	b = append(b, u.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	b = append(b, key...)
	b = append(b, "\r\n"...)
	if cfg.Deflate {
		b = append(b, "Sec-WebSocket-Extensions: "+clientOffer+"\r\n"...)
	}
	keys := make([]string, 0, len(cfg.Header))
	for k := range cfg.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !validHeaderName(k) || reservedRequestHeader(k) {
			continue
		}
		for _, v := range cfg.Header[k] {
			if validHeaderValue(v) {
				b = append(b, k...)
				b = append(b, ": "...)
				b = append(b, v...)
				b = append(b, "\r\n"...)
			}
		}
	}
	return append(b, "\r\n"...)
}

func reservedRequestHeader(k string) bool {
	for _, r := range [...]string{"Host", "Upgrade", "Connection", "Sec-WebSocket-Version", "Sec-WebSocket-Key", "Sec-WebSocket-Extensions"} {
		if strings.EqualFold(k, r) {
			return true
		}
	}
	return false
}

// checkDeflateResponse validates the server's answer to clientOffer: exactly one
// permessage-deflate extension, server_no_context_takeover present (this client inflates
// every message from an empty window), no client_max_window_bits (not offered), known
// parameters only, no duplicates.
func checkDeflateResponse(lines []string) bool {
	var e extension
	found := false
	budget := maxHeaderScan
	for _, line := range lines {
		if len(line) > budget {
			return false
		}
		budget -= len(line)
		for i := 0; i < len(line); {
			next, ok := scanExtension(line, i, &e)
			if !ok {
				return false
			}
			i = next
			if e.name == "" {
				continue
			}
			if found || !strings.EqualFold(e.name, deflateName) || e.overflow {
				return false
			}
			found = true
			seen := 0
			for _, p := range e.params[:e.n] {
				var bit int
				switch {
				case strings.EqualFold(p.name, "server_no_context_takeover") && !p.hasValue:
					bit = pServerNoContext
				case strings.EqualFold(p.name, "client_no_context_takeover") && !p.hasValue:
					bit = pClientNoContext
				case strings.EqualFold(p.name, "server_max_window_bits") && p.hasValue && windowBits(p.value) != 0:
					bit = pServerMaxWindow // any window <= 32 KB inflates with flate's 32 KB window
				default:
					return false
				}
				if seen&bit != 0 {
					return false
				}
				seen |= bit
			}
			if seen&pServerNoContext == 0 {
				return false
			}
		}
	}
	return found
}
