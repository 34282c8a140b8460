package coverage

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// at returns r as computed at time t.
func at(r *Result, t time.Time) *Result {
	c := *r
	c.Computed = t
	return &c
}

func TestStoreRoundTripAndRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.At(now); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("empty store: %v", err)
	}
	r := computeSmall(t)
	days := []time.Time{now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), now}
	for _, d := range days {
		if err := s.Save(at(r, d)); err != nil {
			t.Fatal(err)
		}
	}
	// A new store on the same folder (a restart) sees them all.
	s2, err := OpenStore(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	times, err := s2.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 3 || !times[0].Equal(days[0]) || !times[2].Equal(days[2]) {
		t.Fatalf("list %v", times)
	}
	// At gives the latest at or before the time asked.
	for _, tc := range []struct{ ask, want time.Time }{
		{now, now}, {now.Add(time.Hour), now}, {now.Add(-time.Second), days[1]}, {days[0], days[0]},
	} {
		got, err := s2.At(tc.ask)
		if err != nil {
			t.Fatalf("At(%v): %v", tc.ask, err)
		}
		if !got.Computed.Equal(tc.want) {
			t.Errorf("At(%v) = %v, want %v", tc.ask, got.Computed, tc.want)
		}
	}
	if _, err := s2.At(days[0].Add(-time.Second)); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("before the first: %v", err)
	}
	// What was saved is what is read, figure for figure.
	got, err := s2.At(now)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, got) != mustJSON(t, at(r, now)) {
		t.Error("the snapshot read differs from the one saved")
	}
}

func TestStoreKeep(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{Tiers: DefaultTiers()}
	for i := 0; i < 5; i++ {
		if err := s.Save(at(r, now.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	times, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 3 || !times[0].Equal(now.Add(2*time.Hour)) {
		t.Errorf("kept %v, want the last three", times)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("%d files in the store, want 3", len(ents))
	}
	if _, err := OpenStore(dir, 0); err == nil {
		t.Error("keep 0 accepted")
	}
}

func TestStoreDamaged(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{Tiers: DefaultTiers()}
	if err := s.Save(at(r, now.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(at(r, now)); err != nil {
		t.Fatal(err)
	}
	// The latest is cut short, as by a disk fault.
	p := s.path(now)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// A temporary file of a write cut short by a crash.
	tmp := filepath.Join(dir, snapshotPrefix+"123.tmp")
	if err := os.WriteFile(tmp, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = OpenStore(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
	_, err = s.At(now)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), p) {
		t.Fatalf("damaged snapshot: %v", err)
	}
	if _, err := os.Stat(p + DamagedSuffix); err != nil {
		t.Errorf("not moved aside: %v", err)
	}
	// The one before it is found next.
	got, err := s.At(now)
	if err != nil || !got.Computed.Equal(now.Add(-time.Hour)) {
		t.Errorf("after moving aside: %v, %v", got, err)
	}
}

func TestDecodeSnapshotRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"no time":       `{"tiers":[{"name":"a"}]}`,
		"no tiers":      `{"computed":"2026-11-29T12:00:00Z"}`,
		"tier too high": `{"computed":"2026-11-29T12:00:00Z","tiers":[{"name":"a"}],"villages":[{"code":"v","tier":1}]}`,
		"tier negative": `{"computed":"2026-11-29T12:00:00Z","tiers":[{"name":"a"}],"villages":[{"code":"v","tier":-1}]}`,
		"region tiers":  `{"computed":"2026-11-29T12:00:00Z","tiers":[{"name":"a"}],"regions":[{"code":"r"}]}`,
		"not json":      `{"computed":`,
		"wrong type":    `{"computed":"2026-11-29T12:00:00Z","tiers":"a"}`,
	} {
		if _, err := DecodeSnapshot(bytes.NewReader(gz(t, body))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := DecodeSnapshot(strings.NewReader("not gzip")); err == nil {
		t.Error("not gzip: accepted")
	}
}

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzDecodeSnapshot: any file in the snapshot folder decodes without a
// panic, and what decodes can be compared with anything.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(gz(f, `{"computed":"2026-11-29T12:00:00Z","tiers":[{"name":"a"},{"name":"b","down_mbps":1,"up_mbps":1}],`+
		`"villages":[{"code":"v","tier":1,"broadband":"b"}],"regions":[{"code":"r","all":{"tiers":[{},{}]},"priority":{"tiers":[{},{}]}}]}`))
	f.Add(gz(f, `{"computed":"2026-11-29T12:00:00Z","tiers":[{"name":"a"}],"villages":[{"code":"v","tier":7}]}`))
	f.Add(gz(f, mustJSON(f, computeSmall(f)))) // a whole snapshot of the small world
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeSnapshot(bytes.NewReader(b))
		if err != nil {
			return
		}
		Compare(r, r)
		Compare(&Result{Tiers: DefaultTiers()}, r)
		Compare(r, nil)
	})
}

// TestWriteJSON: a result streamed is what encoding/json gives for it,
// whitespace aside, with trails in full and compact, with nil members; a
// writer's error is returned.
func TestWriteJSON(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	for _, r := range []*Result{Compute(inv, devs, &cfg, now), ComputeCompact(inv, devs, &cfg, now), {}} {
		var got, want bytes.Buffer
		if err := r.WriteJSON(&got); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		var a, b bytes.Buffer
		if err := json.Compact(&a, got.Bytes()); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if err := json.Compact(&b, want.Bytes()); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() || len(r.Villages) > 0 && !strings.Contains(a.String(), `"trail":[{`) {
			t.Errorf("streamed:\n%.300s\nencoding/json:\n%.300s", a.String(), b.String())
		}
	}
	boom := errors.New("disk full")
	if err := computeSmall(t).WriteJSON(failWriter{boom}); !errors.Is(err, boom) {
		t.Errorf("a failing writer: %v", err)
	}
}

// failWriter fails every write.
type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }
