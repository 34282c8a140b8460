package update

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ngic/ngic/internal/atomicfile"
	"github.com/ngic/ngic/internal/bundle"
)

// ManifestFile is the name of the verified manifest written beside a
// slot's files.
const ManifestFile = "bundle-manifest.json"

// errBadBundle is wrapped when a signed bundle's files cannot be read.
var errBadBundle = errors.New("damaged bundle")

// diskError reports whether err comes from the file system, not from the
// bundle's bytes.
func diskError(err error) bool {
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	return errors.As(err, &pe) || errors.As(err, &le) || errors.As(err, &se)
}

// errNoProgram is wrapped when a bundle lacks the program a slot runs.
var errNoProgram = errors.New("bundle has no " + Binary + " program")

// refused reports whether err refuses a bundle (signature, hashes, target,
// contents), rather than failing on the way (network, disk).
func refused(err error) bool {
	var re *bundle.RefusedError
	return errors.As(err, &re) || errors.Is(err, bundle.ErrSignature) || errors.Is(err, bundle.ErrHash) ||
		errors.Is(err, errMismatch) || errors.Is(err, errNoProgram) || errors.Is(err, errBadBundle) || errors.Is(err, errNotNewer)
}

// install verifies the bundle at path with the trusted keys, checks that it
// may replace what t runs, and extracts it into slot: into a temporary
// folder first, renamed to the slot only once every file matched, so a
// slot holds either a whole verified bundle or nothing. verified is called
// once the signature and the target are checked.
func (l Layout) install(path string, keys []ed25519.PublicKey, t bundle.Target, slot string, verified func(*bundle.Manifest)) (*bundle.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	defer f.Close()
	r, err := bundle.Open(f, keys)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	m := r.Manifest()
	if err := bundle.Acceptable(m, t); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if !hasProgram(m) {
		return nil, fmt.Errorf("update: %s %s: %w", m.Name, m.Version, errNoProgram)
	}
	verified(m)
	tmp := filepath.Join(l.Root, "slots", "."+slot+".tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if err := r.ExtractTo(tmp); err != nil {
		os.RemoveAll(tmp)
		if !diskError(err) {
			// Not the disk: the signed bundle's bytes are wrong.
			err = fmt.Errorf("%w: %w", errBadBundle, err)
		}
		return nil, fmt.Errorf("update: extracting %s %s: %w", m.Name, m.Version, err)
	}
	if err := l.placeSlot(tmp, slot, m); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return m, nil
}

func hasProgram(m *bundle.Manifest) bool {
	for _, f := range m.Files {
		if f.Path == Binary && f.Perm()&0o100 != 0 {
			return true
		}
	}
	return false
}

// placeSlot writes the manifest into the extracted folder tmp, makes it
// durable, and renames it to slot in place of what was there.
func (l Layout) placeSlot(tmp, slot string, m *bundle.Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	mf, err := os.OpenFile(filepath.Join(tmp, ManifestFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	_, err = mf.Write(append(b, '\n'))
	if cerr := mf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := syncTree(tmp); err != nil {
		return err
	}
	dir := l.SlotDir(slot)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// syncTree fsyncs every file and folder under dir.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("update: %w", err)
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("update: fsync %s: %w", p, err)
		}
		return nil
	})
}

// SlotManifest returns the manifest of the bundle installed in slot.
func (l Layout) SlotManifest(slot string) (*bundle.Manifest, error) {
	b, err := os.ReadFile(filepath.Join(l.SlotDir(slot), ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("update: slot %s: %w", slot, err)
	}
	m, err := bundle.ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("update: slot %s: %w", slot, err)
	}
	return m, nil
}
