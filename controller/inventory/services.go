package inventory

import (
	"io"
	"strconv"
	"strings"
	"time"
)

// Columns of service_areas.csv.
const (
	saDevice = iota
	saPort
	saVillage
	saService
)

var serviceAreasTable = table{file: "service_areas.csv", cols: []string{"device", "port", "village", "service"}, required: 4}

// Columns of declared.csv.
const (
	decVillage = iota
	decService
	decTechnology
	decDown
	decUp
	decSource
)

var declaredTable = table{file: "declared.csv",
	cols:     []string{"village", "service", "technology", "down_mbps", "up_mbps", "source"},
	required: 5}

// Columns of overrides.csv.
const (
	ovVillage = iota
	ovService
	ovClass
	ovReason
	ovUntil
)

var overridesTable = table{file: "overrides.csv", cols: []string{"village", "service", "class", "reason", "until"}, required: 4}

// parseService returns the current row's service in column k.
func parseService(f *csvFile, k int) Service {
	s := f.get(k)
	v, ok := ParseService(s)
	if !ok {
		f.fail(k, "%q is none of data, voice, video", s)
	}
	return v
}

// parseServiceAreas reads service_areas.csv; the devices and villages are
// resolved by resolveServiceAreas.
func parseServiceAreas(name string, r io.Reader, rows int, errs *errList) ([]ServiceArea, *refCols, *refCols) {
	f := openCSV(name, r, serviceAreasTable, errs)
	if f == nil {
		return nil, nil, nil
	}
	n := rows
	areas := make([]ServiceArea, 0, n)
	devs := &refCols{f: f, k: saDevice, cols: make([]int32, 0, n)}
	vils := &refCols{f: f, k: saVillage, cols: make([]int32, 0, n)}
	ports := interner{}
	for f.next() {
		a := ServiceArea{Device: f.required(saDevice), Port: ports.get(f.get(saPort)), Village: f.required(saVillage), Line: f.line, DeviceIx: -1, VillageIx: -1}
		checkPort(f, a.Port)
		a.Service = parseService(f, saService)
		devs.keep()
		vils.keep()
		areas = append(areas, a)
	}
	return areas, devs, vils
}

// checkPort checks a port cell: *, an ifIndex (1..2147483647) or an
// ifName.
func checkPort(f *csvFile, p string) {
	switch {
	case p == "":
		f.fail(saPort, "empty: * (the whole device), an ifIndex or an ifName")
	case p[0] >= '0' && p[0] <= '9' && strings.Trim(p, "0123456789") == "":
		if v, err := strconv.ParseInt(p, 10, 32); err != nil || v < 1 {
			f.fail(saPort, "ifIndex %s is not within 1..2147483647", p)
		}
	}
}

// resolveServiceAreas sets each service area's DeviceIx and VillageIx; a
// nil devs or vils leaves those unchecked. The device and village strings
// become those of the device and the region, so that the rows' records,
// one string each, are no longer held.
func resolveServiceAreas(inv *Inventory, devs, vils *refCols) {
	for i := range inv.ServiceAreas {
		a := &inv.ServiceAreas[i]
		if devs != nil {
			if ix, ok := devs.resolve(i, a.Line, a.Device, inv.deviceIx, "device", "devices.csv"); ok {
				a.DeviceIx, a.Device = ix, inv.Devices[ix].ID
			}
		}
		if vils != nil {
			if a.VillageIx = vils.village(i, a.Line, a.Village, inv); a.VillageIx >= 0 {
				a.Village = inv.Regions[a.VillageIx].Code
			}
		}
	}
}

// parseDeclared reads declared.csv; the villages are resolved by
// resolveVillages.
func parseDeclared(name string, r io.Reader, rows int, errs *errList) ([]Declared, *refCols) {
	f := openCSV(name, r, declaredTable, errs)
	if f == nil {
		return nil, nil
	}
	vils := &refCols{f: f, k: decVillage, cols: make([]int32, 0, rows)}
	techs := interner{}
	decl := make([]Declared, 0, rows)
	for f.next() {
		d := Declared{Village: f.required(decVillage), Service: parseService(f, decService), Source: f.get(decSource), Line: f.line, VillageIx: -1}
		d.Technology = techs.get(strings.ToLower(f.required(decTechnology)))
		d.DownMbps = parseNonNegative(f, decDown)
		d.UpMbps = parseNonNegative(f, decUp)
		vils.keep()
		decl = append(decl, d)
	}
	return decl, vils
}

// parseOverrides reads overrides.csv; the villages are resolved by
// resolveVillages. A village has at most one override per service.
func parseOverrides(name string, r io.Reader, rows int, errs *errList) ([]Override, *refCols) {
	f := openCSV(name, r, overridesTable, errs)
	if f == nil {
		return nil, nil
	}
	vils := &refCols{f: f, k: ovVillage, cols: make([]int32, 0, rows)}
	classes := interner{}
	seen := map[[2]string]int{}
	ovs := make([]Override, 0, rows)
	for f.next() {
		o := Override{Village: f.required(ovVillage), Service: parseService(f, ovService), Class: classes.get(f.required(ovClass)),
			Reason: f.get(ovReason), Line: f.line, VillageIx: -1}
		o.Until = parseUntil(f, ovUntil)
		key := [2]string{o.Village, string(o.Service)}
		if prev, ok := seen[key]; ok && o.Village != "" && o.Service != "" {
			f.fail(ovVillage, "village %q already has an override of %s on line %d", o.Village, o.Service, prev)
			continue
		}
		seen[key] = o.Line
		vils.keep()
		ovs = append(ovs, o)
	}
	return ovs, vils
}

// parseUntil returns the current row's end time in column k: blank (zero),
// a date (the last nanosecond of that day UTC) or an RFC 3339 date-time.
func parseUntil(f *csvFile, k int) time.Time {
	s := f.get(k)
	if s == "" {
		return time.Time{}
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Nanosecond)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		f.fail(k, "%q is neither a date (2026-12-31) nor an RFC 3339 date-time", s)
		return time.Time{}
	}
	return t
}

// resolveVillages sets the VillageIx of each row through village, which
// returns a pointer to row i's village code, line and index.
func resolveVillages(inv *Inventory, vils *refCols, n int, row func(i int) (code string, line int, ix *int32)) {
	for i := 0; i < n; i++ {
		code, line, ix := row(i)
		*ix = vils.village(i, line, code, inv)
	}
}
