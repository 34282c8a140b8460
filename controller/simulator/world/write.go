package world

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Folders and files Write creates under its directory.
const (
	InventoryDir  = "inventory"
	RecordingsDir = "recordings"
)

// Write writes the inventory folder (DIR/inventory: regions.csv,
// sites.csv, devices.csv, gateways.csv, service_areas.csv, declared.csv)
// and one recording per device (DIR/recordings/ID.snmprec), creating the
// folders. Recordings of an earlier world in DIR/recordings that this one
// does not have are removed, so that the folder serves this world alone;
// nothing else there is touched.
func (w *World) Write(dir string) error {
	inv, rec := filepath.Join(dir, InventoryDir), filepath.Join(dir, RecordingsDir)
	for _, d := range []string{inv, rec} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("world: %w", err)
		}
	}
	files := w.inventoryFiles()
	total := len(files) + len(w.Devices)
	p := &progress{fn: w.Options.Progress, total: total}
	for _, f := range files {
		if err := writeCSV(filepath.Join(inv, f.name), f.rows); err != nil {
			return err
		}
		p.step()
	}
	if err := w.writeRecordings(rec, p); err != nil {
		return err
	}
	return w.removeStale(rec)
}

// progress reports files written, one call at a time.
type progress struct {
	mu          sync.Mutex
	fn          func(done, total int)
	done, total int
}

func (p *progress) step() {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.fn(p.done, p.total)
}

// writeRecordings writes the recordings, in parallel.
func (w *World) writeRecordings(dir string, p *progress) error {
	next := make(chan int)
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for k := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &recWriter{}
			for i := range next {
				if errs[k] == nil {
					errs[k] = writeRecording(filepath.Join(dir, w.Devices[i].ID+".snmprec"), r, &w.Devices[i])
				}
				p.step()
			}
		}()
	}
	for i := range w.Devices {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// writeRecording writes one device's recording through r.
func writeRecording(path string, r *recWriter, d *Device) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("world: %w", err)
	}
	if r.w == nil {
		r.w = bufio.NewWriterSize(f, 64<<10)
	} else {
		r.w.Reset(f)
	}
	record(r, d)
	err = r.w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("world: recording %s: %w", d.ID, err)
	}
	return nil
}

// removeStale removes the .snmprec files of dir that name no device.
func (w *World) removeStale(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("world: %w", err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".snmprec")
		if !ok || e.IsDir() {
			continue
		}
		if _, mine := w.deviceIx[id]; mine {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("world: stale recording: %w", err)
		}
	}
	return nil
}

// csvFile is one inventory file: its name and rows (header first).
type csvFile struct {
	name string
	rows [][]string
}

// inventoryFiles renders the inventory folder.
func (w *World) inventoryFiles() []csvFile {
	regions := [][]string{{"code", "name", "parent", "level", "population", "households", "lat", "lon", "priority"}}
	for _, r := range w.Regions {
		lat, lon := decimal(r.Lat), decimal(r.Lon)
		if r.Level == "province" {
			lat, lon = "", "" // allowed above village level
		}
		regions = append(regions, []string{r.Code, r.Name, r.Parent, r.Level, itoa(r.Population), itoa(r.Households),
			lat, lon, boolCell(r.Priority)})
	}
	sites := [][]string{{"id", "name", "region", "lat", "lon", "kind"}}
	for _, s := range w.Sites {
		sites = append(sites, []string{s.ID, s.Name, s.Region, decimal(s.Lat), decimal(s.Lon), s.Kind})
	}
	addr := "127.0.0.1:" + strconv.Itoa(w.Options.Port)
	devices := [][]string{{"id", "site", "address", "credentials", "parent", "network"}}
	for _, d := range w.Devices {
		devices = append(devices, []string{d.ID, d.Site, addr, "community:" + d.ID, d.Parent, d.Network})
	}
	gateways := [][]string{{"gateway", "site"}}
	for _, g := range w.Gateways {
		gateways = append(gateways, []string{g.Name, g.Site})
	}
	areas := [][]string{{"device", "port", "village", "service"}}
	for _, a := range w.ServiceAreas {
		areas = append(areas, []string{a.Device, a.Port, a.Village, a.Service})
	}
	declared := [][]string{{"village", "service", "technology", "down_mbps", "up_mbps", "source"}}
	for _, d := range w.Declared {
		declared = append(declared, []string{d.Village, d.Service, d.Technology, decimal(d.DownMbps), decimal(d.UpMbps), d.Source})
	}
	return []csvFile{{"regions.csv", regions}, {"sites.csv", sites}, {"devices.csv", devices},
		{"gateways.csv", gateways}, {"service_areas.csv", areas}, {"declared.csv", declared}}
}

// writeCSV writes rows to path.
func writeCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("world: %w", err)
	}
	b := bufio.NewWriterSize(f, 64<<10)
	c := csv.NewWriter(b)
	err = c.WriteAll(rows) // flushes c
	if err == nil {
		err = b.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("world: %s: %w", filepath.Base(path), err)
	}
	return nil
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// decimal writes degrees or Mbit/s as short as they read (no exponent).
func decimal(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func boolCell(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
