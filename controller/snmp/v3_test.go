package snmp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/internal/testenv"
)

const sysLocation = ".1.3.6.1.2.1.1.6.0"

func v3Config(addr, user, auth, authPass, priv, privPass string) Config {
	return Config{Target: addr, Version: "3", Timeout: time.Second, Retries: 1,
		V3: V3{User: user, AuthProto: auth, AuthPass: authPass, PrivProto: priv, PrivPass: privPass}}
}

func TestV3SecurityLevels(t *testing.T) {
	agent := testenv.StartSnmpd(t)
	cases := []struct {
		name string
		cfg  Config
	}{
		{"authPriv SHA-256 AES", v3Config(agent.Addr, testenv.V3User, "SHA-256", testenv.V3AuthPass, "AES", testenv.V3PrivPass)},
		{"authNoPriv SHA-256", v3Config(agent.Addr, "ngicauth", "SHA-256", testenv.V3AuthPass, "", "")},
		{"noAuthNoPriv", v3Config(agent.Addr, "ngicnoauth", "", "", "", "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := dialT(t, tc.cfg)
			got, err := s.Get(context.Background(), []string{sysLocation})
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := got[0].Value.([]byte); !ok || string(v) != "ngic test lab" {
				t.Fatalf("sysLocation = %v", got[0].Value)
			}
			objs, warns, err := s.Walk(context.Background(), []string{"1.3.6.1.2.1.1", ifTable})
			if err != nil || len(warns) != 0 {
				t.Fatalf("walk: %v %v", err, warns)
			}
			if len(objs["1.3.6.1.2.1.1"]) < 7 || len(objs[ifTable]) == 0 {
				t.Fatalf("walk returned %d system and %d ifTable objects", len(objs["1.3.6.1.2.1.1"]), len(objs[ifTable]))
			}
		})
	}
}

func TestV3AuthFailures(t *testing.T) {
	agent := testenv.StartSnmpd(t)
	cases := []struct {
		name   string
		cfg    Config
		sentry error
		text   string
	}{
		{"wrong auth password", v3Config(agent.Addr, testenv.V3User, "SHA-256", "wrong-auth-pass", "AES", testenv.V3PrivPass), ErrAuth, "authentication"},
		{"wrong priv password", v3Config(agent.Addr, testenv.V3User, "SHA-256", testenv.V3AuthPass, "AES", "wrong-priv-pass"), ErrPriv, "privacy"},
		{"unknown user", v3Config(agent.Addr, "nobody-here", "SHA-256", testenv.V3AuthPass, "AES", testenv.V3PrivPass), ErrUnknownUser, "unknown"},
		{"wrong auth protocol", v3Config(agent.Addr, "ngicauth", "MD5", testenv.V3AuthPass, "", ""), ErrAuth, "authentication"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := dialT(t, tc.cfg)
			_, err := s.Get(context.Background(), []string{sysLocation})
			if !errors.Is(err, tc.sentry) {
				t.Fatalf("err = %v, want %v", err, tc.sentry)
			}
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("err = %v does not wrap ErrAuth", err)
			}
			if !strings.Contains(err.Error(), tc.text) || strings.Count(err.Error(), "snmp: ") != 1 || strings.Contains(err.Error(), agent.Addr) {
				t.Fatalf("err %q: want it to say %q, \"snmp: \" once and no target (the caller names it)", err, tc.text)
			}
			if tc.sentry != ErrPriv && errors.Is(err, ErrPriv) {
				t.Fatalf("err %q blames privacy", err)
			}
		})
	}
}

// snmpdAt runs net-snmp's snmpd with testenv's v3 users on a given port
// and persistent folder, so a test can "reboot" an agent on one address.
type snmpdAt struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startSnmpdAt(t *testing.T, port int, persist, engineID string) *snmpdAt {
	t.Helper()
	bin, err := exec.LookPath("snmpd")
	if err != nil {
		bin = "/usr/sbin/snmpd"
		if _, err := os.Stat(bin); err != nil {
			if testenv.Require() {
				t.Fatal("snmpd not installed (apt-get install snmpd); NGIC_REQUIRE_PEERS=1 forbids skipping")
			}
			t.Skip("snmpd not installed (apt-get install snmpd)")
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmpd.conf")
	extra := ""
	if engineID != "" {
		extra = "exactEngineID " + engineID + "\n"
	}
	cfg := fmt.Sprintf(`[snmp] persistentDir %s
%screateUser %s SHA-256 %s AES %s
rouser %s authpriv
rocommunity public 127.0.0.1
dontLogTCPWrappersConnects yes
sysLocation ngic test lab
`, persist, extra, testenv.V3User, testenv.V3AuthPass, testenv.V3PrivPass, testenv.V3User)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", conf, "-I", "-smux", "-p", filepath.Join(dir, "pid"),
		fmt.Sprintf("udp:127.0.0.1:%d", port))
	cmd.Env = append(os.Environ(), "MIBS=")
	lf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	cmd.Stdout, cmd.Stderr = lf, lf
	logPath := lf.Name()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &snmpdAt{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.done) }()
	t.Cleanup(a.stop)
	// Wait until it answers v2c (each try waits up to its timeout for the
	// answer), or has exited, or the deadline passes.
	deadline := time.Now().Add(20 * time.Second)
	for {
		g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Version: gosnmp.Version2c, Community: "public",
			Timeout: 300 * time.Millisecond, Retries: 0, Context: context.Background()}
		if err := g.Connect(); err == nil {
			_, err = g.Get([]string{sysLocation})
			g.Conn.Close()
			if err == nil {
				return a
			}
		}
		exited := false
		select {
		case <-a.done:
			exited = true
		case <-time.After(20 * time.Millisecond): // before the port is bound, a try is refused at once
		}
		if exited || time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("snmpd on port %d does not answer (exited: %v):\n%s", port, exited, b)
		}
	}
}

// stop ends snmpd the way a clean shutdown does, so it saves its boots.
func (a *snmpdAt) stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}

func TestV3RediscoversAfterAgentRestart(t *testing.T) {
	cases := []struct {
		name              string
		firstID, secondID string // "" = net-snmp's own engine ID
		samePersist       bool
	}{
		{"reboot_same_engine_boots_plus_1", "", "", true},
		{"replaced_agent_new_engine_id", "0x80001f8880aabbccdd01", "0x80001f8880aabbccdd02", false},
	}
	for _, tc := range cases {
		for _, probeWhileDown := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/probe_while_down=%v", tc.name, probeWhileDown), func(t *testing.T) {
				port := testenv.FreeUDPPort(t)
				p1, p2 := t.TempDir(), t.TempDir()
				for _, p := range []string{p1, p2} {
					_ = os.Chmod(p, 0o777)
				}
				if tc.samePersist {
					p2 = p1
				}
				first := startSnmpdAt(t, port, p1, tc.firstID)
				s := dialT(t, v3Config(fmt.Sprintf("127.0.0.1:%d", port), testenv.V3User, "SHA-256", testenv.V3AuthPass, "AES", testenv.V3PrivPass))
				if _, err := s.Get(context.Background(), []string{sysLocation}); err != nil {
					t.Fatal(err)
				}
				first.stop()
				if probeWhileDown {
					// While the agent is down the session fails with a timeout
					// and drops its engine state.
					if _, err := s.Get(context.Background(), []string{sysLocation}); !errors.Is(err, ErrTimeout) {
						t.Fatalf("with agent down: %v, want ErrTimeout", err)
					}
					if s.Rediscoveries() == 0 {
						t.Fatalf("no engine re-discovery after a timeout")
					}
				}
				startSnmpdAt(t, port, p2, tc.secondID)
				got, err := s.Get(context.Background(), []string{sysLocation})
				if err != nil {
					t.Fatalf("session did not recover: %v", err)
				}
				if v, _ := got[0].Value.([]byte); string(v) != "ngic test lab" {
					t.Fatalf("sysLocation = %v", got[0].Value)
				}
				if _, _, err := s.Walk(context.Background(), []string{"1.3.6.1.2.1.1"}); err != nil {
					t.Fatalf("walk after recovery: %v", err)
				}
			})
		}
	}
}
