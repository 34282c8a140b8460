package coverage

import (
	"bufio"
	"encoding/json"
	"io"
)

// WriteJSON writes r as encoding/json encodes it without HTML escaping
// (the same members, values and order; whitespace aside), one village,
// region and gap at a time, so that a national result is never held
// encoded in memory (it is some 700 MB). It returns the first error of w.
func (r *Result) WriteJSON(w io.Writer) error {
	e := &streamEncoder{w: bufio.NewWriterSize(w, 64<<10)}
	e.enc = json.NewEncoder(e.w)
	e.enc.SetEscapeHTML(false)
	e.raw(`{"computed":`)
	e.value(r.Computed)
	e.raw(`,"tiers":`)
	e.value(r.Tiers)
	e.raw(`,"villages":`)
	writeArray(e, r.Villages, func(v *Village) ([]byte, error) { return v.MarshalJSON() })
	e.raw(`,"regions":`)
	writeArray(e, r.Regions, func(g *Region) ([]byte, error) { return nil, e.enc.Encode(g) })
	e.raw(`,"gaps":`)
	writeArray(e, r.Gaps, func(g *Gap) ([]byte, error) { return g.MarshalJSON() })
	e.raw("}\n")
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

// streamEncoder writes JSON to w, keeping the first error.
type streamEncoder struct {
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

func (e *streamEncoder) raw(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// value writes v's encoding (and a newline, which JSON takes as space).
func (e *streamEncoder) value(v any) {
	if e.err == nil {
		e.err = e.enc.Encode(v)
	}
}

// writeArray writes vs as a JSON array ("null" when nil, as encoding/json
// writes a nil slice), each element by encode, which returns its bytes or
// writes them itself.
func writeArray[T any](e *streamEncoder, vs []T, encode func(*T) ([]byte, error)) {
	if vs == nil {
		e.raw("null")
		return
	}
	e.raw("[")
	for i := range vs {
		if e.err != nil {
			return
		}
		if i > 0 {
			e.raw(",")
		}
		b, err := encode(&vs[i])
		if err == nil && b != nil {
			_, err = e.w.Write(b)
		}
		if err != nil && e.err == nil {
			e.err = err
		}
	}
	e.raw("]")
}
