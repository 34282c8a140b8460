package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Load reads the inventory folder dir: devices.csv (required), and
// gateways.csv, regions.csv, sites.csv, service_areas.csv, declared.csv and
// overrides.csv when present (all but gateways.csv need regions.csv). It
// returns the whole inventory, or nil and an error joining every problem
// found, each naming FILE:LINE:COLUMN: column: message (at most MaxErrors,
// then "... and N more"). The files are read in parallel.
func Load(dir string, opt Options) (*Inventory, error) {
	l := newLoader(dir)
	defer l.close()
	if err := l.open(); err != nil {
		return nil, err
	}
	l.parse(opt)
	l.resolve()
	if err := joinErrors(&l.folder, &l.regions.errs, &l.sites.errs, &l.devices.errs, &l.gateways.errs,
		&l.areas.errs, &l.declared.errs, &l.overrides.errs); err != nil {
		return nil, err
	}
	return l.inv, nil
}

// source is one file of the folder.
type source struct {
	table table
	name  string   // its path, as errors name it
	file  *os.File // nil when absent
	size  int64
	errs  errList
}

// loader holds the state of one Load.
type loader struct {
	dir                                                           string
	inv                                                           *Inventory
	folder                                                        errList
	regions, sites, devices, gateways, areas, declared, overrides source
	// Where the references to other files stand, per file.
	siteRegions, deviceSites, gatewaySites, areaDevices, areaVillages, declVillages, ovVillages *refCols
}

// open opens the files present; devices.csv is required, and the files
// that name villages or regions require regions.csv.
func (l *loader) open() error {
	for _, s := range l.sources() {
		s.name = filepath.Join(l.dir, s.table.file)
		f, err := os.Open(s.name)
		if errors.Is(err, fs.ErrNotExist) && s != &l.devices {
			continue
		}
		if err != nil {
			return fmt.Errorf("inventory: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("inventory: %w", err)
		}
		if st.IsDir() {
			f.Close()
			return fmt.Errorf("inventory: %s is a folder, not a file", s.name)
		}
		s.file, s.size = f, st.Size()
	}
	l.inv.hasRegions = l.regions.file != nil
	if !l.inv.hasRegions {
		for _, s := range []*source{&l.sites, &l.areas, &l.declared, &l.overrides} {
			if s.file != nil {
				l.folder.add(0, 0, fmt.Errorf("%s: needs regions.csv in the same folder", s.name))
				s.file.Close()
				s.file = nil
			}
		}
	}
	return nil
}

func newLoader(dir string) *loader {
	l := &loader{dir: dir, inv: &Inventory{Dir: dir}}
	l.regions.table, l.sites.table, l.devices.table, l.gateways.table = regionsTable, sitesTable, devicesTable, gatewaysTable
	l.areas.table, l.declared.table, l.overrides.table = serviceAreasTable, declaredTable, overridesTable
	return l
}

// sources lists the files in the order their errors are reported.
func (l *loader) sources() []*source {
	return []*source{&l.regions, &l.sites, &l.devices, &l.gateways, &l.areas, &l.declared, &l.overrides}
}

// close closes the files still open.
func (l *loader) close() {
	for _, s := range l.sources() {
		if s.file != nil {
			s.file.Close()
		}
	}
}

// parse reads every file present, each in its own goroutine.
func (l *loader) parse(opt Options) {
	inv := l.inv
	inv.regionIx, inv.siteIx, inv.deviceIx = map[string]int32{}, map[string]int32{}, map[string]int32{}
	var wg sync.WaitGroup
	run := func(s *source, parse func(name string, r io.Reader, rows int, errs *errList)) {
		if s.file == nil {
			return
		}
		wg.Go(func() {
			rows, err := countRows(s.file, s.size, len(s.table.cols))
			if err != nil {
				s.errs.add(0, 0, fmt.Errorf("%s: %w", s.name, err))
				s.errs.partial = true
				return
			}
			parse(s.name, s.file, rows, &s.errs)
		})
	}
	run(&l.regions, func(name string, r io.Reader, rows int, errs *errList) {
		inv.Regions, inv.regionIx = parseRegions(name, r, rows, errs)
	})
	run(&l.sites, func(name string, r io.Reader, rows int, errs *errList) {
		inv.Sites, inv.siteIx, l.siteRegions = parseSites(name, r, rows, errs)
	})
	run(&l.devices, func(name string, r io.Reader, rows int, errs *errList) {
		inv.Devices, inv.deviceIx, l.deviceSites = parseDevices(name, r, rows, opt.Credentials, errs)
	})
	run(&l.gateways, func(name string, r io.Reader, rows int, errs *errList) {
		inv.Gateways, l.gatewaySites = parseGateways(name, r, rows, errs)
	})
	run(&l.areas, func(name string, r io.Reader, rows int, errs *errList) {
		inv.ServiceAreas, l.areaDevices, l.areaVillages = parseServiceAreas(name, r, rows, errs)
	})
	run(&l.declared, func(name string, r io.Reader, rows int, errs *errList) {
		inv.Declared, l.declVillages = parseDeclared(name, r, rows, errs)
	})
	run(&l.overrides, func(name string, r io.Reader, rows int, errs *errList) {
		inv.Overrides, l.ovVillages = parseOverrides(name, r, rows, errs)
	})
	wg.Wait()
}

// resolve checks the references between files, each file in its own
// goroutine (the indexes are only read), and lists the villages.
func (l *loader) resolve() {
	inv := l.inv
	var wg sync.WaitGroup
	run := func(refs *refCols, to *source, fn func()) {
		if refs != nil && !to.errs.partial {
			wg.Go(fn)
		}
	}
	run(l.siteRegions, &l.regions, func() { resolveSites(inv, l.siteRegions) })
	if l.sites.file != nil {
		run(l.deviceSites, &l.sites, func() {
			checkSites(l.deviceSites, inv.siteIx, len(inv.Devices), func(i int) (string, int) { return inv.Devices[i].Site, inv.Devices[i].Line })
		})
		run(l.gatewaySites, &l.sites, func() {
			checkSites(l.gatewaySites, inv.siteIx, len(inv.Gateways), func(i int) (string, int) { return inv.Gateways[i].Site, inv.Gateways[i].Line })
		})
	}
	if devs, vils := l.areaDevices, l.areaVillages; devs != nil {
		if l.devices.errs.partial {
			devs = nil
		}
		if l.regions.errs.partial {
			vils = nil
		}
		wg.Go(func() { resolveServiceAreas(inv, devs, vils) })
	}
	run(l.declVillages, &l.regions, func() {
		resolveVillages(inv, l.declVillages, len(inv.Declared), func(i int) (string, int, *int32) {
			d := &inv.Declared[i]
			return d.Village, d.Line, &d.VillageIx
		})
	})
	run(l.ovVillages, &l.regions, func() {
		resolveVillages(inv, l.ovVillages, len(inv.Overrides), func(i int) (string, int, *int32) {
			o := &inv.Overrides[i]
			return o.Village, o.Line, &o.VillageIx
		})
	})
	wg.Go(func() {
		n := 0
		for i := range inv.Regions {
			if inv.Regions[i].Level == LevelVillage {
				n++
			}
		}
		if n > 0 {
			inv.villages = make([]int32, 0, n)
		}
		for i := range inv.Regions {
			if inv.Regions[i].Level == LevelVillage {
				inv.villages = append(inv.villages, int32(i))
			}
		}
	})
	wg.Wait()
}

// countRows returns how many rows the file may hold, to allocate them at
// once: its lines less the header, and no more than a row per cols bytes
// (its commas and line end). The file is read again from its start.
func countRows(f *os.File, size int64, cols int) (int, error) {
	buf := make([]byte, 256<<10)
	lines := 1
	for {
		n, err := f.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return int(min(int64(lines-1), size/int64(cols))), nil
}

// checkSites records an error for each of the n rows whose site (given by
// site) is not in sites.csv.
func checkSites(refs *refCols, sites map[string]int32, n int, site func(i int) (string, int)) {
	for i := 0; i < n; i++ {
		id, line := site(i)
		refs.resolve(i, line, id, sites, "site", "sites.csv")
	}
}
