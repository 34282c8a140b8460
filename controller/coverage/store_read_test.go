package coverage

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// storeFiles maps each file of dir to its modification time and content.
func storeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = fi.ModTime().String() + " " + fi.Mode().String() + " " + string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// ReadAt finds the latest snapshot at or before a time, as Store.At does,
// and leaves the folder as it was: the temporary file of a write cut
// short stays.
func TestReadAt(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	r := &Result{Tiers: DefaultTiers()}
	for _, d := range []time.Duration{-2 * time.Hour, -time.Hour, 0} {
		if err := s.Save(at(r, now.Add(d))); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(dir, snapshotPrefix+"123.tmp")
	if err := os.WriteFile(tmp, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := storeFiles(t, dir)
	for _, tc := range []struct{ ask, want time.Time }{
		{now, now},
		{now.Add(-time.Minute), now.Add(-time.Hour)},
		{now.Add(-time.Hour), now.Add(-time.Hour)},
		{now.Add(time.Hour), now},
	} {
		got, err := ReadAt(dir, tc.ask)
		if err != nil || !got.Computed.Equal(tc.want) {
			t.Errorf("ReadAt(%v) = %v, %v; want the snapshot of %v", tc.ask, got, err, tc.want)
		}
		if want, err := s.At(tc.ask); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ReadAt(%v) and Store.At disagree: %v", tc.ask, err)
		}
	}
	if after := storeFiles(t, dir); !reflect.DeepEqual(after, before) {
		t.Errorf("the folder changed: %v\nthen %v", before, after)
	}
}

// Nothing at or before the time, and no folder, are ErrNoSnapshot naming
// the folder (which ReadAt does not make); a damaged snapshot is
// ErrDamaged naming the file, left where it is, as it was.
func TestReadAtMissingAndDamaged(t *testing.T) {
	dir := t.TempDir()
	none := filepath.Join(dir, "none")
	if _, err := ReadAt(none, now); !errors.Is(err, ErrNoSnapshot) || !strings.Contains(err.Error(), none) {
		t.Errorf("no folder: %v", err)
	}
	if _, err := os.Stat(none); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadAt made the folder: %v", err)
	}
	s, err := OpenStore(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(at(&Result{Tiers: DefaultTiers()}, now.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(at(&Result{Tiers: DefaultTiers()}, now)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAt(dir, now.Add(-2*time.Hour)); !errors.Is(err, ErrNoSnapshot) ||
		!strings.Contains(err.Error(), "at or before "+now.Add(-2*time.Hour).Format(time.RFC3339)+" in "+dir) {
		t.Errorf("nothing before: %v", err)
	}
	p := s.path(now)
	for _, data := range []string{"not gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		before := storeFiles(t, dir)
		_, err := ReadAt(dir, now)
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), p+": ") || strings.Contains(err.Error(), "moved aside") {
			t.Errorf("damaged %q: %v", data, err)
		}
		if after := storeFiles(t, dir); !reflect.DeepEqual(after, before) {
			t.Errorf("the folder changed: %v\nthen %v", before, after)
		}
	}
}
