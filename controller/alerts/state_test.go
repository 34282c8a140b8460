package alerts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// stateSeeds are state files, whole and not, for FuzzState.
var stateSeeds = []string{
	`{"v":1,"conds":[]}`,
	`{"v":1,"conds":[{"rule":"down","subject":{"type":"device","id":"olt-1"},"active":true,` +
		`"since":"2026-11-29T10:00:00Z","last":"2026-11-29T10:00:00Z","alert":{"v":1,"id":"0123456789abcdef",` +
		`"rule":"down","kind":"device-down","severity":"critical","state":"firing","subject":{"type":"device","id":"olt-1"},` +
		`"started":"2026-11-29T10:00:00Z","updated":"2026-11-29T10:00:00Z","ack":{"by":"ops","at":"2026-11-29T10:01:00Z"}},"notified":true}]}`,
	`{"v":1,"conds":[],"windows":[{"id":"api-1","subject":"site:x","start":"2026-11-29T10:00:00Z",` +
		`"end":"2026-11-29T23:00:00Z","reason":"r","source":"api"}]}`,
	`{"v":1,"conds":[],"recent":[{"v":1,"id":"a1","rule":"down","kind":"device-down","severity":"major",` +
		`"state":"resolved","subject":{"type":"gateway","id":"gw-1"},"started":"2026-11-29T10:00:00Z",` +
		`"resolved":"2026-11-29T10:05:00Z","updated":"2026-11-29T10:05:00Z"}]}`,
	`{"v":2,"conds":[]}`,
	`{"v":1,"conds":[{"rule":"down","flaps":["2026-11-29T10:00:00Z"]}]}`,
	`{"v":1,"conds":[],"windows":[{"id":"api-1","subject":"cabinet:x","source":"api"}]}`,
	`[1,2]`,
	``,
}

// FuzzState: whatever the state file holds, New loads it or refuses it
// with ErrDamaged; what it loads it saves and loads again alike.
func FuzzState(f *testing.F) {
	for _, s := range stateSeeds {
		f.Add([]byte(s))
	}
	cfg := Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "alerts.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		clk := &clock{t: t0}
		o := Options{StatePath: path, Now: clk.Now}
		e, err := New(cfg, o)
		if err != nil {
			return
		}
		open, recent, windows := e.Open(), e.Recent(DefaultRecent), e.Maintenance()
		e.dirty = true
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		e2, err := New(cfg, o)
		if err != nil {
			t.Fatalf("a saved state does not load: %v", err)
		}
		defer e2.Close()
		if got := e2.Open(); len(got) != len(open) {
			t.Fatalf("open %d, then %d", len(open), len(got))
		}
		if got := e2.Recent(DefaultRecent); len(got) < len(recent) {
			t.Fatalf("recent %d, then %d", len(recent), len(got))
		}
		if got := e2.Maintenance(); len(got) != len(windows) {
			t.Fatalf("windows %d, then %d", len(windows), len(got))
		}
	})
}

// TestWriteStateAsMarshal: the state written one condition at a time is
// byte for byte what json.Marshal gives of the whole, for every seed that
// loads and for an engine with open alerts, windows and recent changes.
func TestWriteStateAsMarshal(t *testing.T) {
	var states []*stateFile
	for _, seed := range stateSeeds {
		var st stateFile
		if json.Unmarshal([]byte(seed), &st) == nil && st.Conds != nil {
			states = append(states, &st)
		}
	}
	e := openEngine(t, 20, 3, Options{StatePath: filepath.Join(t.TempDir(), "alerts.json")})
	e.mu.Lock()
	states = append(states, e.snapshotState())
	e.mu.Unlock()
	if st := states[len(states)-1]; len(st.Conds) == 0 || len(st.Windows) == 0 || len(st.Recent) == 0 {
		t.Fatalf("the engine's state has %d conditions, %d windows, %d recent", len(st.Conds), len(st.Windows), len(st.Recent))
	}
	for i, st := range states {
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		w := bufio.NewWriter(&got)
		if err := writeState(w, st); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("state %d:\n got %s\nwant %s", i, got.Bytes(), want)
		}
	}
}

// openEngine returns an engine with n open alerts (half of them device
// alerts at n/10 sites), m run-time windows (none covering them) and a
// full ring of recent changes.
func openEngine(b testing.TB, n, m int, o Options) *Engine {
	b.Helper()
	clk := &clock{t: t0}
	o.Now = clk.Now
	e, err := New(Config{Rules: []Rule{{Name: "down", Kind: KindDeviceDown}, {Name: "door", Kind: KindDoorHeld}}}, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	for i := 0; i < DefaultRecent/2; i++ {
		s := Subject{Type: SubjectGateway, ID: fmt.Sprintf("gw-%d", i), Site: fmt.Sprintf("site-%d", i%50)}
		e.Signal(Signal{Kind: KindDoorHeld, Subject: s, Key: "pe-1", Active: true, Time: t0, Summary: "door held open"})
		e.Signal(Signal{Kind: KindDoorHeld, Subject: s, Key: "pe-1", Time: t0})
	}
	for i := 0; i < n; i++ {
		s := Subject{Type: SubjectDevice, ID: fmt.Sprintf("dev-%d", i), Site: fmt.Sprintf("site-%d", i%max(1, n/10))}
		e.Signal(Signal{Kind: KindDeviceDown, Subject: s, Active: true, Time: t0, Summary: "no SNMP answer",
			Attrs: map[string]string{"address": "10.0.0.1:161"}})
	}
	for i := 0; i < m; i++ {
		if _, err := e.AddMaintenance(Window{Subject: fmt.Sprintf("device:elsewhere-%d", i), Start: t0,
			End: t0.Add(time.Hour), Reason: "works"}); err != nil {
			b.Fatal(err)
		}
	}
	drain(e)
	return e
}

// BenchmarkSaveState: one save of the state file (snapshot, encode, write,
// fsync, rename) with 1,000 open alerts and 1,000 recent changes.
func BenchmarkSaveState(b *testing.B) {
	e := openEngine(b, 1000, 100, Options{StatePath: filepath.Join(b.TempDir(), "alerts.json")})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.mu.Lock()
		st := e.snapshotState()
		e.mu.Unlock()
		if err := e.saveState(st); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(e.o.StatePath); err == nil {
		b.ReportMetric(float64(fi.Size()), "file-bytes")
	}
}

// BenchmarkAdvance: one tick of the timers with 1,000 open alerts and
// 1,000 run-time windows to check them against.
func BenchmarkAdvance(b *testing.B) {
	e := openEngine(b, 1000, MaxWindows, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.advance(t0.Add(time.Minute))
	}
}
