package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Output is where a program writes its result (the --output flag):
// standard output, or a file written whole or not at all. The file is
// first a temporary file beside it, synced and renamed over it by Commit,
// so that a program that fails or is interrupted leaves no half-written
// file. Opening it first finds an unwritable destination before any
// work is done.
type Output struct {
	path string
	tmp  *os.File
	w    io.Writer
}

// OpenOutput returns the output to path, or to stdout when path is empty
// or "-". Errors name the flag and the path (--output PATH: ...).
func OpenOutput(path string, stdout io.Writer) (*Output, error) {
	if path == "" || path == "-" {
		return &Output{w: stdout}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("--output %s: %w", path, err)
	}
	return &Output{path: path, tmp: tmp, w: tmp}, nil
}

// Write writes to standard output or to the temporary file.
func (o *Output) Write(b []byte) (int, error) { return o.w.Write(b) }

// Commit syncs the temporary file and renames it over the output (mode
// 0644); on standard output it does nothing. A failed Commit leaves no
// file.
func (o *Output) Commit() error {
	if o.tmp == nil {
		return nil
	}
	err := o.tmp.Sync()
	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(o.tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(o.tmp.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.tmp.Name())
		o.tmp = nil
		return fmt.Errorf("--output %s: %w", o.path, err)
	}
	o.tmp = nil
	return nil
}

// Abort removes the temporary file of an output not committed; after
// Commit it does nothing, so it may be deferred.
func (o *Output) Abort() {
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
		o.tmp = nil
	}
}
