package tlsconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ngic/ngic/internal/testenv"
)

func TestConfigNamesTheField(t *testing.T) {
	dir := t.TempDir()
	pki := testenv.NewPKI(t)
	cert, key := pki.Issue(t, "gw1", false)
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("s3cret key material\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    Client
		key  string
	}{
		{"missing CA", Client{CAFile: filepath.Join(dir, "none")}, "ca_file"},
		{"CA not PEM", Client{CAFile: notPEM}, "ca_file"},
		{"CA a folder", Client{CAFile: dir}, "ca_file"},
		{"cert without key", Client{CertFile: cert}, "key_file"},
		{"key without cert", Client{KeyFile: key}, "cert_file"},
		{"key not PEM", Client{CertFile: cert, KeyFile: notPEM}, "cert_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, k, err := tc.c.Config()
			if err == nil || k != tc.key {
				t.Fatalf("Config() = %q, %v; want an error on %s", k, err, tc.key)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error quotes the file: %v", err)
			}
		})
	}
	c, k, err := Client{CAFile: pki.CAFile, CertFile: cert, KeyFile: key, ServerName: "broker"}.Config()
	if err != nil || k != "" || c.RootCAs == nil || len(c.Certificates) != 1 || c.ServerName != "broker" {
		t.Fatalf("good files: %v, %q, %v", c, k, err)
	}
}

func TestFirstSetAndIsZero(t *testing.T) {
	if !(Client{}).IsZero() || (Client{}).FirstSet() != "" {
		t.Fatal("empty client")
	}
	if got := (Client{KeyFile: "k", ServerName: "s"}).FirstSet(); got != "key_file" {
		t.Fatalf("FirstSet = %q", got)
	}
}

func TestCheckListen(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:0": true, ":9480": true, "[::1]:http": true,
		"127.0.0.1": false, "127.0.0.1:70000": false, "127.0.0.1:-1": false} {
		if err := CheckListen(addr); (err == nil) != ok {
			t.Errorf("CheckListen(%q) = %v", addr, err)
		}
	}
}
