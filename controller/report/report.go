// Package report writes a coverage result (controller/coverage) in the
// formats planners read: JSON (the Result as it is), CSV (one row per
// village, for spreadsheets), GeoJSON (village points, for QGIS) and HTML
// (one self-contained printable page with its charts drawn inline).
//
// Every writer takes an io.Writer and the *coverage.Result, writes as it
// goes (a national inventory is never held twice in memory), and returns
// the first error of the writer, wrapped; nothing here logs.
package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/ngic/ngic/controller/coverage"
)

// Format is an output format.
type Format string

// The formats.
const (
	FormatJSON    Format = "json"
	FormatCSV     Format = "csv"
	FormatGeoJSON Format = "geojson"
	FormatHTML    Format = "html"
)

// Formats lists every format, in the order the help text gives them.
var Formats = []Format{FormatJSON, FormatCSV, FormatGeoJSON, FormatHTML}

// ParseFormat returns the format named s (case-insensitive).
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	if s == "" {
		return "", fmt.Errorf("report: no format given: want one of %s", strings.Join(names, ", "))
	}
	return "", fmt.Errorf("report: format %q: want one of %s", s, strings.Join(names, ", "))
}

// Options are what a report tells beside the Result.
type Options struct {
	// Title heads the HTML page (default DefaultTitle).
	Title string
	// Source says where the devices' evidence comes from ("polled
	// 2026-11-29T18:00:00Z", "the controller's snapshot of ..."); the JSON
	// and HTML reports show it.
	Source string
	// Compare is what changed since an earlier result (nil: no
	// comparison). JSON gives it as the member "compare"; CSV and GeoJSON
	// add each village's earlier class; HTML lists the moves.
	Compare *coverage.Diff
}

// DefaultTitle is the HTML page's title when Options.Title is empty.
const DefaultTitle = "Coverage report"

// Write writes res in format f to w.
func Write(w io.Writer, f Format, res *coverage.Result, o Options) error {
	switch f {
	case FormatJSON:
		return WriteJSON(w, res, o)
	case FormatCSV:
		return WriteCSV(w, res, o)
	case FormatGeoJSON:
		return WriteGeoJSON(w, res, o)
	case FormatHTML:
		return WriteHTML(w, res, o)
	}
	_, err := ParseFormat(string(f))
	return err
}

// sink buffers a writer and keeps its first error, so that the writers
// can write on and check once.
type sink struct {
	bw  *bufio.Writer
	err error
}

func newSink(w io.Writer) *sink { return &sink{bw: bufio.NewWriterSize(w, 64<<10)} }

// Write implements io.Writer, remembering the first error.
func (s *sink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.bw.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// str writes a string.
func (s *sink) str(v string) {
	if s.err == nil {
		_, s.err = s.bw.WriteString(v)
	}
}

// fail keeps err unless an error is kept already.
func (s *sink) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// close flushes and returns the first error, naming the format.
func (s *sink) close(format Format) error {
	if s.err == nil {
		s.err = s.bw.Flush()
	}
	if s.err != nil {
		return fmt.Errorf("report: %s: %w", format, s.err)
	}
	return nil
}
