package bundle

import (
	"archive/tar"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Source is one file to put in a bundle. Open is called twice: once to hash
// the file for the manifest, once to write it; both reads must agree.
type Source struct {
	// Path is the file's path in the bundle (see File.Path).
	Path string
	// Mode holds the permission bits to install the file with.
	Mode fs.FileMode
	// Open returns the file's bytes.
	Open func() (io.ReadCloser, error)
}

// FileSource returns the regular file at name on disk as the bundle's path,
// with the file's permission bits.
func FileSource(name, path string) (Source, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return Source{}, fmt.Errorf("bundle: source: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Source{}, fmt.Errorf("bundle: source %s: not a regular file (%s)", name, fi.Mode().Type())
	}
	return Source{
		Path: path,
		Mode: fi.Mode().Perm(),
		Open: func() (io.ReadCloser, error) { return os.Open(name) },
	}, nil
}

// Create writes a bundle of files to w: the header, m's manifest with its
// Files filled from files, the signature of the manifest by key, then the
// files. It returns the manifest as signed. Equal inputs give equal bytes.
func Create(w io.Writer, m Manifest, files []Source, key ed25519.PrivateKey) (*Manifest, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("bundle: private key of %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	m.Files = make([]File, len(files))
	for i, s := range files {
		size, sum, err := hashSource(s, io.Discard)
		if err != nil {
			return nil, err
		}
		m.Files[i] = File{Path: s.Path, Mode: fmt.Sprintf("%04o", s.Mode.Perm()), Size: size, SHA256: sum}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	body, err := m.encode()
	if err != nil {
		return nil, err
	}
	if len(body) > MaxManifestSize {
		return nil, fmt.Errorf("bundle: manifest of %d bytes exceeds %d", len(body), MaxManifestSize)
	}
	head := appendHeader(make([]byte, 0, headerSize+len(body)+ed25519.SignatureSize), len(body))
	head = append(head, body...)
	head = append(head, ed25519.Sign(key, body)...)
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("bundle: writing manifest: %w", err)
	}
	tw := tar.NewWriter(w)
	for i, s := range files {
		f := m.Files[i]
		hdr := &tar.Header{
			Typeflag: tar.TypeReg, Name: f.Path, Size: f.Size, Mode: int64(s.Mode.Perm()),
			ModTime: time.Unix(0, 0), Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("bundle: writing %s: %w", f.Path, err)
		}
		_, sum, err := hashSource(s, tw)
		if err != nil {
			return nil, err
		}
		if sum != f.SHA256 {
			return nil, fmt.Errorf("bundle: %s changed while the bundle was written", f.Path)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("bundle: closing the files: %w", err)
	}
	return &m, nil
}

// hashSource copies s to w and returns its size and SHA-256 in hex.
func hashSource(s Source, w io.Writer) (int64, string, error) {
	if s.Open == nil {
		return 0, "", fmt.Errorf("bundle: source %s: no Open", s.Path)
	}
	rc, err := s.Open()
	if err != nil {
		return 0, "", fmt.Errorf("bundle: source %s: %w", s.Path, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), rc)
	if err != nil {
		return 0, "", fmt.Errorf("bundle: source %s: %w", s.Path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
