package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/snmp"
)

// Secret values the tests hand out; none may ever show in an error.
const (
	testCommunity = "c0mmunity-S3CRET"
	testAuth      = "auth-S3CRET-pass"
	testPriv      = "priv-S3CRET-pass"
	testInline    = "inline-S3CRET"
)

func setSampleEnv(t *testing.T) {
	t.Setenv("NGIC_LAB_COMMUNITY", testCommunity)
	t.Setenv("NGIC_CORE_AUTH_PASS", testAuth)
	t.Setenv("NGIC_CORE_PRIV_PASS", testPriv)
}

// TestSampleConfig loads deploy/controller so it never rots: the SNMP
// secrets from the environment, the inventory from its folder. The MQTT
// and InfluxDB files (/etc/ngic/...) exist only on the controller's host.
func TestSampleConfig(t *testing.T) {
	setSampleEnv(t)
	c, err := LoadNoHost("../../deploy/controller/controller.yaml")
	if err != nil {
		t.Fatal(err)
	}
	devs, err := c.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 4 || len(c.LoadedInventory().Gateways) != 2 {
		t.Fatalf("devices %d, gateways %d", len(devs), len(c.LoadedInventory().Gateways))
	}
	by := map[string]DeviceConfig{}
	for _, d := range devs {
		by[d.ID] = d
		if !strings.HasPrefix(d.SNMP.Target, "127.0.0.1:") {
			t.Errorf("%s: target %s", d.ID, d.SNMP.Target)
		}
	}
	olt, cmts, dslam := by["olt-01"], by["cmts-01"], by["dslam-07"]
	if olt.SNMP.Version != "2c" || olt.SNMP.Community != testCommunity || olt.Interval != 30*time.Second || olt.SNMP.MaxRepetitions != 50 {
		t.Errorf("olt-01 (override): %+v", olt)
	}
	if cmts.SNMP.Version != "3" || cmts.SNMP.V3.User != "ngic-poller" || cmts.SNMP.V3.AuthPass != testAuth ||
		cmts.SNMP.V3.PrivPass != testPriv || cmts.Interval != time.Minute || cmts.SNMP.MaxRepetitions != 25 {
		t.Errorf("cmts-01 (v3): %+v", cmts)
	}
	if dslam.Parent != "olt-01" || dslam.SNMP.Community != "public" || dslam.Site != "cabinet-0142" {
		t.Errorf("dslam-07 (inline, parent): %+v", dslam)
	}
	if c.InfluxDB == nil || c.MQTT.ClientID != "ngic-controller" || len(c.Alerts.Rules) != 5 {
		t.Errorf("config: %+v", c)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("t.yaml", []byte("inventory: inv\nmqtt:\n  embedded: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Poll
	if p.Interval != DefaultPollInterval || p.Timeout != snmp.DefaultTimeout || *p.Retries != snmp.DefaultRetries ||
		p.MaxRepetitions != snmp.DefaultMaxRepetitions || p.Concurrency != DefaultConcurrency ||
		c.MQTT.Listen != DefaultEmbeddedListen || c.MQTT.ClientID != DefaultClientID ||
		c.HTTP.Listen != DefaultHTTPListen || c.StateDir != DefaultStateDir || c.InfluxDB != nil {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = Parse("t.yaml", []byte("inventory: inv\nmqtt:\n  broker: tcp://h:1883\n  username: ngic-controller-2\n"+
		"influxdb:\n  url: http://h:8086\n  bucket: b\npoll:\n  retries: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.ClientID != "ngic-controller-2" || c.InfluxDB.MaxBytes != DefaultInfluxMaxBytes ||
		c.InfluxDB.BufferPath != "/var/lib/ngic-controller/influx-buffer.db" || *c.Poll.Retries != 0 {
		t.Fatalf("defaults: %+v %+v", c.MQTT, c.InfluxDB)
	}
}

// TestErrorsNameFieldAndLine: each bad configuration is refused with the
// field's path and its line.
func TestErrorsNameFieldAndLine(t *testing.T) {
	const head = "inventory: inv\nmqtt:\n  broker: tcp://127.0.0.1:1883\n" // lines 1-3
	v3 := func(extra string) string {
		return head + "credentials:\n  c3:\n    version: 3\n    user: u\n" + extra // c3 on line 5
	}
	for _, tc := range []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"unknown key", head + "pol:\n  interval: 1s\n", 4, "pol"},
		{"unknown nested key", head + "poll:\n  intervall: 1s\n", 5, "intervall"},
		{"inline community", head + "credentials:\n  a:\n    version: 2c\n    community: public\n", 7, "community"},
		{"no inventory", "mqtt:\n  embedded: true\n", 1, "inventory"},
		{"bad version", head + "credentials:\n  a:\n    version: 4\n", 6, "credentials.a.version"},
		{"no version", head + "credentials:\n  a:\n    community_env: X\n", 6, "credentials.a.version"},
		{"bad cred name", head + "credentials:\n  'a.b':\n    version: 2c\n    community_env: X\n", 5, "credentials.a.b"},
		{"no community", head + "credentials:\n  a:\n    version: 2c\n", 6, "credentials.a.community_file"},
		{"both community", head + "credentials:\n  a:\n    version: 1\n    community_env: X\n    community_file: /f\n", 8, "credentials.a.community_file"},
		{"v2c with user", head + "credentials:\n  a:\n    version: 2c\n    community_env: X\n    user: u\n", 8, "credentials.a.user"},
		{"v3 community", v3("    community_env: X\n"), 6, "credentials.c3.version"},
		{"v3 no user", head + "credentials:\n  c3:\n    version: 3\n", 6, "credentials.c3.user"},
		{"bad auth proto", v3("    auth_proto: SHA-1024\n    auth_pass_env: A\n"), 8, "credentials.c3.auth_proto"},
		{"bad priv proto", v3("    auth_proto: SHA\n    auth_pass_env: A\n    priv_proto: ROT13\n    priv_pass_env: P\n"), 10, "credentials.c3.priv_proto"},
		{"priv without auth", v3("    priv_proto: AES\n    priv_pass_env: P\n"), 8, "credentials.c3.priv_proto"},
		{"auth without pass", v3("    auth_proto: SHA\n"), 6, "credentials.c3.auth_pass_file"},
		{"pass without auth", v3("    auth_pass_file: /f\n"), 8, "credentials.c3.auth_pass_file"},
		{"interval", head + "poll:\n  interval: 10ms\n", 5, "poll.interval"},
		{"timeout", head + "poll:\n  timeout: 1ms\n", 5, "poll.timeout"},
		{"retries", head + "poll:\n  retries: 11\n", 5, "poll.retries"},
		{"negative retries", head + "poll:\n  retries: -1\n", 5, "poll.retries"},
		{"concurrency", head + "poll:\n  concurrency: -3\n", 5, "poll.concurrency"},
		{"max_repetitions", head + "poll:\n  max_repetitions: 101\n", 5, "poll.max_repetitions"},
		{"history", head + "poll:\n  history: -1\n", 5, "poll.history"},
		{"offline_after", head + "ingest:\n  offline_after: 1s\n", 5, "ingest.offline_after"},
		{"max_payload", head + "ingest:\n  max_payload: 100\n", 5, "ingest.max_payload"},
		{"override", head + "poll:\n  overrides:\n    olt-01:\n      retries: 99\n", 7, "poll.overrides.olt-01.retries"},
		{"bad duration", head + "poll:\n  interval: soon\n", 5, "poll.interval"},
		{"no broker", "inventory: inv\nmqtt:\n  username: u\n", 3, "mqtt.broker"},
		{"broker and embedded", head + "  embedded: true\n", 3, "mqtt.broker"},
		{"broker credentials", "inventory: inv\nmqtt:\n  broker: tcp://u:p@h:1883\n", 3, "mqtt.broker"},
		{"broker scheme", "inventory: inv\nmqtt:\n  broker: http://h:1883\n", 3, "mqtt.broker"},
		{"tls on tcp", head + "  tls:\n    ca_file: /ca.pem\n", 5, "mqtt.tls.ca_file"},
		{"tls on embedded", "inventory: inv\nmqtt:\n  embedded: true\n  tls:\n    cert_file: /c\n    key_file: /k\n", 5, "mqtt.tls.cert_file"},
		{"cert without key", "inventory: inv\nmqtt:\n  broker: ssl://h:8883\n  tls:\n    cert_file: /c\n", 5, "mqtt.tls"},
		{"listen without embedded", head + "  listen: 127.0.0.1:1883\n", 4, "mqtt.listen"},
		{"embedded listen", "inventory: inv\nmqtt:\n  embedded: true\n  listen: nowhere\n", 4, "mqtt.listen"},
		{"password without user", head + "  password_file: /pw\n", 4, "mqtt.password_file"},
		{"influx url", head + "influxdb:\n  url: ftp://h\n  bucket: b\n", 5, "influxdb.url"},
		{"influx url credentials", head + "influxdb:\n  url: http://u:p@h:8086\n  bucket: b\n", 5, "influxdb.url"},
		{"influx token and user", head + "influxdb:\n  url: http://h:8086\n  bucket: b\n  org: o\n  token_file: /t\n  user: u\n  password_file: /p\n", 8, "influxdb.token_file"},
		{"influx user alone", head + "influxdb:\n  url: http://h:8086\n  bucket: b\n  user: u\n", 7, "influxdb.user"},
		{"influx no bucket", head + "influxdb:\n  url: http://h:8086\n", 5, "influxdb.bucket"},
		{"influx token no org", head + "influxdb:\n  url: http://h:8086\n  bucket: b\n  token_file: /t\n", 5, "influxdb.org"},
		{"influx max_bytes", head + "influxdb:\n  url: http://h:8086\n  bucket: b\n  max_bytes: 100\n", 7, "influxdb.max_bytes"},
		{"http listen", head + "http:\n  listen: 127.0.0.1\n", 5, "http.listen"},
		{"rule kind", head + "alerts:\n  rules:\n    - name: a\n      kind: nonsense\n", 7, "alerts.rules[0].kind"},
		{"rule name", head + "alerts:\n  rules:\n    - name: a\n      kind: door-held\n    - name: a\n      kind: device-down\n", 8, "alerts.rules[1].name"},
		{"rule after", head + "alerts:\n  rules:\n    - name: a\n      kind: door-held\n      after: -1s\n", 8, "alerts.rules[0].after"},
		{"webhook", head + "alerts:\n  webhooks:\n    - url: http://u:p@h/x\n", 6, "alerts.webhooks[0].url"},
		{"two documents", head + "---\ninventory: x\n", 4, "second YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if want := fmt.Sprintf("line %d: ", tc.line); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %q and %q", err, tc.want, want)
			}
			if strings.Contains(err.Error(), ":p@") {
				t.Fatalf("error repeats the URL's credentials: %v", err)
			}
		})
	}
}

// writeSetup writes a configuration, its inventory and secret files into a
// new folder and returns the configuration's path.
func writeSetup(t *testing.T, yaml, devices, gateways string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, s string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("community", testCommunity+"\n")
	write("auth", testAuth+"\n")
	write("priv", testPriv+"\n")
	write("short", "short\n")
	write("empty", "")
	write("two-lines", testAuth+"\n"+testPriv+"\n")
	write("mqtt-pw", testAuth+"\n")
	write("inv/devices.csv", devices)
	write("inv/gateways.csv", gateways)
	yaml = strings.ReplaceAll(yaml, "DIR", dir)
	write("controller.yaml", yaml)
	return filepath.Join(dir, "controller.yaml")
}

const (
	goodYAML = `inventory: inv
credentials:
  v2:
    version: 2c
    community_file: DIR/community
  v3:
    version: 3
    user: u
    auth_proto: SHA
    auth_pass_file: DIR/auth
    priv_proto: AES
    priv_pass_env: NGIC_TEST_PRIV
mqtt:
  embedded: true
`
	goodDevices  = "id,site,address,credentials,parent\na,s1,127.0.0.1:1161,v2,\nb,s1,127.0.0.1:1162,v3,a\nc,s2,127.0.0.1,community:" + testInline + ",b\n"
	goodGateways = "gateway,site\ng1,s1\n"
)

func TestLoad(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	c, err := Load(writeSetup(t, goodYAML, goodDevices, goodGateways))
	if err != nil {
		t.Fatal(err)
	}
	devs, _ := c.Devices()
	if len(devs) != 3 || devs[0].SNMP.Community != testCommunity || devs[1].SNMP.V3.AuthPass != testAuth ||
		devs[1].SNMP.V3.PrivPass != testPriv || devs[2].SNMP.Community != testInline || devs[2].SNMP.Target != "127.0.0.1" ||
		devs[2].SNMP.Retries != snmp.DefaultRetries || devs[2].Parent != "b" {
		t.Fatalf("devices: %+v", devs)
	}
}

// TestLoadErrors: secrets, inventory and host files that Load refuses, each
// naming the field and line, or the CSV file, line and column; and no error
// ever holds a secret.
func TestLoadErrors(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	hdr := "id,site,address,credentials,parent\n"
	for _, tc := range []struct {
		name                   string
		yaml, devices, gateway string
		want                   string
	}{
		{"missing secret file", strings.Replace(goodYAML, "DIR/auth", "DIR/nope", 1), "", "", "line 10: credentials.v3.auth_pass_file"},
		{"empty secret file", strings.Replace(goodYAML, "DIR/community", "DIR/empty", 1), "", "", "line 5: credentials.v2.community_file"},
		{"two-line secret", strings.Replace(goodYAML, "DIR/auth", "DIR/two-lines", 1), "", "", "more than one line"},
		{"short v3 pass", strings.Replace(goodYAML, "DIR/auth", "DIR/short", 1), "", "", "line 10: credentials.v3.auth_pass_file: the auth_pass is shorter than 8"},
		{"unset env", strings.Replace(goodYAML, "NGIC_TEST_PRIV", "NGIC_TEST_UNSET", 1), "", "", "line 12: credentials.v3.priv_pass_env: environment variable NGIC_TEST_UNSET is not set"},
		{"mqtt password file", goodYAML + "  username: u\n  password_file: DIR/nope\n", "", "", "mqtt.password_file"},
		{"override of unknown device", goodYAML + "poll:\n  overrides:\n    zz:\n      retries: 2\n", "", "", "line 18: poll.overrides.zz: device \"zz\" is not in"},
		{"no header", "", "a,s1,127.0.0.1,v2\n", "", "devices.csv:1:1: the header must be id,site,address,credentials[,parent]"},
		{"empty devices", "", "\n", "", "devices.csv: empty"},
		{"unknown credentials", "", hdr + "a,s,127.0.0.1,v2,\nb,s,127.0.0.1,public,\n", "", "devices.csv:3:15: credentials: not a name"},
		{"duplicate id", "", hdr + "a,s,127.0.0.1,v2,\na,s,127.0.0.2,community:" + testInline + ",\n", "", "devices.csv:3:1: id: device \"a\" already on line 2"},
		{"bad address", "", hdr + "a,s,127.0.0.1:99999,community:" + testInline + ",\n", "", "devices.csv:2:5: address: port \"99999\""},
		{"bad host", "", hdr + "a,s,bad_host!,v2,\n", "", "devices.csv:2:5: address"},
		{"empty site", "", hdr + "a,,127.0.0.1,v2,\n", "", "devices.csv:2:3: site: empty"},
		{"bad id", "", hdr + "a/b,s,127.0.0.1,v2,\n", "", "devices.csv:2:1: id:"},
		{"empty inline", "", hdr + "a,s,127.0.0.1,community:,\n", "", "devices.csv:2:15: credentials"},
		{"missing parent", "", hdr + "a,s,127.0.0.1,community:" + testInline + ",zz\n", "", "devices.csv:2:" + fmt.Sprint(16+len("community:"+testInline)) + ": parent: device \"zz\" is not in the file"},
		{"self parent", "", hdr + "a,s,127.0.0.1,v2,a\n", "", "devices.csv:2:18: parent: device \"a\" is its own parent"},
		{"parent cycle", "", hdr + "a,s,127.0.0.1,v2,c\nb,s,127.0.0.1,v2,a\nc,s,127.0.0.1,v2,b\n", "", "parent: a cycle of parents: a -> c -> b -> a"},
		{"field count", "", hdr + "a,s,127.0.0.1,v2\n", "", "devices.csv:2:1: wrong number of fields"},
		{"bare quote", "", hdr + "a,s,127.0.0.1,v2,x\"y\n", "", "devices.csv:2:"},
		{"gateway header", "", "", "name,site\n", "gateways.csv:1:1: the header must be gateway,site"},
		{"duplicate gateway", "", "", "gateway,site\ng1,s\ng2,s\ng1,t\n", "gateways.csv:4:1: gateway: gateway \"g1\" already on line 2"},
		{"gateway site", "", "", "gateway,site\ng1,\n", "gateways.csv:2:4: site: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, d, g := or(tc.yaml, goodYAML), or(tc.devices, goodDevices), or(tc.gateway, goodGateways)
			_, err := Load(writeSetup(t, y, d, g))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %q", err, tc.want)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

// assertNoSecret fails when s holds a secret value handed out by the tests.
func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testCommunity, testAuth, testPriv, testInline, "S3CRET"} {
		if strings.Contains(s, secret) {
			t.Fatalf("a secret shows: %s", s)
		}
	}
}

func TestReadSecretBounded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	os.WriteFile(p, []byte(strings.Repeat("S3CRET", 1000)), 0o600)
	_, err := ReadSecret(p, "")
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("big file: %v", err)
	}
	assertNoSecret(t, err.Error())
}

func TestProtocolsAreSNMPs(t *testing.T) {
	for _, p := range []string{"MD5", "SHA", "sha256", "SHA-512"} {
		if !snmp.ValidAuthProto(p) {
			t.Errorf("auth %s refused", p)
		}
	}
	for _, p := range []string{"DES", "AES", "aes256", "AES-256-C"} {
		if !snmp.ValidPrivProto(p) {
			t.Errorf("priv %s refused", p)
		}
	}
	if snmp.ValidAuthProto("SHA-1024") || snmp.ValidPrivProto("3DES") {
		t.Error("unknown protocol accepted")
	}
}
