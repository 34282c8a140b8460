package bundle

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// Running returns the Target of the running program, named name at version,
// with its GOOS, GOARCH and (for arm) the GOARM it was built with, and the
// free space of the file system holding dir.
func Running(name, version, dir string) (Target, error) {
	t := Target{Name: name, Version: version, OS: runtime.GOOS, Arch: runtime.GOARCH}
	if t.Arch == "arm" {
		t.ARM = buildSetting("GOARM")
	}
	free, err := FreeBytes(dir)
	if err != nil {
		return Target{}, err
	}
	t.FreeBytes = free
	return t, nil
}

// buildSetting returns the build setting key of the running binary, or "".
// GOARM is recorded as e.g. "7" (Go may append ",softfloat").
func buildSetting(key string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == key {
			if len(s.Value) > 1 && s.Value[1] == ',' {
				return s.Value[:1]
			}
			return s.Value
		}
	}
	return ""
}

// FreeBytes returns the bytes an unprivileged user may still write on the
// file system holding dir.
func FreeBytes(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("bundle: free space of %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
