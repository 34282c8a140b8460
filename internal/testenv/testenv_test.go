package testenv

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestMosquittoListens(t *testing.T) {
	m := StartMosquitto(t)
	c, err := net.DialTimeout("tcp", m.Addr, time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", m.Addr, err)
	}
	c.Close()
}

func TestSnmpdV3AuthPriv(t *testing.T) {
	s := StartSnmpd(t)
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(s.Port), Version: gosnmp.Version3,
		Timeout: 2 * time.Second, Retries: 1, Context: context.Background(),
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: V3User,
			AuthenticationProtocol: gosnmp.SHA256, AuthenticationPassphrase: V3AuthPass,
			PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: V3PrivPass}}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	r, err := g.Get([]string{".1.3.6.1.2.1.1.6.0"})
	if err != nil {
		t.Fatalf("v3 get: %v", err)
	}
	if got := string(r.Variables[0].Value.([]byte)); got != "ngic test lab" {
		t.Fatalf("sysLocation = %q", got)
	}
}

func TestSnmpsimServesRecording(t *testing.T) {
	dir := Recordings(t)
	s := StartSnmpsim(t, dir, "motorola_sb5101e")
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(s.Port), Version: gosnmp.Version2c,
		Community: "motorola_sb5101e", Timeout: 2 * time.Second, Retries: 1, Context: context.Background()}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	r, err := g.Get([]string{".1.3.6.1.2.1.1.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Variables[0].Value.(string); got != ".1.3.6.1.4.1.1166.1.450.12.2" {
		t.Fatalf("sysObjectID = %q", got)
	}
}

// recordTB records a skip or a fatal failure instead of acting on t.
type recordTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordTB) Helper() {}

func (r *recordTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordTB) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs f with a recordTB in a goroutine of its own (Skipf and Fatalf
// end it, as they end a test) and returns what it recorded.
func call(t *testing.T, f func(testing.TB)) *recordTB {
	r := &recordTB{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); f(r) }()
	<-done
	return r
}

func TestProgramSkipsOrFailsWhenMissing(t *testing.T) {
	var path string
	if r := call(t, func(tb testing.TB) { path = Program(tb, "sh", "dash") }); r.skipped != "" || r.failed != "" || path == "" {
		t.Fatalf("sh: path %q, skipped %q, failed %q", path, r.skipped, r.failed)
	}
	const absent = "ngic-no-such-program"
	t.Setenv("NGIC_REQUIRE_PEERS", "")
	if r := call(t, func(tb testing.TB) { Program(tb, absent, "ngic-pkg") }); r.failed != "" || !strings.Contains(r.skipped, "apt-get install ngic-pkg") {
		t.Fatalf("missing program without NGIC_REQUIRE_PEERS: skipped %q, failed %q; want a skip naming the package", r.skipped, r.failed)
	}
	t.Setenv("NGIC_REQUIRE_PEERS", "1")
	if r := call(t, func(tb testing.TB) { Program(tb, absent, "ngic-pkg") }); r.skipped != "" || !strings.Contains(r.failed, absent) {
		t.Fatalf("missing program under NGIC_REQUIRE_PEERS=1: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
}
