package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PKI is a throw-away certificate authority with a server certificate for
// 127.0.0.1 and client certificates, all as PEM files.
type PKI struct {
	Dir                   string
	CAFile                string
	ServerCert, ServerKey string
	ca                    *x509.Certificate
	caKey                 *ecdsa.PrivateKey
	serial                int64
}

// NewPKI makes a CA and a server certificate valid for 127.0.0.1 and localhost.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	p := &PKI{Dir: t.TempDir(), serial: 1}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ngic test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	p.caKey = key
	p.CAFile = filepath.Join(p.Dir, "ca.pem")
	writePEM(t, p.CAFile, "CERTIFICATE", der)
	p.ServerCert, p.ServerKey = p.Issue(t, "broker", true)
	return p
}

// Issue makes a certificate for name (a server one for 127.0.0.1 when
// server, else a client one) and returns its certificate and key files.
func (p *PKI) Issue(t testing.TB, name string, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(p.Dir, name+".pem"), filepath.Join(p.Dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kb)
	return certFile, keyFile
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// MosquittoTLS is the shipped mosquitto configuration running: a TLS
// listener that requires a client certificate from PKI and a username and
// password, and applies an ACL file.
type MosquittoTLS struct {
	*Process
	// Addr is host:port of the TLS listener.
	Addr string
	// PKI issued the broker's and clients' certificates.
	PKI *PKI
}

// ShippedMosquittoConf is the broker configuration ngic ships, relative to
// the repository root.
const ShippedMosquittoConf = "deploy/mosquitto/ngic.conf"

// StartMosquittoTLS starts mosquitto with the shipped configuration
// (ShippedMosquittoConf) with the given users (name -> password) and the
// ACL file acl. Only what ties the configuration to one machine changes:
// the files (password, ACL, certificates from a fresh PKI), the listener
// (a free port on 127.0.0.1), persistence (off) and the log (to the
// process log, with mosquitto's debug lines: among them "Denied PUBLISH"
// for every publish the ACL refused; the log is complete after Stop);
// every other setting is the shipped one.
func StartMosquittoTLS(t testing.TB, users map[string]string, acl string) *MosquittoTLS {
	t.Helper()
	bin, ok := lookPath("mosquitto")
	if !ok {
		missing(t, "mosquitto", "apt-get install mosquitto")
	}
	pw, ok := lookPath("mosquitto_passwd")
	if !ok {
		missing(t, "mosquitto_passwd", "apt-get install mosquitto")
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	shipped, err := os.ReadFile(filepath.Join(root, ShippedMosquittoConf))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	pki := NewPKI(t)
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for u, p := range users {
		if out, err := exec.Command(pw, "-b", passwd, u, p).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v: %s", err, out)
		}
	}
	port := FreePort(t)
	cfg, err := localMosquittoConf(string(shipped), map[string]string{
		"password_file":        "password_file " + passwd,
		"acl_file":             "acl_file " + acl,
		"listener":             fmt.Sprintf("listener %d 127.0.0.1", port),
		"cafile":               "cafile " + pki.CAFile,
		"certfile":             "certfile " + pki.ServerCert,
		"keyfile":              "keyfile " + pki.ServerKey,
		"persistence":          "persistence false",
		"persistence_location": "",
	})
	if err != nil {
		t.Fatalf("testenv: %s: %v", ShippedMosquittoConf, err)
	}
	cfg += "log_dest stdout\nlog_type all\nuser root\n"
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &MosquittoTLS{Addr: fmt.Sprintf("127.0.0.1:%d", port), PKI: pki}
	m.Process = start(t, dir, bin, "-c", conf)
	waitTCP(t, m.Process, m.Addr)
	return m
}

// localMosquittoConf rewrites a mosquitto configuration for a test: each
// line whose option is a key of replace becomes replace's value (nothing
// when empty); comments and other lines stay. Every key must be found once,
// and no path to the installed system may remain, so the test fails when
// the shipped file grows an option the rewrite does not know about.
func localMosquittoConf(shipped string, replace map[string]string) (string, error) {
	var b strings.Builder
	seen := map[string]int{}
	for i, line := range strings.Split(shipped, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			b.WriteString(line + "\n")
			continue
		}
		key, _, _ := strings.Cut(trimmed, " ")
		if r, ok := replace[key]; ok {
			seen[key]++
			if r != "" {
				b.WriteString(r + "\n")
			}
			continue
		}
		if strings.Contains(trimmed, "/") {
			return "", fmt.Errorf("line %d: %q names a path the test cannot rewrite", i+1, trimmed)
		}
		b.WriteString(line + "\n")
	}
	for key := range replace {
		if seen[key] != 1 {
			return "", fmt.Errorf("option %s found %d times, want once", key, seen[key])
		}
	}
	return b.String(), nil
}
