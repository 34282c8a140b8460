package commission

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ngic/ngic/edge/config"
)

// Site is what the field engineer gives for the edge configuration; the
// readers and photo-eyes come from the checks.
type Site struct {
	// Gateway is the gateway's name (required).
	Gateway string
	// Broker is the broker URL, e.g. ssl://mqtt.example.net:8883; empty
	// means "embedded".
	Broker string
	// Username and PasswordFile are the gateway's broker credentials.
	Username, PasswordFile string
	// CAFile, CertFile and KeyFile are the TLS files of a TLS broker.
	CAFile, CertFile, KeyFile string
	// SpoolPath is the spool file; empty means config.DefaultSpoolPath.
	SpoolPath string
	// Pull is the pull written for every photo-eye ("up", "down", "float",
	// "none"; empty means none).
	Pull string
}

// EdgeConfig returns an edge configuration with a reader for every serial
// check that found one (at the speed it answered, on the port as it was
// named) and a photo-eye for every GPIO check that saw edges (with the
// active level they imply). It is validated by edge/config before it is
// returned, without looking at the files it names.
func EdgeConfig(s Site, checks []Check) ([]byte, error) {
	if s.Gateway == "" {
		return nil, errors.New("commission: edge configuration: no gateway name")
	}
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	q := strconv.Quote
	w("# Written by ngic-fwtool commission. Check it with ngic-edge check-config.\n")
	w("gateway: %s\n", q(s.Gateway))
	if s.SpoolPath != "" {
		w("spool:\n  path: %s\n", q(s.SpoolPath))
	}
	w("mqtt:\n  broker: %s\n", q(or(s.Broker, "embedded")))
	for _, kv := range [][2]string{{"username", s.Username}, {"password_file", s.PasswordFile}} {
		if kv[1] != "" {
			w("  %s: %s\n", kv[0], q(kv[1]))
		}
	}
	if s.CAFile != "" || s.CertFile != "" || s.KeyFile != "" {
		w("  tls:\n")
		for _, kv := range [][2]string{{"ca_file", s.CAFile}, {"cert_file", s.CertFile}, {"key_file", s.KeyFile}} {
			if kv[1] != "" {
				w("    %s: %s\n", kv[0], q(kv[1]))
			}
		}
	}
	readers, sensors := 0, 0
	for _, c := range checks {
		if c.Status != OK || c.Reader == nil {
			continue
		}
		if readers == 0 {
			w("readers:\n")
		}
		readers++
		w("  - name: reader-%d\n    protocol: %s\n    device: %s\n    baud: %d\n",
			readers, c.Reader.Protocol, q(c.Port), c.Reader.Baud)
	}
	for _, c := range checks {
		if c.Status != OK || c.GPIO == nil {
			continue
		}
		if sensors == 0 {
			w("sensors:\n")
		}
		sensors++
		w("  - name: photoeye-%d\n    pin: %s\n    active: %s\n    pull: %s\n",
			sensors, q(c.Pin), c.GPIO.Active, or(s.Pull, "none"))
	}
	out := b.Bytes()
	if _, err := config.Parse("edge configuration", out); err != nil {
		return nil, fmt.Errorf("commission: %w", err)
	}
	return out, nil
}

// WriteEdgeConfig writes data to path only if edge/config loads it as
// ngic-edge check-config does on this machine (password, certificate and
// spool files included); otherwise path is left as it was.
func WriteEdgeConfig(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("commission: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("commission: write %s: %w", path, err)
	}
	if _, err := config.Load(tmp.Name()); err != nil {
		return fmt.Errorf("commission: %s would not pass check-config: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("commission: write %s: %w", path, err)
	}
	return nil
}

// ReadSite reads the gateway's name, broker, credentials and spool from
// the edge configuration at path, as ngic-edge would run it, without
// looking at the files it names: commission checks those itself.
func ReadSite(path string) (Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Site{}, fmt.Errorf("commission: %w", err)
	}
	c, err := config.Parse(path, data)
	if err != nil {
		return Site{}, fmt.Errorf("commission: %w", err)
	}
	m := c.MQTT
	return Site{Gateway: c.Gateway, Broker: m.Broker, Username: m.Username, PasswordFile: m.PasswordFile,
		CAFile: m.TLS.CAFile, CertFile: m.TLS.CertFile, KeyFile: m.TLS.KeyFile, SpoolPath: c.Spool.Path}, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ConfigCheck writes the edge configuration built from s and checks to
// path (EdgeConfig, WriteEdgeConfig) and reports it as a check.
func ConfigCheck(path string, s Site, checks []Check) Check {
	c := Check{Name: "config " + path}
	data, err := EdgeConfig(s, checks)
	if err == nil {
		err = WriteEdgeConfig(path, data)
	}
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = "fix what the message names (--gateway, --broker, the credential and certificate files, --spool) and run commission again"
		return c
	}
	readers, sensors := 0, 0
	for _, k := range checks {
		if k.Status == OK && k.Reader != nil {
			readers++
		}
		if k.Status == OK && k.GPIO != nil {
			sensors++
		}
	}
	c.Status = OK
	c.Detail = fmt.Sprintf("written with %d readers and %d sensors; ngic-edge check-config accepts it", readers, sensors)
	return c
}
