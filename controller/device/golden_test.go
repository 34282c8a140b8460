package device

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in controller/testdata/golden")

// brokenRecordings must finish with at least one warning through snmpsimd;
// every other recording with none.
var brokenRecordings = map[string]bool{"cisco_c2950-ios": true, "zte_c320": true}

// brokenOIDs is the table each broken recording's warnings must name:
// cisco_c2950-ios has undecodable ifPhysAddress values where the walk of
// that column ends early; zte_c320 lists two card-table columns out of
// order, which snmpsimd then skips.
var brokenOIDs = map[string]string{
	"cisco_c2950-ios": "1.3.6.1.2.1.2.2.1.6",
	"zte_c320":        "1.3.6.1.4.1.3902.1082.10.1.2.4.1",
}

// goldenJSON renders a document without its timestamp and rates, the way
// the golden files hold it.
func goldenJSON(t testing.TB, d *Document) []byte {
	t.Helper()
	c := *d
	c.PolledAt = time.Time{}
	c.Interfaces = append(make([]Interface, 0, len(d.Interfaces)), d.Interfaces...)
	for i := range c.Interfaces {
		c.Interfaces[i].InBps, c.Interfaces[i].OutBps = nil, nil
		c.Interfaces[i].InErrorsPerS, c.Interfaces[i].OutErrorsPerS = nil, nil
	}
	b, err := json.MarshalIndent(struct {
		*Document
		PolledAt *struct{} `json:"polled_at,omitempty"`
	}{Document: &c}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGoldenSnmpsim polls every recording through Debian's snmpsimd and
// compares the document with controller/testdata/golden/<recording>.json.
func TestGoldenSnmpsim(t *testing.T) {
	dir := testenv.Recordings(t)
	sim := testenv.StartSnmpsim(t, dir)
	set, err := DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	goldenDir := filepath.Join("..", "testdata", "golden")
	for _, name := range recordingNames(t, dir) {
		t.Run(name, func(t *testing.T) {
			s, err := snmp.Dial(snmp.Config{Target: sim.Addr, Version: "2c", Community: name,
				Timeout: 3 * time.Second, Retries: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			d, warns, err := Collect(ctx, s, set)
			if err != nil {
				t.Fatal(err)
			}
			// The broken recordings must warn, naming the device and the
			// OID where objects went missing; every other recording is
			// served whole and must not warn at all.
			if brokenRecordings[name] {
				if len(warns) == 0 {
					t.Errorf("%s is broken upstream but the poll finished without a warning", name)
				}
				for _, w := range warns {
					t.Logf("warning: %v", w)
					if !strings.Contains(w.Error(), sim.Addr) || !strings.Contains(w.Error(), brokenOIDs[name]) {
						t.Errorf("warning %q names neither the device nor %s", w, brokenOIDs[name])
					}
				}
			} else {
				for _, w := range warns {
					t.Errorf("unexpected warning for a whole recording: %v", w)
				}
			}
			got := goldenJSON(t, d)
			path := filepath.Join(goldenDir, name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("document differs from %s (run with -update after checking):\n%s", path, firstDiff(got, want))
			}
		})
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y []byte
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if !bytes.Equal(x, y) {
			return "line " + itoa(i+1) + ":\n got: " + string(x) + "\nwant: " + string(y)
		}
	}
	return ""
}

func itoa(i int) string { return fmtInt(i) }

func fmtInt(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
