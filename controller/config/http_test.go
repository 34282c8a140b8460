package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testToken is an API token the tests hand out; it never shows in an
// error.
const testToken = "api-T0KEN-S3CRET-0123456789"

// httpSetup writes goodYAML with the http section given (DIR is the
// setup's folder, holding the file "token" with testToken and "token2"
// with another).
func httpSetup(t *testing.T, http string) string {
	t.Helper()
	p := writeSetup(t, goodYAML+"http:\n"+http, goodDevices, goodGateways)
	dir := filepath.Dir(p)
	for name, s := range map[string]string{"token": testToken + "\n", "token2": "another-token-0123456789\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestHTTPTokens(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	t.Setenv("NGIC_TEST_TOKEN", "env-token-0123456789")
	c, err := Load(httpSetup(t, `  listen: 127.0.0.1:9999
  session_ttl: 2h
  hosts: [ngic.example.org, NGIC-2.example.org]
  tokens:
    - {name: ops, file: DIR/token, role: admin}
    - {name: viewer, env: NGIC_TEST_TOKEN, role: read}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := c.HTTP.LoadedTokens()
	if len(got) != 2 || got[0].Name != "ops" || got[0].Secret != testToken || got[0].Role != RoleAdmin ||
		got[1].Secret != "env-token-0123456789" || got[1].Role != RoleRead || c.HTTP.SessionTTL != 2*time.Hour ||
		len(c.HTTP.Hosts) != 2 {
		t.Fatalf("tokens %+v, ttl %v", got, c.HTTP.SessionTTL)
	}
	same := c.HTTP
	if !c.HTTP.Equal(&same) {
		t.Fatal("a section differs from itself")
	}
	other := c.HTTP
	other.secrets = []string{testToken, "changed-token-0123456789"}
	if c.HTTP.Equal(&other) {
		t.Fatal("a changed token is the same section")
	}
	d, err := Load(httpSetup(t, "  listen: 127.0.0.1:9999\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.HTTP.LoadedTokens()) != 0 || d.HTTP.SessionTTL != DefaultSessionTTL {
		t.Fatalf("defaults: %+v", d.HTTP)
	}
}

// Each mistake of the http section is refused, naming the field and its
// line, and never repeating a token.
func TestHTTPErrors(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	for _, tc := range []struct{ name, http, want string }{
		{"remote without TLS", "  listen: 0.0.0.0:9480\n", "line 16: http.listen: 0.0.0.0:9480 is reachable beyond"},
		{"every interface", "  listen: :9480\n", "http.listen"},
		{"cert without key", "  tls: {cert_file: DIR/token}\n", "http.tls.cert_file: set without http.tls.key_file"},
		{"key without cert", "  tls: {key_file: DIR/token}\n", "http.tls.key_file"},
		{"not a certificate", "  tls: {cert_file: DIR/token, key_file: DIR/token2}\n", "http.tls.cert_file: with key_file"},
		{"short session", "  session_ttl: 10s\n", "http.session_ttl: 10s is not within"},
		{"no name", "  tokens: [{file: DIR/token, role: read}]\n", "http.tokens[0].name"},
		{"bad name", "  tokens: [{name: 'a b', file: DIR/token, role: read}]\n", "http.tokens[0].name"},
		{"same name", "  tokens: [{name: a, file: DIR/token, role: read}, {name: a, file: DIR/token2, role: read}]\n",
			"http.tokens[1].name: \"a\" already names http.tokens[0]"},
		{"no source", "  tokens: [{name: a, role: read}]\n", "http.tokens[0].file: missing"},
		{"two sources", "  tokens: [{name: a, file: DIR/token, env: X, role: read}]\n", "give file or env, not both"},
		{"no role", "  tokens: [{name: a, file: DIR/token}]\n", "http.tokens[0].role: \"\" is not read or admin"},
		{"bad role", "  tokens: [{name: a, file: DIR/token, role: root}]\n", "http.tokens[0].role"},
		{"missing file", "  tokens: [{name: a, file: DIR/nope, role: read}]\n", "http.tokens[0].file"},
		{"unset env", "  tokens: [{name: a, env: NGIC_NO_SUCH_TOKEN, role: read}]\n", "NGIC_NO_SUCH_TOKEN is not set"},
		{"short token", "  tokens: [{name: a, file: DIR/short, role: read}]\n", "shorter than 16 characters"},
		{"same token", "  tokens: [{name: a, file: DIR/token, role: read}, {name: b, file: DIR/token, role: admin}]\n",
			"http.tokens[1].file: the same token as http.tokens[0]"},
		{"region without regions.csv", "  tokens: [{name: a, file: DIR/token, role: read, region: '63'}]\n",
			"http.tokens[0].region: set, but the inventory has no regions.csv"},
		{"unknown key", "  tokens: [{name: a, file: DIR/token, role: read, secret: x}]\n", "secret"},
		{"host with port", "  hosts: [ngic.example.org:443]\n", "http.hosts[0]: \"ngic.example.org:443\" is not a host name"},
		{"host with scheme", "  hosts: [ok.example, 'https://ngic.example.org']\n", "http.hosts[1]"},
		{"host address", "  hosts: [10.0.0.1]\n", "http.hosts[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(httpSetup(t, tc.http))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Fatalf("the error holds the token: %v", err)
			}
		})
	}
}

// allow_remote accepts a listen address beyond loopback without TLS; TLS
// does too.
func TestHTTPRemote(t *testing.T) {
	for _, h := range []HTTP{{Listen: "0.0.0.0:9480", AllowRemote: true},
		{Listen: "192.0.2.1:9480", TLS: HTTPTLS{CertFile: "c", KeyFile: "k"}}, {Listen: "[::1]:9480"},
		{Listen: "localhost:9480"}} {
		h.setDefaults()
		if err := h.validate(nil); err != nil {
			t.Errorf("%+v: %v", h, err)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "127.1.2.3:1": true, "[::1]:1": true,
		"localhost:1": true, "LOCALHOST:1": true, ":1": false, "0.0.0.0:1": false, "[::]:1": false,
		"10.0.0.1:1": false, "host.example:1": false, "nonsense": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%q) = %v", addr, !want)
		}
	}
}

// FuzzParseHTTP: an http section that parses holds what Validate promises:
// a listen address beyond loopback only with TLS or allow_remote, tokens
// named uniquely with one source and a role, a session within bounds.
func FuzzParseHTTP(f *testing.F) {
	for _, s := range []string{
		"http:\n  listen: 127.0.0.1:9480\n",
		"http:\n  listen: 0.0.0.0:9480\n  allow_remote: true\n  session_ttl: 1h\n",
		"http:\n  listen: '[::]:1'\n  tls: {cert_file: c, key_file: k}\n",
		"http:\n  tokens:\n    - {name: a, file: f, role: admin}\n    - {name: b, env: E, role: read, region: '63'}\n",
		"http:\n  tokens: [{name: a, file: f, env: e, role: read}]\n",
		"http:\n  session_ttl: -1s\n",
		"http: []\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, section string) {
		c, err := Parse("c.yaml", []byte("inventory: inv\nmqtt:\n  embedded: true\n"+section))
		if err != nil {
			return
		}
		h := c.HTTP
		if h.TLS.CertFile == "" && !h.AllowRemote && !IsLoopback(h.Listen) {
			t.Fatalf("listen %q beyond loopback without TLS accepted", h.Listen)
		}
		if h.SessionTTL < MinSessionTTL || h.SessionTTL > MaxSessionTTL {
			t.Fatalf("session_ttl %v accepted", h.SessionTTL)
		}
		names := map[string]bool{}
		for _, tk := range h.Tokens {
			if names[tk.Name] || (tk.File == "") == (tk.Env == "") || (tk.Role != RoleRead && tk.Role != RoleAdmin) {
				t.Fatalf("token %+v accepted", tk)
			}
			names[tk.Name] = true
		}
		if len(h.LoadedTokens()) != 0 {
			t.Fatal("Parse read a token")
		}
	})
}
