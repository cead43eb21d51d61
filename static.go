package dynamicio

import "net/http"

// serveClient serves a client bundle file, if r asks for one. It returns
// false to let the request through to Engine.IO.
func (srv *Server) serveClient(w http.ResponseWriter, r *http.Request) bool {
	return false
}
