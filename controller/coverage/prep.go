package coverage

import (
	"cmp"
	"slices"
	"sync"
	"unsafe"
	"weak"

	"github.com/ngic/ngic/controller/inventory"
)

// prepared is what a computation needs of its inventory alone: the rows
// of each village, the site of each device, the villages in gap order and
// their points on the sphere. The daemon recomputes one inventory after
// every poll cycle; prepare keeps this for the latest inventory, and the
// recomputes do not make it again.
type prepared struct {
	// villagePos maps a region index to its position in Result.Villages (-1
	// for a region that is not a village).
	villagePos []int32
	// Rows per village position (CSR: rows[off[v]:off[v+1]]).
	saOff, saRows   []int32
	decOff, decRows []int32
	ovOff, ovRows   []int32
	// devSite is the index into inv.Sites of each device's site, -1 when
	// unknown.
	devSite []int32
	// The data rows of each device (CSR: dataRows[dataOff[d]:dataOff[d+1]]),
	// in village order.
	dataOff  []int32
	dataRows []dataRow
	// byHouseholds is the village positions, most households first, then
	// in file order: the order of the gap list.
	byHouseholds []int32
	// xyz is each village's point on the unit sphere, by position;
	// siteXYZ each site's.
	xyz, siteXYZ [][3]float64
	// work is the buffers the last computation left (takeWork, putWork).
	workMu sync.Mutex
	work   *work
	// roll is what rollUp needs, made at its first computation.
	rollOnce sync.Once
	roll     *rollPlan
}

// dataRow is a data row of a device: its village's position, and its
// place k among the village's rows (saRows[saOff[village]+k]).
type dataRow struct {
	village, k int32
}

// shape is what tells an inventory's rows apart from those prepared:
// where each slice of rows starts, and its length. An inventory is not
// changed once loaded; one whose rows were replaced or appended to is
// prepared again.
type shape [7]struct {
	data uintptr
	n    int
}

func shapeOf(inv *inventory.Inventory) shape {
	return shape{{uintptr(unsafe.Pointer(unsafe.SliceData(inv.Regions))), len(inv.Regions)},
		{uintptr(unsafe.Pointer(unsafe.SliceData(inv.Sites))), len(inv.Sites)},
		{uintptr(unsafe.Pointer(unsafe.SliceData(inv.Devices))), len(inv.Devices)},
		{uintptr(unsafe.Pointer(unsafe.SliceData(inv.ServiceAreas))), len(inv.ServiceAreas)},
		{uintptr(unsafe.Pointer(unsafe.SliceData(inv.Declared))), len(inv.Declared)},
		{uintptr(unsafe.Pointer(unsafe.SliceData(inv.Overrides))), len(inv.Overrides)},
		{uintptr(unsafe.Pointer(unsafe.SliceData(inv.Villages()))), len(inv.Villages())}}
}

// preparedCache keeps the preparation of the latest inventory, as long as
// that inventory lives (a weak pointer: it keeps no inventory alive).
var preparedCache struct {
	mu    sync.Mutex
	inv   weak.Pointer[inventory.Inventory]
	shape shape
	p     *prepared
}

// prepare returns the preparation of inv: the one kept, when it is inv's
// and inv's rows are those it was made from, else a new one, kept in its
// place.
func prepare(inv *inventory.Inventory) *prepared {
	sh := shapeOf(inv)
	c := &preparedCache
	c.mu.Lock()
	if c.inv.Value() == inv && c.shape == sh {
		p := c.p
		c.mu.Unlock()
		return p
	}
	c.mu.Unlock()
	p := newPrepared(inv)
	c.mu.Lock()
	c.inv, c.shape, c.p = weak.Make(inv), sh, p
	c.mu.Unlock()
	return p
}

// newPrepared prepares inv.
func newPrepared(inv *inventory.Inventory) *prepared {
	p := &prepared{villagePos: make([]int32, len(inv.Regions))}
	for i := range p.villagePos {
		p.villagePos[i] = -1
	}
	vills := inv.Villages()
	for pos, ri := range vills {
		p.villagePos[ri] = int32(pos)
	}
	n := len(vills)
	p.saOff, p.saRows = csr(n, len(inv.ServiceAreas), func(i int) int32 { return p.villagePos[inv.ServiceAreas[i].VillageIx] })
	p.decOff, p.decRows = csr(n, len(inv.Declared), func(i int) int32 { return p.villagePos[inv.Declared[i].VillageIx] })
	p.ovOff, p.ovRows = csr(n, len(inv.Overrides), func(i int) int32 { return p.villagePos[inv.Overrides[i].VillageIx] })
	p.dataOff, p.dataRows = dataRowsOf(inv, p.saOff, p.saRows)
	p.devSite = make([]int32, len(inv.Devices))
	for i := range inv.Devices {
		p.devSite[i] = -1
		if s, ok := inv.Site(inv.Devices[i].Site); ok {
			p.devSite[i] = s
		}
	}
	type key struct {
		households int64
		pos        int32
	}
	keys := make([]key, n)
	p.xyz = make([][3]float64, n)
	for pos, ri := range vills {
		r := &inv.Regions[ri]
		keys[pos] = key{r.Households, int32(pos)}
		p.xyz[pos] = unitVector(r.Lat, r.Lon)
	}
	p.siteXYZ = make([][3]float64, len(inv.Sites))
	for i := range inv.Sites {
		p.siteXYZ[i] = unitVector(inv.Sites[i].Lat, inv.Sites[i].Lon)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.households != b.households {
			return cmp.Compare(b.households, a.households)
		}
		return cmp.Compare(a.pos, b.pos)
	})
	p.byHouseholds = make([]int32, n)
	for i, k := range keys {
		p.byHouseholds[i] = k.pos
	}
	return p
}

// csr groups rows 0..m-1 by their village position (rows whose position
// is negative are left out), keeping file order within a village.
func csr(n, m int, pos func(i int) int32) (off, rows []int32) {
	off = make([]int32, n+1)
	for i := 0; i < m; i++ {
		if p := pos(i); p >= 0 {
			off[p+1]++
		}
	}
	for v := 0; v < n; v++ {
		off[v+1] += off[v]
	}
	rows = make([]int32, off[n])
	next := append([]int32(nil), off[:n]...)
	for i := 0; i < m; i++ {
		if p := pos(i); p >= 0 {
			rows[next[p]] = int32(i)
			next[p]++
		}
	}
	return off, rows
}

// dataRowsOf groups the data rows of the villages (saRows, CSR by
// saOff) by device, in village order.
func dataRowsOf(inv *inventory.Inventory, saOff, saRows []int32) (off []int32, rows []dataRow) {
	off = make([]int32, len(inv.Devices)+1)
	for _, r := range saRows {
		if sa := &inv.ServiceAreas[r]; sa.Service == inventory.ServiceData && sa.DeviceIx >= 0 {
			off[sa.DeviceIx+1]++
		}
	}
	for d := range inv.Devices {
		off[d+1] += off[d]
	}
	rows = make([]dataRow, off[len(inv.Devices)])
	next := append([]int32(nil), off[:len(inv.Devices)]...)
	for v := 0; v+1 < len(saOff); v++ {
		for k, r := range saRows[saOff[v]:saOff[v+1]] {
			if sa := &inv.ServiceAreas[r]; sa.Service == inventory.ServiceData && sa.DeviceIx >= 0 {
				rows[next[sa.DeviceIx]] = dataRow{village: int32(v), k: int32(k)}
				next[sa.DeviceIx]++
			}
		}
	}
	return off, rows
}
