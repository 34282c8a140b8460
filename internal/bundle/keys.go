package bundle

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// Text forms of keys: one key per line, a prefix then the standard base64
// (with padding) of the key's bytes. Blank lines and lines starting with '#'
// are ignored, so a trust file may list several keys with comments.
const (
	// PublicKeyPrefix starts a public key line; 32 bytes follow in base64.
	PublicKeyPrefix = "ngic-ed25519-pub:"
	// PrivateKeyPrefix starts a private key line; the 32-byte seed follows in base64.
	PrivateKeyPrefix = "ngic-ed25519-priv:"
)

// GenerateKey returns a new key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: generating key: %w", err)
	}
	return pub, priv, nil
}

// FormatPublicKey returns the text line of pub, with a newline.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub) + "\n"
}

// FormatPrivateKey returns the text line of priv (its seed), with a newline.
func FormatPrivateKey(priv ed25519.PrivateKey) string {
	return PrivateKeyPrefix + base64.StdEncoding.EncodeToString(priv.Seed()) + "\n"
}

// KeyID returns a short fingerprint of pub for messages: the first 8 bytes of
// its SHA-256 in hex.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return fmt.Sprintf("%x", h[:8])
}

// ParsePublicKeys reads every public key line of data; an error names the line.
// A file with no key is an error: it would trust nothing.
func ParsePublicKeys(data []byte) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	err := keyLines(data, PublicKeyPrefix, ed25519.PublicKeySize, func(b []byte) {
		keys = append(keys, ed25519.PublicKey(b))
	})
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("bundle: no %q line", PublicKeyPrefix)
	}
	return keys, nil
}

// ParsePrivateKey reads the one private key line of data.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	var keys []ed25519.PrivateKey
	err := keyLines(data, PrivateKeyPrefix, ed25519.SeedSize, func(b []byte) {
		keys = append(keys, ed25519.NewKeyFromSeed(b))
	})
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("bundle: want one %q line, found %d", PrivateKeyPrefix, len(keys))
	}
	return keys[0], nil
}

// keyLines decodes each non-comment line of data as prefix+base64 of size bytes.
func keyLines(data []byte, prefix string, size int, add func([]byte)) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		enc, ok := strings.CutPrefix(line, prefix)
		if !ok {
			return fmt.Errorf("bundle: line %d: does not start with %q", n, prefix)
		}
		b, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err != nil {
			return fmt.Errorf("bundle: line %d: key is not base64: %w", n, err)
		}
		if len(b) != size {
			return fmt.Errorf("bundle: line %d: key of %d bytes, want %d", n, len(b), size)
		}
		add(b)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("bundle: reading keys: %w", err)
	}
	return nil
}

// ReadPublicKeys reads the public keys in the file at path.
func ReadPublicKeys(path string) ([]ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: public keys: %w", err)
	}
	keys, err := ParsePublicKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// ReadPrivateKey reads the private key in the file at path, refusing a file
// that others than its owner may read or write.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: private key: %w", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("bundle: private key %s: mode %04o lets others read it; want 0600", path, m)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: private key: %w", err)
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}
