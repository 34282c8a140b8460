package coverage

import (
	"fmt"
	"strconv"
)

// TVClass is a village's television: TVDigital, TVAnalogue or TVNone, in
// one byte; its text (String, JSON) is "digital", "analogue" or "none",
// and "" for the zero value (no class: a village absent from a result).
type TVClass uint8

// TV classes of a village.
const (
	// TVDigital: a digital source that is up reaches the village (or one is
	// declared).
	TVDigital TVClass = iota + 1
	// TVAnalogue: only analogue television is declared there.
	TVAnalogue
	// TVNone: no television is known to reach the village.
	TVNone
)

var tvClassNames = [...]string{"", "digital", "analogue", "none"}

// String returns the class's name ("digital", ...), "" for the zero value.
func (c TVClass) String() string { return nameOf(tvClassNames[:], uint8(c), "tv") }

// MarshalText gives the class's name.
func (c TVClass) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a class's name ("" for the zero value).
func (c *TVClass) UnmarshalText(b []byte) error {
	v, err := parseName(tvClassNames[:], string(b), "TV class")
	*c = TVClass(v)
	return err
}

// ParseTVClass returns the TV class named s (not the zero value), or false.
func ParseTVClass(s string) (TVClass, bool) {
	v, err := parseName(tvClassNames[:], s, "TV class")
	return TVClass(v), err == nil && v != 0
}

// Basis is what a village's TV or voice rests on, in one byte: its text
// (String, JSON) is that of the Evidence constants, "" for the zero value.
type Basis uint8

// The bases of a village's TV and voice.
const (
	BasisMeasured Basis = iota + 1
	BasisDeclared
	BasisOverride
	BasisNone
)

var basisNames = [...]string{"", EvidenceMeasured, EvidenceDeclared, EvidenceOverride, EvidenceNone}

// String returns the basis's name (EvidenceMeasured, ...), "" for the zero
// value.
func (b Basis) String() string { return nameOf(basisNames[:], uint8(b), "basis") }

// MarshalText gives the basis's name.
func (b Basis) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText reads a basis's name ("" for the zero value).
func (b *Basis) UnmarshalText(text []byte) error {
	v, err := parseName(basisNames[:], string(text), "evidence")
	*b = Basis(v)
	return err
}

// nameOf returns names[v], or what(v) for a value out of range.
func nameOf(names []string, v uint8, what string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return what + "(" + strconv.Itoa(int(v)) + ")"
}

// parseName returns the index of s in names.
func parseName(names []string, s, what string) (uint8, error) {
	for i, n := range names {
		if n == s {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("coverage: %s %q is none of %q", what, s, names[1:])
}
