package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzBoundariesWithin: whatever boundaries.geojson holds, the part a
// region-limited token gets is JSON holding only the features of codes
// kept (those starting "63").
func FuzzBoundariesWithin(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"630100000000"}},
		{"type":"Feature","properties":{"code":"640100000000"}},{"properties":{}},{"properties":{"code":7}}]}`))
	f.Add([]byte(`{"features":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"features":[1,"x",{"properties":{"code":"63"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := boundariesWithin(b, func(code string) bool { return strings.HasPrefix(code, "63") })
		if err != nil {
			return
		}
		var fc struct {
			Features []struct {
				Properties struct {
					Code string `json:"code"`
				} `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(out, &fc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		for _, ft := range fc.Features {
			if !strings.HasPrefix(ft.Properties.Code, "63") {
				t.Fatalf("feature of %q kept", ft.Properties.Code)
			}
		}
	})
}
