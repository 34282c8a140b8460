package inventorytest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CopyAt copies the inventory files (*.csv, *.geojson) of the folder src
// into dst, replacing from with to in devices.csv (when from is not
// empty): tests point a fixture's devices at the simulator they start.
func CopyAt(t testing.TB, src, dst, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !(strings.HasSuffix(e.Name(), ".csv") || strings.HasSuffix(e.Name(), ".geojson")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "devices.csv" && from != "" {
			b = bytes.ReplaceAll(b, []byte(from), []byte(to))
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
