package poller

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// snapshotVersion is the version of the snapshot's format.
const snapshotVersion = 1

// ErrSnapshot is wrapped by the error of a snapshot that cannot be read
// (damaged, or of another version): move the file aside to start afresh.
var ErrSnapshot = errors.New("poller: snapshot unreadable")

// snapshot is the file's content: gzip'd JSON.
type snapshot struct {
	V       int           `json:"v"`
	Saved   time.Time     `json:"saved"`
	Devices []*savedState `json:"devices"`
}

// savedState is one device in a snapshot: its state, and its latest
// document's JSON.
type savedState struct {
	DeviceState
	Doc json.RawMessage `json:"doc,omitempty"`
	// frozen is Doc frozen, once read.
	frozen []byte
}

// Snapshot saves every device's state (the devices of the inventory, and
// those a previous snapshot kept that are not in it now) to
// Options.SnapshotPath, atomically: a crash while saving leaves the
// previous snapshot whole. Devices are written one at a time, so the
// snapshot of 10,000 devices needs the memory of one. It is a no-op
// without a SnapshotPath.
func (p *Poller) Snapshot() error {
	if p.opts.SnapshotPath == "" {
		return nil
	}
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	p.mu.RLock()
	entries := make([]*entry, 0, len(p.devices))
	for _, e := range p.devices {
		entries = append(entries, e)
	}
	saved := make([]*savedState, 0, len(p.saved))
	for _, st := range p.saved {
		saved = append(saved, st)
	}
	p.mu.RUnlock()
	i := 0
	next := func() (*savedState, error) {
		var st *savedState
		switch {
		case i < len(entries):
			e := entries[i]
			e.mu.Lock()
			f := e.frozen
			e.mu.Unlock()
			st = &savedState{DeviceState: e.state(), frozen: f}
		case i < len(entries)+len(saved):
			c := *saved[i-len(entries)]
			st = &c
		default:
			return nil, nil
		}
		i++
		if st.frozen != nil {
			b, err := thawJSON(st.frozen)
			if err != nil {
				return nil, err
			}
			st.Doc = b
		}
		return st, nil
	}
	err := writeSnapshot(p.opts.SnapshotPath, p.opts.Now(), next)
	if err != nil {
		msg := err.Error()
		p.snapErr.Store(&msg)
		return err
	}
	p.snapErr.Store(nil)
	p.snapshots.Add(1)
	return nil
}

// SnapshotError is the last snapshot's error text, "" when it succeeded.
func (p *Poller) SnapshotError() string {
	if e := p.snapErr.Load(); e != nil {
		return *e
	}
	return ""
}

// writeSnapshot writes the snapshot of the devices next returns (nil
// when done) to a temporary file beside path, syncs it and renames it over
// path, then syncs the folder.
func writeSnapshot(path string, saved time.Time, next func() (*savedState, error)) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("poller: snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("poller: snapshot %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	zw := gzip.NewWriter(bw)
	head, err := json.Marshal(struct {
		V     int       `json:"v"`
		Saved time.Time `json:"saved"`
	}{snapshotVersion, saved})
	if err != nil {
		return err
	}
	zw.Write(head[:len(head)-1])
	zw.Write([]byte(`,"devices":[`))
	for n := 0; ; n++ {
		st, err := next()
		if err != nil {
			return err
		}
		if st == nil {
			break
		}
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if n > 0 {
			zw.Write([]byte{','})
		}
		if _, err := zw.Write(b); err != nil {
			return err
		}
	}
	if _, err := zw.Write([]byte("]}\n")); err != nil {
		return err
	}
	if err = zw.Close(); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// readSnapshot reads the snapshot at path for New, each document frozen; a
// missing file is no snapshot.
func readSnapshot(path string) ([]*savedState, error) {
	devs, err := loadSnapshot(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, st := range devs {
		if len(st.Doc) > 0 {
			f, err := freezeJSON(st.Doc)
			if err != nil {
				return nil, err
			}
			st.frozen, st.Doc = f, nil
		}
	}
	return devs, nil
}
