package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Names of the session cookie and the CSRF header.
const (
	CookieName = "ngic_session"
	CSRFHeader = "X-CSRF-Token"
)

// MinTokenLength is the shortest token New accepts.
const MinTokenLength = 16

// tokenEntry is an accepted token, kept as its SHA-256 digest.
type tokenEntry struct {
	digest [sha256.Size]byte
	p      principal
}

// principal is who a request is made by.
type principal struct {
	name, role, region string
}

// constantTimeEqual compares two digests in constant time (a variable so
// that a test can see it used).
var constantTimeEqual = subtle.ConstantTimeCompare

func (s *Server) addToken(t Token) error {
	switch {
	case t.Name == "":
		return errors.New("no name")
	case len(t.Secret) < MinTokenLength:
		return errors.New("shorter than 16 characters")
	case t.Role != RoleRead && t.Role != RoleAdmin:
		return errors.New("role is neither read nor admin")
	}
	d := sha256.Sum256([]byte(t.Secret))
	for _, e := range s.tokens {
		if constantTimeEqual(e.digest[:], d[:]) == 1 {
			return errors.New("the same secret as another token")
		}
	}
	s.tokens = append(s.tokens, tokenEntry{digest: d, p: principal{name: t.Name, role: t.Role, region: t.Region}})
	return nil
}

// lookupToken returns the principal of a token: every token's digest is
// compared, in constant time, whichever matches.
func (s *Server) lookupToken(secret string) (principal, bool) {
	d := sha256.Sum256([]byte(secret))
	var found principal
	ok := 0
	for i := range s.tokens {
		if constantTimeEqual(s.tokens[i].digest[:], d[:]) == 1 {
			found, ok = s.tokens[i].p, 1
		}
	}
	return found, ok == 1
}

// session is a browser's signed-in state.
type session struct {
	p       principal
	csrf    string
	expires time.Time
	made    time.Time
}

// sessions are kept in memory, by the SHA-256 of their id.
type sessions struct {
	mu      sync.Mutex
	m       map[[sha256.Size]byte]*session
	saveErr string // the last save's error
}

func newSessions() *sessions { return &sessions{m: map[[sha256.Size]byte]*session{}} }

// randomID returns 32 random bytes, base64url.
func randomID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// add starts a session for p and returns its id. Beyond
// MaxSessionsPerToken sessions of p's token, its own oldest goes; beyond
// MaxSessions, the oldest of the token holding the most: a token signing
// in without end pushes out its own sessions, not others'.
func (ss *sessions) add(p principal, now time.Time, ttl time.Duration) (string, *session) {
	id := randomID()
	se := &session{p: p, csrf: randomID(), expires: now.Add(ttl), made: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	perToken := map[string]int{}
	for k, v := range ss.m {
		if !now.Before(v.expires) {
			delete(ss.m, k)
			continue
		}
		perToken[v.p.name]++
	}
	switch {
	case perToken[p.name] >= MaxSessionsPerToken:
		ss.dropOldest(p.name)
	case len(ss.m) >= MaxSessions:
		most := p.name
		for name, n := range perToken {
			if n > perToken[most] {
				most = name
			}
		}
		ss.dropOldest(most)
	}
	ss.m[sha256.Sum256([]byte(id))] = se
	return id, se
}

// dropOldest ends the oldest session of the token name (ss.mu held).
func (ss *sessions) dropOldest(name string) {
	var oldest [sha256.Size]byte
	var t time.Time
	for k, v := range ss.m {
		if v.p.name == name && (t.IsZero() || v.made.Before(t)) {
			oldest, t = k, v.made
		}
	}
	delete(ss.m, oldest)
}

// get returns the live session of id.
func (ss *sessions) get(id string, now time.Time) (*session, bool) {
	k := sha256.Sum256([]byte(id))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	se, ok := ss.m[k]
	if ok && !now.Before(se.expires) {
		delete(ss.m, k)
		return nil, false
	}
	return se, ok
}

// remove ends the session of id.
func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	delete(ss.m, sha256.Sum256([]byte(id)))
	ss.mu.Unlock()
}

// caller is a request's authentication, in its context.
type caller struct {
	p         principal
	ok        bool
	sessionID string   // set when authenticated by the cookie
	se        *session // idem
}

type callerKey struct{}

// callerOf returns the request's authentication.
func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// authenticate reads the bearer token, else the session cookie. A bearer
// header that does not hold a valid token fails, whatever the cookie.
func (s *Server) authenticate(r *http.Request) caller {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return caller{}
		}
		p, ok := s.lookupToken(strings.TrimSpace(tok))
		return caller{p: p, ok: ok}
	}
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return caller{}
	}
	se, ok := s.sess.get(ck.Value, s.o.Now())
	if !ok {
		return caller{}
	}
	return caller{p: se.p, ok: true, sessionID: ck.Value, se: se}
}

// urlSecrets are query parameters a token must never come in.
var urlSecrets = []string{"token", "access_token", "bearer", "session", CookieName}

// changes reports whether a method changes state.
func changes(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// guard authenticates a request and checks its access: 401 without a
// valid token or session, 403 for a read-only token on an admin route or
// a cookie-authenticated change without the session's CSRF token.
func (s *Server) guard(a access, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = newDeadlineWriter(w)
		w.Header().Set("Cache-Control", "no-store")
		q := r.URL.Query()
		for _, k := range urlSecrets {
			if q.Has(k) {
				writeError(w, http.StatusBadRequest, "a token is never accepted in a URL: send it in the Authorization header or sign in")
				return
			}
		}
		bearer := r.Header.Get("Authorization") != ""
		key := clientKey(r)
		if bearer && !s.mayTry(w, key) {
			return
		}
		c := s.authenticate(r)
		switch {
		case bearer && !c.ok:
			s.fails.fail(key)
		case bearer:
			s.fails.succeed(key)
		}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
		if a == open {
			h(w, r)
			return
		}
		if !c.ok {
			if len(s.tokens) == 0 {
				writeError(w, http.StatusUnauthorized, "no API tokens are configured (http.tokens)")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="ngic"`)
			writeError(w, http.StatusUnauthorized, "a valid token or session is needed")
			return
		}
		if c.se != nil && changes(r.Method) {
			got := r.Header.Get(CSRFHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.se.csrf)) != 1 {
				writeError(w, http.StatusForbidden, "the %s header is missing or wrong", CSRFHeader)
				return
			}
		}
		if a == admin && c.p.role != RoleAdmin {
			writeError(w, http.StatusForbidden, "token %s is read-only", c.p.name)
			return
		}
		h(w, r)
	})
}

// mayTry reports whether the client key may try a token now, and answers
// 429 when it may not.
func (s *Server) mayTry(w http.ResponseWriter, key string) bool {
	wait, ok := s.fails.allow(key)
	if !ok {
		writeTooMany(w, wait, "too many failed authentications")
	}
	return ok
}

// sessionDoc is the answer of /api/v1/session.
type sessionDoc struct {
	SignedIn  bool   `json:"signed_in"`
	Role      string `json:"role"`
	TokenName string `json:"token_name"`
	Region    string `json:"region"`
	CSRF      string `json:"csrf"`
}

func docOf(c caller) sessionDoc {
	if !c.ok {
		return sessionDoc{}
	}
	d := sessionDoc{SignedIn: true, Role: c.p.role, TokenName: c.p.name, Region: c.p.region}
	if c.se != nil {
		d.CSRF = c.se.csrf
	}
	return d
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, docOf(callerOf(r)))
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Token string `json:"token"`
	}
	if !s.decodeBody(w, r, &body, false) {
		return
	}
	key := clientKey(r)
	if !s.mayTry(w, key) {
		return
	}
	p, ok := s.lookupToken(body.Token)
	if !ok {
		s.fails.fail(key)
		writeError(w, http.StatusUnauthorized, "this token is not accepted")
		return
	}
	s.fails.succeed(key)
	if c := callerOf(r); c.se != nil { // a new session replaces the browser's old one
		s.sess.remove(c.sessionID)
	}
	now := s.o.Now()
	id, se := s.sess.add(p, now, s.o.SessionTTL)
	s.saveSessions()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.o.SecureCookies || r.TLS != nil,
		MaxAge: int(s.o.SessionTTL / time.Second), Expires: se.expires})
	writeJSON(w, http.StatusOK, docOf(caller{p: p, ok: true, sessionID: id, se: se}))
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if c := callerOf(r); c.se != nil {
		s.sess.remove(c.sessionID)
		s.saveSessions()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.o.SecureCookies || r.TLS != nil, MaxAge: -1})
	writeJSON(w, http.StatusOK, sessionDoc{})
}
