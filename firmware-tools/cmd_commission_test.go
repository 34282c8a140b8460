package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
	"github.com/ngic/ngic/firmware-tools/commission"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestCommissionWritesConfigEdgeAccepts runs the built ngic-fwtool
// commission on two emulated readers, one at a speed not its protocol's
// default, and checks that the built ngic-edge check-config accepts the
// configuration it wrote; then on a silent port, where it exits non-zero
// saying what to do and writes nothing.
func TestCommissionWritesConfigEdgeAccepts(t *testing.T) {
	bin := buildFwtool(t)
	dir := t.TempDir()
	edge := filepath.Join(dir, "ngic-edge")
	if out, err := exec.Command("go", "build", "-o", edge, "../edge").CombinedOutput(); err != nil {
		t.Fatalf("go build edge: %v\n%s", err, out)
	}
	_, uhf := emulatetest.StartAt(t, "chafon", 115200)
	_, badge := emulatetest.Start(t, "em4100", []byte{0x10, 0x00, 0x86, 0xF4, 0x44})
	cfg := filepath.Join(dir, "edge.yaml")
	args := []string{"commission", "--port", uhf.Path, "--port", badge.Path, "--wait", "400ms", "--listen", "1500ms",
		"--write-config", cfg, "--gateway", "cabinet-7", "--spool", filepath.Join(dir, "spool.db")}
	out, errs, ok := signRun(t, bin, append(args, "--json")...)
	if !ok {
		t.Fatalf("commission failed: %s\n%s", errs, out)
	}
	var r commission.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if r.Failed != 0 || len(r.Checks) != 3 || r.Checks[0].Reader.Protocol != "chafon" || r.Checks[0].Reader.Baud != 115200 ||
		r.Checks[1].Reader.Protocol != "em4100" || r.Checks[2].Status != commission.OK {
		t.Fatalf("report %s", out)
	}
	res, err := exec.Command(edge, "check-config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(res), "2 readers") {
		t.Fatalf("check-config: %v\n%s", err, res)
	}

	silent := filepath.Join(dir, "silent.yaml")
	out, _, ok = signRun(t, bin, "commission", "--port", os.DevNull, "--write-config", silent, "--gateway", "cabinet-7",
		"--spool", filepath.Join(dir, "spool.db"))
	if ok || !strings.Contains(out, "FAIL  serial "+os.DevNull) || !strings.Contains(out, "      -> ") {
		t.Fatalf("commission on a non-serial device: ok=%v\n%s", ok, out)
	}
	if !strings.Contains(out, "ok    config "+silent) {
		t.Errorf("a configuration without readers is still a valid one; got\n%s", out)
	}
}

// TestCommissionBrokerRights runs the built ngic-fwtool commission with
// --broker against mosquitto with the shipped configuration and ACL, under
// the commissioning identity and with the gateway's credentials: the
// human output and --json carry a line per check of the gateway's rights;
// with a wrong gateway password it exits non-zero naming the fix.
func TestCommissionBrokerRights(t *testing.T) {
	bin := buildFwtool(t)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m := testenv.StartMosquittoTLS(t, map[string]string{"ngic-commissioning": "commission-pw", "cabinet-7": "gw-pw"},
		filepath.Join("..", "deploy", "mosquitto", "ngic.acl"))
	ccert, ckey := m.PKI.Issue(t, "ngic-commissioning", false)
	gcert, gkey := m.PKI.Issue(t, "cabinet-7", false)
	_, reader := emulatetest.StartAt(t, "chafon", 115200)
	args := []string{"commission", "--port", reader.Path, "--protocol", "chafon", "--broker", "ssl://" + m.Addr,
		"--gateway", "cabinet-7", "--ca", m.PKI.CAFile, "--cert-min-validity", "1h",
		"--commission-password-file", file("commission-pw", "commission-pw\n"), "--commission-cert", ccert, "--commission-key", ckey,
		"--cert", gcert, "--key", gkey}
	good := slices.Concat(args, []string{"--password-file", file("gw-pw", "gw-pw\n")})
	rights := []string{
		"gateway credentials cabinet-7",
		"subscribe " + telemetry.CommandFilter("cabinet-7") + " as cabinet-7",
		"subscribe " + telemetry.CommandFilter(commission.ProbeGateway) + " as cabinet-7",
		"publish " + telemetry.CommissioningTopic("cabinet-7") + " as cabinet-7",
		"publish " + telemetry.CommissioningTopic(commission.ProbeGateway) + " as cabinet-7",
	}

	out, errs, ok := signRun(t, bin, append(good, "--json")...)
	if !ok {
		t.Fatalf("commission failed: %s\n%s", errs, out)
	}
	var r commission.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	status := map[string]commission.Status{}
	for _, c := range r.Checks {
		status[c.Name] = c.Status
	}
	for _, name := range rights {
		if status[name] != commission.OK {
			t.Errorf("--json: %s is %q, want ok:\n%s", name, status[name], out)
		}
	}

	out, _, ok = signRun(t, bin, good...)
	if !ok {
		t.Fatalf("commission failed:\n%s", out)
	}
	for _, name := range rights {
		if !strings.Contains(out, "ok    "+name+": ") {
			t.Errorf("no line ok for %s in\n%s", name, out)
		}
	}

	// The gateway's side from its edge configuration, as ngic-edge runs it.
	edgeCfg, err := commission.EdgeConfig(commission.Site{Gateway: "cabinet-7", Broker: "ssl://" + m.Addr, Username: "cabinet-7",
		PasswordFile: file("gw-pw", "gw-pw\n"), CAFile: m.PKI.CAFile, CertFile: gcert, KeyFile: gkey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _, ok = signRun(t, bin, "commission", "--port", reader.Path, "--protocol", "chafon", "--cert-min-validity", "1h",
		"--edge-config", file("edge.yaml", string(edgeCfg)), "--commission-password-file", file("commission-pw", "commission-pw"),
		"--commission-cert", ccert, "--commission-key", ckey)
	if !ok || !strings.Contains(out, "ok    "+rights[len(rights)-1]+": ") {
		t.Errorf("with --edge-config: ok=%v\n%s", ok, out)
	}

	out, _, ok = signRun(t, bin, append(args, "--password-file", file("wrong", "not-the-password"))...)
	if ok || !strings.Contains(out, "FAIL  gateway credentials cabinet-7: refused: 0x87 Not authorized\n      -> check the gateway's user") {
		t.Errorf("with a wrong gateway password: ok=%v\n%s", ok, out)
	}
}
