package loadgen

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// PollClient is one Socket.IO connection over long-polling only.
type PollClient struct {
	hc   *http.Client
	url  string
	sink *Sink
	done chan struct{}
	// Closed is set when the server ended the session.
	Closed bool
}

// NewPollTransport returns an HTTP transport for n polling clients, dialing
// from d's source addresses.
func NewPollTransport(d *Dialer, n int) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.netDialer(0).DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 2*n + 8,
		DisableCompression:  true,
		IdleConnTimeout:     30 * time.Second,
	}
}

// DialPolling opens a polling-only session on the Socket.IO server at addr
// and connects to the main namespace; its long-poll loop runs until ctx
// ends.
func DialPolling(ctx, loopCtx context.Context, tr *http.Transport, addr string, sink *Sink) (*PollClient, error) {
	hc := &http.Client{Transport: tr}
	base := "http://" + addr + "/socket.io/?EIO=4&transport=polling"
	body, err := pollDo(ctx, hc, http.MethodGet, base, nil)
	if err != nil {
		return nil, err
	}
	sid, err := openSID(body)
	if err != nil {
		return nil, err
	}
	pc := &PollClient{hc: hc, url: base + "&sid=" + sid, sink: sink, done: make(chan struct{})}
	if _, err := pollDo(ctx, hc, http.MethodPost, pc.url, []byte("40")); err != nil {
		return nil, err
	}
	body, err = pollDo(ctx, hc, http.MethodGet, pc.url, nil)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(body, []byte("40{")) {
		return nil, errors.New("loadgen: no connect answer over polling")
	}
	go pc.loop(loopCtx)
	return pc, nil
}

// Done is closed when the poll loop ended.
func (pc *PollClient) Done() <-chan struct{} { return pc.done }

func (pc *PollClient) loop(ctx context.Context) {
	defer close(pc.done)
	for ctx.Err() == nil {
		body, err := pollDo(ctx, pc.hc, http.MethodGet, pc.url, nil)
		if err != nil {
			if ctx.Err() == nil {
				pc.Closed = true
			}
			return
		}
		for len(body) > 0 {
			var p []byte
			if i := bytes.IndexByte(body, 0x1e); i >= 0 {
				p, body = body[:i], body[i+1:]
			} else {
				p, body = body, nil
			}
			switch {
			case len(p) == 1 && p[0] == '2':
				if _, err := pollDo(ctx, pc.hc, http.MethodPost, pc.url, []byte("3")); err != nil {
					return
				}
			case len(p) == 1 && p[0] == '1':
				pc.Closed = true
				return
			case bytes.HasPrefix(p, []byte("42")):
				if pc.sink.Disabled.Load() {
					continue
				}
				if ts, ok := textStamp(p); ok {
					pc.sink.Lat.Record(time.Duration(Now() - ts))
					pc.sink.Events.Add(1)
				} else {
					pc.sink.Errors.Add(1)
				}
			}
		}
	}
}

// Close ends the session from the client side (a close packet).
func (pc *PollClient) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pollDo(ctx, pc.hc, http.MethodPost, pc.url, []byte("1"))
}
