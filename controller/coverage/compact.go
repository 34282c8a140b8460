package coverage

import (
	"bytes"
	"encoding/json"
	"iter"
	"sync"
	"time"
	"unsafe"

	"github.com/ngic/ngic/controller/inventory"
)

// ComputeCompact is Compute for a caller that keeps results, as the daemon
// does (it serves one result while it computes the next): each village's
// trail is kept compact, in 48 bytes an entry instead of 256 (what the
// inventory and the device's state already say is not repeated), and
// Village.Trail is left nil. TrailEntries gives a village's trail in full,
// and the JSON encoding of a village is the same as Compute's. The result
// reads inv's rows: it keeps inv, which must not change afterwards.
func ComputeCompact(inv *inventory.Inventory, devs []DeviceStatus, cfg *Config, now time.Time) *Result {
	return compute(inv, devs, cfg, now, true)
}

// trailCtx is what the compact trails of one result share: the rows they
// name, the state of each device, and the strings of the entries.
type trailCtx struct {
	inv  *inventory.Inventory
	devs []devTrail
	mu   sync.Mutex
	// tables are the strings of the entries, one table per worker of the
	// computation (a string's id is its table << tableShift | its index).
	tables []*strTable
	// blocks are the entries, in the blocks the workers filled; spare
	// are blocks of a released result, for newBlock to fill first.
	blocks [][]entry
	spare  [][]entry
}

// blockLimit is the number of blocks of entries a result may have (a
// village's block is a uint16); trailLimit the entries of a compact trail
// (its count is a uint16). Tests lower them.
var (
	blockLimit = 1 << 16
	trailLimit = 1<<16 - 1
)

// newBlock adds a block of n entries for a worker, and returns it with its
// number; false when the result has blockLimit already.
func (t *trailCtx) newBlock(n int) ([]entry, uint16, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.blocks) >= blockLimit {
		return nil, 0, false
	}
	var b []entry
	if k := len(t.spare) - 1; k >= 0 && len(t.spare[k]) >= n {
		b, t.spare = t.spare[k], t.spare[:k]
	} else {
		b = make([]entry, n)
	}
	t.blocks = append(t.blocks, b)
	return b, uint16(len(t.blocks) - 1), true
}

// strTable is the strings of one worker's entries; ids finds them while
// the worker computes.
type strTable struct {
	strs []string
	ids  map[string]uint32
}

// A string's id is its table << tableShift | its index in the table; id 0
// is "" (index 0 of every table).
const (
	tableShift = 20
	tableSize  = 1 << tableShift
)

// tableLimit is the number of strings a table takes before its worker
// starts another (tableSize; tests lower it).
var tableLimit = tableSize

// newTable adds a table of strings for a worker, and returns it with its
// number.
func (t *trailCtx) newTable() (*strTable, uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := &strTable{strs: []string{""}, ids: map[string]uint32{"": 0}}
	t.tables = append(t.tables, st)
	return st, uint32(len(t.tables) - 1)
}

// done drops the tables' indexes, which only the computation needs, and
// the spare blocks it did not fill.
func (t *trailCtx) done(mem *resultMem) {
	for _, st := range t.tables {
		st.ids = nil
	}
	t.spare = nil
	mem.blocks = t.blocks
}

// str returns the string of id.
func (t *trailCtx) str(id uint32) string {
	return t.tables[id>>tableShift].strs[id&(tableSize-1)]
}

// intern returns the id of str in the worker's table, adding it (and a
// new table when the worker's is full).
func (s *scratch) intern(ctx *trailCtx, str string) uint32 {
	if str == "" {
		return 0
	}
	if s.strs == nil || len(s.strs.strs) == tableLimit {
		s.strs, s.table = ctx.newTable()
		s.recent = [len(s.recent)]recentStr{}
	}
	// Most strings of a trail are the same few (technologies, tiers,
	// reasons) in the same memory: those are found by where they are
	// before the table is asked.
	data := unsafe.StringData(str)
	rc := &s.recent[(uintptr(unsafe.Pointer(data))>>3^uintptr(len(str)))%uintptr(len(s.recent))]
	if rc.data == data && rc.n == len(str) {
		return s.table<<tableShift | rc.id
	}
	id, ok := s.strs.ids[str]
	if !ok {
		id = uint32(len(s.strs.strs))
		s.strs.strs = append(s.strs.strs, str)
		s.strs.ids[str] = id
	}
	*rc = recentStr{data: data, n: len(str), id: id}
	return s.table<<tableShift | id
}

// recentStr is a string a worker interned lately: where its bytes are,
// its length and its index in the worker's table. The pointer keeps the
// bytes from being freed and their memory given to another string.
type recentStr struct {
	data *byte
	n    int
	id   uint32
}

// devTrail is what a measured entry says of its device.
type devTrail struct {
	state         string
	polledAt      time.Time
	stale, outage bool
}

// entry is a TrailEntry kept compact: service, line, device and port come
// from its row (of inventory's ServiceAreas, Declared or Overrides, after
// source), polled_at, state, stale and outage from its device.
type entry struct {
	value, down, up            float64
	tech, class, why, rejected uint32 // string ids (trailCtx.str)
	row                        int32
	source, figure, unit       uint8
	used                       bool
}

// Codes of an entry's source, figure and unit: indexes into these.
var (
	entrySources = [...]string{"", EvidenceMeasured, EvidenceDeclared, EvidenceOverride}
	entryFigures = [...]string{"", FigureONTsOnline, FigureModemsOnline, FigureDSLShowtime, FigureSubscribers,
		FigureSourceUp, FigureDeviceUp, FigureDeclared, FigureOverride}
	entryUnits = [...]string{"", UnitSubscribers, UnitBool}
)

// code returns the index of s in names (0, "", when it is not there).
func code(names []string, s string) uint8 {
	for i, n := range names {
		if n == s {
			return uint8(i)
		}
	}
	return 0
}

// newTrailCtx keeps, for the compact trails, the devices' states.
func (c *computation) newTrailCtx() *trailCtx {
	t := &trailCtx{inv: c.inv, devs: reuse(c.mem.devs, len(c.devs)), spare: c.mem.blocks,
		blocks: c.mem.blocks[:0:0]}
	c.mem.devs, c.mem.blocks = t.devs, nil
	parallelChunks(len(c.devs), 16384, func() func(lo, hi int) {
		return func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d := &c.devs[i]
				t.devs[i] = devTrail{state: d.state, polledAt: d.polledAt, stale: d.stale, outage: d.outage}
			}
		}
	})
	return t
}

// compact puts trail, compacted, in the worker's block of entries, as
// out's compact trail; false when it cannot (a trail of more than
// trailLimit entries, or no block left), and out keeps trail in full.
func (s *scratch) compact(ctx *trailCtx, trail []TrailEntry, out *Village) bool {
	if len(trail) > trailLimit {
		return false
	}
	if len(s.entries)-s.used < len(trail) {
		b, id, ok := ctx.newBlock(max(trailBlock, len(trail)))
		if !ok {
			return false
		}
		s.entries, s.entriesID, s.used = b, id, 0
	}
	out.ct, out.ctBlock, out.ctLo, out.ctN = ctx, s.entriesID, uint32(s.used), uint16(len(trail))
	for i := range trail {
		e := &trail[i]
		s.entries[s.used] = entry{tech: s.intern(ctx, e.Technology), class: s.intern(ctx, e.Class),
			why: s.intern(ctx, e.Why), rejected: s.intern(ctx, e.Rejected), value: e.Value, down: e.DownMbps, up: e.UpMbps,
			row: e.row, source: code(entrySources[:], e.Source), figure: code(entryFigures[:], e.Figure),
			unit: code(entryUnits[:], e.Unit), used: e.Used}
		s.used++
	}
	return true
}

// entries returns the village's compact trail (nil when it has none).
func (v *Village) entries() []entry {
	if v.ct == nil || v.ctN == 0 { // an empty trail may have no block
		return nil
	}
	return v.ct.blocks[v.ctBlock][v.ctLo : v.ctLo+uint32(v.ctN)]
}

// expand gives entry e in full.
func (t *trailCtx) expand(e *entry) TrailEntry {
	out := TrailEntry{Source: entrySources[e.source], Technology: t.str(e.tech), Figure: entryFigures[e.figure],
		Value: e.value, Unit: entryUnits[e.unit], DownMbps: e.down, UpMbps: e.up, Class: t.str(e.class),
		Why: t.str(e.why), Used: e.used, Rejected: t.str(e.rejected), row: e.row}
	switch out.Source {
	case EvidenceMeasured:
		sa := &t.inv.ServiceAreas[e.row]
		d := &t.devs[sa.DeviceIx]
		out.Service, out.Line, out.Device, out.Port = string(sa.Service), sa.Line, sa.Device, sa.Port
		out.PolledAt, out.State, out.Stale, out.Outage, out.dev = d.polledAt, d.state, d.stale, d.outage, sa.DeviceIx+1
	case EvidenceDeclared:
		d := &t.inv.Declared[e.row]
		out.Service, out.Line = string(d.Service), d.Line
	case EvidenceOverride:
		o := &t.inv.Overrides[e.row]
		out.Service, out.Line = string(o.Service), o.Line
	}
	return out
}

// TrailEntries returns the village's trail in full: Trail, or the compact
// trail of ComputeCompact expanded (a new slice at each call).
func (v *Village) TrailEntries() []TrailEntry {
	if v.Trail != nil || v.ct == nil {
		return v.Trail
	}
	es := v.entries()
	out := make([]TrailEntry, len(es))
	for i := range es {
		out[i] = v.ct.expand(&es[i])
	}
	return out
}

// TrailSeq yields the entries of the village's trail, in order, as
// TrailEntries gives them, without making a slice: an entry of a compact
// trail is expanded into one TrailEntry that the next reuses (copy it to
// keep it).
func (v *Village) TrailSeq() iter.Seq[*TrailEntry] {
	return func(yield func(*TrailEntry) bool) {
		if v.Trail != nil || v.ct == nil {
			for i := range v.Trail {
				if !yield(&v.Trail[i]) {
					return
				}
			}
			return
		}
		var e TrailEntry
		for _, c := range v.entries() {
			if e = v.ct.expand(&c); !yield(&e) {
				return
			}
		}
	}
}

// usedData calls f with the device index of each used, measured data
// entry of the village's trail.
func (v *Village) usedData(f func(dev int32)) {
	if v.Trail == nil && v.ct != nil {
		sas := v.ct.inv.ServiceAreas
		es := v.entries()
		for i := range es {
			e := &es[i]
			if e.used && entrySources[e.source] == EvidenceMeasured && sas[e.row].Service == inventory.ServiceData {
				f(sas[e.row].DeviceIx)
			}
		}
		return
	}
	for k := range v.Trail {
		e := &v.Trail[k]
		if e.Used && e.dev != 0 && e.Service == string(inventory.ServiceData) {
			f(e.dev - 1)
		}
	}
}

// plainVillage is a Village's fields, without its MarshalJSON.
type plainVillage Village

// villageEncoder encodes villages into its buffer, escaping no HTML.
type villageEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// villageEncoders are the villageEncoders free for use.
var villageEncoders = sync.Pool{New: func() any {
	e := &villageEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// MarshalJSON encodes the village as its fields say, with a compact trail
// in full. It escapes no HTML: an encoder that does escapes the result.
func (v Village) MarshalJSON() ([]byte, error) {
	var trail func(yield func(*TrailEntry) bool)
	if v.Trail != nil || v.ct != nil {
		trail = v.TrailSeq()
	}
	b, err := appendVillage(make([]byte, 0, 1024), &v, trail)
	if err == nil {
		return b, nil
	}
	p := (*plainVillage)(&v) // encoding/json says what is wrong
	p.Trail = v.TrailEntries()
	return marshalNoHTML(p)
}

// marshalNoHTML is json.Marshal without HTML escaping.
func marshalNoHTML(v any) ([]byte, error) {
	e := villageEncoders.Get().(*villageEncoder)
	defer villageEncoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})), nil
}
