package rollout

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ngic/ngic/internal/bundle"
)

// Bundles is the folder of bundle files the controller rolls out and
// serves: a file is found by its name when a rollout is made, and by the
// SHA-256 of its bytes when a gateway downloads it. Only regular files
// directly in the folder are ever opened (os.Root), never a listing.
type Bundles struct {
	dir  string
	keys []ed25519.PublicKey

	mu sync.Mutex
	// hashes caches each file's SHA-256 with the size and modification
	// time it was computed for.
	hashes map[string]fileHash
}

// fileHash is a file's SHA-256 at a size and modification time.
type fileHash struct {
	size int64
	mod  time.Time
	sum  string
}

// NewBundles returns the bundles of folder dir, verified against keys.
func NewBundles(dir string, keys []ed25519.PublicKey) (*Bundles, error) {
	if len(keys) == 0 {
		return nil, errors.New("rollout: no trusted key: every bundle would be refused")
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("rollout: bundles folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("rollout: bundles folder %s is not a folder", dir)
	}
	return &Bundles{dir: dir, keys: keys, hashes: map[string]fileHash{}}, nil
}

// fileName is what a bundle's file may be called.
var fileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$`)

// sumRE is a SHA-256 as a download path names it.
var sumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Verify reads the bundle file name whole: its signature against the
// trusted keys, every file's hash against the manifest. A bundle that
// fails is an error wrapping ErrInvalid naming why.
func (b *Bundles) Verify(name string) (Bundle, error) {
	if !fileName.MatchString(name) || strings.Contains(name, "..") {
		return Bundle{}, fmt.Errorf("%w: bundle %q is not a file name of the bundles folder", ErrInvalid, name)
	}
	f, err := b.open(name)
	if err != nil {
		return Bundle{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Bundle{}, fmt.Errorf("rollout: bundle %s: %w", name, err)
	}
	h := sha256.New()
	r, err := bundle.Open(io.TeeReader(f, h), b.keys)
	if err != nil {
		return Bundle{}, fmt.Errorf("%w: bundle %s refused: %v", ErrInvalid, name, err)
	}
	for {
		_, fr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			_, err = io.Copy(io.Discard, fr)
		}
		if err != nil {
			return Bundle{}, fmt.Errorf("%w: bundle %s refused: %v", ErrInvalid, name, err)
		}
	}
	if n, err := io.Copy(h, f); err != nil || n != 0 {
		return Bundle{}, fmt.Errorf("%w: bundle %s refused: data after its last file", ErrInvalid, name)
	}
	m := r.Manifest()
	sum := hex.EncodeToString(h.Sum(nil))
	b.mu.Lock()
	b.hashes[name] = fileHash{size: st.Size(), mod: st.ModTime(), sum: sum}
	b.mu.Unlock()
	return Bundle{File: name, SHA256: sum, Size: st.Size(), Name: m.Name, Version: m.Version, OS: m.OS, Arch: m.Arch,
		ARM: m.ARM, KeyID: r.KeyID()}, nil
}

// open opens the regular file name of the folder.
func (b *Bundles) open(name string) (*os.File, error) {
	f, err := os.OpenInRoot(b.dir, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: bundle %s: no such file in the bundles folder", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("rollout: bundle %s: %w", name, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: bundle %s is not a regular file", ErrNotFound, name)
	}
	return f, nil
}

// Open opens the bundle file whose bytes have the SHA-256 sum (64
// lower-case hex digits), for a download. A file changed since it was
// hashed is hashed again; no file of that sum is ErrNotFound.
func (b *Bundles) Open(sum string) (*os.File, error) {
	if !sumRE.MatchString(sum) {
		return nil, fmt.Errorf("%w: %q is not a SHA-256 in lower-case hex", ErrNotFound, sum)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// The files known by that sum first, then every file whose hash is
	// unknown or stale.
	for _, known := range []bool{true, false} {
		ents, err := os.ReadDir(b.dir)
		if err != nil {
			return nil, fmt.Errorf("rollout: bundles folder: %w", err)
		}
		for _, e := range ents {
			name := e.Name()
			fh, ok := b.hashes[name]
			if known != (ok && fh.sum == sum) || !e.Type().IsRegular() || !fileName.MatchString(name) {
				continue
			}
			if f := b.match(name, sum); f != nil {
				return f, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: no bundle of SHA-256 %s", ErrNotFound, sum)
}

// match opens name and returns it when its bytes have the SHA-256 sum,
// hashing it again when it changed since last hashed. Called with b.mu.
func (b *Bundles) match(name, sum string) *os.File {
	f, err := b.open(name)
	if err != nil {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil
	}
	fh, ok := b.hashes[name]
	if !ok || fh.size != st.Size() || !fh.mod.Equal(st.ModTime()) {
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			f.Close()
			return nil
		}
		fh = fileHash{size: st.Size(), mod: st.ModTime(), sum: hex.EncodeToString(h.Sum(nil))}
		b.hashes[name] = fh
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil
		}
	}
	if fh.sum != sum {
		f.Close()
		return nil
	}
	return f
}
