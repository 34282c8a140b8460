package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Secrets handed out by the tests; none may show in check-config's output.
const (
	ccCommunity = "cc-community-S3CRET"
	ccAuth      = "cc-auth-S3CRET"
	ccPriv      = "cc-priv-S3CRET"
	ccInline    = "cc-inline-S3CRET"
	ccMQTT      = "cc-mqtt-S3CRET"
)

// checkConfig runs check-config on a configuration written with its
// inventory and secret files, and returns stdout, stderr and the error.
func checkConfig(t *testing.T, yaml, devices string) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, s string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("community", ccCommunity+"\n")
	write("auth", ccAuth+"\n")
	write("mqtt-pw", ccMQTT+"\n")
	write("inventory/devices.csv", devices)
	write("inventory/gateways.csv", "gateway,site\ncabinet-0142,s1\n")
	write("controller.yaml", strings.ReplaceAll(yaml, "DIR", dir))
	var out, errOut bytes.Buffer
	c := newCheckConfigCmd()
	c.SetArgs([]string{filepath.Join(dir, "controller.yaml")})
	c.SetOut(&out)
	c.SetErr(&errOut)
	c.SilenceErrors, c.SilenceUsage = true, true
	err := c.Execute()
	return out.String(), errOut.String(), err
}

const ccYAML = `inventory: inventory
credentials:
  v2:
    version: 2c
    community_file: DIR/community
  v3:
    version: 3
    user: poller
    auth_proto: SHA-256
    auth_pass_file: DIR/auth
    priv_proto: AES
    priv_pass_env: NGIC_CC_PRIV
mqtt:
  broker: tcp://127.0.0.1:1883
  username: ngic-controller
  password_file: DIR/mqtt-pw
`

const ccDevices = "id,site,address,credentials,parent\nolt,s1,127.0.0.1:1161,v2,\ncmts,s1,127.0.0.1:1162,v3,olt\n" +
	"modem,s1,127.0.0.1:1163,community:" + ccInline + ",cmts\n"

func TestCheckConfig(t *testing.T) {
	t.Setenv("NGIC_CC_PRIV", ccPriv)
	out, _, err := checkConfig(t, ccYAML, ccDevices)
	if err != nil || out != "ok\n" {
		t.Fatalf("good configuration: %q, %v", out, err)
	}
	for _, tc := range []struct{ name, yaml, devices, want string }{
		{"unknown key", ccYAML + "pol:\n  interval: 1m\n", ccDevices, "line 17: pol: field pol not found"},
		{"bad field", ccYAML + "poll:\n  retries: 42\n", ccDevices, "line 18: poll.retries: 42 is not within 0..10"},
		{"missing secret file", strings.Replace(ccYAML, "DIR/auth", "DIR/none", 1), ccDevices, "line 10: credentials.v3.auth_pass_file"},
		{"csv", ccYAML, ccDevices + "olt,s2,127.0.0.1:1164,community:" + ccInline + ",\n", "devices.csv:5:1: id: device \"olt\" already on line 2"},
		{"cycle", ccYAML, strings.Replace(ccDevices, "v2,\n", "v2,modem\n", 1), "devices.csv:2:26: parent: a cycle of parents: olt -> modem -> cmts -> olt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := checkConfig(t, tc.yaml, tc.devices)
			if err == nil || out != "" {
				t.Fatalf("accepted: %q", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %q", err, tc.want)
			}
			assertNoSecret(t, out+errOut+err.Error())
		})
	}
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, "S3CRET") {
		t.Fatalf("a secret shows: %s", s)
	}
}

// TestCheckConfigBinary runs the built program: exit 0 and "ok" on stdout
// for a good file; exit 1 with the field and line on stderr for a bad one,
// no secret anywhere.
func TestCheckConfigBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := filepath.Join(t.TempDir(), "ngic-controller")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "inventory"), 0o755)
	os.WriteFile(filepath.Join(dir, "community"), []byte(ccCommunity+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "inventory", "devices.csv"), []byte("id,site,address,credentials\nolt,s1,127.0.0.1:1161,v2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "inventory", "gateways.csv"), []byte("gateway,site\n"), 0o644)
	good := "inventory: inventory\ncredentials:\n  v2:\n    version: 2c\n    community_file: " + filepath.Join(dir, "community") +
		"\nmqtt:\n  embedded: true\n"
	run := func(y string) (string, string, int) {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, []byte(y), 0o644)
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, "check-config", p)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	if out, errOut, code := run(good); code != 0 || out != "ok\n" {
		t.Fatalf("good: exit %d, %q %q", code, out, errOut)
	}
	out, errOut, code := run(strings.Replace(good, "version: 2c", "version: 2", 1))
	if code != 1 || out != "" || !strings.Contains(errOut, "line 4: credentials.v2.version") {
		t.Fatalf("bad: exit %d, %q %q", code, out, errOut)
	}
	assertNoSecret(t, out+errOut)
}
