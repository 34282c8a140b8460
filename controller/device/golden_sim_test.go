package device

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/testenv"
)

// TestGoldenSimulator polls every recording through the project's own
// simulator and compares the document with the golden file made through
// Debian's snmpsimd: the same document, clock aside (the simulator's
// sysUpTime advances). The two recordings that are broken upstream are
// served more completely by the simulator than by snmpsimd, so for them the
// simulator's document must hold at least what snmpsimd's does.
func TestGoldenSimulator(t *testing.T) {
	dir := testenv.Recordings(t)
	sim, _, err := simulator.Load(dir, simulator.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, conn) }()
	defer func() { cancel(); <-done; conn.Close() }()
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	goldenDir := filepath.Join("..", "testdata", "golden")
	for _, name := range recordingNames(t, dir) {
		t.Run(name, func(t *testing.T) {
			s, err := snmp.Dial(snmp.Config{Target: conn.LocalAddr().String(), Version: "2c", Community: name,
				Timeout: 3 * time.Second, Retries: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			pctx, pcancel := context.WithTimeout(context.Background(), time.Minute)
			defer pcancel()
			d, _, err := Collect(pctx, s, set)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(goldenDir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			got := withoutClock(t, goldenJSON(t, d))
			want = withoutClock(t, want)
			if brokenRecordings[name] {
				var g, w Document
				json.Unmarshal(got, &g)
				json.Unmarshal(want, &w)
				if g.Class != w.Class || len(g.Interfaces) < len(w.Interfaces) {
					t.Fatalf("simulator document: class %s, %d interfaces; snmpsimd: class %s, %d interfaces",
						g.Class, len(g.Interfaces), w.Class, len(w.Interfaces))
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("simulator document differs from snmpsimd's golden file:\n%s", firstDiff(got, want))
			}
		})
	}
}

// withoutClock drops sys_uptime_seconds, which advances in the simulator.
func withoutClock(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "sys_uptime_seconds")
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
