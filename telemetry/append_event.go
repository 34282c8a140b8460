package telemetry

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendEvent appends the JSON of e without its sequence number to dst,
// exactly the bytes EncodeEvent returns, and returns the extended slice.
// It validates e as EncodeEvent does. Nothing is allocated when dst has
// room: the encoding is written field by field, without reflection, with
// strings escaped, numbers formatted and times spelt as encoding/json
// does it (FuzzAppendEvent compares the two byte for byte). On error dst
// is returned unchanged in length, with the error.
func AppendEvent(dst []byte, e *Event) ([]byte, error) {
	if err := e.Validate(false); err != nil {
		return dst, err
	}
	n0 := len(dst)
	b, err := appendEvent(dst, e)
	if err != nil {
		return dst[:n0], err
	}
	return b, nil
}

func appendEvent(b []byte, e *Event) ([]byte, error) {
	var err error
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(e.V), 10)
	b = appendStringField(b, `,"id":`, e.ID)
	b = appendStringField(b, `,"gateway":`, e.Gateway)
	b = appendStringField(b, `,"source":`, e.Source)
	b = appendStringField(b, `,"type":`, e.Type)
	if b, err = appendTimeField(b, `,"time":`, e.Time, "time"); err != nil {
		return b, err
	}
	if e.Tag != nil {
		if b, err = appendTag(append(b, `,"tag":`...), e.Tag); err != nil {
			return b, err
		}
	}
	if e.Beam != nil {
		b = append(b, `,"beam":{`...)
		if e.Beam.DurationS != 0 {
			if b, err = appendFloatField(b, `"duration_s":`, e.Beam.DurationS, "beam.duration_s"); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	if p := e.PassageInfo; p != nil {
		b = appendStringField(b, `,"passage":{"direction":`, p.Direction)
		if b, err = appendFloatField(b, `,"duration_s":`, p.DurationS, "passage.duration_s"); err != nil {
			return b, err
		}
		b = strconv.AppendUint(append(b, `,"in":`...), p.In, 10)
		b = strconv.AppendUint(append(b, `,"out":`...), p.Out, 10)
		b = append(b, '}')
	}
	if l := e.Lost; l != nil {
		b = strconv.AppendUint(append(b, `,"lost":{"count":`...), l.Count, 10)
		b = appendStringField(b, `,"reason":`, l.Reason)
		b = strconv.AppendUint(append(b, `,"first_seq":`...), l.FirstSeq, 10)
		b = strconv.AppendUint(append(b, `,"last_seq":`...), l.LastSeq, 10)
		if l.First != nil {
			if b, err = appendTimeField(b, `,"first":`, *l.First, "lost.first"); err != nil {
				return b, err
			}
		}
		if l.Last != nil {
			if b, err = appendTimeField(b, `,"last":`, *l.Last, "lost.last"); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendTag(b []byte, t *Tag) ([]byte, error) {
	var err error
	b = appendStringField(b, `{"id":`, t.ID)
	b = appendStringField(b, `,"protocol":`, t.Protocol)
	if t.Antenna != 0 {
		b = strconv.AppendInt(append(b, `,"antenna":`...), int64(t.Antenna), 10)
	}
	if t.RSSI != nil {
		b = strconv.AppendInt(append(b, `,"rssi":`...), int64(*t.RSSI), 10)
	}
	if p := t.EPC; p != nil {
		b = appendStringField(b, `,"epc":{"scheme":`, p.Scheme)
		b = appendStringField(b, `,"uri":`, p.URI)
		if p.GTIN != "" {
			b = appendStringField(b, `,"gtin":`, p.GTIN)
		}
		if p.SSCC != "" {
			b = appendStringField(b, `,"sscc":`, p.SSCC)
		}
		b = append(b, '}')
	}
	if t.Reads != 0 {
		b = strconv.AppendUint(append(b, `,"reads":`...), t.Reads, 10)
	}
	if b, err = appendTimeField(b, `,"first_seen":`, t.FirstSeen, "tag.first_seen"); err != nil {
		return b, err
	}
	if b, err = appendTimeField(b, `,"last_seen":`, t.LastSeen, "tag.last_seen"); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendTimeField appends key and t as time.Time's MarshalJSON spells it
// (RFC 3339 with nanoseconds, a year of four digits, an offset under 24
// hours); name is the field named in the error.
func appendTimeField(b []byte, key string, t time.Time, name string) ([]byte, error) {
	b = append(append(b, key...), '"')
	b, err := t.AppendText(b)
	if err != nil {
		return b, fmt.Errorf("telemetry: event field %s: %w", name, err)
	}
	return append(b, '"'), nil
}

// appendFloatField appends key and f as encoding/json spells a float64:
// like strconv's shortest 'f' format, or 'e' without a padded exponent
// below 1e-6 and from 1e21; NaN and the infinities are errors, name being
// the field named in them.
func appendFloatField(b []byte, key string, f float64, name string) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, fmt.Errorf("telemetry: event field %s: unsupported value %v", name, f)
	}
	b = append(b, key...)
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

func appendStringField(b []byte, key, s string) []byte {
	return appendJSONString(append(b, key...), s)
}

const hexDigits = "0123456789abcdef"

// jsonSafe reports the ASCII bytes encoding/json writes as they are with
// HTML escaping on: printable, and none of " \ < > &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json quotes a string with
// HTML escaping: ", \ and the short control escapes spelt so, other
// control bytes and <, >, & as \u00XX, U+2028 and U+2029 as \u2028 and
// \u2029, and each byte of invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}
