package bundle

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Magic starts every bundle; its last byte is the format's version.
const Magic = "NGICBDL1"

// headerSize is the magic and the manifest's length (uint32, big-endian).
const headerSize = len(Magic) + 4

// appendHeader returns the fixed header for a manifest of n bytes.
func appendHeader(b []byte, n int) []byte {
	b = append(b, Magic...)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// ParseHeader checks the fixed header and returns the manifest's length.
func ParseHeader(h []byte) (int, error) {
	if len(h) < headerSize {
		return 0, fmt.Errorf("bundle: header of %d bytes, want %d: truncated", len(h), headerSize)
	}
	if string(h[:len(Magic)]) != Magic {
		return 0, fmt.Errorf("bundle: header starts %q, want %q: not a bundle, or another format version", h[:len(Magic)], Magic)
	}
	n := binary.BigEndian.Uint32(h[len(Magic):headerSize])
	if n == 0 || n > MaxManifestSize {
		return 0, fmt.Errorf("bundle: header declares a manifest of %d bytes, want 1 to %d", n, MaxManifestSize)
	}
	return int(n), nil
}

// readSigned reads the header, the manifest's bytes and the signature.
func readSigned(r io.Reader) (manifest, sig []byte, err error) {
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, nil, fmt.Errorf("bundle: reading header: %w", truncated(err))
	}
	n, err := ParseHeader(h)
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, n+ed25519.SignatureSize)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, nil, fmt.Errorf("bundle: reading manifest (%d bytes) and signature: %w", n, truncated(err))
	}
	return buf[:n], buf[n:], nil
}

// truncated turns an early end of input into a message that says so.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated: %w", io.ErrUnexpectedEOF)
	}
	return err
}
