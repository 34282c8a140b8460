package inventory

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseDevices: any devices.csv either parses into devices with unique
// ids, existing parents and no cycle, or is refused with an error naming
// the file; no input panics, and no error repeats an inline community.
func FuzzParseDevices(f *testing.F) {
	f.Add([]byte(goodDevices))
	f.Add([]byte("id,site,address,credentials\na,s,[::1]:161,v2\n"))
	f.Add([]byte("id,site,address,credentials,parent\na,s,h,v2,b\nb,s,h,v2,a\n"))
	f.Add([]byte("\ufeffid,site,address,credentials,parent\n# comment\n\"a\",\"s\",\"h.example\",\"community:x\"\"y\",\n"))
	f.Add([]byte("id,site,address,credentials,network,parent\na,s,h,community:S3CRET,,\nb,s,h,community:S3CRET,n1,a\n"))
	creds := map[string]string{"v2": "2c", "v3": "3"}
	f.Fuzz(func(t *testing.T, data []byte) {
		var errs errList
		devs, ids, _ := parseDevices("devices.csv", bytes.NewReader(data), 0, creds, &errs)
		if err := joinErrors(&errs); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "devices.csv") && !strings.HasPrefix(line, "... and ") {
					t.Fatalf("error does not name the file: %v", err)
				}
			}
			if strings.Contains(err.Error(), "S3CRET") {
				t.Fatalf("error shows a community: %v", err)
			}
			return
		}
		for i, d := range devs {
			if ids[d.ID] != int32(i) {
				t.Fatalf("device %q: index %d, want %d", d.ID, ids[d.ID], i)
			}
			if d.Credentials == "" && d.Community() == "" {
				t.Fatalf("device %q has no credentials", d.ID)
			}
			if d.Network == "" {
				t.Fatalf("device %q has no network", d.ID)
			}
			if checkAddress(d.Address) != nil {
				t.Fatalf("device %q: bad address accepted", d.ID)
			}
		}
		if len(ids) != len(devs) {
			t.Fatalf("%d ids for %d devices: a duplicate was accepted", len(ids), len(devs))
		}
		for _, d := range devs {
			// Walk up: a chain longer than the devices would be a cycle.
			p := d.Parent
			for n := 0; p != ""; n++ {
				i, ok := ids[p]
				if !ok {
					t.Fatalf("device %q: parent %q missing", d.ID, p)
				}
				if n > len(devs) {
					t.Fatalf("device %q: cycle of parents accepted", d.ID)
				}
				p = devs[i].Parent
			}
		}
	})
}

// FuzzParseGateways: no input panics; accepted gateways are unique.
func FuzzParseGateways(f *testing.F) {
	f.Add([]byte(goodGateways))
	f.Add([]byte("gateway,site\ng1,s\ng1,s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var errs errList
		gws, _ := parseGateways("gateways.csv", bytes.NewReader(data), 0, &errs)
		if joinErrors(&errs) != nil {
			return
		}
		seen := map[string]bool{}
		for _, g := range gws {
			if seen[g.Name] || g.Site == "" {
				t.Fatalf("accepted %+v", gws)
			}
			seen[g.Name] = true
		}
	})
}
