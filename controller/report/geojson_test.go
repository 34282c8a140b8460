package report

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
)

func TestGeoJSONGolden(t *testing.T) {
	res, o := sample(true)
	golden(t, "sample.geojson", write(t, FormatGeoJSON, res, o))
}

// The GeoJSON is an RFC 7946 FeatureCollection of points in [lon, lat]
// order, with the CSV's columns as typed properties.
func TestGeoJSONDecodes(t *testing.T) {
	res, o := sample(true)
	b := write(t, FormatGeoJSON, res, o)
	var fc struct {
		Type     string          `json:"type"`
		CRS      json.RawMessage `json:"crs"`
		Features []struct {
			Type     string `json:"type"`
			ID       string `json:"id"`
			Geometry struct {
				Type        string    `json:"type"`
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if fc.Type != "FeatureCollection" || fc.CRS != nil {
		t.Fatalf("type %q, crs %s: want a FeatureCollection without crs (RFC 7946)", fc.Type, fc.CRS)
	}
	if len(fc.Features) != len(res.Villages) {
		t.Fatalf("%d features, want %d", len(fc.Features), len(res.Villages))
	}
	csvRows := readCSV(t, write(t, FormatCSV, res, o))
	header := csvRows[0]
	for i, f := range fc.Features {
		v := res.Villages[i]
		if f.Type != "Feature" || f.ID != v.Code || f.Geometry.Type != "Point" {
			t.Errorf("feature %d: %s %q %s", i, f.Type, f.ID, f.Geometry.Type)
		}
		if !slices.Equal(f.Geometry.Coordinates, []float64{v.Lon, v.Lat}) {
			t.Errorf("feature %d: coordinates %v, want [lon %v, lat %v]", i, f.Geometry.Coordinates, v.Lon, v.Lat)
		}
		if len(f.Properties) != len(header) {
			t.Errorf("feature %d: %d properties, the CSV has %d columns", i, len(f.Properties), len(header))
		}
		// Each property is the CSV's cell, typed.
		for j, name := range header {
			cell := csvRows[i+1][j]
			switch p := f.Properties[name].(type) {
			case string:
				if p != cell && "'"+p != cell {
					t.Errorf("feature %d %s: %q, CSV %q", i, name, p, cell)
				}
			case float64:
				if c, err := strconv.ParseFloat(cell, 64); err != nil || c != p {
					t.Errorf("feature %d %s: %v, CSV %q", i, name, p, cell)
				}
			case bool:
				if strconv.FormatBool(p) != cell {
					t.Errorf("feature %d %s: %v, CSV %q", i, name, p, cell)
				}
			default:
				t.Errorf("feature %d %s: %T %v", i, name, p, p)
			}
		}
	}
	if fc.Features[1].Properties["name"] != "<script>alert(1)</script>" || fc.Features[0].Properties["name"] != "上庄村" {
		t.Errorf("names not kept: %v, %v", fc.Features[0].Properties["name"], fc.Features[1].Properties["name"])
	}
	if fc.Features[0].Properties["households"] != 400.0 || fc.Features[2].Properties["priority"] != true {
		t.Errorf("typed properties: %v", fc.Features[0].Properties)
	}
}
