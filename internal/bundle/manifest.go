package bundle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// Limits on what a bundle may declare, so that a hostile header or manifest
// cannot make a reader allocate or write without bound.
const (
	// MaxManifestSize is the largest manifest, in bytes.
	MaxManifestSize = 1 << 20
	// MaxFileSize is the largest file a bundle may hold, in bytes.
	MaxFileSize = 1 << 30
	// MaxFiles is the most files a bundle may hold.
	MaxFiles = 1000
)

// Manifest describes a bundle: what it is, where it may run, and every file
// it holds. It is the signed part of a bundle.
type Manifest struct {
	// Name is the product, e.g. "ngic-edge"; an agent accepts only its own.
	Name string `json:"name"`
	// Version is the bundle's semantic version.
	Version string `json:"version"`
	// OS and Arch are the GOOS and GOARCH the files are built for.
	OS   string `json:"os"`
	Arch string `json:"arch"`
	// ARM is the GOARM level ("5", "6" or "7") when Arch is "arm"; empty otherwise.
	ARM string `json:"arm,omitempty"`
	// MinVersion, when set, is the oldest running version this bundle may replace.
	MinVersion string `json:"min_version,omitempty"`
	// Files are the bundle's files, in the order they follow the manifest.
	Files []File `json:"files"`
}

// File is one file of a bundle.
type File struct {
	// Path is slash-separated and relative to the install root, without "."
	// or ".." elements (fs.ValidPath).
	Path string `json:"path"`
	// Mode is the permission bits in octal, e.g. "0755"; nothing else.
	Mode string `json:"mode"`
	// Size is the file's length in bytes.
	Size int64 `json:"size"`
	// SHA256 is the lower-case hex SHA-256 of the file's bytes.
	SHA256 string `json:"sha256"`
}

// Perm returns the file's permission bits; the manifest has been validated.
func (f File) Perm() fs.FileMode {
	m, _ := strconv.ParseUint(f.Mode, 8, 32)
	return fs.FileMode(m) & fs.ModePerm
}

// TotalSize returns the sum of the files' sizes.
func (m *Manifest) TotalSize() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Validate checks every field, naming the one that is wrong.
func (m *Manifest) Validate() error {
	if m.Name == "" || strings.ContainsAny(m.Name, " /\\\x00") {
		return fmt.Errorf("bundle: manifest name %q: want a non-empty name without spaces or slashes", m.Name)
	}
	if _, err := ParseVersion(m.Version); err != nil {
		return fmt.Errorf("bundle: manifest version: %w", err)
	}
	if m.MinVersion != "" {
		if _, err := ParseVersion(m.MinVersion); err != nil {
			return fmt.Errorf("bundle: manifest min_version: %w", err)
		}
	}
	if m.OS == "" || m.Arch == "" {
		return fmt.Errorf("bundle: manifest os %q arch %q: both are required", m.OS, m.Arch)
	}
	switch {
	case m.Arch == "arm" && m.ARM != "5" && m.ARM != "6" && m.ARM != "7":
		return fmt.Errorf("bundle: manifest arm %q: want 5, 6 or 7 for arch arm", m.ARM)
	case m.Arch != "arm" && m.ARM != "":
		return fmt.Errorf("bundle: manifest arm %q: only for arch arm, not %s", m.ARM, m.Arch)
	}
	if len(m.Files) == 0 || len(m.Files) > MaxFiles {
		return fmt.Errorf("bundle: manifest has %d files, want 1 to %d", len(m.Files), MaxFiles)
	}
	seen := make(map[string]bool, len(m.Files))
	for i, f := range m.Files {
		if err := f.validate(); err != nil {
			return fmt.Errorf("bundle: manifest file %d: %w", i+1, err)
		}
		seen[f.Path] = true
	}
	for i, f := range m.Files {
		if dup := duplicateOrParent(f.Path, i, m.Files, seen); dup != "" {
			return fmt.Errorf("bundle: manifest file %d %q: %s", i+1, f.Path, dup)
		}
	}
	return nil
}

// duplicateOrParent says what is wrong when path appears twice or is also a
// directory of another file.
func duplicateOrParent(path string, i int, files []File, seen map[string]bool) string {
	for j := range i {
		if files[j].Path == path {
			return fmt.Sprintf("listed twice (also file %d)", j+1)
		}
	}
	for dir := path; ; {
		k := strings.LastIndexByte(dir, '/')
		if k < 0 {
			return ""
		}
		dir = dir[:k]
		if seen[dir] {
			return fmt.Sprintf("is under %q, which is a file", dir)
		}
	}
}

// validate checks one file's fields.
func (f File) validate() error {
	if !fs.ValidPath(f.Path) || f.Path == "." || strings.ContainsAny(f.Path, "\\\x00") {
		return fmt.Errorf("path %q: want a relative slash path without '.', '..', empty elements or backslashes", f.Path)
	}
	m, err := strconv.ParseUint(f.Mode, 8, 32)
	if err != nil || m&^uint64(fs.ModePerm) != 0 || len(f.Mode) != 4 {
		return fmt.Errorf("%s: mode %q: want four octal digits of permission bits, e.g. 0755", f.Path, f.Mode)
	}
	if f.Size < 0 || f.Size > MaxFileSize {
		return fmt.Errorf("%s: size %d: want 0 to %d bytes", f.Path, f.Size, MaxFileSize)
	}
	if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 || strings.ToLower(f.SHA256) != f.SHA256 {
		return fmt.Errorf("%s: sha256 %q: want 64 lower-case hex digits", f.Path, f.SHA256)
	}
	return nil
}

// ParseManifest decodes and validates the manifest's JSON; unknown fields
// and trailing data are errors. It does not check a signature: use Open.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("bundle: manifest of %d bytes exceeds %d", len(data), MaxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("bundle: manifest: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("bundle: manifest: data after the JSON object")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// encode returns the manifest's JSON as it is signed: indented, so that a
// bundle's head reads as text.
func (m *Manifest) encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bundle: encoding manifest: %w", err)
	}
	return append(b, '\n'), nil
}
