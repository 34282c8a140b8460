package bundle

import (
	"archive/tar"
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// ErrSignature is wrapped by Open's error when no trusted key signed the manifest.
var ErrSignature = errors.New("signature does not match any trusted key")

// ErrHash is wrapped by the error of a file whose bytes do not match the manifest.
var ErrHash = errors.New("SHA-256 does not match the manifest")

// Reader reads a bundle whose manifest's signature has been verified. Files
// come in manifest order; a file's reader reports ErrHash, not io.EOF, when
// its bytes do not match, so nothing is trusted before its hash matched.
type Reader struct {
	m     *Manifest
	keyID string
	in    *bufio.Reader
	count *countingReader
	tr    *tar.Reader
	// dataEnd is count's position after the last file's bytes.
	dataEnd int64
	next    int
	cur     *fileReader
	failed  error
}

// Open reads a bundle's header, manifest and signature from r, checks the
// signature against trusted and validates the manifest. The files are read
// later, with Next or ExtractTo.
func Open(r io.Reader, trusted []ed25519.PublicKey) (*Reader, error) {
	in := bufio.NewReader(r)
	body, sig, err := readSigned(in)
	if err != nil {
		return nil, err
	}
	keyID := ""
	for _, k := range trusted {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, body, sig) {
			keyID = KeyID(k)
			break
		}
	}
	if keyID == "" {
		return nil, fmt.Errorf("bundle: manifest: %w (%d trusted)", ErrSignature, len(trusted))
	}
	m, err := ParseManifest(body)
	if err != nil {
		return nil, err
	}
	count := &countingReader{r: in}
	return &Reader{m: m, keyID: keyID, in: in, count: count, tr: tar.NewReader(count)}, nil
}

// Manifest returns the verified manifest.
func (r *Reader) Manifest() *Manifest { return r.m }

// KeyID returns the fingerprint (KeyID) of the trusted key that signed it.
func (r *Reader) KeyID() string { return r.keyID }

// Next returns the next file and a reader of its bytes, after checking the
// previous file to its end. It returns io.EOF after the last file, once it
// has checked that nothing follows it.
func (r *Reader) Next() (File, io.Reader, error) {
	if r.failed != nil {
		return File{}, nil, r.failed
	}
	f, fr, err := r.advance()
	if err != nil && err != io.EOF {
		r.failed = err
	}
	return f, fr, err
}

func (r *Reader) advance() (File, io.Reader, error) {
	if r.cur != nil {
		if _, err := io.Copy(io.Discard, r.cur); err != nil {
			return File{}, nil, err
		}
		r.cur = nil
		r.dataEnd = r.count.n
	}
	hdr, err := r.tr.Next()
	if r.next == len(r.m.Files) {
		return File{}, nil, r.end(hdr, err)
	}
	f := r.m.Files[r.next]
	if err != nil {
		return File{}, nil, fmt.Errorf("bundle: file %s: %w", f.Path, truncated(err))
	}
	switch {
	case hdr.Typeflag != tar.TypeReg:
		return File{}, nil, fmt.Errorf("bundle: entry %q: type %q, only regular files allowed", hdr.Name, hdr.Typeflag)
	case hdr.Name != f.Path:
		return File{}, nil, fmt.Errorf("bundle: entry %q where the manifest lists %q", hdr.Name, f.Path)
	case hdr.Size != f.Size:
		return File{}, nil, fmt.Errorf("bundle: entry %s of %d bytes, the manifest says %d", f.Path, hdr.Size, f.Size)
	}
	r.next++
	r.cur = &fileReader{f: f, r: r.tr, h: sha256.New()}
	return f, r.cur, nil
}

// end checks that the files end where the manifest's list does.
func (r *Reader) end(hdr *tar.Header, err error) error {
	switch {
	case err == io.EOF:
	case err != nil:
		return fmt.Errorf("bundle: after the last file: %w", truncated(err))
	default:
		return fmt.Errorf("bundle: entry %q is not in the manifest", hdr.Name)
	}
	// archive/tar takes a clean end of input for the end of the archive: ask
	// for its two zero blocks, so a bundle cut between files is truncated.
	if r.count.n-r.dataEnd < 2*512 {
		return fmt.Errorf("bundle: after the last file: no end-of-archive marker: truncated")
	}
	if _, err := r.in.ReadByte(); err != io.EOF {
		return fmt.Errorf("bundle: data after the last file")
	}
	return io.EOF
}

// fileReader hashes a file's bytes as they are read and checks them at the end.
type fileReader struct {
	f    File
	r    io.Reader
	h    hash.Hash
	n    int64
	done error
}

func (fr *fileReader) Read(p []byte) (int, error) {
	if fr.done != nil {
		return 0, fr.done
	}
	n, err := fr.r.Read(p)
	fr.n += int64(n)
	fr.h.Write(p[:n])
	switch {
	case err == io.EOF:
		fr.done = fr.check()
		err = fr.done
	case err != nil:
		fr.done = fmt.Errorf("bundle: file %s: %w", fr.f.Path, truncated(err))
		err = fr.done
	}
	return n, err
}

// check compares the bytes read with the manifest.
func (fr *fileReader) check() error {
	if fr.n != fr.f.Size {
		return fmt.Errorf("bundle: file %s: %d bytes, the manifest says %d: truncated", fr.f.Path, fr.n, fr.f.Size)
	}
	if got := hex.EncodeToString(fr.h.Sum(nil)); got != fr.f.SHA256 {
		return fmt.Errorf("bundle: file %s: %w (got %s)", fr.f.Path, ErrHash, got)
	}
	return io.EOF
}

// Verify reads the whole bundle from r, checking the signature and every
// file's hash, and returns the manifest.
func Verify(r io.Reader, trusted []ed25519.PublicKey) (*Manifest, error) {
	br, err := Open(r, trusted)
	if err != nil {
		return nil, err
	}
	for {
		_, _, err := br.Next()
		if err == io.EOF {
			return br.m, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
