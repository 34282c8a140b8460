package report

import (
	"io"
	"strconv"

	"github.com/ngic/ngic/controller/coverage"
)

// WriteGeoJSON writes an RFC 7946 FeatureCollection with one Point
// feature per village, in the Result's order: its id the village code,
// its coordinates [lon, lat] (WGS 84, as RFC 7946 requires: no "crs"),
// and as properties the CSV's columns, numbers and booleans typed (QGIS
// reads them as fields).
func WriteGeoJSON(w io.Writer, res *coverage.Result, o Options) error {
	s := newSink(w)
	cols := columnsFor(o)
	keys := make([][]byte, len(cols))
	for j, c := range cols {
		if j > 0 {
			keys[j] = append(keys[j], ',')
		}
		keys[j] = append(coverage.AppendJSONString(keys[j], c.name), ':')
	}
	moved := changes(o.Compare)
	s.str(`{"type":"FeatureCollection","features":[`)
	var b []byte
	for i := range res.Villages {
		v := &res.Villages[i]
		m := moved[v.Code]
		b = b[:0]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"+`{"type":"Feature","id":`...)
		b = coverage.AppendJSONString(b, v.Code)
		b = append(b, `,"geometry":{"type":"Point","coordinates":[`...)
		b = strconv.AppendFloat(b, v.Lon, 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, v.Lat, 'f', -1, 64)
		b = append(b, `]},"properties":{`...)
		for j, c := range cols {
			b = append(b, keys[j]...)
			if c.text {
				b = coverage.AppendJSONString(b, c.val(v, m))
			} else {
				b = append(b, c.val(v, m)...)
			}
		}
		b = append(b, "}}"...)
		if s.Write(b); s.err != nil {
			break
		}
	}
	s.str("\n]}\n")
	return s.close(FormatGeoJSON)
}
