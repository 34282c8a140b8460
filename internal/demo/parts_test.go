package demo

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ctlconfig "github.com/ngic/ngic/controller/config"
	edgeconfig "github.com/ngic/ngic/edge/config"
)

// TestConfigs: the configurations the demo writes are valid for the
// controller and (with lab pins) the edge, with the rules, pace and
// embedded broker the scenario needs.
func TestConfigs(t *testing.T) {
	tm := DefaultTiming
	c, err := ctlconfig.Parse("controller.yaml", []byte(controllerYAML("inv", "127.0.0.1:1884", "127.0.0.1:9480", "tok", "state", tm)))
	if err != nil {
		t.Fatalf("the controller's configuration: %v", err)
	}
	if !c.MQTT.Embedded || c.MQTT.Listen != "127.0.0.1:1884" || c.InfluxDB != nil || c.Poll.Interval != tm.Poll ||
		!c.Alerts.Flap.Disabled || len(c.HTTP.Tokens) != 1 || c.HTTP.Tokens[0].File != "tok" {
		t.Errorf("the controller's configuration: %+v", c)
	}
	kinds := map[string]string{}
	for _, r := range c.Alerts.Rules {
		kinds[r.Name] = r.Kind
		if r.Kind == "device-down" && r.After != tm.DownAfter {
			t.Errorf("device-down after %v, want %v", r.After, tm.DownAfter)
		}
	}
	if kinds[ruleDeviceDown] != "device-down" || kinds[ruleDoorHeld] != "door-held" {
		t.Errorf("alert rules %v", kinds)
	}
	g := gatewayPlan{Name: "gw-cab-1", Site: "cab-1", Reader: "badge", Protocol: "em4100"}
	y := edgeYAML(g, "dir", "/dev/pts/9", "127.0.0.1:1884", tm)
	if _, err := edgeconfig.Parse("edge.yaml", []byte(y)); err == nil {
		t.Error("the edge's configuration is valid without the lab flag: it should name a lab pin")
	}
	e, err := edgeconfig.ParseWith("edge.yaml", []byte(y), edgeconfig.Options{LabPins: true})
	if err != nil {
		t.Fatalf("the edge's configuration: %v", err)
	}
	if e.Gateway != g.Name || len(e.Readers) != 1 || e.Readers[0].Protocol != "em4100" || len(e.Sensors) != 1 ||
		e.Sensors[0].HeldAfter != tm.HeldAfter || e.MQTT.Broker != "tcp://127.0.0.1:1884" {
		t.Errorf("the edge's configuration: %+v", e)
	}
}

// TestPlan: the default county has a cabinet with a device in it, where
// the second gateway stands; both gateways are in gateways.csv.
func TestPlan(t *testing.T) {
	p, err := newPlan(DefaultVillages, 1, 16100)
	if err != nil {
		t.Fatal(err)
	}
	door := p.Gateways[p.Door]
	dev, ok := p.World.Device(p.Down)
	if !ok || dev.Site != door.Site || dev.Parent == "" {
		t.Errorf("device %s (%+v) does not stand in the door's cabinet %s behind another", p.Down, dev, door.Site)
	}
	if p.Gateways[0].Protocol == door.Protocol {
		t.Errorf("both gateways read %s", door.Protocol)
	}
	dir := t.TempDir()
	if err := p.write(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(inventoryDir(dir), "gateways.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range p.Gateways {
		if !strings.Contains(string(b), g.Name+","+g.Site+"\n") {
			t.Errorf("gateways.csv lacks %s at %s:\n%s", g.Name, g.Site, b)
		}
	}
	if _, err := newPlan(1, 1, 16100); err == nil {
		t.Error("a county of one village has a cabinet with a device behind another")
	}
}

// TestLock: a second holder of the lock is refused with ErrRunning,
// naming what the first says of itself; the lock is free again once
// released.
func TestLock(t *testing.T) {
	name := fmt.Sprintf("ngic-demo-lock-test-%d", os.Getpid())
	k, err := acquire(name)
	if err != nil {
		t.Fatal(err)
	}
	k.set("pid 1, dashboard http://127.0.0.1:1/")
	_, err = acquire(name)
	if !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "pid 1, dashboard http://127.0.0.1:1/") {
		t.Errorf("a second acquire: %v", err)
	}
	k.release()
	k, err = acquire(name)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	k.release()
}

// TestHTTPAddr: the dashboard keeps a free address, moves to a free port
// when its own is taken, and never leaves loopback.
func TestHTTPAddr(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	taken := l.Addr().String()
	got, err := httpAddr(taken)
	if err != nil || got == taken || !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("httpAddr(%s, taken) = %s, %v", taken, got, err)
	}
	l.Close()
	if got, err := httpAddr(taken); err != nil || got != taken {
		t.Errorf("httpAddr(%s, free) = %s, %v", taken, got, err)
	}
	for _, bad := range []string{"0.0.0.0:9480", "192.0.2.1:9480", "localhost", "example.net:80"} {
		if _, err := httpAddr(bad); err == nil {
			t.Errorf("httpAddr(%s) accepted", bad)
		}
	}
}

// TestRemoveOrphans: folders of dead demos go; a living demo's folder,
// one without its pid yet and other folders stay.
func TestRemoveOrphans(t *testing.T) {
	tmp := t.TempDir()
	mk := func(name, pid string) string {
		dir := filepath.Join(tmp, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if pid != "" {
			if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(pid+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	dead := deadPid(t)
	gone := mk(folderPrefix+"dead", fmt.Sprint(dead))
	keep := []string{
		mk(folderPrefix+"alive", fmt.Sprint(os.Getpid())),
		mk(folderPrefix+"new", ""),
		mk(folderPrefix+"garbled", "x"),
		mk("other", fmt.Sprint(dead)),
	}
	removeOrphans(tmp)
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("the dead demo's folder: %v", err)
	}
	for _, d := range keep {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s: %v", filepath.Base(d), err)
		}
	}
}

// deadPid returns the id of a process that has ended and been reaped.
func deadPid(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	return p.Pid
}
