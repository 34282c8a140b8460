package coverage

import (
	"strconv"
	"sync"
	"sync/atomic"
)

// Tech is an access technology of the evidence, in one byte: its text
// (String) is the lower-case name declared.csv and the capability table
// write ("gpon", "vdsl2", ...). The Tech constants are known; a name a
// device gives that is none of them gets its own value at its first
// sighting (TechOf), up to 255 names in all.
type Tech uint8

// Technologies the evidence names.
const (
	TechGPON Tech = iota + 1
	TechXGPON
	TechXGSPON
	TechEPON
	Tech10GEPON
	TechDOCSIS2
	TechDOCSIS30
	TechDOCSIS31
	TechADSL
	TechADSL2
	TechADSL2Plus
	TechVDSL
	TechVDSL2
	// TechOther stands for a name beyond the 255 a process can hold.
	TechOther Tech = 255
)

// TechAnalogue is the declared technology of analogue television.
const TechAnalogue = "analogue"

// knownTechs are the names of the Tech constants, in their order.
var knownTechs = []string{"", "gpon", "xg-pon", "xgs-pon", "epon", "10g-epon", "docsis2", "docsis3.0", "docsis3.1",
	"adsl", "adsl2", "adsl2+", "vdsl", "vdsl2"}

// techTable is the names of the technologies met so far, by value: read
// without a lock, replaced whole under mu when a name is added.
type techTable struct {
	names atomic.Pointer[[]string]
	mu    sync.Mutex
}

// newTechTable returns a table of the known technologies.
func newTechTable() *techTable {
	t := &techTable{}
	names := append([]string(nil), knownTechs...)
	t.names.Store(&names)
	return t
}

// techs is the process's table.
var techs = newTechTable()

// String returns the technology's name ("" for the zero value, "other"
// for TechOther).
func (t Tech) String() string { return techs.name(t) }

// TechOf returns the Tech named name (lower case, as the constants'
// names are), giving a new name the next free value; "" is the zero
// value, and a name beyond the 254th is TechOther.
func TechOf(name string) Tech { return techs.of(name) }

// techNames returns the names of every technology met so far, by value.
func techNames() []string { return *techs.names.Load() }

func (tt *techTable) name(t Tech) string {
	if t == TechOther {
		return "other"
	}
	if names := *tt.names.Load(); int(t) < len(names) {
		return names[t]
	}
	return "tech(" + strconv.Itoa(int(t)) + ")"
}

func (tt *techTable) of(name string) Tech {
	if t, ok := lookupTech(*tt.names.Load(), name); ok {
		return t
	}
	tt.mu.Lock()
	defer tt.mu.Unlock()
	names := *tt.names.Load()
	if t, ok := lookupTech(names, name); ok {
		return t
	}
	if len(names) >= int(TechOther) {
		return TechOther
	}
	grown := append(names[:len(names):len(names)], name)
	tt.names.Store(&grown)
	return Tech(len(grown) - 1)
}

// lookupTech returns the value of name in names.
func lookupTech(names []string, name string) (Tech, bool) {
	for i, n := range names {
		if n == name {
			return Tech(i), true
		}
	}
	return 0, false
}
