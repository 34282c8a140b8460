package report

import (
	"encoding/csv"
	"io"

	"github.com/ngic/ngic/controller/coverage"
)

// bom is the UTF-8 byte-order mark that tells spreadsheets the file is
// UTF-8 (without it, Excel reads non-ASCII names as the local code page).
const bom = "\ufeff"

// WriteCSV writes one row per village, in the Result's order, after a
// UTF-8 byte-order mark and a header naming the columns (README.md lists
// them; the comparison's columns follow when o.Compare is set). Lines end
// with CRLF (RFC 4180). A text cell that a spreadsheet would run as a
// formula (starting with =, +, -, @, tab or carriage return) is written
// with a leading apostrophe.
func WriteCSV(w io.Writer, res *coverage.Result, o Options) error {
	s := newSink(w)
	s.str(bom)
	cw := csv.NewWriter(s)
	cw.UseCRLF = true
	cols := columnsFor(o)
	moved := changes(o.Compare)
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.name
	}
	cw.Write(rec)
	for i := range res.Villages {
		v := &res.Villages[i]
		m := moved[v.Code]
		for j, c := range cols {
			rec[j] = c.val(v, m)
			if c.text {
				rec[j] = defuseFormula(rec[j])
			}
		}
		if err := cw.Write(rec); err != nil {
			s.fail(err)
			break
		}
	}
	cw.Flush()
	s.fail(cw.Error())
	return s.close(FormatCSV)
}

// defuseFormula prefixes with an apostrophe a cell that a spreadsheet
// would otherwise evaluate as a formula (OWASP's "CSV injection").
func defuseFormula(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}
