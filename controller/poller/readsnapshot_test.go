package poller

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
)

// folderState describes every file of dir: name, mode, size, time and a
// hash of the content, so that two calls differ if anything was touched.
func folderState(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %v %d %v %x\n", e.Name(), fi.Mode(), fi.Size(), fi.ModTime().UnixNano(), sha256.Sum256(data))
	}
	return b.String()
}

// snapshotOfOneCycle polls an agent that answers and one that does not
// for one cycle and saves the snapshot at path.
func snapshotOfOneCycle(t *testing.T, path string) {
	t.Helper()
	addr := startSim(t, "vsol_v1600d")
	p, err := New(Options{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetDevices([]config.DeviceConfig{dev("olt", "s1", addr, "vsol_v1600d"),
		dev("dead", "s2", deadPort(t), "public")}); err != nil {
		t.Fatal(err)
	}
	if err := p.sched.RunCycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Snapshot(); err != nil {
		t.Fatal(err)
	}
	p.SetDevices(nil) // closes the sessions
}

// ReadSnapshot gives every device's state with its document, and leaves
// the folder byte for byte as it was: the temporary file of a snapshot
// being written is not removed.
func TestReadSnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, config.DevicesSnapshotFile)
	snapshotOfOneCycle(t, path)
	torn := path + ".tmp-123456"
	if err := os.WriteFile(torn, []byte("half a snap"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := folderState(t, dir)
	states, err := ReadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if after := folderState(t, dir); after != before {
		t.Errorf("the folder changed:\n%s\nthen\n%s", before, after)
	}
	byID := map[string]DeviceState{}
	for _, st := range states {
		byID[st.ID] = st
	}
	olt, dead := byID["olt"], byID["dead"]
	if len(states) != 2 || olt.State != StateUp || olt.Document == nil || olt.Document.Class != "olt" ||
		olt.Site != "s1" || olt.LastSuccess.IsZero() || len(olt.History) != 1 {
		t.Errorf("olt: %+v", olt)
	}
	if dead.State != StateDown || dead.Document != nil || dead.LastError == "" || dead.Polls != 1 {
		t.Errorf("dead: %+v", dead)
	}

	// New reads the same states (and removes the temporary file).
	q, err := New(Options{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SetDevices([]config.DeviceConfig{dev("olt", "s1", "127.0.0.1:1", "x")}); err != nil {
		t.Fatal(err)
	}
	st, _ := q.Device("olt")
	a, _ := json.Marshal(st.Document)
	b, _ := json.Marshal(olt.Document)
	if !bytes.Equal(a, b) || !st.Since.Equal(olt.Since) || st.Polls != olt.Polls {
		t.Errorf("New and ReadSnapshot disagree on olt: %+v, %+v", st, olt)
	}
}

// A missing snapshot is fs.ErrNotExist; a damaged one is ErrSnapshot
// naming the file, which stays where it is, as it was.
func TestReadSnapshotMissingAndDamaged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, config.DevicesSnapshotFile)
	if _, err := ReadSnapshot(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v, want fs.ErrNotExist", err)
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("not a snapshot, not gzip"), "gzip: invalid header"},
		{"not JSON", gz("{"), "unexpected EOF"},
		{"other version", gz(`{"v":2,"devices":[]}`), "version 2, want 1"},
		{"no id", gz(`{"v":1,"devices":[{"state":"up"}]}`), "device 0 has no id"},
		{"unknown state", gz(`{"v":1,"devices":[{"id":"a","state":"sideways"}]}`), `device a: unknown state "sideways"`},
		{"bad document", gz(`{"v":1,"devices":[{"id":"a","state":"up","doc":{"class":7}}]}`), "device a: document: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			before := folderState(t, dir)
			_, err := ReadSnapshot(path)
			if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v: want ErrSnapshot naming %s and %q", err, path, tc.want)
			}
			if after := folderState(t, dir); after != before {
				t.Errorf("the folder changed:\n%s\nthen\n%s", before, after)
			}
		})
	}
}

// FuzzDecodeSnapshot: a snapshot's decoder never panics, and what it
// accepts has an id and a known state for every device.
func FuzzDecodeSnapshot(f *testing.F) {
	devs := []*savedState{
		{DeviceState: DeviceState{ID: "olt", State: StateUp}, Doc: json.RawMessage(`{"class":"olt"}`)},
		{DeviceState: DeviceState{ID: "dead", State: StateDown, LastError: "timeout"}},
	}
	path := filepath.Join(f.TempDir(), config.DevicesSnapshotFile)
	err := writeSnapshot(path, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), func() (*savedState, error) {
		if len(devs) == 0 {
			return nil, nil
		}
		d := devs[0]
		devs = devs[1:]
		return d, nil
	})
	if err != nil {
		f.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(whole)
	f.Add(whole[:len(whole)-4]) // its length cut off
	f.Add([]byte("not gzip"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		devs, err := decodeSnapshot(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Errorf("error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		for _, d := range devs {
			if d == nil || d.ID == "" {
				t.Fatalf("accepted a device without an id: %+v", d)
			}
			switch d.State {
			case StateUnknown, StateUp, StateDown, StateAuthFailed:
			default:
				t.Fatalf("accepted state %q", d.State)
			}
		}
	})
}
