package coverage

import (
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/telemetry"
)

// Device states of DeviceStatus.State (the poll statuses of telemetry).
const (
	StateUp         = telemetry.PollUp
	StateDown       = telemetry.PollDown
	StateAuthFailed = telemetry.PollAuthFailed
	StateUnknown    = "unknown"
)

// DeviceStatus is what the controller knows of one device of the
// inventory when coverage is computed.
type DeviceStatus struct {
	// State is StateUp, StateDown, StateAuthFailed or StateUnknown (never
	// polled, or no answer yet); "" reads as StateUnknown.
	State string
	// Since is when the device entered State (for down: since when it is
	// down).
	Since time.Time
	// PolledAt is when Evidence was polled.
	PolledAt time.Time
	// Evidence is the summary of the device's latest document (nil: none).
	Evidence *Evidence
}

// devInfo is a device's standing for one computation.
type devInfo struct {
	// usable: what the device delivers counts (up; down less than
	// down_after with earlier evidence; auth-failed; unknown with earlier
	// evidence); reject says why not. outage: the device is down, usable
	// or not.
	usable, outage, stale bool
	reject                string
	state                 string
	polledAt              time.Time
	ev                    *Evidence
	network               string
	site                  int32 // index into inv.Sites, -1 when unknown
}

// Special values of a row's resolved port.
const (
	portAll        = -1 // "*": every port
	portMissing    = -2 // the port is not on the device
	portNoEvidence = -3 // the device has no evidence to look in
)

// computation is the shared, read-only state of one Compute, and the
// take-up split it prepares.
type computation struct {
	inv   *inventory.Inventory
	cfg   *Config
	now   time.Time
	devs  []devInfo
	tiers []Tier
	caps  map[string]Rate
	next  map[string]bool
	// techCaps and techNext are caps and next by Tech, for the
	// technologies named when the computation began (the evidence it is
	// given can name no other).
	techCaps [256]techCap
	techNext [256]bool
	// prepared is what the computation needs of inv alone.
	*prepared
	// rowPort is the resolved port of each service area row.
	rowPort []int32
	// portBase is the offset of each device's ports in portHH.
	portBase []int32
	// portHH is, per port, the households of the distinct villages it
	// delivers data to; or, when none of them has households, minus their
	// number.
	portHH []float64
	// trails is what the villages' compact trails share (nil: Compute
	// keeps them in full).
	trails *trailCtx
	// mem is the memory the result is computed into (a Pool's), work the
	// buffers of the computation.
	mem  *resultMem
	work *work
}

// techCap is the capability of a technology, when one is configured.
type techCap struct {
	rate Rate
	ok   bool
}

// Compute computes the coverage of every village and region of inv. devs
// gives the status of each device, in the order of inv.Devices (a shorter
// slice leaves the rest unknown); cfg must have been validated (nil: the
// defaults); now is the time the figures are for. Compute is pure: no I/O,
// no clock, deterministic: the same on any number of goroutines. The
// per-device, per-row, per-village and per-region work runs on GOMAXPROCS
// goroutines. What depends on inv alone (the rows of each village, the
// gap order, the villages' points) is made once and kept for the next
// computation of the same inventory, as long as it lives: change an
// inventory's rows only by replacing or appending to its slices.
func Compute(inv *inventory.Inventory, devs []DeviceStatus, cfg *Config, now time.Time) *Result {
	return compute(inv, devs, cfg, now, false)
}

// compute is Compute, with the villages' trails kept compact when compact
// is set (ComputeCompact).
func compute(inv *inventory.Inventory, devs []DeviceStatus, cfg *Config, now time.Time, compact bool) *Result {
	return computeInto(inv, devs, cfg, now, compact, nil)
}

// computeInto is compute into mem, the memory of a result of a Pool (nil:
// new memory); the result keeps mem.
func computeInto(inv *inventory.Inventory, devs []DeviceStatus, cfg *Config, now time.Time, compact bool, mem *resultMem) *Result {
	if cfg == nil {
		def := DefaultConfig()
		cfg = &def
	}
	if len(cfg.Tiers) == 0 {
		cp := *cfg
		cp.Tiers = DefaultTiers()
		cfg = &cp
	}
	c := &computation{inv: inv, cfg: cfg, now: now, tiers: cfg.Tiers, caps: cfg.Capability, next: map[string]bool{}, mem: mem}
	if c.mem == nil {
		c.mem = &resultMem{}
	}
	for _, t := range cfg.NextGeneration {
		c.next[t] = true
	}
	for t, name := range techNames() {
		c.techNext[t] = c.next[name]
		c.techCaps[t].rate, c.techCaps[t].ok = c.caps[name]
	}
	c.techNext[TechOther] = c.next[TechOther.String()]
	c.techCaps[TechOther].rate, c.techCaps[TechOther].ok = c.caps[TechOther.String()]
	c.prepared = prepare(inv)
	c.work = c.takeWork()
	c.deviceStates(devs)
	if compact {
		c.trails = c.newTrailCtx()
	}
	c.resolvePorts()
	c.splitTakeUp()

	vills := inv.Villages()
	res := &Result{Computed: now, Tiers: append([]Tier(nil), c.tiers...), Villages: reuse(c.mem.villages, len(vills))}
	c.villages(res.Villages)
	if c.trails != nil {
		c.trails.done(c.mem)
	}
	res.Regions = c.rollUp(res.Villages)
	res.Gaps = c.gaps(res.Villages)
	c.putWork(c.work)
	if mem != nil {
		c.mem.villages, c.mem.regions, c.mem.gaps = res.Villages, res.Regions, res.Gaps
		res.mem = c.mem
	}
	return res
}

// deviceStates decides, once per device, whether what it delivers counts,
// in chunks of devices on GOMAXPROCS goroutines.
func (c *computation) deviceStates(devs []DeviceStatus) {
	c.devs = reuse(c.work.devs, len(c.inv.Devices))
	c.work.devs = c.devs
	parallelChunks(len(c.devs), 8192, func() func(lo, hi int) {
		return func(lo, hi int) { c.deviceRange(devs, lo, hi) }
	})
}

// deviceRange is deviceStates for devices [lo, hi).
func (c *computation) deviceRange(devs []DeviceStatus, lo, hi int) {
	inv := c.inv
	for i := lo; i < hi; i++ {
		d := &c.devs[i]
		*d = devInfo{} // a kept buffer's
		d.network = inv.Devices[i].Network
		if d.network == "" {
			d.network = inv.Devices[i].ID
		}
		d.site = c.devSite[i]
		var st DeviceStatus
		if i < len(devs) {
			st = devs[i]
		}
		d.state, d.polledAt, d.ev = st.State, st.PolledAt, st.Evidence
		if d.state == "" {
			d.state = StateUnknown
		}
		d.stale = !st.PolledAt.IsZero() && c.now.Sub(st.PolledAt) > c.cfg.StaleAfter
		switch d.state {
		case StateUp:
			d.usable = true
		case StateDown:
			// Down is an outage however long it lasts; the device keeps
			// its last class within down_after, when it has one.
			d.outage = true
			switch {
			case c.now.Sub(st.Since) > c.cfg.DownAfter:
				d.reject = "down since " + dateTime(st.Since) + ", past down_after " + c.cfg.DownAfter.String()
			case st.Evidence == nil:
				d.reject = "down, never answered"
			default:
				d.usable = true
			}
		case StateAuthFailed:
			// The device answers but refuses the credentials: it is up, and
			// its last evidence, if any, stands (stale with age).
			d.usable = true
		default:
			switch {
			case st.Evidence != nil:
				d.usable = true
			case d.state == StateUnknown:
				d.reject = rejectUnknown // the same string for every device not polled yet
			default:
				d.reject = "state " + d.state + ", never polled"
			}
		}
	}
}

// rejectUnknown is why a device never polled does not count.
const rejectUnknown = "state " + StateUnknown + ", never polled"

// resolvePorts finds the port of each service area row on its device's
// evidence: an ifIndex (digits) first, then an ifName; a CMTS's unit
// answers to any port. The rows are resolved in chunks on GOMAXPROCS
// goroutines.
func (c *computation) resolvePorts() {
	c.rowPort = reuse(c.work.rowPort, len(c.inv.ServiceAreas))
	c.work.rowPort = c.rowPort
	parallelChunks(len(c.rowPort), 16384, func() func(lo, hi int) {
		lookups := map[int32]*portLookup{}
		return func(lo, hi int) { c.resolveRange(lookups, lo, hi) }
	})
}

// portLookup finds the ports of a device with many by ifIndex and ifName.
type portLookup struct {
	byIndex map[uint32]int32
	byName  map[string]int32
}

// resolveRange is resolvePorts for rows [lo, hi), with a worker's lookups
// of the devices with many ports.
func (c *computation) resolveRange(lookups map[int32]*portLookup, lo, hi int) {
	inv := c.inv
	// Devices with many ports get maps; the others are scanned.
	const scanPorts = 64
	for i := lo; i < hi; i++ {
		sa := &inv.ServiceAreas[i]
		if sa.Port == "*" {
			c.rowPort[i] = portAll
			continue
		}
		ev := c.devs[sa.DeviceIx].ev
		switch {
		case ev == nil:
			c.rowPort[i] = portNoEvidence
			continue
		case len(ev.Ports) == 1 && ev.Ports[0].Kind == KindCable:
			c.rowPort[i] = 0
			continue
		}
		n, isIndex := parseIfIndex(sa.Port)
		if len(ev.Ports) <= scanPorts {
			c.rowPort[i] = scanPort(ev.Ports, sa.Port, n, isIndex)
			continue
		}
		lk := lookups[sa.DeviceIx]
		if lk == nil {
			lk = &portLookup{byIndex: make(map[uint32]int32, len(ev.Ports)), byName: make(map[string]int32, len(ev.Ports))}
			for p := len(ev.Ports) - 1; p >= 0; p-- { // the first of duplicates wins
				lk.byIndex[ev.Ports[p].IfIndex] = int32(p)
				if ev.Ports[p].Name != "" {
					lk.byName[ev.Ports[p].Name] = int32(p)
				}
			}
			lookups[sa.DeviceIx] = lk
		}
		c.rowPort[i] = portMissing
		if p, ok := lk.byIndex[n]; ok && isIndex {
			c.rowPort[i] = p
		} else if p, ok := lk.byName[sa.Port]; ok {
			c.rowPort[i] = p
		}
	}
}

// parseIfIndex returns the ifIndex a port cell gives in digits, or false
// (an ifName: no error is made, a national inventory names millions).
func parseIfIndex(cell string) (uint32, bool) {
	if cell == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(cell); i++ {
		c := cell[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n = n*10 + uint64(c-'0'); n > math.MaxUint32 {
			return 0, false
		}
	}
	return uint32(n), true
}

// scanPort finds a port by ifIndex (when the cell is digits), then by
// name, or gives portMissing.
func scanPort(ports []Port, cell string, ifIndex uint32, isIndex bool) int32 {
	if isIndex {
		for p := range ports {
			if ports[p].IfIndex == ifIndex {
				return int32(p)
			}
		}
	}
	for p := range ports {
		if ports[p].Name == cell && cell != "" {
			return int32(p)
		}
	}
	return portMissing
}

// ports returns the ports of the device that row r names: all of them for
// "*", one, or none.
func (c *computation) ports(r int32) []Port {
	sa := &c.inv.ServiceAreas[r]
	ev := c.devs[sa.DeviceIx].ev
	if ev == nil {
		return nil
	}
	switch p := c.rowPort[r]; {
	case p == portAll:
		return ev.Ports
	case p >= 0:
		return ev.Ports[p : p+1]
	}
	return nil
}

// portRange returns the indexes [lo, hi) of the ports row r names.
func (c *computation) portRange(r int32) (lo, hi int32) {
	sa := &c.inv.ServiceAreas[r]
	ev := c.devs[sa.DeviceIx].ev
	if ev == nil {
		return 0, 0
	}
	switch p := c.rowPort[r]; {
	case p == portAll:
		return 0, int32(len(ev.Ports))
	case p >= 0:
		return p, p + 1
	}
	return 0, 0
}

// duplicateData reports whether data row k of a village's rows repeats
// ports another of its rows already covers: a row of a device that the
// village also has a "*" row for (only the first "*" row counts), or a
// second row naming the same port.
func (c *computation) duplicateData(rows []int32, k int) bool {
	sas := c.inv.ServiceAreas
	me := &sas[rows[k]]
	myPort := c.rowPort[rows[k]]
	for j, r := range rows {
		if j == k {
			continue
		}
		o := &sas[r]
		if o.Service != inventory.ServiceData || o.DeviceIx != me.DeviceIx {
			continue
		}
		op := c.rowPort[r]
		switch {
		case op == portAll && (myPort != portAll || j < k):
			return true
		case op >= 0 && op == myPort && j < k:
			return true
		}
	}
	return false
}

// splitTakeUp totals, per port, the households of the distinct villages it
// delivers data to (or counts them when none has households), for the
// split of its subscribers.
func (c *computation) splitTakeUp() {
	c.portBase = reuse(c.work.portBase, len(c.devs)+1)
	c.work.portBase = c.portBase
	c.portBase[0] = 0
	for i, d := range c.devs {
		n := 0
		if d.ev != nil {
			n = len(d.ev.Ports)
		}
		c.portBase[i+1] = c.portBase[i] + int32(n)
	}
	total := c.portBase[len(c.devs)]
	c.portHH = reuse(c.work.portHH, int(total))
	c.work.portHH = c.portHH
	// Each device's ports are totalled from its data rows, in chunks of
	// devices on GOMAXPROCS goroutines. Households are whole numbers: a
	// port's total is exact, whatever the order its villages are added in.
	parallelChunks(len(c.devs), 8192, func() func(lo, hi int) {
		return func(lo, hi int) { c.takeUpDevices(int32(lo), int32(hi)) }
	})
}

// takeUpDevices is splitTakeUp for the ports of devices [devLo, devHi).
func (c *computation) takeUpDevices(devLo, devHi int32) {
	inv := c.inv
	clear(c.portHH[c.portBase[devLo]:c.portBase[devHi]]) // a kept buffer's
	for d := devLo; d < devHi; d++ {
		base := c.portBase[d]
		for _, dr := range c.dataRows[c.dataOff[d]:c.dataOff[d+1]] {
			rows := c.saRows[c.saOff[dr.village]:c.saOff[dr.village+1]]
			if c.duplicateData(rows, int(dr.k)) {
				continue
			}
			hh := float64(inv.Regions[inv.Villages()[dr.village]].Households)
			lo, hi := c.portRange(rows[dr.k])
			for p := base + lo; p < base+hi; p++ {
				switch w := &c.portHH[p]; {
				case hh > 0:
					*w = max(*w, 0) + hh
				case *w <= 0:
					*w-- // one more village without households
				}
			}
		}
	}
}

// share is the part of port p of device d that village households hh
// takes.
func (c *computation) share(d int32, p int32, hh float64) float64 {
	switch w := c.portHH[c.portBase[d]+p]; {
	case w > 0:
		return hh / w
	case w < 0: // villages without households: an equal share each
		return 1 / -w
	}
	return 0
}

// villages computes every village, spread over GOMAXPROCS goroutines,
// each with a scratch the last computation left (or a new one).
func (c *computation) villages(out []Village) {
	w := c.work
	var mu sync.Mutex
	taken := 0
	parallel(len(out), func() func(lo, hi int) {
		mu.Lock()
		if taken == len(w.scratches) {
			w.scratches = append(w.scratches, &scratch{})
		}
		s := w.scratches[taken]
		taken++
		mu.Unlock()
		return func(lo, hi int) {
			for v := lo; v < hi; v++ {
				c.village(s, v, &out[v])
			}
		}
	})
	for _, s := range w.scratches[:taken] {
		s.drop()
	}
}

// parallel runs work over [0, n) in chunks of 1024 on GOMAXPROCS
// goroutines; each goroutine calls newWorker once for its own function
// (and buffers).
func parallel(n int, newWorker func() func(lo, hi int)) {
	parallelChunks(n, 1024, newWorker)
}

// parallelChunks is parallel with chunks of chunk items. One goroutine
// runs when there is one chunk or less.
func parallelChunks(n, chunk int, newWorker func() func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n <= chunk || workers == 1 {
		newWorker()(0, n)
		return
	}
	var mu sync.Mutex
	next := 0
	take := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		lo := next
		hi := min(lo+chunk, n)
		next = hi
		return lo, hi
	}
	var wg sync.WaitGroup
	for range min(workers, (n+chunk-1)/chunk) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work := newWorker()
			for lo, hi := take(); lo < hi; lo, hi = take() {
				work(lo, hi)
			}
		}()
	}
	wg.Wait()
}

// mbps turns kbit/s into Mbit/s.
func mbps(k float64) float64 { return k / 1000 }

// dateTime formats a time for a trail's reason.
func dateTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
