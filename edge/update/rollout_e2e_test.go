package update_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/controller/rollout/rollouttest"
	_ "github.com/ngic/ngic/drivers/rfid/all" // the emulated readers' protocol
	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

var (
	controllerOnce sync.Once
	controllerBin  string
	controllerErr  error
)

// buildController builds ngic-controller once per test process, into
// the folder of the other programs.
func buildController() (string, error) {
	controllerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ngic-controller-bin-")
		if err != nil {
			controllerErr = err
			return
		}
		controllerBin = filepath.Join(dir, "ngic-controller")
		if b, err := exec.Command("go", "build", "-o", controllerBin, "github.com/ngic/ngic/controller").CombinedOutput(); err != nil {
			controllerErr = fmt.Errorf("go build ngic-controller: %v\n%s", err, b)
		}
	})
	return controllerBin, controllerErr
}

// fleet is a real ngic-controller and the real gateways it rolls
// bundles out to, over one mosquitto.
type fleet struct {
	t        *testing.T
	setup    *rollouttest.Setup // the controller's configuration, API and token
	gws      []*gw
	readers  map[string]*emulate.Runner // gateway -> its emulated reader
	commands *commandWatcher
}

// TestRolloutToRealGateways rolls signed bundles out with the real
// ngic-controller (its CLI, API, bundle server and rollout waves) to four
// real gateways, each `ngic-edge supervise` at 1.0.0 reading an emulated
// reader, over mosquitto with the shipped TLS configuration and ACL:
// 1.1.0 is installed on all four, canary first, and every event read
// before and after reaches the controller; then a 1.2.0 that exits at
// start is rolled back on the canary and the rollout halts, the other
// three never receiving a command.
func TestRolloutToRealGateways(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a controller and four gateways; not in -short")
	}
	t.Parallel()
	ctlBuilt := make(chan struct{})
	go func() { buildController(); close(ctlBuilt) }()
	r := &rig{srv: newServer(t), sig: newSigner(t), p: built(t)}
	f := startFleet(t, r, ctlBuilt)

	// 1.1.0 to the four, the canary first.
	f.readTags(1)
	write(t, filepath.Join(f.setup.Bundles, "ngic-edge-1.1.0.ngb"), r.newBundle(t))
	ro := f.start("ngic-edge-1.1.0.ngb")
	if len(ro.Gateways) != 4 || len(ro.Waves) < 2 || ro.Waves[0].Size != 1 {
		t.Fatalf("rollout of 1.1.0: %d gateways, waves %+v", len(ro.Gateways), ro.Waves)
	}
	for _, g := range f.gws {
		g.waitStep(newVersion, ro.ID+":"+g.name, telemetry.UpdateDone)
	}
	// The controller takes the last report in a moment after the test's
	// own subscriber.
	rollouttest.WaitFor(t, deadline, "the rollout of 1.1.0 to complete", func() bool {
		return f.status(ro.ID).State != rollout.StateRunning
	})
	got := f.status(ro.ID)
	if got.State != rollout.StateCompleted || updated(got) != 4 {
		t.Fatalf("rollout of 1.1.0: %s with %d updated: %+v", got.State, updated(got), got.Gateways)
	}
	for i := 1; i < len(got.Waves); i++ {
		if got.Waves[i].Started.Before(got.Waves[i-1].Ended) {
			t.Errorf("wave %d started at %v, before wave %d ended at %v", i+1, got.Waves[i].Started, i, got.Waves[i-1].Ended)
		}
	}
	out := f.cli("status", ro.ID)
	if !strings.Contains(out, "rollout "+ro.ID+": completed") {
		t.Errorf("rollout status:\n%s", out)
	}
	f.checkListed(ro.ID, "completed", newVersion, 4, 0)
	for _, g := range f.gws {
		st := g.waitStatus("a birth at "+newVersion, func(st telemetry.Status) bool {
			return st.Version == newVersion && st.Update != nil && st.Update.Step == telemetry.UpdateDone
		})
		if st.Update.From != oldVersion || st.Update.To != newVersion || st.Update.Rollout != ro.ID {
			t.Errorf("%s: update report %+v", g.name, st.Update)
		}
		checkSteps(t, g, ro.ID, telemetry.UpdateDone)
		f.checkRunsSlot(g, "a")
		f.checkControllerSees(g, newVersion)
	}
	f.readTags(2)
	f.checkEventsAtController()

	// 1.2.0 exits at start: the canary rolls back to 1.1.0 and the
	// rollout halts before the other three get a command.
	write(t, filepath.Join(f.setup.Bundles, "ngic-edge-1.2.0.ngb"), makeBundle(t, r.p["crash"], "1.2.0", "", r.sig.priv))
	ro = f.start("ngic-edge-1.2.0.ngb")
	canary := f.gateway(ro.Gateways[0].Name)
	canary.waitStep(newVersion, ro.ID+":"+canary.name, telemetry.UpdateRolledBack)
	rollouttest.WaitFor(t, deadline, "the rollout of 1.2.0 to halt", func() bool {
		return f.status(ro.ID).State == rollout.StateHalted
	})
	got = f.status(ro.ID)
	f.t.Logf("rollout of 1.2.0 halted: %s", got.Reason)
	checkSteps(t, canary, ro.ID, telemetry.UpdateRolledBack)
	if !strings.Contains(got.Reason, canary.name) {
		t.Errorf("halted for %q, which names not the canary %s", got.Reason, canary.name)
	}
	for _, rg := range got.Gateways[1:] {
		if rg.State != rollout.GatewayWaiting {
			t.Errorf("%s after the halt: %s", rg.Name, rg.State)
		}
	}
	f.checkListed(ro.ID, "halted", "1.2.0", 0, 1)
	f.checkRunsSlot(canary, "a")
	if got := f.commands.gateways(ro.ID); len(got) != 1 || got[0] != canary.name {
		t.Errorf("commands of the halted rollout reached %v, want only the canary %s", got, canary.name)
	}
	for _, g := range f.gws {
		if g == canary {
			continue
		}
		if steps := g.steps(ro.ID + ":" + g.name); len(steps) != 0 {
			t.Errorf("%s reported steps %v of the halted rollout", g.name, steps)
		}
		f.checkRunsSlot(g, "a")
	}
	f.readTags(3)
	f.checkEventsAtController()
}

// checkSteps checks that g reported the steps of its command of rollout
// id in order, ending with final (a status replaces the one before when
// that one is not sent yet, so some steps may be missing).
func checkSteps(t *testing.T, g *gw, id, final string) {
	t.Helper()
	all := []string{telemetry.UpdateReceived, telemetry.UpdateDownloading, telemetry.UpdateVerified,
		telemetry.UpdateInstalled, telemetry.UpdateRestarting, telemetry.UpdateTrial, final}
	got := g.steps(id + ":" + g.name)
	if len(got) < 2 || got[len(got)-1] != final || !isSubsequence(all, got) {
		t.Errorf("%s reported steps %v, want at least two of %v in order, ending with %s", g.name, got, all, final)
	}
}

// startFleet starts four gateways at oldVersion, each reading an emulated
// EM4100 reader, and a controller whose inventory places them in
// rollouttest.RegionA; it returns once the controller knows their
// versions.
func startFleet(t *testing.T, r *rig, ctlBuilt <-chan struct{}) *fleet {
	t.Helper()
	var names []string
	for range 4 {
		names = append(names, "gw-"+uuid.NewString()[:8])
	}
	acc := shipped(t, names)
	f := &fleet{t: t, readers: map[string]*emulate.Runner{}, commands: watchCommands(t, acc)}
	for _, name := range names {
		reader, pty := emulatetest.Start(t, "em4100")
		extra := fmt.Sprintf("readers:\n  - {name: gate, protocol: em4100, device: %s, depart_after: 300ms}\n", pty.Path)
		g := startGW(t, acc, r.srv, r.sig, gwOpts{name: name, noPoll: true, healthTimeout: "30s", maxBoots: 2, extra: extra,
			health: "5s"})
		f.gws = append(f.gws, g)
		f.readers[g.name] = reader
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	ctlMQTT := "  broker: " + acc.url + "\n" + acc.gateway(t, "ngic-controller")
	f.setup = rollouttest.WriteConfig(t, t.TempDir(), ctlMQTT, httpAddr, r.sig.keyFile, names)
	<-ctlBuilt
	bin, err := buildController()
	if err != nil {
		t.Fatal(err)
	}
	startControllerProc(t, bin, f.setup.Config, httpAddr)
	for _, g := range f.gws {
		g.waitStatus("first birth", func(st telemetry.Status) bool { return st.Version == oldVersion })
	}
	f.setup.WaitVersions(t, len(f.gws))
	return f
}

// startControllerProc runs `ngic-controller run` until the test ends, and
// waits for its API.
func startControllerProc(t *testing.T, bin, cfg, httpAddr string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "controller.log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); lf.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(deadline):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("controller log:\n%s", b)
		}
	})
	rollouttest.WaitFor(t, deadline, "the controller's /healthz", func() bool {
		select {
		case <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("the controller exited:\n%s", b)
		default:
		}
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// cli runs `ngic-controller rollout args...` with the token from its
// file, and returns stdout, failing the test on a non-zero exit.
func (f *fleet) cli(args ...string) string {
	f.t.Helper()
	bin, _ := buildController()
	cmd := exec.Command(bin, append([]string{"rollout", "--api", "http://" + f.setup.HTTP, "--token-file", f.setup.TokenFile}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			out = append(out, ee.Stderr...)
		}
		f.t.Fatalf("rollout %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// start starts a rollout of bundle to RegionA, canary one gateway of four.
func (f *fleet) start(bundle string) *rollout.Rollout {
	f.t.Helper()
	var ro rollout.Rollout
	out := f.cli("start", "--bundle", bundle, "--region", rollouttest.RegionA, "--canary-percent", "25", "--json")
	if err := json.Unmarshal([]byte(out), &ro); err != nil {
		f.t.Fatalf("rollout start: %v: %s", err, out)
	}
	return &ro
}

// status reads a rollout through the CLI's JSON.
func (f *fleet) status(id string) *rollout.Rollout {
	f.t.Helper()
	var ro rollout.Rollout
	out := f.cli("status", id, "--json")
	if err := json.Unmarshal([]byte(out), &ro); err != nil {
		f.t.Fatalf("rollout status: %v: %s", err, out)
	}
	return &ro
}

// checkListed checks the line of rollout id in `rollout list`: its
// state, version, and gateways updated and failed of the four.
func (f *fleet) checkListed(id, state, version string, updated, failed int) {
	f.t.Helper()
	out := f.cli("list")
	for _, line := range strings.Split(out, "\n") {
		if fields := strings.Fields(line); len(fields) >= 7 && fields[0] == id {
			want := []string{id, state, version, fields[3], fmt.Sprint(updated), fmt.Sprint(failed), "4"}
			if !slices.Equal(fields[:7], want) {
				f.t.Errorf("rollout list says %q, want %q", fields[:7], want)
			}
			return
		}
	}
	f.t.Errorf("rollout list without %s:\n%s", id, out)
}

func updated(ro *rollout.Rollout) int {
	n := 0
	for _, g := range ro.Gateways {
		if g.State == rollout.GatewayUpdated {
			n++
		}
	}
	return n
}

func (f *fleet) gateway(name string) *gw {
	f.t.Helper()
	for _, g := range f.gws {
		if g.name == name {
			return g
		}
	}
	f.t.Fatalf("no gateway %s", name)
	return nil
}

// readTags puts tag n in every reader's field until each gateway
// published its arrival, then takes it away until each published its
// departure.
func (f *fleet) readTags(n byte) {
	f.t.Helper()
	tag := []byte{0x10, 0, 0, 0, n}
	for _, present := range []bool{true, false} {
		want := telemetry.TagArrived
		tags := [][]byte{tag}
		if !present {
			want, tags = telemetry.TagDeparted, nil
		}
		before := map[string]int{}
		for _, g := range f.gws {
			before[g.name] = g.eventsOf(want)
			if err := f.readers[g.name].SetTags(tags); err != nil {
				f.t.Fatal(err)
			}
		}
		for _, g := range f.gws {
			g.waitFor(fmt.Sprintf("a %s event of tag %d", want, n), func() bool { return g.eventsOf(want) > before[g.name] })
		}
	}
}

// checkEventsAtController checks that the controller counted, for each
// gateway, every event the gateway published, each once, none missing.
func (f *fleet) checkEventsAtController() {
	f.t.Helper()
	for _, g := range f.gws {
		var doc struct {
			Missing uint64
			Counts  struct{ Events uint64 }
		}
		var published int
		g.waitFor("the controller to count every event published", func() bool {
			g.mu.Lock()
			published = len(g.events)
			g.mu.Unlock()
			f.setup.API(f.t, http.MethodGet, "/api/v1/gateways/"+g.name, nil, &doc)
			return doc.Counts.Events == uint64(published)
		})
		g.checkSpoolDelivered() // the spool where it was, outside the install root
		f.t.Logf("%s: %d events published, counted by the controller", g.name, published)
		if doc.Missing != 0 || published < 4 {
			f.t.Errorf("%s: %d events published, the controller counts %d, %d missing", g.name, published, doc.Counts.Events, doc.Missing)
		}
	}
}

// checkControllerSees waits until the controller says gateway g runs
// version, in its birth and in its health.
func (f *fleet) checkControllerSees(g *gw, version string) {
	f.t.Helper()
	var doc struct {
		Version string
		Health  *telemetry.Health
	}
	g.waitFor("the controller to see version "+version+" in the birth and the health", func() bool {
		f.setup.API(f.t, http.MethodGet, "/api/v1/gateways/"+g.name, nil, &doc)
		return doc.Version == version && doc.Health != nil && doc.Health.Version == version
	})
}

// checkRunsSlot checks that g's state makes slot active, and that the
// supervisor's child runs that slot's binary.
func (f *fleet) checkRunsSlot(g *gw, slot string) {
	f.t.Helper()
	if st := g.state(); st.Active != slot || st.Trial != nil {
		f.t.Errorf("%s: state %+v, want slot %s active", g.name, st, slot)
	}
	var exe string
	g.waitFor("a child", func() bool {
		pid := g.child()
		if pid == 0 {
			return false
		}
		exe, _ = os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		return exe != ""
	})
	if exe != g.layout.SlotBinary(slot) {
		f.t.Errorf("%s runs %s, want %s", g.name, exe, g.layout.SlotBinary(slot))
	}
}

// eventsOf counts the distinct events of type typ the gateway published.
func (g *gw) eventsOf(typ string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.types[typ]
}

// commandWatcher records the update commands published, by command ID.
type commandWatcher struct {
	mu  sync.Mutex
	ids map[string]bool
}

func watchCommands(t *testing.T, acc *access) *commandWatcher {
	t.Helper()
	w := &commandWatcher{ids: map[string]bool{}}
	o := mqtt.NewClientOptions().AddBroker(acc.url)
	acc.client(t, o, "observer-commands")
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("command watcher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	filter := telemetry.CommandTopic("+", telemetry.CommandUpdate)
	tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		if len(m.Payload()) == 0 {
			return // a withdrawal
		}
		cmd, err := telemetry.DecodeUpdateCommand(m.Payload())
		if err != nil {
			t.Errorf("command on %s: %v", m.Topic(), err)
			return
		}
		w.mu.Lock()
		w.ids[cmd.ID] = true
		w.mu.Unlock()
	})
	if !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("command watcher: subscribe: %v", tok.Error())
	}
	return w
}

// gateways returns the gateways that got a command of rollout id.
func (w *commandWatcher) gateways(id string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for cid := range w.ids {
		if gw, ok := strings.CutPrefix(cid, id+":"); ok {
			out = append(out, gw)
		}
	}
	return out
}

// shipped starts mosquitto with the configuration and ACL shipped in
// deploy/mosquitto, with users for the gateways named, ngic-controller,
// and the test's observers ("observer-" + a gateway's name, and
// "observer-commands"), which the ACL used adds, reading every gateway's
// topics and update commands. Every user's password is "pw-" + its name,
// and its client certificate is issued by the broker's PKI.
func shipped(t *testing.T, gateways []string) *access {
	t.Helper()
	acl, err := os.ReadFile(filepath.Join("..", "..", "deploy", "mosquitto", "ngic.acl"))
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{"ngic-controller": "pw-ngic-controller", "observer-commands": "pw-observer-commands"}
	observers := "\n# The test's observers.\nuser observer-commands\ntopic read ngic/v1/cmd/+/update\n"
	for _, g := range gateways {
		users[g], users["observer-"+g] = "pw-"+g, "pw-observer-"+g
		observers += fmt.Sprintf("user observer-%s\ntopic read ngic/v1/gw/%s/#\n", g, g)
	}
	dir := t.TempDir()
	aclFile := filepath.Join(dir, "ngic.acl")
	write(t, aclFile, append(acl, observers...))
	b := testenv.StartMosquittoTLS(t, users, aclFile)
	return &access{url: "ssl://" + b.Addr,
		gateway: func(t *testing.T, user string) string {
			cert, key := b.PKI.Issue(t, user, false)
			pw := filepath.Join(dir, user+".password")
			write(t, pw, []byte(users[user]+"\n"))
			return fmt.Sprintf("  username: %s\n  password_file: %s\n  tls:\n    ca_file: %s\n    cert_file: %s\n    key_file: %s\n",
				user, pw, b.PKI.CAFile, cert, key)
		},
		client: func(t *testing.T, o *mqtt.ClientOptions, user string) {
			certFile, keyFile := b.PKI.Issue(t, user, false)
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				t.Fatal(err)
			}
			ca, err := os.ReadFile(b.PKI.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(ca)
			o.SetUsername(user).SetPassword(users[user]).
				SetTLSConfig(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		}}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
