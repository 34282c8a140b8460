package report

import (
	"io"
	"strconv"
	"unicode/utf8"

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
		keys[j] = append(appendJSONString(keys[j], c.name), ':')
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
		b = appendJSONString(b, v.Code)
		b = append(b, `,"geometry":{"type":"Point","coordinates":[`...)
		b = strconv.AppendFloat(b, v.Lon, 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, v.Lat, 'f', -1, 64)
		b = append(b, `]},"properties":{`...)
		for j, c := range cols {
			b = append(b, keys[j]...)
			if c.text {
				b = appendJSONString(b, c.val(v, m))
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

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD (as
// encoding/json does), U+2028 and U+2029 escaped for JavaScript readers.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, "\\ufffd"...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
