package engineio

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dynamicio/dynamicio/internal/websocket"
)

// checkOrigin applies the origin policy and, for allowed cross-origin
// requests, the CORS response headers. It answers refused requests itself.
func (srv *Server) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return true
	}
	origin := origins[0]
	if len(origins) > 1 || !validHeaderValue(origin) {
		srv.refuse(w, r, &RequestError{Code: CodeBadRequest, Context: "INVALID_ORIGIN"}, websocket.IsUpgrade(r))
		return false
	}
	allowed := false
	if srv.cfg.CheckOrigin != nil {
		allowed = srv.cfg.CheckOrigin(r)
	} else {
		allowed = sameOrigin(origin, r.Host) || srv.corsAllows(origin)
	}
	if !allowed {
		srv.refuse(w, r, &RequestError{Code: CodeForbidden, Context: "ORIGIN_NOT_ALLOWED"}, websocket.IsUpgrade(r))
		return false
	}
	if c := srv.cfg.CORS; c != nil && srv.corsAllows(origin) {
		h := w.Header()
		if slices.Contains(c.AllowedOrigins, "*") && !c.AllowCredentials {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			// Never "*" with credentials: browsers refuse it, and echoing
			// the one allowed origin is what the CORS spec asks.
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		}
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if len(c.ExposedHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposedHeaders, ", "))
		}
	}
	return true
}

// preflight answers a CORS preflight request with 204.
func (srv *Server) preflight(w http.ResponseWriter, r *http.Request) {
	c := srv.cfg.CORS
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
	if len(c.AllowedHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowedHeaders, ", "))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" && validHeaderValue(req) {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

func (srv *Server) corsAllows(origin string) bool {
	c := srv.cfg.CORS
	if c == nil {
		return false
	}
	if slices.Contains(c.AllowedOrigins, "*") || slices.Contains(c.AllowedOrigins, origin) {
		return true
	}
	return c.AllowOriginFunc != nil && c.AllowOriginFunc(origin)
}

// sameOrigin reports whether origin names the host the request was sent to
// (ASCII case-insensitive, port included), as browsers' same-origin rule
// and gorilla/websocket's default check do.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, host)
}

// validHeaderValue rejects control characters other than tab, as Node's
// checkInvalidHeaderChar does for the Origin header.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
