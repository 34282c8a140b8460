// Package tlsconf holds the TLS client settings that the edge's and the
// controller's configurations share (their `mqtt.tls` sections), and the
// check of an address to listen on.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
)

// Client is a TLS client configuration as YAML spells it.
type Client struct {
	// CAFile is a PEM bundle of the CAs to trust; empty uses the system's.
	CAFile string `yaml:"ca_file"`
	// CertFile is the client certificate (PEM).
	CertFile string `yaml:"cert_file"`
	// KeyFile is the client certificate's private key (PEM).
	KeyFile string `yaml:"key_file"`
	// ServerName overrides the name checked in the server's certificate.
	ServerName string `yaml:"server_name"`
}

// IsZero tells whether no field is set.
func (t Client) IsZero() bool { return t == Client{} }

// FirstSet returns the YAML key of the first field that is set ("ca_file",
// "cert_file", "key_file", "server_name"), or "" when none is.
func (t Client) FirstSet() string {
	for _, f := range []struct{ key, v string }{
		{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}, {"server_name", t.ServerName},
	} {
		if f.v != "" {
			return f.key
		}
	}
	return ""
}

// Config reads the CA, certificate and key files into a TLS client
// configuration (TLS 1.2 at least). On error it also returns the YAML key
// of the field at fault ("ca_file", "cert_file", "key_file"); the error
// quotes no content of the files.
func (t Client) Config() (*tls.Config, string, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, "ca_file", err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "ca_file", fmt.Errorf("%s: no PEM certificate in it", t.CAFile)
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		for _, f := range []struct{ key, file string }{{"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
			if _, err := os.ReadFile(f.file); err != nil {
				return nil, f.key, err
			}
		}
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			first, _, _ := strings.Cut(err.Error(), "\n")
			return nil, "cert_file", fmt.Errorf("with key_file: cannot load the pair: %s", first)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, "", nil
}

// CheckListen checks a host:port to listen on: the port a number within
// 0..65535 or a service name, as net.Listen takes it.
func CheckListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("port %q is neither a number within 0..65535 nor a service name", port)
	}
	return nil
}
