package dynamicio

import (
	"encoding/json"
	"errors"
)

// DisconnectReason says why a socket left its namespace. The values are the
// official reason strings, so logs read the same as the browser's console.
type DisconnectReason string

// Disconnect reasons.
const (
	ReasonTransportError            DisconnectReason = "transport error"
	ReasonTransportClose            DisconnectReason = "transport close"
	ReasonForcedClose               DisconnectReason = "forced close"
	ReasonPingTimeout               DisconnectReason = "ping timeout"
	ReasonParseError                DisconnectReason = "parse error"
	ReasonServerShuttingDown        DisconnectReason = "server shutting down"
	ReasonForcedServerClose         DisconnectReason = "forced server close"
	ReasonClientNamespaceDisconnect DisconnectReason = "client namespace disconnect"
	ReasonServerNamespaceDisconnect DisconnectReason = "server namespace disconnect"
)

// ConnectError refuses a connection to a namespace. Returned by a
// middleware, it reaches the client as a connect_error with this message
// and data (err.message and err.data in the JavaScript client). Any other
// error refuses with its Error() text as the message.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return "dynamicio: connect refused: " + e.Message }

// AckError, returned by a TypedAck handler, is sent to the client as the
// acknowledgement: {"message":…,"data":…}. Any other error is acknowledged
// as {"message":"internal server error"} and reported to the socket's error
// handlers, so internal details never reach the client.
type AckError struct {
	Message string
	Data    any
}

func (e *AckError) Error() string { return "dynamicio: ack error: " + e.Message }

// MarshalJSON writes the error as the client receives it.
func (e *AckError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{e.Message, e.Data})
}

// Errors.
var (
	// ErrSocketClosed is returned by operations on a disconnected socket.
	ErrSocketClosed = errors.New("dynamicio: socket closed")
	// ErrServerClosed is returned once the server shuts down.
	ErrServerClosed = errors.New("dynamicio: server closed")
	// ErrReservedEvent is returned when emitting a reserved event name
	// (connect, connect_error, disconnect, disconnecting, newListener,
	// removeListener).
	ErrReservedEvent = errors.New("dynamicio: reserved event name")
	// ErrNoAck is returned by Event.Ack when the client asked for none.
	ErrNoAck = errors.New("dynamicio: event has no ack")
	// ErrAckSent is returned by Event.Ack the second time.
	ErrAckSent = errors.New("dynamicio: ack already sent")
	// ErrNoArgument is returned by Event.Bind for an index past the last
	// argument.
	ErrNoArgument = errors.New("dynamicio: no such argument")
)
