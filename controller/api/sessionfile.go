package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// sessionFileVersion is the version of the sessions file's format.
const sessionFileVersion = 1

// sessionFile is the sessions file: each session by the SHA-256 of its id
// (the id itself, which the browser holds, is never written), the name of
// its token (the role and region are the token's when read back) and its
// CSRF token (of no use without the id).
type sessionFile struct {
	Version  int            `json:"version"`
	Sessions []savedSession `json:"sessions"`
}

type savedSession struct {
	IDSHA256 string    `json:"id_sha256"`
	Token    string    `json:"token"`
	CSRF     string    `json:"csrf"`
	Made     time.Time `json:"made"`
	Expires  time.Time `json:"expires"`
}

// saveEvery is the least time between two writes of the sessions file:
// the sign-ins and sign-outs of a burst are written together, so that
// signing in without end costs one write a second.
const saveEvery = time.Second

// saveSessions writes the sessions to Options.SessionFile (nothing without
// one): at once when the last write is saveEvery old, else once that time
// has passed.
func (s *Server) saveSessions() {
	if s.o.SessionFile == "" {
		return
	}
	s.saveMu.Lock()
	if s.savePending {
		s.saveMu.Unlock()
		return
	}
	if wait := time.Until(s.lastSave.Add(saveEvery)); wait > 0 {
		s.savePending = true
		s.saveMu.Unlock()
		time.AfterFunc(wait, func() {
			s.saveMu.Lock()
			s.savePending, s.lastSave = false, time.Now()
			s.saveMu.Unlock()
			s.FlushSessions()
		})
		return
	}
	s.lastSave = time.Now()
	s.saveMu.Unlock()
	s.FlushSessions()
}

// FlushSessions writes the live sessions to Options.SessionFile now (the
// daemon calls it when it stops, so that no sign-in of the last second is
// lost); the last error is kept for Stats.
func (s *Server) FlushSessions() {
	if s.o.SessionFile == "" {
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.o.Now()
	f := sessionFile{Version: sessionFileVersion, Sessions: []savedSession{}}
	s.sess.mu.Lock()
	for k, se := range s.sess.m {
		if now.Before(se.expires) {
			f.Sessions = append(f.Sessions, savedSession{IDSHA256: hex.EncodeToString(k[:]), Token: se.p.name,
				CSRF: se.csrf, Made: se.made, Expires: se.expires})
		}
	}
	s.sess.mu.Unlock()
	err := writeFileAtomic(s.o.SessionFile, f)
	s.sessionWrites.Add(1)
	s.sess.mu.Lock()
	s.sess.saveErr = ""
	if err != nil {
		s.sess.saveErr = err.Error()
	}
	s.sess.mu.Unlock()
}

// writeFileAtomic writes v as JSON to path through a temporary file
// renamed over it, readable by the owner only.
func writeFileAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("api: sessions file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("api: sessions file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("api: sessions file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("api: sessions file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("api: sessions file %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("api: sessions file: %w", err)
	}
	return nil
}

// RestoreSessions reads the sessions Options.SessionFile kept, so that a
// browser signed in before a restart stays signed in: expired sessions,
// and those of a token no longer configured, are left out; a session
// takes its token's role and region as configured now. It returns how
// many were restored; without a file (or a SessionFile) it restores none.
func (s *Server) RestoreSessions() (int, error) {
	if s.o.SessionFile == "" {
		return 0, nil
	}
	b, err := os.ReadFile(s.o.SessionFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("api: sessions file: %w", err)
	}
	var f sessionFile
	if err := json.Unmarshal(b, &f); err != nil {
		return 0, fmt.Errorf("api: sessions file %s: %w", s.o.SessionFile, err)
	}
	if f.Version != sessionFileVersion {
		return 0, fmt.Errorf("api: sessions file %s: version %d, not %d", s.o.SessionFile, f.Version, sessionFileVersion)
	}
	byName := make(map[string]principal, len(s.tokens))
	for _, t := range s.tokens {
		byName[t.p.name] = t.p
	}
	now := s.o.Now()
	n := 0
	s.sess.mu.Lock()
	for _, sv := range f.Sessions {
		p, ok := byName[sv.Token]
		var k [sha256.Size]byte
		raw, err := hex.DecodeString(sv.IDSHA256)
		if !ok || err != nil || len(raw) != sha256.Size || sv.CSRF == "" || !now.Before(sv.Expires) ||
			len(s.sess.m) >= MaxSessions {
			continue
		}
		copy(k[:], raw)
		// A session never outlives the TTL configured now.
		exp := sv.Expires
		if lim := sv.Made.Add(s.o.SessionTTL); lim.Before(exp) {
			exp = lim
		}
		if !now.Before(exp) {
			continue
		}
		s.sess.m[k] = &session{p: p, csrf: sv.CSRF, expires: exp, made: sv.Made}
		n++
	}
	s.sess.mu.Unlock()
	return n, nil
}
