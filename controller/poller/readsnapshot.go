package poller

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/ngic/ngic/controller/device"
)

// ReadSnapshot reads the snapshot at path as it is and returns every
// device's state it keeps, in the file's order, each with its document
// (nil before the device's first success) and its history. It only
// reads: unlike New it removes no temporary file of a snapshot being
// written, and a damaged file is left where it is, so that it may read
// the state folder of a running controller. A missing file is an error
// wrapping fs.ErrNotExist; one that cannot be read wraps ErrSnapshot and
// names the file.
func ReadSnapshot(path string) ([]DeviceState, error) {
	saved, err := loadSnapshot(path)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceState, len(saved))
	for i, st := range saved {
		out[i] = st.DeviceState
		if len(st.Doc) == 0 {
			continue
		}
		var d device.Document
		if err := json.Unmarshal(st.Doc, &d); err != nil {
			return nil, fmt.Errorf("%w: %s: device %s: document: %v", ErrSnapshot, path, st.ID, err)
		}
		out[i].Document = &d
		st.Doc = nil // its JSON is not needed any more
	}
	return out, nil
}

// loadSnapshot opens the snapshot at path and decodes it, each document
// left as its JSON.
func loadSnapshot(path string) ([]*savedState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("poller: snapshot: %w", err)
	}
	defer f.Close()
	return decodeSnapshot(f, path)
}

// decodeSnapshot reads a snapshot (gzip'd JSON) from r, named name in
// errors, and checks that it holds together: its version, and an id and a
// known state for each device.
func decodeSnapshot(r io.Reader, name string) ([]*savedState, error) {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSnapshot, name, err)
	}
	var snap snapshot
	dec := json.NewDecoder(zr)
	if err := dec.Decode(&snap); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSnapshot, name, err)
	}
	// Read to the end, so that gzip checks its length and CRC.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrSnapshot, name, err)
	}
	if snap.V != snapshotVersion {
		return nil, fmt.Errorf("%w: %s: version %d, want %d", ErrSnapshot, name, snap.V, snapshotVersion)
	}
	for i, st := range snap.Devices {
		if st == nil || st.ID == "" {
			return nil, fmt.Errorf("%w: %s: device %d has no id", ErrSnapshot, name, i)
		}
		switch st.State {
		case StateUnknown, StateUp, StateDown, StateAuthFailed:
		default:
			return nil, fmt.Errorf("%w: %s: device %s: unknown state %q", ErrSnapshot, name, st.ID, st.State)
		}
	}
	return snap.Devices, nil
}
