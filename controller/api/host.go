package api

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

// HostFilter refuses requests whose Host header names the controller by a
// name it was not given, so that a page of another site whose name was
// made to resolve to the controller (DNS rebinding) cannot read it from a
// browser. An IP address in Host is always accepted when the controller
// listens beyond loopback (no rebinding goes through a bare address), and
// only a loopback one when it listens on loopback alone; "localhost" and
// names under ".localhost" are always accepted; any other name must be
// one of Hosts. A request without Host (HTTP/1.0) is accepted: browsers
// always send one.
type HostFilter struct {
	// Hosts are the extra names the controller answers to (http.hosts),
	// compared without case and without port.
	Hosts []string
	// LoopbackOnly is set when the controller listens on loopback alone.
	LoopbackOnly bool
}

// Allowed reports whether a request's Host (with or without port) is one
// the filter accepts.
func (f HostFilter) Allowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" { // HTTP/1.0 without Host: no browser, no rebinding
		return true
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return !f.LoopbackOnly || ip.IsLoopback()
	}
	return slices.ContainsFunc(f.Hosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// Wrap returns h behind the filter: a refused Host is answered 421
// Misdirected Request, naming http.hosts.
func (f HostFilter) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.Allowed(r.Host) {
			w.Header().Set("Cache-Control", "no-store")
			writeError(w, http.StatusMisdirectedRequest, "this controller does not answer to the name %q: "+
				"add it to http.hosts if it is one of its names", r.Host)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// apiMethods are the methods some route of the API answers; HEAD is not
// one (a HEAD of a report would build it only to throw it away).
var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodDelete}

// allowedMethods returns the methods the mux answers for r's path, in the
// order of apiMethods (none when no route has that path).
func (s *Server) allowedMethods(r *http.Request) []string {
	var out []string
	for _, m := range apiMethods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != catchAll {
			out = append(out, m)
		}
	}
	return out
}

// catchAll is the pattern of the mux's answer to what no route matches.
const catchAll = "/api/"

// methods answers a request whose method no route of its path takes (HEAD,
// OPTIONS, PUT, ...) 405 with Allow, and an unknown path 404.
func (s *Server) methods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(apiMethods, r.Method) {
			if _, pattern := s.mux.Handler(r); pattern != catchAll {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		allow := s.allowedMethods(r)
		if len(allow) == 0 {
			writeError(w, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "%s is not a method of %s: %s", r.Method, r.URL.Path,
			strings.Join(allow, ", "))
	})
}

// crossOrigin refuses a state-changing request that a browser says comes
// from another origin (Sec-Fetch-Site, else Origin against Host), beside
// the CSRF token: no other site can sign a browser in or out, or act with
// its session. Requests without either header (not from a browser) pass.
func crossOrigin(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		writeError(w, http.StatusForbidden, "a cross-origin %s is refused (Origin %q)", r.Method, r.Header.Get("Origin"))
	}))
	return cop.Handler(h)
}
