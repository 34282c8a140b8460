package bundle

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
)

// partialSuffix marks a file being written whose hash has not matched yet.
const partialSuffix = ".ngic-partial"

// ExtractTo writes the remaining files under dir, which must be empty or
// absent (it is created). Each file is written as "<path>.ngic-partial" and
// renamed to its path, with its mode, only after its hash matched, so a
// file at its own name has always been verified. Writes cannot leave dir
// (os.Root). On error the partial file is removed; files already verified
// stay, and the caller discards dir (an update's inactive slot).
func (r *Reader) ExtractTo(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bundle: extract: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("bundle: extract: %w", err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("bundle: extract: %s is not empty", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("bundle: extract: %w", err)
	}
	defer root.Close()
	for {
		f, fr, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := extractOne(root, f, fr); err != nil {
			return err
		}
	}
}

// extractOne writes one file under root and renames it once verified.
func extractOne(root *os.Root, f File, fr io.Reader) (err error) {
	if d := path.Dir(f.Path); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("bundle: extract %s: %w", f.Path, err)
		}
	}
	tmp := f.Path + partialSuffix
	out, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("bundle: extract %s: %w", f.Path, err)
	}
	defer func() {
		if err != nil {
			root.Remove(tmp)
		}
	}()
	_, err = io.Copy(out, fr)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("bundle: extract %s: %w", f.Path, cerr)
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("bundle: extract %s: %w", f.Path, err)
		}
		return err
	}
	if err := root.Chmod(tmp, f.Perm()); err != nil {
		return fmt.Errorf("bundle: extract %s: %w", f.Path, err)
	}
	if err := root.Rename(tmp, f.Path); err != nil {
		return fmt.Errorf("bundle: extract %s: %w", f.Path, err)
	}
	return nil
}
