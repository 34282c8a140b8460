package api

import "net/http"

// Forwarder hands the requests that only one replica of a cluster
// answers to that replica, the one holding the cluster's lease: those of
// the coverage (its summary, regions, villages, map, gaps, convergence
// and reports), which it alone computes, and those of the rollouts,
// which it alone runs. The API calls it after authenticating the request
// and checking its query.
type Forwarder interface {
	// Forward answers r on behalf of the lease holder and reports true,
	// or reports false to let this server answer r itself. token is the
	// name of the API token that authenticated r (by bearer or through a
	// session), so that the answer is given to the same caller; coverage
	// tells that r asks for the coverage's result (which the holder may
	// not have yet).
	Forward(w http.ResponseWriter, r *http.Request, token string, coverage bool) bool
}

// coverageRoutes are the routes a Forwarder may answer.
var coverageRoutes = map[string]bool{
	"GET /api/v1/summary":         true,
	"GET /api/v1/coverage":        true,
	"GET /api/v1/regions":         true,
	"GET /api/v1/regions/{code}":  true,
	"GET /api/v1/villages":        true,
	"GET /api/v1/villages/{code}": true,
	"GET /api/v1/map":             true,
	"GET /api/v1/gaps":            true,
	"GET /api/v1/convergence":     true,
	"GET /api/v1/reports/{file}":  true,
}

// rolloutRoutes are the rollout routes a Forwarder may answer (not the
// bundles' download: every replica serves the bundles).
var rolloutRoutes = map[string]bool{
	"POST /api/v1/rollouts":             true,
	"GET /api/v1/rollouts":              true,
	"GET /api/v1/rollouts/{id}":         true,
	"POST /api/v1/rollouts/{id}/pause":  true,
	"POST /api/v1/rollouts/{id}/resume": true,
	"POST /api/v1/rollouts/{id}/abort":  true,
}

// forwarded returns h behind the Forwarder, for the routes it may answer.
func (s *Server) forwarded(pattern string, h http.HandlerFunc) http.HandlerFunc {
	f := s.o.Forwarder
	coverage := coverageRoutes[pattern]
	if f == nil || !(coverage || rolloutRoutes[pattern]) {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.Forward(w, r, callerOf(r).p.name, coverage) {
			h(w, r)
		}
	}
}
