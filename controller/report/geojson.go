package report

import (
	"io"

	"github.com/ngic/ngic/controller/coverage"
)

// WriteGeoJSON writes an RFC 7946 FeatureCollection with one Point
// feature per village, in the Result's order: its id the village code,
// its coordinates [lon, lat] (WGS 84, as RFC 7946 requires: no "crs"),
// and as properties the CSV's columns, numbers and booleans typed (QGIS
// reads them as fields).
func WriteGeoJSON(w io.Writer, res *coverage.Result, o Options) error {
	s := newSink(w)
	e := newJSONEncoder(s)
	cols := columnsFor(o)
	moved := changes(o.Compare)
	s.str(`{"type":"FeatureCollection","features":[`)
	for i := range res.Villages {
		v := &res.Villages[i]
		m := moved[v.Code]
		if i > 0 {
			s.str(",")
		}
		s.str("\n")
		s.str(`{"type":"Feature","id":`)
		e.value(v.Code)
		s.str(`,"geometry":{"type":"Point","coordinates":[` + ftoa(v.Lon) + "," + ftoa(v.Lat) + `]},"properties":{`)
		for j, c := range cols {
			if j > 0 {
				s.str(",")
			}
			e.value(c.name)
			s.str(":")
			if c.text {
				e.value(c.val(v, m))
			} else {
				s.str(c.val(v, m))
			}
		}
		s.str("}}")
		if s.err != nil {
			break
		}
	}
	s.str("\n]}\n")
	return s.close(FormatGeoJSON)
}
