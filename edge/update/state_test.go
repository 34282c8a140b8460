package update

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

func TestStateRoundTripAndAtomicWrite(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	st, err := l.ReadState()
	if err != nil || st.Active != "" || st.Trial != nil || st.V != StateVersion {
		t.Fatalf("state before any install: %+v, %v", st, err)
	}
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	tr := &Trial{Slot: SlotA, ID: "r1/gw", To: "1.2.0", From: "1.1.0", Boots: 1, Started: now}
	want := &State{Active: "", Trial: tr, Last: tr.Report(telemetry.UpdateTrial, "", now)}
	for i := range MaxHandled + 5 {
		want.AddHandled(strings.Repeat("x", i+1))
	}
	if err := l.WriteState(want); err != nil {
		t.Fatal(err)
	}
	got, err := l.ReadState()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Handled) != MaxHandled || got.Handled[0] != strings.Repeat("x", 6) || !got.HasHandled(strings.Repeat("x", MaxHandled+5)) {
		t.Errorf("handled: %d IDs, first %q", len(got.Handled), got.Handled[0])
	}
	if got.Trial == nil || *got.Trial != *tr || got.Last.Step != telemetry.UpdateTrial {
		t.Errorf("read back %+v, want %+v", got.Trial, tr)
	}
	ents, _ := os.ReadDir(l.Root)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestStateRefusesWhatCannotBe(t *testing.T) {
	for name, js := range map[string]string{
		"field v":              `{"v":2}`,
		"field active":         `{"v":1,"active":"c"}`,
		"field trial.slot":     `{"v":1,"active":"a","trial":{"slot":"a","previous":"a","id":"x","to":"1.0.0","boots":0,"started":"2026-01-01T00:00:00Z"}}`,
		"field trial.previous": `{"v":1,"active":"a","trial":{"slot":"b","previous":"","id":"x","to":"1.0.0","boots":0,"started":"2026-01-01T00:00:00Z"}}`,
		"field trial.id":       `{"v":1,"trial":{"slot":"a","id":"","to":"1.0.0","boots":0,"started":"2026-01-01T00:00:00Z"}}`,
		"field trial.boots":    `{"v":1,"trial":{"slot":"a","id":"x","to":"1.0.0","boots":-1,"started":"2026-01-01T00:00:00Z"}}`,
		"field last":           `{"v":1,"last":{"id":"x","step":"bogus","time":"2026-01-01T00:00:00Z"}}`,
		"state":                `{"v":1`,
	} {
		if _, err := DecodeState([]byte(js)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", js, err)
		}
	}
}

// FuzzDecodeState: a decoded state is valid, and encodes and decodes to
// the same.
func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"active":"a","handled":["x"],"last":{"id":"x","step":"done","time":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"v":1,"active":"b","trial":{"slot":"a","previous":"b","id":"x","to":"1.0.0","boots":2,"started":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"v":1,"trial":{"slot":"b","id":"x","to":"1","boots":0,"started":"0001-01-01T00:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeState(b)
		if err != nil {
			return
		}
		l := Layout{Root: t.TempDir()}
		if err := l.WriteState(s); err != nil {
			t.Fatalf("a decoded state does not write: %v", err)
		}
		if _, err := l.ReadState(); err != nil {
			t.Fatalf("a written state does not read: %v", err)
		}
	})
}
