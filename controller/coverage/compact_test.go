package coverage

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
)

// TestComputeCompact: ComputeCompact gives the same result as Compute, its
// trails expanded entry by entry, and the same JSON byte for byte, on the
// small world, the recordings and a generated region of 3,000 villages.
func TestComputeCompact(t *testing.T) {
	small, smallDevs := smallWorld(t)
	recs, recDevs := recordingsWorld(t)
	dir := t.TempDir()
	if err := inventorytest.WriteNational(dir, 3000); err != nil {
		t.Fatal(err)
	}
	gen, err := inventory.Load(dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	defer func(n int) { tableLimit = n }(tableLimit)
	for _, w := range []struct {
		name string
		inv  *inventory.Inventory
		devs []DeviceStatus
	}{{"small", small, smallDevs}, {"recordings", recs, recDevs}, {"generated", gen, synthesise(gen, now)}} {
		full := Compute(w.inv, w.devs, &cfg, now)
		tableLimit = tableSize
		comp := ComputeCompact(w.inv, w.devs, &cfg, now)
		// Tables of three strings: the workers' strings span many.
		tableLimit = 3
		small := ComputeCompact(w.inv, w.devs, &cfg, now)
		if len(small.Villages) > 0 && len(small.Villages[0].ct.tables) <= len(comp.Villages[0].ct.tables) {
			t.Errorf("%s: %d tables of 3 strings, %d of %d", w.name, len(small.Villages[0].ct.tables),
				len(comp.Villages[0].ct.tables), tableSize)
		}
		entries := 0
		for i := range full.Villages {
			f, c := &full.Villages[i], &comp.Villages[i]
			if c.Trail != nil {
				t.Fatalf("%s %s: a compact result with a trail in full", w.name, f.Code)
			}
			got := c.TrailEntries()
			if other := small.Villages[i].TrailEntries(); !slices.Equal(other, got) {
				t.Errorf("%s %s: with tables of 3 strings: %+v, want %+v", w.name, f.Code, other, got)
			}
			if len(got) != len(f.Trail) || (got == nil) != (f.Trail == nil) {
				t.Fatalf("%s %s: %d entries, want %d", w.name, f.Code, len(got), len(f.Trail))
			}
			for k := range got {
				if got[k] != f.Trail[k] {
					t.Errorf("%s %s entry %d:\n got  %+v\n want %+v", w.name, f.Code, k, got[k], f.Trail[k])
				}
			}
			entries += len(got)
		}
		if entries < len(full.Villages)/2 {
			t.Errorf("%s: %d entries in %d villages: the test proves little", w.name, entries, len(full.Villages))
		}
		for _, escape := range []bool{true, false} {
			if a, b := encode(t, full, escape), encode(t, comp, escape); !bytes.Equal(a, b) {
				t.Errorf("%s: the compact result's JSON (escape HTML %v) differs", w.name, escape)
			}
		}
	}
}

// TestComputeCompactLimits: a trail longer than a compact trail may be,
// and the villages computed once the result has no block of entries left,
// keep their trails in full, and the result is Compute's all the same.
func TestComputeCompactLimits(t *testing.T) {
	dir := t.TempDir()
	if err := inventorytest.WriteNational(dir, 12_000); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(dir, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	devs := synthesise(inv, now)
	cfg := DefaultConfig()
	defer func(b, n int) { blockLimit, trailLimit = b, n }(blockLimit, trailLimit)
	// One block of trailBlock entries: fewer than the villages' entries.
	blockLimit, trailLimit = 1, 2
	full := Compute(inv, devs, &cfg, now)
	comp := ComputeCompact(inv, devs, &cfg, now)
	var long, noBlock, compact, short int
	for i := range comp.Villages {
		if n := len(full.Villages[i].Trail); n <= trailLimit {
			short += n
		}
		switch v := &comp.Villages[i]; {
		case v.Trail != nil && len(v.Trail) > trailLimit:
			long++
		case v.Trail != nil:
			noBlock++
		case v.ct != nil:
			compact++
		}
	}
	if short <= trailBlock {
		t.Fatalf("%d entries in short trails: they fit in one block", short)
	}
	if long == 0 || noBlock == 0 || compact == 0 {
		t.Errorf("%d compact trails, %d too long, %d without a block: want some of each", compact, long, noBlock)
	}
	if a, b := encode(t, full, false), encode(t, comp, false); !bytes.Equal(a, b) {
		t.Errorf("the JSON of a result with trails in full and compact differs from Compute's")
	}
}

// TestVillageJSON: a village's JSON is that of its fields, HTML escaped as
// the encoder says.
func TestVillageJSON(t *testing.T) {
	type plain Village
	v := Village{Region: &inventory.Region{Code: "V1", Name: "<script>&"}, Trail: []TrailEntry{{Service: "data", Why: "<b>filing</b>", Used: true}},
		Overrides: []OverrideInfo{{Service: "video", Class: "analogue", Reason: "a & b"}}}
	for _, escape := range []bool{true, false} {
		var want, got bytes.Buffer
		for _, x := range []struct {
			buf *bytes.Buffer
			v   any
		}{{&want, plain(v)}, {&got, v}} {
			enc := json.NewEncoder(x.buf)
			enc.SetEscapeHTML(escape)
			if err := enc.Encode(x.v); err != nil {
				t.Fatal(err)
			}
		}
		if got.String() != want.String() {
			t.Errorf("escape %v:\n got  %s\n want %s", escape, got.String(), want.String())
		}
	}
	if empty, err := json.Marshal(Village{}); err != nil || !bytes.Contains(empty, []byte(`"trail":null`)) {
		t.Errorf("a village without a trail: %s, %v", empty, err)
	}
}

func encode(t *testing.T, r *Result, escape bool) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escape)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTrailSeq: TrailSeq yields what TrailEntries gives, for trails in
// full and compact, and stops when asked.
func TestTrailSeq(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	for _, r := range []*Result{Compute(inv, devs, &cfg, now), ComputeCompact(inv, devs, &cfg, now)} {
		seen := 0
		for i := range r.Villages {
			v := &r.Villages[i]
			var got []TrailEntry
			for e := range v.TrailSeq() {
				got = append(got, *e)
			}
			want := v.TrailEntries()
			if len(got) != len(want) || len(want) > 0 && !slices.EqualFunc(got, want, func(a, b TrailEntry) bool { return a == b }) {
				t.Errorf("%s: TrailSeq %+v, TrailEntries %+v", v.Code, got, want)
			}
			seen += len(want)
			n := 0
			for range v.TrailSeq() {
				n++
				break
			}
			if n > 1 {
				t.Errorf("%s: TrailSeq went on after a break", v.Code)
			}
		}
		if seen == 0 {
			t.Fatal("no trail entry at all")
		}
	}
}
