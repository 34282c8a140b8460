package telemetry

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// LineEncoder appends InfluxDB line-protocol points to a caller's buffer,
// one line at a time, without allocating per field:
//
//	e := telemetry.LineEncoder{}
//	e.Reset(buf[:0])
//	e.Start(telemetry.MeasInterface)
//	e.Tag(telemetry.TagDevice, "olt-1") // tag keys in ascending order
//	e.Float(telemetry.FieldInBps, 1.5e6)
//	if err := e.End(t); err != nil { ... } // the line is left out of the buffer
//	buf = e.Bytes()
//
// Escaping follows the line protocol: in the measurement, commas and
// spaces; in tag keys, tag values and field keys, commas, equals signs and
// spaces; in string field values, double quotes and backslashes. Names and
// tag values that no escaping can carry are refused: empty, invalid UTF-8,
// a control character (0x00-0x1f, 0x7f), a trailing backslash (it would
// escape the separator after it), and a measurement starting with '#'
// (a comment line). A tag with an empty value is left out, as InfluxDB
// refuses it. Tag keys must come in strictly ascending byte order, as
// InfluxDB sorts them. Floats must be finite. The time is written in
// nanoseconds and is required: a point without one would take the
// server's clock, and a replay would then write it twice.
//
// A line with an error is removed from the buffer by End, which returns
// the first error of that line; the lines before it stay.
type LineEncoder struct {
	buf       []byte
	lineStart int
	section   uint8
	prevTag   string
	err       error
	// plainNames: the measurement, tag keys and field keys are this
	// package's constants, which need neither checks nor escaping (see
	// plainLine); tag and field values are checked as ever.
	plainNames bool
}

// plainLine returns an encoder appending to dst for the measurements of
// this package, whose names are the constants of measurements.go:
// TestNamesArePlain proves each of them a valid name that needs no
// escaping, so they are appended as they are.
func plainLine(dst []byte) LineEncoder {
	return LineEncoder{buf: dst, lineStart: len(dst), plainNames: true}
}

// Line encoder sections.
const (
	sectionNone uint8 = iota
	sectionTags
	sectionFields
)

// Errors of the line encoder, wrapped with the name or value they concern.
var (
	// ErrLineName: a measurement, tag key, tag value or field key that the
	// line protocol cannot carry.
	ErrLineName = errors.New("telemetry: not encodable in line protocol")
	// ErrLineOrder: a call out of order (a tag after a field, a field
	// before Start, tag keys not ascending, a line without fields).
	ErrLineOrder = errors.New("telemetry: line protocol call out of order")
	// ErrLineValue: a field value the line protocol cannot carry (NaN,
	// ±Inf, invalid UTF-8) or a time outside 1677..2262.
	ErrLineValue = errors.New("telemetry: value not encodable in line protocol")
)

// Reset makes the encoder append to buf (pass buf[:0] to reuse its space).
func (e *LineEncoder) Reset(buf []byte) {
	*e = LineEncoder{buf: buf, lineStart: len(buf)}
}

// Bytes returns the buffer with every line ended so far (and the current
// line, if one is open).
func (e *LineEncoder) Bytes() []byte { return e.buf }

// Start begins a line with the given measurement, discarding a line that
// was started and not ended.
func (e *LineEncoder) Start(measurement string) {
	if e.section != sectionNone {
		e.buf = e.buf[:e.lineStart]
	}
	e.lineStart = len(e.buf)
	e.section = sectionTags
	e.prevTag = ""
	e.err = nil
	if e.plainNames {
		e.buf = append(e.buf, measurement...)
		return
	}
	if !validName(measurement) || measurement[0] == '#' {
		e.fail(ErrLineName, "measurement", measurement)
		return
	}
	e.buf = appendMeasurement(e.buf, measurement)
}

// tagKey checks that a tag with key may come next and records it; false
// when the line has failed (now or before).
func (e *LineEncoder) tagKey(key string) bool {
	if e.err != nil {
		return false
	}
	switch {
	case e.section != sectionTags:
		e.fail(ErrLineOrder, "tag after a field or before Start", key)
		return false
	case e.plainNames:
		return true // in order: TestNamesArePlain
	case key <= e.prevTag:
		e.fail(ErrLineOrder, "tag key not ascending", key)
		return false
	}
	e.prevTag = key
	return true
}

// Tag adds a tag. Keys must be added in strictly ascending order, before
// any field; a tag with an empty value is left out.
func (e *LineEncoder) Tag(key, value string) {
	if !e.tagKey(key) {
		return
	}
	if value == "" {
		if !e.plainNames && !validName(key) {
			e.fail(ErrLineName, "tag key", key)
		}
		return
	}
	if e.appendTagKey(key) {
		e.name(value, "tag value")
	}
}

// appendTagKey writes ",key=" (a line in error is dropped whole by End).
func (e *LineEncoder) appendTagKey(key string) bool {
	e.buf = append(e.buf, ',')
	if !e.key(key, "tag key") {
		return false
	}
	e.buf = append(e.buf, '=')
	return true
}

// key appends a tag or field key: as it is for plainNames, else checked
// and escaped.
func (e *LineEncoder) key(s, what string) bool {
	if e.plainNames {
		e.buf = append(e.buf, s...)
		return true
	}
	return e.name(s, what)
}

// name appends the name s escaped, or fails the line naming what s is.
func (e *LineEncoder) name(s, what string) bool {
	var ok bool
	if e.buf, ok = appendName(e.buf, s); !ok {
		e.fail(ErrLineName, what, s)
	}
	return ok
}

// fieldKey writes the separator and key of a field; it reports false when
// the line is in error.
func (e *LineEncoder) fieldKey(key string) bool {
	if e.err != nil {
		return false
	}
	switch e.section {
	case sectionTags:
		e.buf = append(e.buf, ' ')
		e.section = sectionFields
	case sectionFields:
		e.buf = append(e.buf, ',')
	default:
		e.fail(ErrLineOrder, "field before Start", key)
		return false
	}
	if !e.key(key, "field key") {
		return false
	}
	e.buf = append(e.buf, '=')
	return true
}

// Int adds a signed integer field (suffix i).
func (e *LineEncoder) Int(key string, v int64) {
	if e.fieldKey(key) {
		e.buf = strconv.AppendInt(e.buf, v, 10)
		e.buf = append(e.buf, 'i')
	}
}

// Uint adds an unsigned integer field (suffix u). InfluxDB 1.8 refuses
// unsigned fields unless built to accept them, so ngic's measurements use
// IntU instead; Uint is for writers that know their server.
func (e *LineEncoder) Uint(key string, v uint64) {
	if e.fieldKey(key) {
		e.buf = strconv.AppendUint(e.buf, v, 10)
		e.buf = append(e.buf, 'u')
	}
}

// IntU adds an unsigned value as a signed integer field (suffix i), which
// every InfluxDB version accepts; a value above math.MaxInt64 is an error.
func (e *LineEncoder) IntU(key string, v uint64) {
	if v > math.MaxInt64 {
		if e.err == nil {
			e.fail(ErrLineValue, "integer field above 2^63-1", key)
		}
		return
	}
	e.Int(key, int64(v))
}

// Float adds a float field; NaN and ±Inf are errors.
func (e *LineEncoder) Float(key string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if e.err == nil {
			e.fail(ErrLineValue, "float field not finite", key)
		}
		return
	}
	if e.fieldKey(key) {
		e.buf = strconv.AppendFloat(e.buf, v, 'g', -1, 64)
	}
}

// Bool adds a boolean field.
func (e *LineEncoder) Bool(key string, v bool) {
	if e.fieldKey(key) {
		e.buf = strconv.AppendBool(e.buf, v)
	}
}

// String adds a string field; it must be valid UTF-8.
func (e *LineEncoder) String(key, v string) {
	if !e.fieldKey(key) {
		return
	}
	var ok bool
	e.buf, ok = appendStringValue(append(e.buf, '"'), v)
	e.buf = append(e.buf, '"')
	if !ok {
		e.fail(ErrLineValue, "string field not UTF-8", key)
	}
}

// minLineTime and maxLineTime bound what a nanosecond int64 can hold.
var (
	minLineTime = time.Unix(0, math.MinInt64)
	maxLineTime = time.Unix(0, math.MaxInt64)
)

// End ends the line with its time in nanoseconds and a newline. On an
// error of this line (from any call since Start) the line is removed from
// the buffer and the error returned.
func (e *LineEncoder) End(t time.Time) error {
	switch {
	case e.err != nil:
	case e.section == sectionNone:
		e.fail(ErrLineOrder, "End without Start", "")
	case e.section == sectionTags:
		e.fail(ErrLineOrder, "line without fields", "")
	case t.IsZero() || t.Before(minLineTime) || t.After(maxLineTime):
		e.fail(ErrLineValue, "time missing or outside 1677..2262", "")
	default:
		e.buf = append(e.buf, ' ')
		e.buf = strconv.AppendInt(e.buf, t.UnixNano(), 10)
		e.buf = append(e.buf, '\n')
	}
	err := e.err
	if err != nil {
		e.buf = e.buf[:e.lineStart]
	}
	e.lineStart = len(e.buf)
	e.section = sectionNone
	e.err = nil
	return err
}

// fail records the line's first error. It allocates, but only on the
// error path.
func (e *LineEncoder) fail(kind error, what, name string) {
	if e.err == nil {
		e.err = fmt.Errorf("%w: %s %q", kind, what, name)
	}
}

// validName reports whether s can be a measurement, tag key, tag value or
// field key: non-empty, UTF-8, no control character, no trailing backslash.
func validName(s string) bool {
	if s == "" || s[len(s)-1] == '\\' {
		return false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		ascii = ascii && c < 0x80
	}
	return ascii || utf8.ValidString(s)
}

// appendName appends the name s (a tag key or value, a field key) escaping
// commas, spaces and equals signs, in the same pass as validName's checks;
// it reports false, with dst appended to in part, when s is not a valid
// name.
func appendName(dst []byte, s string) ([]byte, bool) {
	if s == "" || s[len(s)-1] == '\\' {
		return dst, false
	}
	ascii, last := true, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return dst, false
		case c >= 0x80:
			ascii = false
		case c == ',' || c == ' ' || c == '=':
			dst = append(dst, s[last:i]...)
			dst = append(dst, '\\', c)
			last = i + 1
		}
	}
	return append(dst, s[last:]...), ascii || utf8.ValidString(s)
}

// appendMeasurement appends a measurement name escaping commas and spaces
// (names of tags and fields go through appendName).
func appendMeasurement(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ',' || c == ' ' {
			dst = append(dst, s[last:i]...)
			dst = append(dst, '\\', c)
			last = i + 1
		}
	}
	return append(dst, s[last:]...)
}

// appendEscapedString appends a string field value escaping double quotes
// and backslashes.
func appendEscapedString(dst []byte, s string) []byte {
	dst, _ = appendStringValue(dst, s)
	return dst
}

// appendStringValue is appendEscapedString reporting, from the same pass,
// whether s is valid UTF-8.
func appendStringValue(dst []byte, s string) ([]byte, bool) {
	ascii, last := true, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			ascii = false
		case c == '"' || c == '\\':
			dst = append(dst, s[last:i]...)
			dst = append(dst, '\\', c)
			last = i + 1
		}
	}
	return append(dst, s[last:]...), ascii || utf8.ValidString(s)
}

// TagInt adds a tag whose value is an integer (an ifIndex, an input
// number), formatted without allocating.
func (e *LineEncoder) TagInt(key string, v int64) {
	if e.tagKey(key) && e.appendTagKey(key) {
		e.buf = strconv.AppendInt(e.buf, v, 10)
	}
}
