package bundle

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed semantic version (semver.org 2.0.0): MAJOR.MINOR.PATCH
// with an optional -prerelease and an ignored +build, and an optional leading "v".
type Version struct {
	Major, Minor, Patch uint64
	// Pre holds the dot-separated pre-release identifiers; empty for a release.
	Pre []string
	raw string
}

// String returns the version as it was written.
func (v Version) String() string { return v.raw }

// ParseVersion parses s as a semantic version, naming what is wrong.
func ParseVersion(s string) (Version, error) {
	v := Version{raw: s}
	rest := strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		if err := identifiers(rest[i+1:], false); err != nil {
			return Version{}, fmt.Errorf("bundle: version %q: build metadata: %w", s, err)
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		pre := rest[i+1:]
		if err := identifiers(pre, true); err != nil {
			return Version{}, fmt.Errorf("bundle: version %q: pre-release: %w", s, err)
		}
		v.Pre = strings.Split(pre, ".")
		rest = rest[:i]
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("bundle: version %q: want MAJOR.MINOR.PATCH", s)
	}
	nums := [3]*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		if !numeric(p) {
			return Version{}, fmt.Errorf("bundle: version %q: %q is not a number without leading zeros", s, p)
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Version{}, fmt.Errorf("bundle: version %q: %q: %w", s, p, err)
		}
		*nums[i] = n
	}
	return v, nil
}

// numeric reports whether p is a non-empty run of digits without a leading zero.
func numeric(p string) bool {
	if p == "" || (len(p) > 1 && p[0] == '0') {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// identifiers checks dot-separated identifiers of [0-9A-Za-z-]; pre-release
// numeric identifiers may not have leading zeros.
func identifiers(s string, pre bool) error {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return fmt.Errorf("empty identifier")
		}
		digits := true
		for _, c := range id {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				digits = false
			default:
				return fmt.Errorf("identifier %q has %q", id, c)
			}
		}
		if pre && digits && !numeric(id) {
			return fmt.Errorf("identifier %q has a leading zero", id)
		}
	}
	return nil
}

// Compare returns -1, 0 or +1 as v is older than, as old as, or newer than w,
// by semver precedence (build metadata ignored).
func (v Version) Compare(w Version) int {
	for _, d := range [3][2]uint64{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		if d[0] != d[1] {
			return cmpInt(d[0], d[1])
		}
	}
	switch {
	case len(v.Pre) == 0 && len(w.Pre) == 0:
		return 0
	case len(v.Pre) == 0:
		return 1
	case len(w.Pre) == 0:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(w.Pre); i++ {
		if c := comparePre(v.Pre[i], w.Pre[i]); c != 0 {
			return c
		}
	}
	return cmpInt(uint64(len(v.Pre)), uint64(len(w.Pre)))
}

// comparePre orders two pre-release identifiers: numbers numerically and
// before words, words in ASCII order.
func comparePre(a, b string) int {
	an, bn := numeric(a) || a == "0", numeric(b) || b == "0"
	switch {
	case an && bn:
		if len(a) != len(b) {
			return cmpInt(uint64(len(a)), uint64(len(b)))
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
