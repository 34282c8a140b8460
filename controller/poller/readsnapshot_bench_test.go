package poller

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/controller/snmp"
)

// benchSnapshot writes the snapshot of n devices, each with the document
// of one poll of the MA5603T recording, and returns its path and the
// devices.
func benchSnapshot(b *testing.B, n int) (string, []config.DeviceConfig) {
	b.Helper()
	_, addr := simulatortest.Serve(b, "huawei_ma5603t")
	polls, err := PollOnce(context.Background(), []config.DeviceConfig{{ID: "olt", Interval: time.Minute,
		SNMP: snmp.Config{Target: addr, Version: "2c", Community: "huawei_ma5603t"}}}, PollOnceOptions{})
	if err != nil || polls[0].Document == nil {
		b.Fatalf("poll: %v, %v", err, polls[0].Err)
	}
	doc, err := json.Marshal(polls[0].Document)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), config.DevicesSnapshotFile)
	devs := make([]config.DeviceConfig, n)
	i := 0
	err = writeSnapshot(path, time.Now(), func() (*savedState, error) {
		if i == n {
			return nil, nil
		}
		id := fmt.Sprintf("olt-%05d", i)
		devs[i] = config.DeviceConfig{ID: id, Interval: time.Hour, SNMP: snmp.Config{Target: "127.0.0.1:1", Version: "2c", Community: "x"}}
		i++
		return &savedState{DeviceState: DeviceState{ID: id, State: StateUp, Since: time.Now()}, Doc: doc}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return path, devs
}

// BenchmarkReadSnapshot reads the snapshot of 10,000 devices, documents
// included, as report coverage does.
func BenchmarkReadSnapshot(b *testing.B) {
	path, _ := benchSnapshot(b, 10_000)
	b.ResetTimer()
	for range b.N {
		states, err := ReadSnapshot(path)
		if err != nil || len(states) != 10_000 || states[0].Document == nil {
			b.Fatalf("%d states, %v", len(states), err)
		}
	}
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	}
}

// BenchmarkReadSnapshotThroughPoller is the route ReadSnapshot replaces: a
// poller reading the snapshot, given the devices, asked for each one's
// state.
func BenchmarkReadSnapshotThroughPoller(b *testing.B) {
	path, devs := benchSnapshot(b, 10_000)
	b.ResetTimer()
	for range b.N {
		p, err := New(Options{SnapshotPath: path})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.SetDevices(devs); err != nil {
			b.Fatal(err)
		}
		for _, d := range devs {
			if st, ok := p.Device(d.ID); !ok || st.Document == nil {
				b.Fatalf("%s: no document", d.ID)
			}
		}
		p.SetDevices(nil)
	}
}
