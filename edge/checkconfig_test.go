package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/gateway"
	"github.com/ngic/ngic/internal/testenv"
)

// checkConfig runs the check-config command on the configuration y and
// returns its output and error.
func checkConfig(t *testing.T, y string) (string, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := newCheckConfigCmd()
	c.SetArgs([]string{p})
	c.SetOut(&out)
	c.SetErr(&out)
	c.SilenceErrors, c.SilenceUsage = true, true
	err := c.Execute()
	return out.String(), err
}

// TestCheckConfigPassingMeansRunStarts: for a good configuration and for
// ones that break what run uses (the secret and TLS files, the spool, the
// serial speed), check-config either refuses, or run's gateway is built
// and runs with its reader open at the configured speed.
func TestCheckConfigPassingMeansRunStarts(t *testing.T) {
	dir := t.TempDir()
	pki := testenv.NewPKI(t)
	cert, key := pki.Issue(t, "g1", false)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("pw\n"), 0o600)
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello\n"), 0o600)
	aDir := filepath.Join(dir, "adir")
	os.Mkdir(aDir, 0o700)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()

	good := map[string]string{"pw": pw, "ca": pki.CAFile, "cert": cert, "key": key, "baud": "9600"}
	conf := func(set map[string]string) string {
		v := map[string]string{"spool": filepath.Join(t.TempDir(), "spool.db")}
		for k, x := range good {
			v[k] = x
		}
		for k, x := range set {
			v[k] = x
		}
		return fmt.Sprintf(`gateway: g1
spool:
  path: %s
mqtt:
  broker: ssl://127.0.0.1:1
  username: g1
  password_file: %s
  tls:
    ca_file: %s
    cert_file: %s
    key_file: %s
readers:
  - name: r
    protocol: em4100
    device: %s
    baud: %s
http:
  listen: "off"
`, v["spool"], v["pw"], v["ca"], v["cert"], v["key"], tty.Name(), v["baud"])
	}
	for _, tc := range []struct {
		name   string
		set    map[string]string
		refuse bool // check-config must refuse it
	}{
		{"good", nil, false},
		{"password_file a directory", map[string]string{"pw": aDir}, true},
		{"ca_file a directory", map[string]string{"ca": aDir}, true},
		{"ca_file without a certificate", map[string]string{"ca": notPEM}, true},
		{"cert_file a directory", map[string]string{"cert": aDir}, true},
		{"key_file a directory", map[string]string{"key": aDir}, true},
		{"spool directory missing", map[string]string{"spool": filepath.Join(dir, "none", "spool.db")}, true},
		{"spool path a directory", map[string]string{"spool": aDir}, true},
		{"unsupported baud", map[string]string{"baud": "14400"}, true},
		{"highest baud", map[string]string{"baud": "4000000"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := conf(tc.set)
			out, err := checkConfig(t, y)
			if err != nil {
				if !tc.refuse {
					t.Fatalf("check-config refuses: %v", err)
				}
				return
			}
			if tc.refuse {
				t.Errorf("check-config accepts it: %s", out)
			}
			// check-config passed: run must start. This is run's path.
			cfg, err := config.Load(writeFile(t, y))
			if err != nil {
				t.Fatalf("run's config.Load: %v", err)
			}
			g, err := gateway.New(cfg, gateway.Opts{})
			if err != nil {
				t.Fatalf("check-config passed but run refuses: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- g.Run(ctx) }()
			defer func() { cancel(); <-done }()
			deadline := time.Now().Add(10 * time.Second)
			for {
				h := g.Health()
				if len(h.Readers) == 1 && h.Readers[0].Connected {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("check-config passed but the reader never opened: %+v", h.Readers)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func writeFile(t *testing.T, y string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckConfigShowsNoSecret: a broker URL with credentials is refused
// without the secret; an accepted configuration's summary shows the broker.
func TestCheckConfigShowsNoSecret(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool.db")
	for _, broker := range []string{
		"tcp://g1:s3cr3t@127.0.0.1:1883",
		"tcp://:s3cr3t@127.0.0.1:1883",
		"TCP://g1:s3cr3t%40x@[::1]:1883",
		"tcp://g1:s3 cr3t@127.0.0.1:1883",
		// A '/', '?' or '#' in the password ends the URL's authority, so
		// its '@' parses as part of a path (accepted) or the rest as a bad port.
		"tcp://g1:1234/s3cr3t@127.0.0.1:1883",
		"tcp://g1:s3cr3t/x@127.0.0.1:1883",
		"tcp://g1:s3cr3t?x@127.0.0.1:1883",
		"tcp://g1:s3cr3t#x@127.0.0.1:1883",
		"tcp:g1:s3cr3t@127.0.0.1:1883",
		"ws://127.0.0.1:80/mqtt?password=s3cr3t",
	} {
		out, err := checkConfig(t, "gateway: g1\nspool:\n  path: "+spool+"\nmqtt:\n  broker: \""+broker+"\"\n")
		if err == nil || !strings.Contains(err.Error(), "line 5: mqtt.broker") || strings.Contains(err.Error()+out, "s3cr3t") {
			t.Errorf("credentials in the URL %s: %v, output %q", broker, err, out)
		}
	}
	out, err := checkConfig(t, "gateway: g1\nspool:\n  path: "+spool+"\nmqtt:\n  broker: tcp://127.0.0.1:1883\n")
	if err != nil || !strings.Contains(out, "ok: gateway g1") || !strings.Contains(out, "broker tcp://127.0.0.1:1883") {
		t.Fatalf("check-config: %v, output %q", err, out)
	}
}
