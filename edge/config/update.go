package config

import (
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/ngic/ngic/internal/bundle"
	"github.com/ngic/ngic/internal/yamlconf"
)

// Update configures signed updates: the install root the supervisor and
// the update agent share, the keys a bundle must be signed with, and how
// long a new version has to prove healthy.
type Update struct {
	// Root is the install root: slots/a, slots/b, state.json, download/
	// (default /opt/ngic-edge). It must not hold the spool.
	Root string `yaml:"root"`
	// Keys is a file of trusted public keys (ngic-fwtool keygen); without
	// it the gateway takes no update.
	Keys string `yaml:"keys"`
	// HealthTimeout is how long a new version has to prove healthy
	// (broker connected, readers open, spool writable) before it is rolled
	// back (default 2m, within MinHealthTimeout..MaxHealthTimeout).
	HealthTimeout time.Duration `yaml:"health_timeout"`
	// MaxBoots is how many times a new version may exit before proving
	// healthy; it is rolled back at the last (default 3, 1..10).
	MaxBoots int `yaml:"max_boots"`
	// PollURL, when set, is polled for an update command (JSON of
	// telemetry.UpdateCommand; 204 or 404 for none): https, or http to a
	// loopback address.
	PollURL string `yaml:"poll_url"`
	// PollEvery is how often PollURL is polled (default 15m, 1s..24h).
	PollEvery time.Duration `yaml:"poll_every"`
	// CAFile is a PEM file of CA certificates trusted, besides the
	// system's, for the downloads and PollURL (a private CA of the
	// controller's certificate).
	CAFile string `yaml:"ca_file"`
}

// Defaults and bounds of the update section.
const (
	DefaultUpdateRoot    = "/opt/ngic-edge"
	DefaultHealthTimeout = 2 * time.Minute
	DefaultMaxBoots      = 3
	DefaultPollEvery     = 15 * time.Minute
	MinHealthTimeout     = time.Second
	MaxHealthTimeout     = time.Hour
)

func (u *Update) setDefaults() {
	u.Root = or(u.Root, DefaultUpdateRoot)
	u.HealthTimeout = or(u.HealthTimeout, DefaultHealthTimeout)
	u.MaxBoots = or(u.MaxBoots, DefaultMaxBoots)
	u.PollEvery = or(u.PollEvery, DefaultPollEvery)
}

func (u *Update) validate(doc *yamlconf.Doc, spoolPath string) error {
	if !filepath.IsAbs(u.Root) {
		return doc.Errorf("update.root", "%q is not an absolute path", u.Root)
	}
	if rel, err := filepath.Rel(filepath.Clean(u.Root), filepath.Clean(spoolPath)); err == nil && filepath.IsLocal(rel) {
		return doc.Errorf("update.root", "%s holds spool.path %s: an update never touches the spool", u.Root, spoolPath)
	}
	if u.Keys != "" && !filepath.IsAbs(u.Keys) {
		return doc.Errorf("update.keys", "%q is not an absolute path", u.Keys)
	}
	if u.CAFile != "" && !filepath.IsAbs(u.CAFile) {
		return doc.Errorf("update.ca_file", "%q is not an absolute path", u.CAFile)
	}
	if u.HealthTimeout < MinHealthTimeout || u.HealthTimeout > MaxHealthTimeout {
		return doc.Errorf("update.health_timeout", "%v is not within %v..%v", u.HealthTimeout, MinHealthTimeout, MaxHealthTimeout)
	}
	if u.MaxBoots < 1 || u.MaxBoots > 10 {
		return doc.Errorf("update.max_boots", "%d is not within 1..10", u.MaxBoots)
	}
	if u.PollEvery < time.Second || u.PollEvery > 24*time.Hour {
		return doc.Errorf("update.poll_every", "%v is not within 1s..24h", u.PollEvery)
	}
	if u.PollURL != "" {
		p, err := url.Parse(u.PollURL)
		ip := net.ParseIP(p.Hostname())
		loop := err == nil && (p.Hostname() == "localhost" || ip != nil && ip.IsLoopback())
		if err != nil || p.Host == "" || !(p.Scheme == "https" || p.Scheme == "http" && loop) || p.User != nil {
			return doc.Errorf("update.poll_url", "%q is neither https nor http to a loopback address", u.PollURL)
		}
		if u.Keys == "" {
			return doc.Errorf("update.poll_url", "set, but update.keys is not: no bundle could be accepted")
		}
	}
	return nil
}

// checkHost reads the keys file and the CA file.
func (u *Update) checkHost(doc *yamlconf.Doc) error {
	if u.Keys != "" {
		if _, err := bundle.ReadPublicKeys(u.Keys); err != nil {
			return doc.Errorf("update.keys", "%v", err)
		}
	}
	if u.CAFile != "" {
		b, err := os.ReadFile(u.CAFile)
		if err == nil && !x509.NewCertPool().AppendCertsFromPEM(b) {
			err = errors.New("no PEM certificate in it")
		}
		if err != nil {
			return doc.Errorf("update.ca_file", "%v", err)
		}
	}
	return nil
}
