package series

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/simulator"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// t0 is the time of a fleet's first poll; pollGap separates its polls.
var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const pollGap = time.Minute

// fleet serves the real recordings through the project's simulator on a
// loopback port, on a clock the test moves, so that polls are repeatable:
// at t0 every object is as recorded, and pollGap later the counters have
// grown (and sysUpTime with them) by the simulator's fixed rates.
type fleet struct {
	addr  string
	names []string
	set   *device.ProfileSet
	clock atomic.Int64 // Unix nanoseconds
}

// startFleet serves every recording until the test ends.
func startFleet(t testing.TB) *fleet {
	t.Helper()
	f := &fleet{}
	f.clock.Store(t0.UnixNano())
	opts := simulator.DefaultOptions
	opts.Now = func() time.Time { return time.Unix(0, f.clock.Load()) }
	sim, _, err := simulator.Load(testenv.Recordings(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if f.set, err = device.DefaultProfiles(); err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, conn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		conn.Close()
	})
	f.addr = conn.LocalAddr().String()
	f.names = sim.Devices()
	return f
}

// poll polls the recording name with the simulator's clock at `at` and
// stamps the document with that time.
func (f *fleet) poll(t testing.TB, name string, at time.Time) *device.Document {
	t.Helper()
	f.clock.Store(at.UnixNano())
	s, err := snmp.Dial(snmp.Config{Target: f.addr, Version: "2c", Community: name,
		Timeout: 3 * time.Second, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, _, err := device.Collect(ctx, s, f.set)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d.PolledAt = at
	return d
}

// twoPolls polls name at t0 and pollGap later, the second document with
// its rates applied.
func (f *fleet) twoPolls(t testing.TB, name string) [2]*device.Document {
	t.Helper()
	r := device.NewRates()
	var docs [2]*device.Document
	for i := range docs {
		docs[i] = f.poll(t, name, t0.Add(time.Duration(i)*pollGap))
		r.Apply(name, docs[i])
	}
	return docs
}

// tagsOf are the inventory tags the tests give a recording.
func tagsOf(name string) telemetry.DeviceTags {
	return telemetry.DeviceTags{Site: "lab", Device: name}
}
