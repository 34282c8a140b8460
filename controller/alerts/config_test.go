package alerts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/yamlconf"
	"github.com/ngic/ngic/telemetry"
)

// file is the part of the controller's configuration this package reads.
type file struct {
	Alerts Config `yaml:"alerts"`
}

func decode(t testing.TB, y string) (*file, *yamlconf.Doc, error) {
	t.Helper()
	var f file
	doc, err := yamlconf.Decode("controller.yaml", []byte(y), &f)
	if err != nil {
		return nil, nil, err
	}
	return &f, doc, f.Alerts.Validate(doc, "alerts")
}

const sampleYAML = `alerts:
  rules:
    - name: olt-uplinks
      kind: uplink-down
      after: 1m
      uplinks:
        olt-1: [xe-0/0/1, xe-0/0/2]
      uplink_pattern: "(?i)uplink"
    - name: pon
      kind: pon-drop
      share: 0.5
      min_onts: 8
      clear_after: 30m
    - name: assets
      kind: tag-departed
      severity: major
      epc_prefixes: ["urn:epc:id:sgtin:0614141."]
      tags: [E2003412]
      gtins: ["00614141123452"]
      subjects: [site:village-7]
  webhooks:
    - url: https://alerts.example.net/hook
      token_env: NGIC_TEST_HOOK_TOKEN
      timeout: 5s
  maintenance:
    - subject: site:village-7
      start: 2026-12-01T22:00:00Z
      end: 2026-12-02T02:00:00Z
      reason: fibre splice
  flap:
    count: 4
    window: 30m
    hold: 15m
`

func TestConfigSample(t *testing.T) {
	f, doc, err := decode(t, sampleYAML)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Alerts
	if len(c.Rules) != 3 || c.Rules[0].After != time.Minute || c.Rules[0].Severity != telemetry.SeverityCritical ||
		c.Rules[1].ClearAfter != 30*time.Minute || c.Rules[2].ClearAfter != DefaultClearAfter || c.Rules[2].Severity != "major" {
		t.Fatalf("rules %+v", c.Rules)
	}
	if w := c.Maintenance[0]; !w.Start.Equal(time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)) || w.Reason != "fibre splice" {
		t.Fatalf("window %+v", w)
	}
	if c.Flap.Count != 4 || c.Flap.Hold != 15*time.Minute || c.Webhooks[0].MaxQueue != DefaultWebhookQueue {
		t.Fatalf("flap %+v, webhook %+v", c.Flap, c.Webhooks[0])
	}
	// The token: never in the file, read by ReadSecrets.
	t.Setenv("NGIC_TEST_HOOK_TOKEN", "s3cret")
	read := func(file, env string) (string, error) {
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
		return "", errors.New("environment variable " + env + " is not set")
	}
	if err := c.ReadSecrets(doc, "alerts", read); err != nil || c.Webhooks[0].token != "s3cret" {
		t.Fatalf("token %q, %v", c.Webhooks[0].token, err)
	}
	t.Setenv("NGIC_TEST_HOOK_TOKEN", "")
	err = c.ReadSecrets(doc, "alerts", read)
	if err == nil || !strings.Contains(err.Error(), "line 23: alerts.webhooks[0].token_env: environment variable") {
		t.Fatalf("error %v", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	f, _, err := decode(t, "alerts: {}\n")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, r := range f.Alerts.Rules {
		kinds[r.Kind] = true
		if r.Name != r.Kind || r.Severity == "" {
			t.Fatalf("default rule %+v", r)
		}
	}
	for _, k := range Kinds {
		if !kinds[k] && k != KindTagDeparted {
			t.Fatalf("no default rule of kind %s", k)
		}
	}
	if f.Alerts.Flap.Count != DefaultFlapCount {
		t.Fatalf("flap %+v", f.Alerts.Flap)
	}
}

func TestConfigErrors(t *testing.T) {
	rule := func(body string) string { return "alerts:\n  rules:\n    - name: r\n" + body }
	for _, tc := range []struct{ yaml, want string }{
		{rule("      kind: nope\n"), `line 4: alerts.rules[0].kind: "nope" is not one of device-down`},
		{"alerts:\n  rules:\n    - kind: device-down\n", "alerts.rules[0].name: missing"},
		{"alerts:\n  rules:\n    - {name: a, kind: device-down}\n    - {name: a, kind: door-held}\n",
			`line 4: alerts.rules[1].name: "a" already names alerts.rules[0]`},
		{rule("      kind: device-down\n      after: -1s\n"), "line 5: alerts.rules[0].after: -1s is negative"},
		{rule("      kind: device-down\n      severity: huge\n"), "alerts.rules[0].severity"},
		{rule("      kind: device-down\n      clear_after: 1m\n"), "alerts.rules[0].clear_after: only for the one-shot kinds"},
		{rule("      kind: pon-drop\n      after: 20m\n      clear_after: 10m\n"), "alerts.rules[0].after: 20m0s is not shorter than clear_after"},
		{rule("      kind: pon-drop\n      share: 1.5\n"), "line 5: alerts.rules[0].share: 1.5 is not in (0, 1]"},
		{rule("      kind: dsl-drop\n      min_onts: 3\n"), "alerts.rules[0].min_onts: only for kind pon-drop"},
		{rule("      kind: pon-drop\n      min_onts: -3\n"), "alerts.rules[0].min_onts: -3 is negative"},
		{rule("      kind: device-down\n      share: 0.5\n"), "alerts.rules[0].share: only for kind pon-drop, dsl-drop"},
		{rule("      kind: uplink-down\n"), "alerts.rules[0].uplinks: missing"},
		{rule("      kind: uplink-down\n      uplink_pattern: \"(\"\n"), "line 5: alerts.rules[0].uplink_pattern: error parsing regexp"},
		{rule("      kind: uplink-down\n      uplinks: {olt-1: []}\n"), "alerts.rules[0].uplinks: device \"olt-1\" with no interface"},
		{rule("      kind: tag-departed\n"), "alerts.rules[0].tags: missing"},
		{rule("      kind: tag-departed\n      tags: [xyz]\n"), `alerts.rules[0].tags[0]: "xyz" is not a tag ID in hex`},
		{rule("      kind: tag-departed\n      epc_prefixes: [\"urn:x\"]\n"), "alerts.rules[0].epc_prefixes[0]"},
		{rule("      kind: tag-departed\n      gtins: [\"123\"]\n"), "alerts.rules[0].gtins[0]"},
		{rule("      kind: door-held\n      tags: [E200]\n"), "alerts.rules[0].tags: only for kind tag-departed"},
		{rule("      kind: door-held\n      subjects: [cabinet:1]\n"), "line 5: alerts.rules[0].subjects[0]"},
		{"alerts:\n  webhooks:\n    - url: ftp://x\n", "alerts.webhooks[0].url: not an http"},
		{"alerts:\n  webhooks:\n    - url: http://u:p@x/\n", "alerts.webhooks[0].url: carries credentials"},
		{"alerts:\n  webhooks:\n    - url: http://x/?token=1\n", "alerts.webhooks[0].url: has a query"},
		{"alerts:\n  webhooks:\n    - {url: http://x/, token_file: /a, token_env: B}\n", "alerts.webhooks[0].token_file: give token_file or token_env, not both"},
		{"alerts:\n  webhooks:\n    - {url: http://x/}\n    - {url: http://x/}\n", "alerts.webhooks[1].url: the same URL"},
		{"alerts:\n  webhooks:\n    - {url: http://x/, token: abc}\n", "field token not found"},
		{"alerts:\n  maintenance:\n    - {subject: device:a, start: 2026-12-01T22:00:00Z, end: 2026-12-01T21:00:00Z}\n",
			"line 3: alerts.maintenance[0].end: 2026-12-01T21:00:00Z is not after start"},
		{"alerts:\n  maintenance:\n    - {subject: device:a, end: 2026-12-01T21:00:00Z}\n", "alerts.maintenance[0].start: missing"},
		{"alerts:\n  maintenance:\n    - {subject: room:a}\n", "alerts.maintenance[0].subject"},
		{"alerts:\n  maintenance:\n    - subject: device:a\n      start: tomorrow\n", `line 4: alerts.maintenance[0].start: "tomorrow" is not an RFC 3339 time`},
		{"alerts:\n  maintenance:\n    - subject: device:a\n      start: 2026-12-01\n", `line 4: alerts.maintenance[0].start: "2026-12-01" is not an RFC 3339 time`},
		{"alerts:\n  maintenance:\n    - subject: device:a\n      until: x\n", `line 4: alerts.maintenance[0].until: field until not found`},
		{"alerts:\n  maintenance:\n    - subject: [a]\n", `line 3: alerts.maintenance[0].subject: subject is not a single value`},
		{"alerts:\n  maintenance: [x]\n", `a maintenance window is a mapping`},
		{"alerts:\n  flap:\n    hold: -1m\n", "line 3: alerts.flap.hold: -1m0s is negative"},
	} {
		_, _, err := decode(t, tc.yaml)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\nerror %v\nwant one containing %q", tc.yaml, err, tc.want)
		}
	}
}

// TestReadSecretsFile reads a token from a file with a reader of the
// caller's choosing and names the field when it fails.
func TestReadSecretsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	os.WriteFile(path, []byte("tok\n"), 0o600)
	f, doc, err := decode(t, "alerts:\n  webhooks:\n    - url: http://127.0.0.1:1/\n      token_file: "+path+"\n")
	if err != nil {
		t.Fatal(err)
	}
	read := func(file, env string) (string, error) {
		b, err := os.ReadFile(file)
		return strings.TrimSpace(string(b)), err
	}
	if err := f.Alerts.ReadSecrets(doc, "alerts", read); err != nil || f.Alerts.Webhooks[0].token != "tok" {
		t.Fatalf("token %q, %v", f.Alerts.Webhooks[0].token, err)
	}
	os.Remove(path)
	if err := f.Alerts.ReadSecrets(doc, "alerts", read); err == nil || !strings.Contains(err.Error(), "line 4: alerts.webhooks[0].token_file") {
		t.Fatalf("error %v", err)
	}
}

func FuzzConfig(f *testing.F) {
	f.Add([]byte(sampleYAML))
	f.Add([]byte("alerts: {}\n"))
	f.Add([]byte("alerts:\n  rules:\n    - {name: a, kind: dsl-drop, share: 0.2, min_lines: 1, after: 1s, clear_after: 2s}\n"))
	f.Add([]byte("alerts:\n  maintenance:\n    - {subject: device:a, start: 2026-12-01T22:00:00Z, end: 2026-12-01T23:00:00Z}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl file
		doc, err := yamlconf.Decode("fuzz.yaml", b, &fl)
		if err != nil {
			return
		}
		if err := fl.Alerts.Validate(doc, "alerts"); err != nil {
			if !strings.Contains(err.Error(), "alerts") {
				t.Fatalf("error names no field: %v", err)
			}
			return
		}
		// What validates once validates again, unchanged (New does it).
		again := fl.Alerts
		if err := again.Validate(nil, "alerts"); err != nil {
			t.Fatalf("valid config fails a second Validate: %v", err)
		}
		for _, r := range fl.Alerts.Rules {
			if r.Severity == "" || (IsOneShot(r.Kind) && r.ClearAfter <= r.After) {
				t.Fatalf("rule without its defaults: %+v", r)
			}
		}
	})
}

// TestREADMEExample validates the example of README.md, so that it never
// rots.
func TestREADMEExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\nExample:\n\n")
	if !ok {
		t.Fatal("README.md has no Example")
	}
	var y strings.Builder
	for _, line := range strings.Split(rest, "\n") {
		if line != "" && !strings.HasPrefix(line, "    ") {
			break
		}
		y.WriteString(strings.TrimPrefix(line, "    ") + "\n")
	}
	f, _, err := decode(t, y.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, y.String())
	}
	if len(f.Alerts.Rules) != 5 || len(f.Alerts.Maintenance) != 1 {
		t.Fatalf("example read as %+v", f.Alerts)
	}
}
