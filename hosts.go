package dynamicio

import (
	"errors"
	"net"
	"net/http"
	"regexp"
	"strings"
)

// HostMatcher decides which hosts see the plain namespaces (Config.MainHost).
type HostMatcher func(host string) bool

// ExactHost matches one host name.
func ExactHost(name string) HostMatcher {
	name, _ = normalizeHost(name)
	return func(host string) bool { return host == name }
}

// HostPattern matches the host names re matches.
func HostPattern(re *regexp.Regexp) HostMatcher { return re.MatchString }

// NoMainHost qualifies every host: each one gets its own namespaces.
var NoMainHost HostMatcher = func(string) bool { return false }

var errInvalidHost = errors.New("dynamicio: invalid host")

// normalizeHost lower-cases a Host header, strips its port and one trailing
// dot, and checks that what is left is a host name or an IP address.
func normalizeHost(h string) (string, bool) {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", false
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.String(), true
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", false
			}
		}
	}
	return h, true
}

// tenantOf maps a request to its virtual host: "" for the main host(s),
// else the normalised host, whose namespaces are //<host><name>.
func (srv *Server) tenantOf(r *http.Request) (string, error) {
	var host string
	ok := true
	if srv.cfg.HostFunc != nil {
		host = srv.cfg.HostFunc(r)
		ok = host != ""
	} else {
		host, ok = normalizeHost(r.Host)
	}
	if !ok {
		return "", errInvalidHost
	}
	if srv.cfg.MainHost(host) {
		return "", nil
	}
	return host, nil
}

// fullName is the key of a namespace: its name for the main host,
// //<host><name> for another.
func fullName(host, name string) string {
	if host == "" {
		return name
	}
	return "//" + host + name
}

// splitFullName reverses fullName.
func splitFullName(full string) (host, name string) {
	rest, ok := strings.CutPrefix(full, "//")
	if !ok {
		return "", full
	}
	host, name, found := strings.Cut(rest, "/")
	if !found {
		return host, "/"
	}
	return host, "/" + name
}
