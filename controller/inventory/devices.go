package inventory

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/ngic/ngic/telemetry"
)

// Columns of devices.csv.
const (
	devID = iota
	devSite
	devAddress
	devCredentials
	devParent
	devNetwork
)

var devicesTable = table{file: "devices.csv", cols: []string{"id", "site", "address", "credentials", "parent", "network"}, required: 4}

// Columns of gateways.csv.
const (
	gwName = iota
	gwSite
)

var gatewaysTable = table{file: "gateways.csv", cols: []string{"gateway", "site"}, required: 2}

// inlineCommunity starts the credentials cell of a row that gives its v2c
// community inline.
const inlineCommunity = "community:"

// parseDevices reads devices.csv. creds maps the configuration's credential
// names to their versions; nil accepts any name. Errors never repeat an
// inline community nor an unknown credentials cell (which may be a
// community written without its prefix).
func parseDevices(name string, r io.Reader, rows int, creds map[string]string, errs *errList) ([]Device, map[string]int32, *refCols) {
	f := openCSV(name, r, devicesTable, errs)
	byID := make(map[string]int32, rows)
	if f == nil {
		return nil, byID, nil
	}
	refs := &refCols{f: f, k: devSite, cols: make([]int32, 0, rows)}
	devs := make([]Device, 0, rows)
	// The cells kept are copied out of the rows' records: IDs into an
	// arena, the cells that repeat interned. Parent is the record's until
	// checkParents points it to the parent's ID.
	var ids arena
	cells := interner{}
	for f.next() {
		d := Device{ID: f.get(devID), Site: f.required(devSite), Address: f.get(devAddress), Network: f.get(devNetwork), Line: f.line}
		keep := validName(f, devID, d.ID) && f.unique(devID, d.ID, byID, func(i int32) int { return devs[i].Line }, "device")
		if err := checkAddress(d.Address); err != nil {
			f.fail(devAddress, "%v", err)
		}
		d.Credentials, d.community = parseCredentials(f, creds)
		if d.Parent = f.get(devParent); d.Parent != "" {
			d.parentCol = f.col(devParent)
			if d.Parent == d.ID {
				f.fail(devParent, "device %q is its own parent", d.ID)
				d.Parent = ""
			}
		}
		if keep {
			d.ID, d.Site, d.Address = ids.get(d.ID), cells.get(d.Site), cells.get(d.Address)
			d.Credentials, d.community, d.Network = cells.get(d.Credentials), cells.get(d.community), cells.get(d.Network)
			if d.Network == "" || d.Network == d.ID {
				d.Network = d.ID
			}
			byID[d.ID] = int32(len(devs))
			refs.keep()
			devs = append(devs, d)
		}
	}
	if !errs.partial { // else parents may stand beyond the error
		checkParents(f, devs, byID)
	}
	return devs, byID, refs
}

// validName reports whether the current row's cell s of the table's column
// k can be a topic level (a device's or gateway's name is one).
func validName(f *csvFile, k int, s string) bool {
	if err := telemetry.ValidateName(s); err != nil {
		f.fail(k, "%v", strings.TrimPrefix(err.Error(), "telemetry: "))
		return false
	}
	return true
}

// parseCredentials checks the credentials cell of the current row and
// returns the credential name or the inline community.
func parseCredentials(f *csvFile, creds map[string]string) (name, community string) {
	cred := f.get(devCredentials)
	switch {
	case strings.HasPrefix(cred, inlineCommunity):
		community = strings.TrimPrefix(cred, inlineCommunity)
		if community == "" {
			f.fail(devCredentials, "community: with no community after it")
		}
		return "", community
	case cred == "":
		f.fail(devCredentials, "empty: name one of the configuration's credentials, or give community:<string>")
	case creds != nil:
		if _, ok := creds[cred]; !ok {
			// The cell is not repeated: it may be a community written
			// without its "community:" prefix.
			f.fail(devCredentials, "not a name of the configuration's credentials (%s) nor community:<string>", knownNames(creds))
		}
	}
	return cred, ""
}

// checkParents checks that every parent exists and that no device is its
// own ancestor.
func checkParents(f *csvFile, devs []Device, byID map[string]int32) {
	parent := make([]int32, len(devs))
	for i := range devs {
		d := &devs[i]
		parent[i] = -1
		if d.Parent == "" {
			continue
		}
		p, ok := byID[d.Parent]
		if !ok {
			f.failAt(d.Line, d.parentCol, devParent, "device %q is not in the file", d.Parent)
			continue
		}
		parent[i], d.Parent = p, devs[p].ID
	}
	for _, cyc := range findCycles(parent) {
		ids := make([]string, 0, len(cyc)+1)
		for _, c := range cyc {
			ids = append(ids, devs[c].ID)
		}
		d := devs[cyc[0]]
		ids = append(ids, d.ID)
		f.failAt(d.Line, d.parentCol, devParent, "a cycle of parents: %s", strings.Join(ids, " -> "))
	}
}

// findCycles returns each cycle of the parent links (parent[i] is i's
// parent, -1 for none), each from the member first reached, in the order
// of the links.
func findCycles(parent []int32) [][]int32 {
	var cycles [][]int32
	state := make([]uint8, len(parent)) // 0 unseen, 1 on the current chain, 2 done
	var chain []int32
	for i := range parent {
		chain = chain[:0]
		j := int32(i)
		for j >= 0 && state[j] == 0 {
			state[j] = 1
			chain = append(chain, j)
			j = parent[j]
		}
		if j >= 0 && state[j] == 1 {
			k := 0
			for chain[k] != j {
				k++
			}
			cycles = append(cycles, append([]int32(nil), chain[k:]...))
		}
		for _, c := range chain {
			state[c] = 2
		}
	}
	return cycles
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

// parseGateways reads gateways.csv.
func parseGateways(name string, r io.Reader, rows int, errs *errList) ([]Gateway, *refCols) {
	f := openCSV(name, r, gatewaysTable, errs)
	if f == nil {
		return nil, nil
	}
	refs := &refCols{f: f, k: gwSite, cols: make([]int32, 0, rows)}
	gws := make([]Gateway, 0, rows)
	seen := make(map[string]int32, rows)
	for f.next() {
		g := Gateway{Name: f.get(gwName), Site: f.required(gwSite), Line: f.line}
		if validName(f, gwName, g.Name) && f.unique(gwName, g.Name, seen, func(i int32) int { return gws[i].Line }, "gateway") {
			seen[g.Name] = int32(len(gws))
			refs.keep()
			gws = append(gws, g)
		}
	}
	return gws, refs
}
