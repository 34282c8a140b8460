package coverage

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Snapshot files: coverage-<UTC time>.json.gz in the store's folder.
const (
	snapshotPrefix = "coverage-"
	snapshotSuffix = ".json.gz"
	snapshotTime   = "20060102T150405.000Z"
	// DamagedSuffix is added to the name of a snapshot that could not be
	// read when it is moved aside.
	DamagedSuffix = ".damaged"
	// MaxSnapshotBytes bounds what is decompressed of one snapshot.
	MaxSnapshotBytes = 8 << 30
)

var (
	// ErrNoSnapshot: no snapshot at or before the time asked.
	ErrNoSnapshot = errors.New("coverage: no snapshot")
	// ErrDamaged: a snapshot could not be read; Store.At moved it aside,
	// ReadAt leaves it where it is.
	ErrDamaged = errors.New("coverage: damaged snapshot")
)

// Store keeps snapshots of results on disk, one gzip JSON file per
// snapshot named by its UTC time, at most keep of them (the oldest go
// first). Its methods are safe for concurrent use.
type Store struct {
	dir  string
	keep int
	mu   sync.Mutex
}

// OpenStore opens (making it if needed) the folder dir as a store keeping
// at most keep snapshots, and removes the temporary files of a write cut
// short.
func OpenStore(dir string, keep int) (*Store, error) {
	if keep < 1 {
		return nil, fmt.Errorf("coverage: store %s: keep %d is below 1", dir, keep)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("coverage: store: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("coverage: store: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), snapshotPrefix) && strings.HasSuffix(e.Name(), ".tmp") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("coverage: store: %w", err)
			}
		}
	}
	return &Store{dir: dir, keep: keep}, nil
}

// Dir returns the store's folder.
func (s *Store) Dir() string { return s.dir }

// path returns the file of the snapshot of time t.
func (s *Store) path(t time.Time) string { return snapshotPath(s.dir, t) }

// snapshotPath returns the file of the snapshot of time t in dir.
func snapshotPath(dir string, t time.Time) string {
	return filepath.Join(dir, snapshotPrefix+t.UTC().Format(snapshotTime)+snapshotSuffix)
}

// Save writes r as the snapshot of r.Computed (replacing one of the same
// time): to a temporary file, synced, then renamed, so that a crash leaves
// the old snapshots whole. It then removes the oldest snapshots beyond
// keep.
func (s *Store) Save(r *Result) error {
	if r.Computed.IsZero() {
		return fmt.Errorf("coverage: save: the result has no time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dst := s.path(r.Computed)
	if err := writeSnapshot(s.dir, dst, r); err != nil {
		return fmt.Errorf("coverage: save %s: %w", dst, err)
	}
	times, err := s.list()
	if err != nil {
		return err
	}
	for len(times) > s.keep {
		if err := os.Remove(s.path(times[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("coverage: prune: %w", err)
		}
		times = times[1:]
	}
	return nil
}

func writeSnapshot(dir, dst string, r *Result) (err error) {
	f, err := os.CreateTemp(dir, snapshotPrefix+"*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	zw := gzip.NewWriter(bw)
	if err = r.WriteJSON(zw); err != nil {
		return err
	}
	for _, step := range []func() error{zw.Close, bw.Flush, f.Sync, f.Close,
		func() error { return os.Rename(f.Name(), dst) }} {
		if err = step(); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// List returns the times of the snapshots kept, oldest first.
func (s *Store) List() ([]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list()
}

func (s *Store) list() ([]time.Time, error) { return listDir(s.dir) }

// listDir returns the times of the snapshots in dir, oldest first.
func listDir(dir string) ([]time.Time, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("coverage: list %s: %w", dir, err)
	}
	var out []time.Time
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, snapshotPrefix) || !strings.HasSuffix(n, snapshotSuffix) || !e.Type().IsRegular() {
			continue
		}
		t, err := time.Parse(snapshotTime, strings.TrimSuffix(strings.TrimPrefix(n, snapshotPrefix), snapshotSuffix))
		if err != nil {
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out, nil
}

// At returns the latest snapshot at or before t (ErrNoSnapshot when there
// is none). A snapshot that cannot be read is moved aside (its name
// suffixed with DamagedSuffix) and an error wrapping ErrDamaged names it;
// the next call finds the one before it.
func (s *Store) At(t time.Time) (*Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	times, err := s.list()
	if err != nil {
		return nil, err
	}
	p, err := latestAt(s.dir, times, t)
	if err != nil {
		return nil, err
	}
	r, err := readSnapshot(p)
	if err != nil {
		if mvErr := os.Rename(p, p+DamagedSuffix); mvErr != nil {
			return nil, fmt.Errorf("%w: %s: %v (and moving it aside failed: %v)", ErrDamaged, p, err, mvErr)
		}
		return nil, fmt.Errorf("%w: %s: %v; moved aside to %s", ErrDamaged, p, err, p+DamagedSuffix)
	}
	return r, nil
}

// latestAt returns the file of the latest of times (sorted) at or before
// t in dir, or an error wrapping ErrNoSnapshot.
func latestAt(dir string, times []time.Time, t time.Time) (string, error) {
	i, found := slices.BinarySearchFunc(times, t, time.Time.Compare)
	if found {
		i++
	}
	if i == 0 {
		return "", fmt.Errorf("%w at or before %s in %s", ErrNoSnapshot, t.UTC().Format(time.RFC3339), dir)
	}
	return snapshotPath(dir, times[i-1]), nil
}

// readAttempts bounds how often ReadAt lists the folder again when the
// snapshot it chose was removed (pruned by the store's owner) before it
// could be opened.
const readAttempts = 3

// ReadAt returns the latest snapshot at or before t in the store folder
// dir, reading only: unlike OpenStore and Store.At it makes no folder,
// removes no temporary file and moves nothing aside, so that it may read
// the store of a running controller. No snapshot at or before t (or no
// folder) is an error wrapping ErrNoSnapshot; a snapshot that cannot be
// read is an error wrapping ErrDamaged that names the file, which stays
// where it is.
func ReadAt(dir string, t time.Time) (*Result, error) {
	for attempt := 1; ; attempt++ {
		times, err := listDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			times, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		p, err := latestAt(dir, times, t)
		if err != nil {
			return nil, err
		}
		r, err := readSnapshot(p)
		if errors.Is(err, os.ErrNotExist) && attempt < readAttempts {
			continue // pruned meanwhile: the next listing has the one that replaced it
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, p, err)
		}
		return r, nil
	}
}

func readSnapshot(p string) (*Result, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeSnapshot(f)
}

// DecodeSnapshot reads one snapshot (gzip JSON of a Result) and checks it
// holds together: a time, tiers, and each village's and region's tiers
// within them.
func DecodeSnapshot(rd io.Reader) (*Result, error) {
	zr, err := gzip.NewReader(bufio.NewReader(rd))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	dec := json.NewDecoder(io.LimitReader(zr, MaxSnapshotBytes))
	var r Result
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	// Read to the end, so that gzip checks its length and CRC.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// check verifies what Compare and the reports rely on.
func (r *Result) check() error {
	if r.Computed.IsZero() {
		return errors.New("no computed time")
	}
	if len(r.Tiers) == 0 {
		return errors.New("no tiers")
	}
	for i := range r.Villages {
		v := &r.Villages[i]
		if v.Tier < 0 || v.Tier >= len(r.Tiers) {
			return fmt.Errorf("village %q: tier %d is not within the %d tiers", v.Code, v.Tier, len(r.Tiers))
		}
	}
	for i := range r.Regions {
		g := &r.Regions[i]
		if len(g.All.Tiers) != len(r.Tiers) || len(g.Priority.Tiers) != len(r.Tiers) {
			return fmt.Errorf("region %q: %d/%d tier figures for %d tiers", g.Code, len(g.All.Tiers), len(g.Priority.Tiers), len(r.Tiers))
		}
	}
	return nil
}
