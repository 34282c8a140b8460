package coverage

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ngic/ngic/controller/inventory"
)

// FuzzGapJSON: a gap's hand-written JSON is what encoding/json writes for
// gapJSON without HTML escaping, byte for byte, for any strings and
// figures; and, its strings UTF-8, it decodes back to the same gap.
func FuzzGapJSON(f *testing.F) {
	f.Add("630101002000", "<script>\"&'\b\f\n\r\t\x01\x7f", "", int64(100), false, "underserved", "so-1", "河口镇\u2028端局\xff", 1.9)
	f.Add("V1", "Ünterdorf", "T1", int64(-1), true, "", "", "", 0.0)
	f.Add("V2", "a\\b", "T", int64(1<<62), false, "served", "s", "n", 1e-7)
	f.Add("V3", "", "", int64(0), true, "unserved", "s", "", 2.5e21)
	f.Fuzz(func(t *testing.T, code, name, parent string, hh int64, prio bool, class, site, siteName string, km float64) {
		if math.IsNaN(km) || math.IsInf(km, 0) {
			return
		}
		near := &Village{Region: &inventory.Region{Code: code + "n"}, Broadband: class}
		g := Gap{Village: &Village{Region: &inventory.Region{Code: code, Name: name, Parent: parent, Households: hh,
			Population: -hh, Priority: prio}, Broadband: class, Evidence: name}, DistanceKm: km}
		if site != "" {
			g.Site, g.SiteServes = &inventory.Site{ID: site, Name: siteName}, near
		}
		got, err := g.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		j := gapJSON{Code: code, Name: name, Parent: parent, Households: hh, Population: -hh, Priority: prio,
			Broadband: class, Evidence: name, NearestSite: g.NearestSite(), NearestSiteName: g.NearestSiteName(),
			NearestSiteClass: g.NearestSiteClass(), NearestVillage: g.NearestVillage(), DistanceKm: km}
		if err := enc.Encode(&j); err != nil {
			t.Fatal(err)
		}
		if w := bytes.TrimSuffix(want.Bytes(), []byte{'\n'}); !bytes.Equal(got, w) {
			t.Fatalf("MarshalJSON:\n%s\nencoding/json:\n%s", got, w)
		}
		var back Gap
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		// Invalid UTF-8 comes back as U+FFFD, which encodes as itself.
		for _, s := range []string{code, name, parent, class, site, siteName} {
			if !utf8.ValidString(s) {
				return
			}
		}
		if again, _ := back.MarshalJSON(); !bytes.Equal(again, got) {
			t.Errorf("decoded and encoded again:\n%s\nfirst:\n%s", again, got)
		}
	})
}

// FuzzAppendJSONString: every string is written as encoding/json writes
// it without HTML escaping, byte for byte.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "上庄村", "<script>\"a\\b\"</script>", "\x00\x1f\t\n\r\b\f\x7f", "\xff\xfe", "\u2028\u2029", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, w := AppendJSONString(nil, s), bytes.TrimSuffix(want.Bytes(), []byte{'\n'}); !bytes.Equal(got, w) {
			t.Errorf("%q: %s, encoding/json %s", s, got, w)
		}
	})
}

// FuzzVillageJSON: a village's hand-written JSON is what encoding/json
// writes for its fields without HTML escaping, byte for byte: strings,
// floats, times, overrides and trail entries of any value; a value
// encoding/json refuses is refused as it says.
func FuzzVillageJSON(f *testing.F) {
	f.Add("630101001000", "上庄村<&>", "", 36.621, 1e-7, 2488.5, "gpon", int64(400), true, uint8(1), int64(1764403200), "olt\u2028", "\xff")
	f.Add("V", "", "P", -0.5, 1e21, 0.0, "", int64(0), false, uint8(3), int64(-62135596800), "", "")
	f.Add("V", "n", "P", math.NaN(), 0.0, 0.0, "", int64(0), false, uint8(0), int64(253402300800), "d", "r")
	f.Fuzz(func(t *testing.T, code, name, parent string, lat, rate, value float64, tech string, hh int64, flag bool,
		class uint8, unix int64, device, why string) {
		at := time.Unix(unix, int64(class)*1000).UTC()
		v := Village{Region: &inventory.Region{Code: code, Name: name, Parent: parent, Households: hh, Population: hh / 3,
			Lat: lat, Lon: -lat, Priority: flag}, Broadband: name, Tier: int(class) - 1, Evidence: why, DownMbps: rate,
			UpMbps: value, Technology: tech, Stale: flag, Outage: !flag, SubscribersOnline: value, TakeUp: rate,
			DigitalTV: flag, TV: TVClass(class % 4), TVEvidence: Basis(class % 5), Voice: !flag, VoiceEvidence: Basis(class / 51),
			Converged: flag, Network: device}
		if class%2 == 0 {
			v.Overrides = []OverrideInfo{{Service: tech, Class: name, Reason: why, Until: at, Measured: code, Line: int(hh % 1000)}}
		}
		if class%3 != 0 {
			v.Trail = []TrailEntry{{Service: tech, Source: why, Line: int(class), Device: device, Port: code, Figure: name,
				Value: value, DownMbps: rate, Class: why, PolledAt: at, State: tech, Used: flag, Rejected: device,
				Stale: !flag, Outage: flag}, {}}
		}
		got, gotErr := v.MarshalJSON()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		wantErr := enc.Encode((*plainVillage)(&v))
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("errors: %v, encoding/json %v", gotErr, wantErr)
		}
		if w := bytes.TrimSuffix(want.Bytes(), []byte{'\n'}); gotErr == nil && !bytes.Equal(got, w) {
			t.Fatalf("MarshalJSON:\n%s\nencoding/json:\n%s", got, w)
		}
	})
}
