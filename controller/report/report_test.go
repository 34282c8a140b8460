package report

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"json", "CSV", "GeoJSON", "html"} {
		if f, err := ParseFormat(s); err != nil || !strings.EqualFold(string(f), s) {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	for s, want := range map[string]string{
		"":    "report: no format given: want one of json, csv, geojson, html",
		"xml": `report: format "xml": want one of json, csv, geojson, html`,
	} {
		if _, err := ParseFormat(s); err == nil || err.Error() != want {
			t.Errorf("ParseFormat(%q): %v, want %q", s, err, want)
		}
	}
	res, o := sample(false)
	if err := Write(&strings.Builder{}, Format("pdf"), res, o); err == nil || !strings.Contains(err.Error(), `"pdf"`) {
		t.Errorf("Write pdf: %v", err)
	}
}

// failing accepts n bytes, then fails.
type failing struct{ n int }

var errFull = errors.New("disk full")

func (f *failing) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, errFull
	}
	f.n -= len(p)
	return len(p), nil
}

// A writer's error ends the report and comes back wrapped, naming the
// format, whether it comes at once or after the first bytes.
func TestWriterErrors(t *testing.T) {
	res, o := sample(true)
	for _, f := range Formats {
		for _, after := range []int{0, 100, 70_000} {
			err := Write(&failing{n: after}, f, res, o)
			if after == 70_000 {
				if err != nil {
					t.Errorf("%s: %v with room for the whole report", f, err)
				}
				continue
			}
			if !errors.Is(err, errFull) || !strings.HasPrefix(err.Error(), "report: "+string(f)+": ") {
				t.Errorf("%s, failing after %d bytes: %v", f, after, err)
			}
		}
	}
}
