package engineio

import (
	"errors"
	"net/http"
	"strconv"
)

// ErrorCode is an Engine.IO request error code, as the official server sends
// it in {"code":n,"message":"…"}.
type ErrorCode int

// The official error codes.
const (
	CodeUnknownTransport           ErrorCode = 0
	CodeUnknownSID                 ErrorCode = 1
	CodeBadHandshakeMethod         ErrorCode = 2
	CodeBadRequest                 ErrorCode = 3
	CodeForbidden                  ErrorCode = 4
	CodeUnsupportedProtocolVersion ErrorCode = 5
)

// Message returns the official message of the code.
func (c ErrorCode) Message() string {
	switch c {
	case CodeUnknownTransport:
		return "Transport unknown"
	case CodeUnknownSID:
		return "Session ID unknown"
	case CodeBadHandshakeMethod:
		return "Bad handshake method"
	case CodeBadRequest:
		return "Bad request"
	case CodeForbidden:
		return "Forbidden"
	case CodeUnsupportedProtocolVersion:
		return "Unsupported protocol version"
	}
	return "Unknown error"
}

// RequestError is a refused request. AllowRequest may return one to choose the
// answer; OnRequestError receives one for every refusal.
type RequestError struct {
	Code ErrorCode
	// Status is the HTTP status (default 403 for CodeForbidden, 400 otherwise).
	Status int
	// Message replaces the code's official message when not empty.
	Message string
	// Context names the failed check, like the official server's
	// context.name ("TRANSPORT_MISMATCH", "INVALID_ORIGIN", …), for logs.
	Context string
}

func (e *RequestError) Error() string {
	s := "engineio: request refused: " + e.message()
	if e.Context != "" {
		s += " (" + e.Context + ")"
	}
	return s
}

func (e *RequestError) message() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Code.Message()
}

func (e *RequestError) status() int {
	if e.Status != 0 {
		return e.Status
	}
	if e.Code == CodeForbidden {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// body is the JSON answer {"code":n,"message":"…"}.
func (e *RequestError) body() []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(e.Code), 10)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.message())
	return append(b, '}')
}

// CloseReason says why a session closed. The values are the official
// reason strings, so they read the same in logs as in the browser.
type CloseReason string

// Close reasons.
const (
	// ReasonTransportClose: the client closed the connection or sent a close packet.
	ReasonTransportClose CloseReason = "transport close"
	// ReasonTransportError: the transport failed (I/O error, protocol violation,
	// overlapping polls, slow consumer).
	ReasonTransportError CloseReason = "transport error"
	// ReasonPingTimeout: no pong (v4) or ping (v3) arrived in time.
	ReasonPingTimeout CloseReason = "ping timeout"
	// ReasonParseError: the client sent a packet that does not decode.
	ReasonParseError CloseReason = "parse error"
	// ReasonForcedClose: the server closed the session (Session.Close, Server.Shutdown).
	ReasonForcedClose CloseReason = "forced close"
)

// Errors returned by sessions and the server.
var (
	// ErrClosed is returned by writes to a closed or closing session.
	ErrClosed = errors.New("engineio: session closed")
	// ErrSlowConsumer is the cause of a close when a client did not read its
	// queued messages fast enough (MaxQueueBytes or WriteTimeout exceeded).
	ErrSlowConsumer = errors.New("engineio: slow consumer")
	// ErrServerClosed is returned after Shutdown or Close.
	ErrServerClosed = errors.New("engineio: server closed")
)

// appendJSONString appends s as a JSON string. Only the characters JSON
// requires are escaped, plus <, > and & so the value is safe in HTML too.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
