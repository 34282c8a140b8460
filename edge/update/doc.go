// Package update installs signed bundles (internal/bundle) on a gateway and
// keeps only those that prove healthy.
//
// An install root R holds two slots, R/slots/a and R/slots/b, each an
// extracted bundle; R/state.json says which slot is active, which one is on
// trial and what the last update did (State); R/download holds the partial
// downloads.
//
// The Agent runs inside ngic-edge run: it takes update commands (from the
// broker or a polled URL), downloads with resume, verifies, extracts into the
// inactive slot, records the trial and asks its process to exit. The
// Supervisor is the packaged binary that systemd runs: it starts the active
// slot's ngic-edge, and in a trial starts the new slot and decides, without
// relying on it, whether to keep it: the new version must write R/trial-ok
// (MarkHealthy) within the health timeout, without exiting more than
// MaxBoots times; otherwise the supervisor switches back and records why.
//
// The spool is never under R: an update never touches it.
package update
