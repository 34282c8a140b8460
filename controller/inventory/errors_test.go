package inventory

import (
	"fmt"
	"strings"
	"testing"
)

// TestLoadErrors: each kind of error names the file, line, column and
// column name; nothing is returned with an error; no error shows an inline
// community.
func TestLoadErrors(t *testing.T) {
	// Lines of regions.csv after the good ones start at 11.
	reg := func(rows string) map[string]string {
		f := goodFiles()
		f["regions.csv"] += strings.ReplaceAll(rows, "\n", "\r\n")
		return f
	}
	with := func(name, s string) map[string]string {
		f := goodFiles()
		f[name] = s
		return f
	}
	add := func(name, rows string) map[string]string {
		f := goodFiles()
		f[name] += rows
		return f
	}
	without := func(names ...string) map[string]string {
		f := goodFiles()
		for _, n := range names {
			delete(f, n)
		}
		return f
	}
	const (
		village  = "522633101201"
		township = "522633101000"
	)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // each must show, in this order
	}{
		// regions.csv
		{"unknown parent", reg("522633101299,新村,999,village,1,1,25,108,\n"),
			[]string{`regions.csv:11:21: parent: region "999" is not in the file`}},
		{"cycle", reg("x1,X,x3,county,,,,,\nx2,X,x1,township,,,,,\nx3,X,x2,prefecture,,,,,\n"),
			[]string{`regions.csv:11:6: parent: a cycle of parents: x1 -> x3 -> x2 -> x1`}},
		{"own parent", reg("x1,X,x1,county,,,,,\n"), []string{`regions.csv:11:6: parent: region "x1" is its own parent`}},
		{"duplicate code", reg("520000000000,贵州,,province,,,,,\n"),
			[]string{`regions.csv:11:1: code: region "520000000000" already on line 3`}},
		{"empty code", reg(",X,,province,,,,,\n"), []string{`regions.csv:11:1: code: empty`}},
		{"empty name", reg("x1,,,province,,,,,\n"), []string{`regions.csv:11:4: name: empty`}},
		{"level order", reg("x1,X," + township + ",county,,,,,\n"),
			[]string{`regions.csv:11:19: level: county is not below its parent "522633101000", a township`}},
		{"village with children", reg("x1,X," + village + ",village,1,1,25,108,\n"),
			[]string{`regions.csv:11:6: parent: region "522633101201" is a village: a village has no regions below it`}},
		{"bad level", reg("x1,X,,hamlet,,,,,\n"),
			[]string{`regions.csv:11:7: level: "hamlet" is none of province, prefecture, county, township, village`}},
		{"bad numbers", reg("x1,X,,province,-3,1.5,,,\n"), []string{
			`regions.csv:11:16: population: "-3" is not a non-negative integer`,
			`regions.csv:11:19: households: "1.5" is not a non-negative integer`}},
		{"village without position", reg("x1,X," + township + ",village,1,1,,108,\n"),
			[]string{`regions.csv:11:31: lat: empty: decimal degrees required`}},
		{"lat out of range", reg("x1,X,,province,,,95,108,\n"),
			[]string{`regions.csv:11:18: lat: 95 is not within -90..90`}},
		{"lon out of range", reg("x1,X," + township + ",village,1,1,25,-180.5,\n"),
			[]string{`regions.csv:11:34: lon: -180.5 is not within -180..180`}},
		{"lat not a number", reg("x1,X,,province,,,NaN,1,\n"),
			[]string{`regions.csv:11:18: lat: "NaN" is not a decimal number of degrees`}},
		{"lat without lon", reg("x1,X,,province,,,20,,\n"),
			[]string{`regions.csv:11:21: lon: empty: decimal degrees required`}},
		{"bad priority", reg("x1,X,,province,,,,,maybe\n"),
			[]string{`regions.csv:11:20: priority: "maybe" is none of 1, true, yes, 0, false, no or blank`}},
		{"not UTF-8", reg("x1,\xb9\xf3\xd6\xdd,,province,,,,,\n"), // 贵州 in GBK
			[]string{`regions.csv:11:4: name: not UTF-8: save the file as CSV UTF-8`}},
		{"UTF-16", with("sites.csv", "\xff\xfei\x00d\x00,\x00"), []string{`sites.csv: UTF-16: save the file as CSV UTF-8`}},
		{"regions header", with("regions.csv", "code,name,parent,level,population,households,lat\n"),
			[]string{`regions.csv:1:1: the header must be code,name,parent,level,population,households,lat,lon[,priority]`}},
		{"regions bare quote", reg("x1,X\"Y,,province,,,,,\n"), []string{`regions.csv:11:5: bare " in non-quoted-field`}},
		{"regions field count", reg("x1,X,,province\n"), []string{`regions.csv:11:1: wrong number of fields`}},
		// sites.csv
		{"site's region", add("sites.csv", "s9,S,999,25,108,cabinet\n"),
			[]string{`sites.csv:5:6: region: region "999" is not in regions.csv`}},
		{"duplicate site", add("sites.csv", "cabinet-0142,S,"+village+",25,108,cabinet\n"),
			[]string{`sites.csv:5:1: id: site "cabinet-0142" already on line 3`}},
		{"site without position", add("sites.csv", "s9,S,"+village+",,108,cabinet\n"),
			[]string{`sites.csv:5:19: lat: empty: decimal degrees required`}},
		{"sites without regions", without("regions.csv", "service_areas.csv", "declared.csv", "overrides.csv"),
			[]string{`sites.csv: needs regions.csv in the same folder`}},
		{"areas without regions", without("regions.csv", "sites.csv"), []string{
			`service_areas.csv: needs regions.csv in the same folder`,
			`declared.csv: needs regions.csv in the same folder`,
			`overrides.csv: needs regions.csv in the same folder`}},
		// devices.csv, gateways.csv
		{"device's site", add("devices.csv", "d9,nowhere,127.0.0.1,v2,,\n"),
			[]string{`devices.csv:5:4: site: site "nowhere" is not in sites.csv`}},
		{"gateway's site", add("gateways.csv", "g2,nowhere\n"),
			[]string{`gateways.csv:3:4: site: site "nowhere" is not in sites.csv`}},
		{"devices header", with("devices.csv", "id,site,address,credentials,network,network\n"),
			[]string{`devices.csv:1:1: the header must be id,site,address,credentials[,parent][,network]`}},
		{"unknown credentials", add("devices.csv", "d9,cabinet-0142,127.0.0.1,S3CRET,,\n"),
			[]string{`devices.csv:5:27: credentials: not a name of the configuration's credentials (v2, v3) nor community:<string>`}},
		// service_areas.csv
		{"area's device", add("service_areas.csv", "d9,*,"+village+",data\n"),
			[]string{`service_areas.csv:6:1: device: device "d9" is not in devices.csv`}},
		{"area's village", add("service_areas.csv", "olt-01,*,999,data\n"),
			[]string{`service_areas.csv:6:10: village: region "999" is not in regions.csv`}},
		{"area's village not a village", add("service_areas.csv", "olt-01,*,"+township+",data\n"),
			[]string{`service_areas.csv:6:10: village: region "522633101000" is a township, not a village`}},
		{"area's service", add("service_areas.csv", "olt-01,*,"+village+",tv\n"),
			[]string{`service_areas.csv:6:23: service: "tv" is none of data, voice, video`}},
		{"area's port", add("service_areas.csv", "olt-01,0,"+village+",data\nolt-01,,"+village+",data\nolt-01,99999999999,"+village+",data\n"), []string{
			`service_areas.csv:6:8: port: ifIndex 0 is not within 1..2147483647`,
			`service_areas.csv:7:8: port: empty: * (the whole device), an ifIndex or an ifName`,
			`service_areas.csv:8:8: port: ifIndex 99999999999 is not within 1..2147483647`}},
		// declared.csv
		{"declared rates", add("declared.csv", village+",data,gpon,-1,NaN,x\n"), []string{
			`declared.csv:4:24: down_mbps: "-1" is not a non-negative decimal number`,
			`declared.csv:4:27: up_mbps: "NaN" is not a non-negative decimal number`}},
		{"declared technology", add("declared.csv", village+",data,,1,1,x\n"),
			[]string{`declared.csv:4:19: technology: empty`}},
		{"declared village", add("declared.csv", "x,data,gpon,1,1,x\n"),
			[]string{`declared.csv:4:1: village: region "x" is not in regions.csv`}},
		// overrides.csv
		{"bad until", add("overrides.csv", village+",data,served,r,31/12/2026\n"),
			[]string{`overrides.csv:5:28: until: "31/12/2026" is neither a date (2026-12-31) nor an RFC 3339 date-time`}},
		{"empty class", add("overrides.csv", village+",data,,r,\n"), []string{`overrides.csv:5:19: class: empty`}},
		{"duplicate override", add("overrides.csv", "522633101202,data,served,r,\n"),
			[]string{`overrides.csv:5:1: village: village "522633101202" already has an override of data on line 2`}},
		{"override's village", add("overrides.csv", "522633000000,video,digital,r,\n"),
			[]string{`overrides.csv:5:1: village: region "522633000000" is a county, not a village`}},
		// Errors of several files, in the order of the files.
		{"several files", add("overrides.csv", "x,data,served,r,\n"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				tc.files["regions.csv"] += "x1,,,province,,,,,\n"
				tc.files["devices.csv"] += "d9,nowhere,127.0.0.1,v2,,\n"
				tc.want = []string{`regions.csv:11:4: name: empty`, `devices.csv:5:4: site: site "nowhere" is not in sites.csv`,
					`overrides.csv:5:1: village: region "x" is not in regions.csv`}
			}
			inv, err := Load(writeFolder(t, tc.files), Options{Credentials: testCreds})
			if err == nil || inv != nil {
				t.Fatalf("accepted: %v", inv)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasSuffix(lines[i], w) {
					t.Errorf("error %d:\n got %s\nwant …%s", i, lines[i], w)
				}
			}
			if strings.Contains(err.Error(), "S3CRET") {
				t.Errorf("an error shows the community: %v", err)
			}
		})
	}
}

// TestLoadErrorsCapped: at most MaxErrors errors are named, then the count
// of the others.
func TestLoadErrorsCapped(t *testing.T) {
	f := goodFiles()
	for i := 0; i < MaxErrors+7; i++ {
		f["declared.csv"] += fmt.Sprintf("522633101201,dat%d,gpon,1,1,x\n", i)
	}
	_, err := Load(writeFolder(t, f), Options{Credentials: testCreds})
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxErrors+1 || lines[MaxErrors] != "... and 7 more" ||
		!strings.HasSuffix(lines[0], `declared.csv:4:14: service: "dat0" is none of data, voice, video`) ||
		!strings.HasSuffix(lines[MaxErrors-1], `declared.csv:53:14: service: "dat49" is none of data, voice, video`) {
		t.Fatalf("%d lines: first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}
