// Package rollouttest helps test rollouts: signed bundles made on the fly,
// and simulated gateways that speak the update protocol of telemetry (a
// command on their command topic, every step reported in their retained
// status) over a real broker.
package rollouttest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/bundle"
	"github.com/ngic/ngic/telemetry"
)

// Keys is a signing key pair, and the file of its public key.
type Keys struct {
	Public  ed25519.PublicKey
	Private ed25519.PrivateKey
	// File holds the public key as a trust file.
	File string
}

// NewKeys makes a key pair and writes its trust file in dir.
func NewKeys(t testing.TB, dir string) *Keys {
	t.Helper()
	pub, priv, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k := &Keys{Public: pub, Private: priv, File: filepath.Join(dir, fmt.Sprintf("trusted-%s.pub", bundle.KeyID(pub)))}
	if err := os.WriteFile(k.File, []byte(bundle.FormatPublicKey(pub)), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

// WriteBundle writes a signed bundle of ngic-edge at version, for
// linux/arm64, named name in dir, and returns its SHA-256.
func (k *Keys) WriteBundle(t testing.TB, dir, name, version string) string {
	t.Helper()
	payload := []byte("#!/bin/sh\necho ngic-edge " + version + "\n" + strings.Repeat("x", 64<<10))
	src := bundle.Source{Path: "bin/ngic-edge", Mode: 0o755,
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(payload)), nil }}
	var buf bytes.Buffer
	m := bundle.Manifest{Name: "ngic-edge", Version: version, OS: "linux", Arch: "arm64"}
	if _, err := bundle.Create(&buf, m, []bundle.Source{src}, k.Private); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

// Outcome decides how a simulated gateway's update of a command ends: a
// final step (telemetry.UpdateDone, UpdateRolledBack, ...) and its reason;
// an empty step leaves the update hanging after UpdateTrial.
type Outcome func(cmd *telemetry.UpdateCommand) (step, reason string)

// Succeed is the Outcome of a healthy update.
func Succeed(*telemetry.UpdateCommand) (string, string) { return telemetry.UpdateDone, "" }

// RollBack is the Outcome of a new version that proves unhealthy.
func RollBack(*telemetry.UpdateCommand) (string, string) {
	return telemetry.UpdateRolledBack, "health check failed: readers not open"
}

// Gateway is a simulated gateway: it publishes its retained status with
// its version, takes update commands on its command topic, and reports
// every step of each update, once per command ID.
type Gateway struct {
	// Name and Broker (host:port) say who and where.
	Name, Broker string
	// Outcome decides how updates end (default Succeed).
	Outcome Outcome
	// Download fetches the command's URL and checks its SHA-256 and size
	// (a mismatch fails the update).
	Download bool

	t  testing.TB
	mu sync.Mutex
	c  mqtt.Client
	// version is the version it runs; commands the commands received,
	// acted the command IDs it acted on.
	version  string
	commands []telemetry.UpdateCommand
	acted    map[string]bool
	last     time.Time
}

// StartGateway connects a simulated gateway running version to the broker.
func StartGateway(t testing.TB, broker, name, version string, outcome Outcome) *Gateway {
	t.Helper()
	g := &Gateway{Name: name, Broker: broker, Outcome: outcome, t: t, version: version, acted: map[string]bool{}}
	if g.Outcome == nil {
		g.Outcome = Succeed
	}
	g.Connect()
	t.Cleanup(g.Disconnect)
	return g
}

// Connect (again) connects the gateway: it publishes its status and
// subscribes to its command topic, where a retained command waits.
func (g *Gateway) Connect() {
	g.t.Helper()
	o := mqtt.NewClientOptions().AddBroker("tcp://" + g.Broker).SetClientID("sim-" + g.Name).SetCleanSession(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		g.t.Fatalf("gateway %s: connect: %v", g.Name, tok.Error())
	}
	g.mu.Lock()
	g.c = c
	g.mu.Unlock()
	g.publishStatus(nil)
	tok := c.Subscribe(telemetry.CommandTopic(g.Name, telemetry.CommandUpdate), 1, func(_ mqtt.Client, m mqtt.Message) {
		if len(m.Payload()) == 0 {
			return // withdrawn
		}
		cmd, err := telemetry.DecodeUpdateCommand(m.Payload())
		if err != nil {
			g.t.Errorf("gateway %s: command refused: %v", g.Name, err)
			return
		}
		go g.act(cmd)
	})
	if !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		g.t.Fatalf("gateway %s: subscribe: %v", g.Name, tok.Error())
	}
}

// Disconnect takes the gateway offline (its status stays retained).
func (g *Gateway) Disconnect() {
	g.mu.Lock()
	c := g.c
	g.c = nil
	g.mu.Unlock()
	if c != nil {
		c.Disconnect(100)
	}
}

// Version returns the version it runs.
func (g *Gateway) Version() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.version
}

// Commands returns the commands it received.
func (g *Gateway) Commands() []telemetry.UpdateCommand {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]telemetry.UpdateCommand(nil), g.commands...)
}

// act runs one update, once per command ID.
func (g *Gateway) act(cmd *telemetry.UpdateCommand) {
	g.mu.Lock()
	g.commands = append(g.commands, *cmd)
	if g.acted[cmd.ID] {
		g.mu.Unlock()
		return
	}
	g.acted[cmd.ID] = true
	from := g.version
	g.mu.Unlock()
	rep := telemetry.UpdateReport{ID: cmd.ID, Rollout: cmd.Rollout, From: from, To: cmd.Version}
	for _, step := range []string{telemetry.UpdateReceived, telemetry.UpdateDownloading, telemetry.UpdateVerified,
		telemetry.UpdateInstalled, telemetry.UpdateRestarting, telemetry.UpdateTrial} {
		if step == telemetry.UpdateVerified && g.Download {
			if err := fetch(cmd); err != nil {
				rep.Step, rep.Reason = telemetry.UpdateFailed, err.Error()
				g.publishStatus(&rep)
				return
			}
		}
		rep.Step = step
		g.publishStatus(&rep)
	}
	step, reason := g.Outcome(cmd)
	if step == "" {
		return
	}
	rep.Step, rep.Reason = step, reason
	if step == telemetry.UpdateDone {
		g.mu.Lock()
		g.version = cmd.Version
		g.mu.Unlock()
	}
	g.publishStatus(&rep)
}

// fetch downloads the command's bundle in two ranges, as an agent
// resuming a download does, and checks its size and SHA-256.
func fetch(cmd *telemetry.UpdateCommand) error {
	var got []byte
	for _, rng := range []string{fmt.Sprintf("bytes=0-%d", cmd.Size/2-1), fmt.Sprintf("bytes=%d-", cmd.Size/2)} {
		req, err := http.NewRequest(http.MethodGet, cmd.URL, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Range", rng)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusPartialContent {
			return fmt.Errorf("download: %s for %s", resp.Status, rng)
		}
		got = append(got, b...)
	}
	sum := sha256.Sum256(got)
	if int64(len(got)) != cmd.Size || hex.EncodeToString(sum[:]) != cmd.SHA256 {
		return fmt.Errorf("download: %d bytes of SHA-256 %x, want %d of %s", len(got), sum, cmd.Size, cmd.SHA256)
	}
	return nil
}

// publishStatus publishes the gateway's retained status with rep.
func (g *Gateway) publishStatus(rep *telemetry.UpdateReport) {
	g.mu.Lock()
	c := g.c
	now := time.Now().UTC()
	if !now.After(g.last) {
		now = g.last.Add(time.Microsecond)
	}
	g.last = now
	st := &telemetry.Status{V: telemetry.SchemaVersion, Gateway: g.Name, State: telemetry.StateOnline, Time: &now,
		Version: g.version}
	g.mu.Unlock()
	if rep != nil {
		r := *rep
		r.Time = now
		st.Update = &r
	}
	if c == nil {
		return
	}
	b, err := telemetry.EncodeStatus(st)
	if err != nil {
		g.t.Errorf("gateway %s: status: %v", g.Name, err)
		return
	}
	// A status not published (the gateway disconnected meanwhile) shows
	// in the test as a step never reported; it is not logged, since the
	// test may have ended.
	c.Publish(telemetry.StatusTopic(g.Name), 1, true, b).WaitTimeout(20 * time.Second)
}

// WaitFor waits until cond holds, checking every 20ms, failing t after
// within.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Regions of Setup's inventory: the gateways targeted stand in RegionA,
// one more (OtherGateway) in RegionB.
const (
	RegionA      = "630100000000"
	RegionB      = "630200000000"
	OtherGateway = "gw-other"
	// Bundle is the bundle file of version BundleVersion that Setup writes;
	// the gateways run OldVersion.
	Bundle        = "ngic-edge-1.1.0.ngb"
	BundleVersion = "1.1.0"
	OldVersion    = "1.0.0"
)

// Setup is a controller's configuration for rollout tests: an inventory
// of gateways gw-00.. in RegionA, a signed bundle, its trusted key, and
// an admin token.
type Setup struct {
	// Config is the configuration file; StateDir its state folder.
	Config, StateDir string
	// Token is the admin token, TokenFile the file holding it.
	Token, TokenFile string
	// HTTP is the controller's listen address.
	HTTP string
	// Gateways are the gateways of RegionA, sorted.
	Gateways []string
	// SHA256 is the bundle's.
	SHA256 string
	// Bundles is the controller's bundles folder.
	Bundles string
}

// WriteSetup writes, in dir, a configuration with an external broker,
// the API at httpAddr with an admin token, a rollout section whose
// base_url is that address, an inventory of n gateways gw-00.. in
// RegionA, and a bundle (Bundle) signed by a key of its own.
func WriteSetup(t testing.TB, dir, broker, httpAddr string, n int) *Setup {
	t.Helper()
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("gw-%02d", i))
	}
	keys := NewKeys(t, dir)
	s := WriteConfig(t, dir, "  broker: tcp://"+broker+"\n", httpAddr, keys.File, names)
	s.SHA256 = keys.WriteBundle(t, s.Bundles, Bundle, BundleVersion)
	return s
}

// WriteConfig writes, in dir, what WriteSetup does but the bundle: the
// gateways named stand in RegionA, the controller trusts the keys of
// keysFile, and mqtt is its mqtt section's lines, indented ("  broker:
// tcp://127.0.0.1:1883\n", and credentials). The bundles folder
// (Setup.Bundles) is left empty.
func WriteConfig(t testing.TB, dir, mqtt, httpAddr, keysFile string, gateways []string) *Setup {
	t.Helper()
	s := &Setup{Config: filepath.Join(dir, "controller.yaml"), StateDir: filepath.Join(dir, "state"),
		Token: "rollout-admin-token-0123456789", TokenFile: filepath.Join(dir, "token"), HTTP: httpAddr,
		Bundles: filepath.Join(dir, "bundles"), Gateways: slices.Sorted(slices.Values(gateways))}
	inv := filepath.Join(dir, "inventory")
	for _, d := range []string{inv, s.Bundles} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gws := "gateway,site\n"
	for _, name := range s.Gateways {
		gws += name + ",site-a\n"
	}
	gws += OtherGateway + ",site-b\n"
	files := map[string]string{
		"inventory/regions.csv": "code,name,parent,level,population,households,lat,lon,priority\n" +
			"630000000000,Province,,province,,,,,\n" + RegionA + ",County A,630000000000,county,,,,,\n" +
			RegionB + ",County B,630000000000,county,,,,,\n",
		"inventory/sites.csv":    "id,name,region,lat,lon,kind\nsite-a,Site A," + RegionA + ",36.6,101.7,cabinet\nsite-b,Site B," + RegionB + ",36.7,101.9,cabinet\n",
		"inventory/devices.csv":  "id,site,address,credentials,parent\n",
		"inventory/gateways.csv": gws,
		"token":                  s.Token + "\n",
		"controller.yaml": fmt.Sprintf(`inventory: inventory
mqtt:
%shttp:
  listen: %s
  tokens:
    - {name: ops, file: %s, role: admin}
state_dir: %s
rollout:
  bundles: %s
  keys: %s
  base_url: http://%s
  timeout: 2m
`, mqtt, httpAddr, s.TokenFile, s.StateDir, s.Bundles, keysFile, httpAddr),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// API sends a request to the controller's API with the setup's token,
// decodes a 2xx answer into out (when not nil) and returns the status.
func (s *Setup) API(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	resp, b := s.Do(t, method, path, body)
	if resp.StatusCode/100 != 2 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	} else if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// Do sends a request to the controller's API with the setup's token and
// body (JSON, when not nil), and returns the answer with its body read.
func (s *Setup) Do(t testing.TB, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+s.HTTP+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// WaitVersions waits until the controller knows that n gateways run
// OldVersion (their statuses were taken in).
func (s *Setup) WaitVersions(t testing.TB, n int) {
	t.Helper()
	WaitFor(t, 2*time.Minute, "the controller to know the gateways' versions", func() bool {
		var l struct {
			Items []struct{ Name, Version string }
		}
		s.API(t, "GET", "/api/v1/gateways?limit=1000", nil, &l)
		known := 0
		for _, g := range l.Items {
			if g.Version == OldVersion {
				known++
			}
		}
		return known == n
	})
}
