// Package atomicfile replaces a file whole, durably: the new content goes
// to a temporary file in the same folder, which is synced, renamed over
// the old file, and the folder synced. A crash or an error at any point
// leaves the old file or the new one, never a part of either.
package atomicfile

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix is in the name of every temporary file, after a dot and the
// name of the file it replaces: ".state.json.tmp-123456".
const tempInfix = ".tmp-"

// Write replaces the file at path with data, with permissions perm.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteFunc replaces the file at path, with permissions perm, with what
// fn writes to w (flushed after fn returns). When fn returns an error,
// the file at path is left as it was and the error returned, wrapped.
func WriteFunc(path string, perm os.FileMode, fn func(w *bufio.Writer) error) error {
	return write(path, perm, func(f *os.File) error {
		w := bufio.NewWriterSize(f, 64<<10)
		if err := fn(w); err != nil {
			return err
		}
		return w.Flush()
	})
}

// write fills a temporary file with fill and renames it over path.
func write(path string, perm os.FileMode, fill func(f *os.File) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	tmp := f.Name()
	err = fill(f)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir makes the renames and creations in the folder dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: sync folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync folder %s: %w", dir, err)
	}
	return nil
}

// IsTemp reports whether a file name (without its folder) is that of a
// temporary file Write or WriteFunc left behind when the process died
// before the rename; a folder's owner removes them when it starts.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempInfix)
}
