package config

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ngic/ngic/telemetry"
)

// Inventory is the content of the inventory folder.
type Inventory struct {
	// DevicesFile and GatewaysFile are the paths read.
	DevicesFile, GatewaysFile string
	// Devices are the rows of devices.csv, in file order.
	Devices []Device
	// Gateways are the rows of gateways.csv, in file order.
	Gateways []Gateway
}

// Device is one row of devices.csv.
type Device struct {
	// ID names the device; unique.
	ID string
	// Site is where the device stands.
	Site string
	// Address is host or host:port (port 161 by default).
	Address string
	// Credentials names an entry of the configuration's credentials; it is
	// empty for a row with an inline community (community:<string>, v2c).
	Credentials string
	// Parent is the ID of the device this one sits behind, or empty.
	Parent string
	// Line is the row's line in devices.csv.
	Line int

	// community is the inline community, never shown.
	community string
	// parentCol is the column of the parent cell, for errors.
	parentCol int
}

// Gateway is one row of gateways.csv.
type Gateway struct {
	// Name is the gateway's name, as in its topics.
	Name string
	// Site is where the gateway stands.
	Site string
	// Line is the row's line in gateways.csv.
	Line int
}

// Header columns of the inventory files.
var (
	devicesHeader  = []string{"id", "site", "address", "credentials", "parent"}
	gatewaysHeader = []string{"gateway", "site"}
)

// inlineCommunity starts the credentials cell of a row that gives its
// v2c community inline.
const inlineCommunity = "community:"

// Device returns the device with the id, or nil.
func (inv *Inventory) Device(id string) *Device {
	for i := range inv.Devices {
		if inv.Devices[i].ID == id {
			return &inv.Devices[i]
		}
	}
	return nil
}

// LoadInventory reads devices.csv and gateways.csv in dir. creds maps each
// credential name of the configuration to its version.
func LoadInventory(dir string, creds map[string]string) (*Inventory, error) {
	inv := &Inventory{DevicesFile: filepath.Join(dir, "devices.csv"), GatewaysFile: filepath.Join(dir, "gateways.csv")}
	f, err := os.Open(inv.DevicesFile)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	defer f.Close()
	if inv.Devices, err = ParseDevices(inv.DevicesFile, f, creds); err != nil {
		return nil, err
	}
	g, err := os.Open(inv.GatewaysFile)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	defer g.Close()
	if inv.Gateways, err = ParseGateways(inv.GatewaysFile, g); err != nil {
		return nil, err
	}
	return inv, nil
}

// csvFile reads one inventory file: a header naming the columns (the last
// optional ones may be left out), then rows of as many fields. Lines
// starting with '#' are comments.
type csvFile struct {
	name string
	r    *csv.Reader
	cols []string
}

// errorf returns an error naming the file, the line and column of field i
// of the record just read, and the column's name.
func (f *csvFile) errorf(i int, format string, args ...any) error {
	line, col := f.r.FieldPos(i)
	return fmt.Errorf("%s:%d:%d: %s: %s", f.name, line, col, f.cols[i], fmt.Sprintf(format, args...))
}

// openCSV reads the header of an inventory file: want are its columns, of
// which the first required must be present.
func openCSV(name string, r io.Reader, want []string, required int) (*csvFile, error) {
	f := &csvFile{name: name, r: csv.NewReader(r)}
	f.r.Comment = '#'
	f.r.ReuseRecord = false
	head, err := f.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty: the first line must be the header %s", name, strings.Join(want, ","))
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	ok := len(head) >= required && len(head) <= len(want)
	for i := 0; ok && i < len(head); i++ {
		ok = strings.EqualFold(strings.TrimSpace(head[i]), want[i])
	}
	if !ok {
		line, _ := f.r.FieldPos(0)
		opt := ""
		if required < len(want) {
			opt = "[," + strings.Join(want[required:], ",") + "]"
		}
		return nil, fmt.Errorf("%s:%d:1: the header must be %s%s", name, line, strings.Join(want[:required], ","), opt)
	}
	f.cols = want[:len(head)]
	return f, nil
}

// next returns the next row, its fields trimmed of spaces, or io.EOF.
func (f *csvFile) next() ([]string, error) {
	rec, err := f.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, csvError(f.name, err)
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	return rec, nil
}

// csvError names the file, line and column of a CSV syntax error (whose
// text quotes no field).
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// ParseDevices parses devices.csv (named name in errors): the header
// id,site,address,credentials[,parent], then one device per row. creds
// maps the configuration's credential names to their versions. Errors name
// the file, line and column, and never repeat an inline community.
func ParseDevices(name string, r io.Reader, creds map[string]string) ([]Device, error) {
	f, err := openCSV(name, r, devicesHeader, 4)
	if err != nil {
		return nil, err
	}
	var devs []Device
	byID := map[string]int{}
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := f.r.FieldPos(0)
		d := Device{ID: rec[0], Site: rec[1], Address: rec[2], Line: line}
		if err := telemetry.ValidateName(d.ID); err != nil {
			return nil, f.errorf(0, "%v", strings.TrimPrefix(err.Error(), "telemetry: "))
		}
		if prev, ok := byID[d.ID]; ok {
			return nil, f.errorf(0, "device %q already on line %d", d.ID, devs[prev].Line)
		}
		if d.Site == "" {
			return nil, f.errorf(1, "empty")
		}
		if err := checkAddress(d.Address); err != nil {
			return nil, f.errorf(2, "%v", err)
		}
		cred := rec[3]
		switch {
		case strings.HasPrefix(cred, inlineCommunity):
			d.community = strings.TrimPrefix(cred, inlineCommunity)
			if d.community == "" {
				return nil, f.errorf(3, "community: with no community after it")
			}
		case cred == "":
			return nil, f.errorf(3, "empty: name one of the configuration's credentials, or give community:<string>")
		default:
			if _, ok := creds[cred]; !ok {
				// The cell is not repeated: it may be a community written
				// without its "community:" prefix.
				return nil, f.errorf(3, "not a name of the configuration's credentials (%s) nor community:<string>", knownNames(creds))
			}
			d.Credentials = cred
		}
		if len(rec) > 4 {
			d.Parent = rec[4]
			_, d.parentCol = f.r.FieldPos(4)
			if d.Parent == d.ID {
				return nil, f.errorf(4, "device %q is its own parent", d.ID)
			}
		}
		byID[d.ID] = len(devs)
		devs = append(devs, d)
	}
	if err := checkParents(name, devs, byID); err != nil {
		return nil, err
	}
	return devs, nil
}

// checkParents checks that every parent exists and that no device is its
// own ancestor.
func checkParents(name string, devs []Device, byID map[string]int) error {
	for _, d := range devs {
		if d.Parent == "" {
			continue
		}
		if _, ok := byID[d.Parent]; !ok {
			return fmt.Errorf("%s:%d:%d: parent: device %q is not in the file", name, d.Line, d.parentCol, d.Parent)
		}
	}
	// Follow each chain of parents; a chain longer than the number of
	// devices loops.
	state := make([]uint8, len(devs)) // 0 unseen, 1 on the current chain, 2 done
	for i := range devs {
		var chain []int
		j := i
		for j >= 0 && state[j] == 0 {
			state[j] = 1
			chain = append(chain, j)
			if devs[j].Parent == "" {
				j = -1
			} else {
				j = byID[devs[j].Parent]
			}
		}
		if j >= 0 && state[j] == 1 {
			var ids []string
			k := slicesIndex(chain, j)
			for _, c := range chain[k:] {
				ids = append(ids, devs[c].ID)
			}
			ids = append(ids, devs[j].ID)
			return fmt.Errorf("%s:%d:%d: parent: a cycle of parents: %s", name, devs[j].Line, devs[j].parentCol, strings.Join(ids, " -> "))
		}
		for _, c := range chain {
			state[c] = 2
		}
	}
	return nil
}

func slicesIndex(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return 0
}

// knownNames lists the credential names for an error message.
func knownNames(creds map[string]string) string {
	if len(creds) == 0 {
		return "none defined"
	}
	names := make([]string, 0, len(creds))
	for n := range creds {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkAddress checks host or host:port: the host an IP address or a DNS
// name, the port within 1..65535.
func checkAddress(a string) error {
	if a == "" {
		return errors.New("empty: host or host:port")
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		if strings.Contains(a, ":") && net.ParseIP(a) == nil {
			return fmt.Errorf("%q is neither host nor host:port", a)
		}
		host, port = a, ""
	}
	if port != "" {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return fmt.Errorf("port %q is not a number within 1..65535", port)
		}
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if host == "" || len(host) > 253 {
		return fmt.Errorf("%q has no valid host", a)
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("host %q is neither an IP address nor a DNS name", host)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("host %q is neither an IP address nor a DNS name", host)
			}
		}
	}
	return nil
}

// ParseGateways parses gateways.csv (named name in errors): the header
// gateway,site, then one gateway per row.
func ParseGateways(name string, r io.Reader) ([]Gateway, error) {
	f, err := openCSV(name, r, gatewaysHeader, 2)
	if err != nil {
		return nil, err
	}
	var gws []Gateway
	seen := map[string]int{}
	for {
		rec, err := f.next()
		if errors.Is(err, io.EOF) {
			return gws, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := f.r.FieldPos(0)
		g := Gateway{Name: rec[0], Site: rec[1], Line: line}
		if err := telemetry.ValidateName(g.Name); err != nil {
			return nil, f.errorf(0, "%v", strings.TrimPrefix(err.Error(), "telemetry: "))
		}
		if prev, ok := seen[g.Name]; ok {
			return nil, f.errorf(0, "gateway %q already on line %d", g.Name, prev)
		}
		if g.Site == "" {
			return nil, f.errorf(1, "empty")
		}
		seen[g.Name] = line
		gws = append(gws, g)
	}
}
