package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/internal/testenv"
)

// binary is the ngic-controller built once for the tests of this file.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ngic-poll-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ngic-controller")
	// Built as make build and the release build it (tag gosnmp_nodebug).
	if out, err := exec.Command("go", "build", "-tags", "gosnmp_nodebug", "-o", binary, ".").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		os.Stderr.Write(out)
		panic("build ngic-controller: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pollCmd runs `ngic-controller poll args...` and returns its outputs and
// exit code.
func pollCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return pollCmdEnv(t, nil, args...)
}

// pollCmdEnv is pollCmd with extra environment variables ("K=V"). A poll
// that has not ended within a minute fails the test instead of hanging it.
func pollCmdEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"poll"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("poll %v did not finish within a minute", args)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// polled is the part of the document these tests read.
type polled struct {
	Class      string `json:"class"`
	SysName    string `json:"sys_name"`
	SysDescr   string `json:"sys_descr"`
	Interfaces []struct {
		Name   string   `json:"name"`
		InBps  *float64 `json:"in_bps"`
		OutBps *float64 `json:"out_bps"`
	} `json:"interfaces"`
	Access *struct {
		TV *struct {
			Inputs []json.RawMessage `json:"inputs"`
		} `json:"tv"`
	} `json:"access"`
}

func decode(t *testing.T, out string) polled {
	t.Helper()
	var p polled
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return p
}

// secretFile writes a passphrase to a file only the test reads.
func secretFile(t *testing.T, s string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(f, []byte(s+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPollSnmpsim(t *testing.T) {
	sim := testenv.StartSnmpsim(t, testenv.Recordings(t), "terra_sti440", "cisco_c3560-ios")
	for _, tc := range []struct{ community, class string }{
		{"terra_sti440", "tv-receiver"},
		{"cisco_c3560-ios", "switch"},
	} {
		t.Run(tc.community, func(t *testing.T) {
			out, errOut, code := pollCmd(t, "--target", sim.Addr, "--community", tc.community, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			p := decode(t, out)
			if p.Class != tc.class {
				t.Errorf("class %q, want %q", p.Class, tc.class)
			}
			if tc.class == "tv-receiver" && (p.Access == nil || p.Access.TV == nil || len(p.Access.TV.Inputs) != 4) {
				t.Errorf("want 4 tuner inputs in access.tv, got %s", out)
			}
		})
	}
	t.Run("wrong-community", func(t *testing.T) {
		out, errOut, code := pollCmd(t, "--target", sim.Addr, "--community", "no-such-community", "--timeout", "300ms", "--json")
		if code == 0 {
			t.Fatalf("exit 0 with a wrong community; output %s", out)
		}
		checkOneLineError(t, errOut, sim.Addr, "no answer")
		if out != "" {
			t.Errorf("printed a document on failure: %s", out)
		}
	})
}

// snmpdSystem reads sysName and sysDescr of the agent with v2c, as the
// reference the v3 polls must match.
func snmpdSystem(t *testing.T, s *testenv.Snmpd) (name, descr string) {
	t.Helper()
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(s.Port), Community: s.Community,
		Version: gosnmp.Version2c, Timeout: 2 * time.Second, Retries: 1}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	r, err := g.Get([]string{".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	text := func(v any) string {
		b, _ := v.([]byte)
		return strings.TrimSpace(string(b))
	}
	return text(r.Variables[0].Value), text(r.Variables[1].Value)
}

func TestPollSnmpdV3(t *testing.T) {
	s := testenv.StartSnmpd(t)
	wantName, wantDescr := snmpdSystem(t, s)
	if wantName == "" || wantDescr == "" {
		t.Fatalf("snmpd answered sysName %q, sysDescr %q", wantName, wantDescr)
	}
	auth := secretFile(t, testenv.V3AuthPass)
	priv := secretFile(t, testenv.V3PrivPass)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"authPriv", []string{"--user", testenv.V3User, "--auth-proto", "SHA-256", "--auth-pass-file", auth,
			"--priv-proto", "AES", "--priv-pass-file", priv}},
		{"authNoPriv", []string{"--user", "ngicauth", "--auth-proto", "SHA-256", "--auth-pass-file", auth}},
		{"noAuthNoPriv", []string{"--user", "ngicnoauth"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--target", s.Addr, "--version", "3", "--json"}, tc.args...)
			out, errOut, code := pollCmd(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			p := decode(t, out)
			if p.SysName != wantName || p.SysDescr != wantDescr {
				t.Errorf("sys_name %q sys_descr %q, want %q %q", p.SysName, p.SysDescr, wantName, wantDescr)
			}
			if len(p.Interfaces) == 0 {
				t.Error("no interfaces in the document")
			}
		})
	}
	for _, tc := range []struct {
		name, secret, cause string
		args                []string
	}{
		{"wrong-auth-pass", "wrong-auth-pass-9", "authentication", []string{"--auth-pass-file", secretFile(t, "wrong-auth-pass-9"),
			"--priv-pass-file", priv}},
		{"wrong-priv-pass", "wrong-priv-pass-9", "privacy", []string{"--auth-pass-file", auth,
			"--priv-pass-file", secretFile(t, "wrong-priv-pass-9")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--target", s.Addr, "--version", "3", "--json", "--timeout", "500ms",
				"--user", testenv.V3User, "--auth-proto", "SHA-256", "--priv-proto", "AES"}, tc.args...)
			out, errOut, code := pollCmd(t, args...)
			if code == 0 {
				t.Fatalf("exit 0 with a %s; output %s", tc.name, out)
			}
			t.Logf("stderr: %s", strings.TrimSpace(errOut))
			checkOneLineError(t, errOut, s.Addr, tc.cause)
			if tc.cause == "authentication" && strings.Contains(strings.ToLower(errOut), "privacy failed") {
				t.Errorf("stderr %q blames privacy for a wrong authentication passphrase", errOut)
			}
			for _, p := range []string{tc.secret, testenv.V3AuthPass, testenv.V3PrivPass} {
				if strings.Contains(out+errOut, p) {
					t.Errorf("output shows a passphrase: %q", out+errOut)
				}
			}
		})
	}
}

// checkOneLineError asserts a failed poll's stderr is one line naming the
// target exactly once and the cause, without repeated package prefixes.
func checkOneLineError(t *testing.T, errOut, target, cause string) {
	t.Helper()
	msg := strings.TrimSpace(errOut)
	if msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("stderr is not one line: %q", errOut)
	}
	if n := strings.Count(msg, target); n != 1 {
		t.Errorf("stderr names the target %d times, want once: %q", n, msg)
	}
	if !strings.Contains(strings.ToLower(msg), cause) {
		t.Errorf("stderr %q does not say %q", msg, cause)
	}
	for _, p := range []string{"snmp: ", "device: ", "poll"} {
		if strings.Count(msg, p) > 1 {
			t.Errorf("stderr repeats %q: %q", p, msg)
		}
	}
}

func TestPollRefusedPort(t *testing.T) {
	// Nothing listens on UDP port 1 of the loopback: the kernel answers
	// ICMP port unreachable.
	out, errOut, code := pollCmd(t, "--target", "127.0.0.1:1", "--timeout", "2s", "--json")
	if code == 0 {
		t.Fatalf("exit 0 polling a refused port; output %s", out)
	}
	checkOneLineError(t, errOut, "127.0.0.1:1", "refused")
	if strings.Contains(errOut, "no answer") {
		t.Errorf("stderr %q says no answer for a refused port", errOut)
	}
}

func TestPollRateInterval(t *testing.T) {
	s := testenv.StartSnmpd(t)
	out, errOut, code := pollCmd(t, "--target", s.Addr, "--community", s.Community, "--rate-interval", "2s", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := decode(t, out)
	if len(p.Interfaces) == 0 {
		t.Fatal("no interfaces")
	}
	for _, it := range p.Interfaces {
		if it.InBps == nil || it.OutBps == nil {
			t.Errorf("interface %q lacks in_bps/out_bps after --rate-interval", it.Name)
		}
	}
}
