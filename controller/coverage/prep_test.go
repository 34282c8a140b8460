package coverage

import (
	"bytes"
	"testing"

	"github.com/ngic/ngic/controller/inventory"
)

// TestPreparedKept: a second computation of the same inventory uses the
// preparation of the first; one whose rows were appended to after a
// computation is prepared again, and gives what a fresh load of the same
// rows gives.
func TestPreparedKept(t *testing.T) {
	inv, devs := smallWorld(t)
	cfg := DefaultConfig()
	first := prepare(inv)
	if p := prepare(inv); p != first {
		t.Fatal("the same inventory prepared twice")
	}
	before := ComputeCompact(inv, devs, &cfg, now)
	v01, _ := inv.Region("V01")
	olt1, _ := inv.Device("olt1")
	row := inventory.ServiceArea{Device: "olt1", Port: "*", Village: "V01", Service: inventory.ServiceData, Line: 99,
		DeviceIx: olt1, VillageIx: v01}
	inv.ServiceAreas = append(inv.ServiceAreas, row)
	if p := prepare(inv); p == first {
		t.Fatal("an inventory with a row more keeps its preparation")
	}
	after := ComputeCompact(inv, devs, &cfg, now)
	fresh, _ := smallWorld(t)
	fresh.ServiceAreas = append(fresh.ServiceAreas, row)
	want := ComputeCompact(fresh, devs, &cfg, now)
	var a, b, w bytes.Buffer
	for _, x := range []struct {
		r   *Result
		buf *bytes.Buffer
	}{{before, &a}, {after, &b}, {want, &w}} {
		if err := x.r.WriteJSON(x.buf); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(b.Bytes(), w.Bytes()) {
		t.Error("the inventory with a row more computes otherwise than a fresh one")
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the row added changes nothing: the test proves nothing")
	}
}
