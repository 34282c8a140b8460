package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/internal/testenv"
)

// TestNodeBarrier: a replica publishes a state of several megabytes, as a
// replica with thousands of devices does, and is cut off (SIGKILL) right
// after the broker took it; the other, told of the death by the last
// will, calls Barrier: once it returns, the dead replica's last state is
// there, with no wait. The barrier is the replica's own: a third replica
// takes no state from it, and keeps taking the others'.
func TestNodeBarrier(t *testing.T) {
	m := testenv.StartMosquitto(t)
	cut := newCutter(t, m.Addr)
	n0 := startNode(t, cut.ln.Addr().String(), Shard{0, 3})
	n1 := startNode(t, m.Addr, Shard{1, 3})
	n2 := startNode(t, m.Addr, Shard{2, 3})
	waitFor(t, "three connected nodes", func() bool {
		return n0.Stats().Connected && n1.Stats().Connected && n2.Stats().Connected
	})
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	// Barriers with nothing queued come back, one after another.
	for range 3 {
		if err := n1.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
	}
	devs := make([]Device, 40000)
	for i := range devs {
		devs[i] = Device{DeviceState: poller.DeviceState{ID: fmt.Sprintf("olt-%06d", i), State: poller.StateUp}}
	}
	// Several states in a row, the last one marked: the barrier waits
	// behind all of them.
	const last = 3
	for i := 1; i <= last; i++ {
		if err := n0.PublishState(ctx, &State{Time: time.Unix(int64(i), 0).UTC(), Devices: devs}); err != nil {
			t.Fatal(err)
		}
	}
	cut.cut()
	waitFor(t, "node 0 gone for node 1", func() bool { v := n1.view(); return len(v) == 2 && v[0] == 1 })
	if err := n1.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	o := n1.Others()
	if len(o) == 0 || o[0].Ordinal != 0 || o[0].Time.Unix() != last || len(o[0].Devices) != len(devs) {
		var got []string
		for _, s := range o {
			got = append(got, fmt.Sprintf("replica %d at %d, %d devices", s.Ordinal, s.Time.Unix(), len(s.Devices)))
		}
		t.Fatalf("after the barrier node 1 holds %v, want replica 0's last state (%d, %d devices)", got, last, len(devs))
	}
	if st := n1.Stats(); st.Refused != 0 || n2.Stats().Refused != 0 {
		t.Fatalf("a barrier taken for a bad payload: %d, %d refused (%v)", st.Refused, n2.Stats().Refused, st.LastRefusal)
	}
	waitFor(t, "node 0's last state at node 2", func() bool {
		o := n2.Others()
		return len(o) == 1 && o[0].Time.Unix() == last
	})
}
