package api

import (
	"errors"
	"net/http"
	"os"

	"github.com/ngic/ngic/controller/rollout"
)

// Rollouts is what the rollout routes act on: the controller's rollouts
// of signed update bundles (controller/rollout). The daemon implements
// it. Errors wrap rollout.ErrNotFound (404), ErrInvalid (400),
// ErrConflict or ErrNotLeader (409); any other answers 503.
type Rollouts interface {
	// StartRollout makes a rollout of spec in the name of by.
	StartRollout(spec rollout.Spec, by string) (*rollout.Rollout, error)
	// Rollouts lists the rollouts, newest first.
	Rollouts() ([]rollout.Summary, error)
	// Rollout returns one rollout with its waves and gateways.
	Rollout(id string) (*rollout.Rollout, error)
	// PauseRollout, ResumeRollout and AbortRollout are an operator's
	// requests, in the name of by; they return the rollout changed.
	PauseRollout(id, by string) (*rollout.Rollout, error)
	ResumeRollout(id, by string) (*rollout.Rollout, error)
	AbortRollout(id, by string) (*rollout.Rollout, error)
	// Bundle opens the bundle file whose SHA-256 is sum (lower-case hex);
	// none is an error wrapping rollout.ErrNotFound.
	Bundle(sum string) (*os.File, error)
}

// BundlesRoute is the download route of the bundles. It takes no token:
// a bundle is signed, and a gateway checks its signature and hash. It is
// not an operation of openapi.yaml (it answers bytes, not JSON).
const BundlesRoute = "GET " + rollout.DownloadPath + "{sha256}"

// SetRollouts gives the server the rollouts to act on (not nil); without
// it (no rollout section) the rollout routes answer 503.
func (s *Server) SetRollouts(r Rollouts) { s.rollouts.Store(rolloutsBox{r}) }

// rolloutsBox holds a Rollouts in an atomic.Value (always of one type).
type rolloutsBox struct{ r Rollouts }

// rolloutsOf returns the server's rollouts, nil before SetRollouts.
func (s *Server) rolloutsOf() Rollouts {
	b, _ := s.rollouts.Load().(rolloutsBox)
	return b.r
}

// routeRollouts registers the rollout routes and the bundles' download.
func (s *Server) routeRollouts() {
	s.handle("POST /api/v1/rollouts", admin, s.withRollouts(s.startRollout))
	s.handle("GET /api/v1/rollouts", admin, s.withRollouts(s.listRollouts))
	s.handle("GET /api/v1/rollouts/{id}", admin, s.withRollouts(s.getRollout))
	for _, a := range []struct {
		name string
		f    func(Rollouts, string, string) (*rollout.Rollout, error)
	}{{"pause", Rollouts.PauseRollout}, {"resume", Rollouts.ResumeRollout}, {"abort", Rollouts.AbortRollout}} {
		f := a.f
		s.handle("POST /api/v1/rollouts/{id}/"+a.name, admin, s.withRollouts(func(w http.ResponseWriter, r *http.Request) {
			if !s.decodeBody(w, r, &struct{}{}, true) {
				return
			}
			ro, err := f(s.rolloutsOf(), r.PathValue("id"), callerOf(r).p.name)
			answerRollout(w, http.StatusOK, ro, err)
		}))
	}
	s.mux.Handle(BundlesRoute, s.guard(open, checkQuery(nil, s.bundle)))
}

// withRollouts answers 503 without rollouts, and 403 to a token limited
// to a region: a rollout reaches gateways of any region.
func (s *Server) withRollouts(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p := callerOf(r).p; p.region != "" {
			writeError(w, http.StatusForbidden, "token %s is limited to region %s; rollouts need a token of every region", p.name, p.region)
			return
		}
		if s.rolloutsOf() == nil {
			writeError(w, http.StatusServiceUnavailable, "rollouts are not configured (the configuration's rollout section)")
			return
		}
		h(w, r)
	}
}

func (s *Server) startRollout(w http.ResponseWriter, r *http.Request) {
	var spec rollout.Spec
	if !s.decodeBody(w, r, &spec, false) {
		return
	}
	ro, err := s.rolloutsOf().StartRollout(spec, callerOf(r).p.name)
	answerRollout(w, http.StatusCreated, ro, err)
}

func (s *Server) listRollouts(w http.ResponseWriter, _ *http.Request) {
	l, err := s.rolloutsOf().Rollouts()
	if err != nil {
		writeRolloutError(w, err)
		return
	}
	if l == nil {
		l = []rollout.Summary{}
	}
	writeJSON(w, http.StatusOK, struct {
		Items []rollout.Summary `json:"items"`
	}{l})
}

func (s *Server) getRollout(w http.ResponseWriter, r *http.Request) {
	ro, err := s.rolloutsOf().Rollout(r.PathValue("id"))
	answerRollout(w, http.StatusOK, ro, err)
}

// answerRollout answers a rollout with status, or err.
func answerRollout(w http.ResponseWriter, status int, ro *rollout.Rollout, err error) {
	if err != nil {
		writeRolloutError(w, err)
		return
	}
	writeJSON(w, status, ro)
}

// writeRolloutError answers err of the rollouts with the status it wraps.
func writeRolloutError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, rollout.ErrNotFound):
		writeError(w, http.StatusNotFound, "%v", err)
	case errors.Is(err, rollout.ErrInvalid):
		writeError(w, http.StatusBadRequest, "%v", err)
	case errors.Is(err, rollout.ErrConflict), errors.Is(err, rollout.ErrNotLeader):
		writeError(w, http.StatusConflict, "%v", err)
	default:
		writeError(w, http.StatusServiceUnavailable, "%v", err)
	}
}

// bundle serves a bundle file by its SHA-256, with ranges (an agent
// resumes an interrupted download with Range, If-Range on the ETag).
func (s *Server) bundle(w http.ResponseWriter, r *http.Request) {
	ro := s.rolloutsOf()
	if ro == nil {
		writeError(w, http.StatusNotFound, "no bundles are served (the configuration has no rollout section)")
		return
	}
	sum := r.PathValue("sha256")
	f, err := ro.Bundle(sum)
	if err != nil {
		writeRolloutError(w, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "bundle %s: %v", sum, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+sum+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable") // the path is the content's hash
	http.ServeContent(w, r, "", st.ModTime(), f)
}
