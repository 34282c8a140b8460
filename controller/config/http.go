package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ngic/ngic/internal/tlsconf"
	"github.com/ngic/ngic/internal/yamlconf"
)

// HTTP configures the controller's HTTP server: /healthz, /metrics, the
// API (controller/api) and the dashboard.
type HTTP struct {
	// Listen is host:port (default 127.0.0.1:9480). An address beyond
	// loopback needs TLS, or AllowRemote.
	Listen string `yaml:"listen"`
	// TLS serves HTTPS with this certificate and key.
	TLS HTTPTLS `yaml:"tls"`
	// AllowRemote accepts a Listen address beyond loopback without TLS
	// (behind a TLS-terminating proxy): tokens and session cookies then
	// travel in the clear up to it.
	AllowRemote bool `yaml:"allow_remote"`
	// Tokens are the API's bearer tokens. Without any, the API answers
	// 401 to everything but what is open.
	Tokens []APIToken `yaml:"tokens"`
	// SessionTTL is how long a browser session lasts after signing in
	// (default 12h, 1m..720h).
	SessionTTL time.Duration `yaml:"session_ttl"`
	// Hosts are the names (without port) the controller answers to beside
	// localhost and IP addresses, as browsers send them in Host: the name
	// of a deployment behind a proxy or DNS. A request naming any other
	// host is refused, so that no page can rebind its own name to the
	// controller.
	Hosts []string `yaml:"hosts"`

	// secrets are the tokens once read by Load, in the order of Tokens.
	secrets []string
}

// HTTPTLS is the HTTP server's certificate and key (PEM files).
type HTTPTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// APIToken is one bearer token of the API. The token itself comes from a
// file or an environment variable, never from the YAML.
type APIToken struct {
	// Name names the token in logs and in what it acknowledges; it is not
	// secret.
	Name string `yaml:"name"`
	// File holds the token (one line of at least MinTokenLength
	// characters); Env names an environment variable holding it instead.
	File string `yaml:"file"`
	Env  string `yaml:"env"`
	// Role is RoleRead or RoleAdmin.
	Role string `yaml:"role"`
	// Region limits the token to a region's subtree (a code of
	// regions.csv); empty sees everything.
	Region string `yaml:"region"`
}

// Roles of an API token.
const (
	// RoleRead reads everything the token's region holds.
	RoleRead = "read"
	// RoleAdmin also acknowledges alerts, edits maintenance windows and
	// reloads the inventory.
	RoleAdmin = "admin"
)

// Bounds and defaults of the http section.
const (
	// MinTokenLength is the shortest API token accepted.
	MinTokenLength = 16
	// DefaultSessionTTL is the default http.session_ttl.
	DefaultSessionTTL = 12 * time.Hour
	// MinSessionTTL and MaxSessionTTL bound http.session_ttl.
	MinSessionTTL = time.Minute
	MaxSessionTTL = 30 * 24 * time.Hour
)

// tokenName is what a token may be called.
var tokenName = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)

// hostName is a DNS name as http.hosts gives it.
var hostName = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// setDefaults fills the http section's defaults.
func (h *HTTP) setDefaults() {
	h.Listen = or(h.Listen, DefaultHTTPListen)
	h.SessionTTL = or(h.SessionTTL, DefaultSessionTTL)
}

func (h *HTTP) validate(doc *yamlconf.Doc) error {
	if err := tlsconf.CheckListen(h.Listen); err != nil {
		return doc.Errorf("http.listen", "%v", err)
	}
	if (h.TLS.CertFile == "") != (h.TLS.KeyFile == "") {
		if h.TLS.CertFile == "" {
			return doc.Errorf("http.tls.key_file", "set without http.tls.cert_file: they go together")
		}
		return doc.Errorf("http.tls.cert_file", "set without http.tls.key_file: they go together")
	}
	if h.TLS.CertFile == "" && !h.AllowRemote && !IsLoopback(h.Listen) {
		return doc.Errorf("http.listen", "%s is reachable beyond this machine but http.tls is not set: "+
			"tokens and session cookies would travel in the clear; give http.tls.cert_file and key_file, "+
			"listen on 127.0.0.1, or set http.allow_remote: true behind a TLS proxy", h.Listen)
	}
	if h.SessionTTL < MinSessionTTL || h.SessionTTL > MaxSessionTTL {
		return doc.Errorf("http.session_ttl", "%v is not within %v..%v", h.SessionTTL, MinSessionTTL, MaxSessionTTL)
	}
	for i, name := range h.Hosts {
		if !hostName.MatchString(name) || net.ParseIP(name) != nil {
			return doc.Errorf(fmt.Sprintf("http.hosts[%d]", i), "%q is not a host name (letters, digits, '-' and "+
				"'.', no port or scheme; addresses need no entry)", name)
		}
	}
	for i, t := range h.Tokens {
		p := fmt.Sprintf("http.tokens[%d]", i)
		if !tokenName.MatchString(t.Name) {
			return doc.Errorf(p+".name", "%q is not 1 to 64 letters, digits, '.', '@', '-' or '_'", t.Name)
		}
		for j := range i {
			if h.Tokens[j].Name == t.Name {
				return doc.Errorf(p+".name", "%q already names http.tokens[%d]", t.Name, j)
			}
		}
		switch {
		case t.File != "" && t.Env != "":
			return doc.Errorf(p+".file", "give file or env, not both")
		case t.File == "" && t.Env == "":
			return doc.Errorf(p+".file", "missing: give file (a file holding the token) or env (an environment "+
				"variable); never the token itself")
		}
		if t.Role != RoleRead && t.Role != RoleAdmin {
			return doc.Errorf(p+".role", "%q is not %s or %s", t.Role, RoleRead, RoleAdmin)
		}
	}
	return nil
}

// IsLoopback reports whether the host of the listen address addr is a
// loopback address or localhost (an empty host listens everywhere).
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readHTTP reads the API tokens and the server's certificate, as run
// will, each error naming the field; a token's region must be a region of
// the inventory.
func (h *HTTP) readHTTP(doc *yamlconf.Doc, inv *Inventory) error {
	if h.TLS.CertFile != "" {
		if _, err := tls.LoadX509KeyPair(h.TLS.CertFile, h.TLS.KeyFile); err != nil {
			first, _, _ := strings.Cut(err.Error(), "\n")
			return doc.Errorf("http.tls.cert_file", "with key_file: %s", first)
		}
	}
	h.secrets = make([]string, len(h.Tokens))
	for i, t := range h.Tokens {
		p := fmt.Sprintf("http.tokens[%d]", i)
		field := p + ".file"
		if t.File == "" {
			field = p + ".env"
		}
		s, err := ReadSecret(t.File, t.Env)
		if err != nil {
			return doc.Errorf(field, "%v", err)
		}
		if len(s) < MinTokenLength {
			return doc.Errorf(field, "the token is shorter than %d characters", MinTokenLength)
		}
		for j := range i {
			if h.secrets[j] == s {
				return doc.Errorf(field, "the same token as http.tokens[%d]: give each its own", j)
			}
		}
		h.secrets[i] = s
		if t.Region != "" {
			if inv == nil || !inv.HasRegions() {
				return doc.Errorf(p+".region", "set, but the inventory has no regions.csv")
			}
			if _, ok := inv.Region(t.Region); !ok {
				return doc.Errorf(p+".region", "%q is not a region of %s/regions.csv", t.Region, inv.Dir)
			}
		}
	}
	return nil
}

// LoadedToken is an API token with its secret, as Load read it.
type LoadedToken struct {
	APIToken
	// Secret is the token itself: compare it in constant time, never log
	// it.
	Secret string
}

// LoadedTokens returns the API tokens with the secrets Load read (none
// after Parse or LoadNoHost).
func (h *HTTP) LoadedTokens() []LoadedToken {
	out := make([]LoadedToken, 0, len(h.secrets))
	for i, s := range h.secrets {
		out = append(out, LoadedToken{APIToken: h.Tokens[i], Secret: s})
	}
	return out
}

// Equal reports whether two http sections configure the same server (the
// daemon tells which changes need a restart).
func (h *HTTP) Equal(o *HTTP) bool {
	if h.Listen != o.Listen || h.TLS != o.TLS || h.AllowRemote != o.AllowRemote || h.SessionTTL != o.SessionTTL ||
		!slices.Equal(h.Hosts, o.Hosts) || len(h.Tokens) != len(o.Tokens) || len(h.secrets) != len(o.secrets) {
		return false
	}
	for i := range h.Tokens {
		if h.Tokens[i] != o.Tokens[i] {
			return false
		}
	}
	for i := range h.secrets {
		if h.secrets[i] != o.secrets[i] {
			return false
		}
	}
	return true
}
