package inventory

import (
	"errors"
	"fmt"
	"sort"
)

// MaxErrors is how many errors a failed Load names; the rest are counted
// ("... and N more").
const MaxErrors = 50

// errList collects the errors of one file, each with its line and column
// so that a file's errors are reported in order whatever check found them.
type errList struct {
	errs []lineError
	n    int // all errors added, kept or not
	// partial is set when the file could not be read to its end (a wrong
	// header, a syntax error): references to its rows are not checked.
	partial bool
}

type lineError struct {
	line, col int
	err       error
}

// add records err, found at line and col (0 for the file as a whole).
// Beyond 2*MaxErrors only the count grows.
func (e *errList) add(line, col int, err error) {
	e.n++
	if len(e.errs) < 2*MaxErrors {
		e.errs = append(e.errs, lineError{line, col, err})
	}
}

// joinErrors joins the errors of the lists, in the order of the lists and,
// within each, by line: at most MaxErrors, then "... and N more". It
// returns nil when there is none.
func joinErrors(lists ...*errList) error {
	var out []error
	total := 0
	for _, l := range lists {
		total += l.n
		sort.SliceStable(l.errs, func(i, j int) bool {
			a, b := l.errs[i], l.errs[j]
			return a.line < b.line || a.line == b.line && a.col < b.col
		})
		for _, e := range l.errs {
			if len(out) < MaxErrors {
				out = append(out, e.err)
			}
		}
	}
	if total == 0 {
		return nil
	}
	if total > len(out) {
		out = append(out, fmt.Errorf("... and %d more", total-len(out)))
	}
	return errors.Join(out...)
}
