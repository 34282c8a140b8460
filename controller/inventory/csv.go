package inventory

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// table describes the columns of one inventory file: the first required
// ones in this order, then any of the optional ones, each at most once.
type table struct {
	file     string
	cols     []string
	required int
}

// headerText is the header a table wants, as shown in errors:
// id,site,address,credentials[,parent][,network].
func (t table) headerText() string {
	s := strings.Join(t.cols[:t.required], ",")
	for _, c := range t.cols[t.required:] {
		s += "[," + c + "]"
	}
	return s
}

// csvFile reads one inventory file: a header naming the columns, then rows
// of as many fields. Lines starting with '#' are comments. Fields are
// trimmed of spaces; a field is a substring of its record's one string, so
// that keeping the fields of a row costs one allocation.
type csvFile struct {
	name string // the path shown in errors
	t    table
	r    *csv.Reader
	errs *errList
	// pos[k] is the position in the record of the table's column k, or -1
	// when the header leaves it out.
	pos []int
	// names[i] is the column name of the record's field i.
	names []string
	rec   []string
	// line is the line of the current row.
	line int
	done bool
}

// bom is the UTF-8 byte order mark that spreadsheets write first.
var bom = []byte("\ufeff")

// openCSV reads the header of an inventory file. It returns nil when the
// header is wrong or absent; the error is in errs.
func openCSV(name string, r io.Reader, t table, errs *errList) *csvFile {
	br := bufio.NewReaderSize(r, 256<<10)
	if b, err := br.Peek(len(bom)); err == nil && bytes.Equal(b, bom) {
		br.Discard(len(bom))
	}
	if b, err := br.Peek(2); err == nil && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff) {
		errs.add(0, 0, fmt.Errorf("%s: UTF-16: save the file as CSV UTF-8", name))
		errs.partial = true
		return nil
	}
	f := &csvFile{name: name, t: t, r: csv.NewReader(br), errs: errs}
	f.r.Comment = '#'
	f.r.ReuseRecord = true
	head, err := f.r.Read()
	errs.partial = err != nil
	if errors.Is(err, io.EOF) {
		errs.add(0, 0, fmt.Errorf("%s: empty: the first line must be the header %s", name, t.headerText()))
		return nil
	}
	if err != nil {
		errs.add(0, 0, csvError(name, err))
		return nil
	}
	f.pos, f.names = make([]int, len(t.cols)), make([]string, len(head))
	for k := range f.pos {
		f.pos[k] = -1
	}
	ok := len(head) >= t.required
	for i := 0; ok && i < len(head); i++ {
		h := strings.TrimSpace(head[i])
		if i < t.required {
			ok = strings.EqualFold(h, t.cols[i])
			f.pos[i], f.names[i] = i, t.cols[i]
			continue
		}
		ok = false
		for k := t.required; k < len(t.cols); k++ {
			if strings.EqualFold(h, t.cols[k]) && f.pos[k] < 0 {
				f.pos[k], f.names[i], ok = i, t.cols[k], true
				break
			}
		}
	}
	if !ok {
		line, _ := f.r.FieldPos(0)
		errs.add(line, 1, fmt.Errorf("%s:%d:1: the header must be %s", name, line, t.headerText()))
		errs.partial = true
		return nil
	}
	return f
}

// next reads the next row into f.rec and reports whether there is one. A
// row with the wrong number of fields is reported and skipped; any other
// syntax error ends the file. A cell that is not UTF-8 (a spreadsheet that
// saved in a legacy code page) is reported.
func (f *csvFile) next() bool {
	for !f.done {
		rec, err := f.r.Read()
		if err == nil {
			for i := range rec {
				rec[i] = strings.TrimSpace(rec[i])
				if !utf8.ValidString(rec[i]) {
					line, col := f.r.FieldPos(i)
					f.errs.add(line, col, cellError(f.name, line, col, f.names[i], "not UTF-8: save the file as CSV UTF-8"))
				}
			}
			f.rec = rec
			f.line, _ = f.r.FieldPos(0)
			return true
		}
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		line, col := 0, 0
		if errors.As(err, &pe) {
			line, col = pe.Line, pe.Column
		}
		f.errs.add(line, col, csvError(f.name, err))
		if !errors.Is(err, csv.ErrFieldCount) {
			f.errs.partial = true
			break
		}
	}
	f.done = true
	return false
}

// get returns the current row's cell of the table's column k, or "" when
// the header leaves the column out.
func (f *csvFile) get(k int) string {
	if p := f.pos[k]; p >= 0 {
		return f.rec[p]
	}
	return ""
}

// required returns the current row's cell of the table's column k, and
// records an error when it is blank.
func (f *csvFile) required(k int) string {
	s := f.get(k)
	if s == "" {
		f.fail(k, "empty")
	}
	return s
}

// unique reports whether key, the current row's cell of the table's column
// k, is neither blank nor in seen (which maps the keys of the rows kept to
// their index); lineOf returns the line of a row kept, and what names the
// rows in errors.
func (f *csvFile) unique(k int, key string, seen map[string]int32, lineOf func(int32) int, what string) bool {
	if key == "" {
		f.fail(k, "empty")
		return false
	}
	if prev, ok := seen[key]; ok {
		f.fail(k, "%s %q already on line %d", what, key, lineOf(prev))
		return false
	}
	return true
}

// has reports whether the header names the table's column k.
func (f *csvFile) has(k int) bool { return f.pos[k] >= 0 }

// col returns the column (1-based, in bytes) of the current row's cell of
// the table's column k; the first column when the header leaves it out.
func (f *csvFile) col(k int) int {
	p := f.pos[k]
	if p < 0 {
		p = 0
	}
	_, c := f.r.FieldPos(p)
	return c
}

// fail records an error naming the file, the current row's line, the
// column of the table's column k and its name.
func (f *csvFile) fail(k int, format string, args ...any) {
	f.failAt(f.line, f.col(k), k, format, args...)
}

// failAt records an error at line and column col, about the table's column
// k, for checks made after the row was read.
func (f *csvFile) failAt(line, col, k int, format string, args ...any) {
	f.errs.add(line, col, cellError(f.name, line, col, f.t.cols[k], fmt.Sprintf(format, args...)))
}

// cellError is the error about one cell: FILE:LINE:COL: column: message.
func cellError(name string, line, col int, column, msg string) error {
	return fmt.Errorf("%s:%d:%d: %s: %s", name, line, col, column, msg)
}

// csvError names the file, line and column of a CSV syntax error (whose
// text quotes no field).
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}
