package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/ngic/ngic/controller/coverage"
)

// Document is the JSON report: the Result's members, then the comparison
// and the evidence's source when there are. WriteJSON streams exactly what
// encoding/json gives for it.
type Document struct {
	*coverage.Result
	// Compare is what changed since an earlier result.
	Compare *coverage.Diff `json:"compare,omitempty"`
	// Source says where the devices' evidence comes from.
	Source string `json:"source,omitempty"`
}

// WriteJSON writes res as one JSON object: computed, tiers, villages (each
// with its evidence trail), regions, gaps, then compare and source when
// given (see Document). The villages are encoded one at a time.
func WriteJSON(w io.Writer, res *coverage.Result, o Options) error {
	s := newSink(w)
	e := newJSONEncoder(s)
	s.str(`{"computed":`)
	e.value(res.Computed)
	s.str(`,"tiers":`)
	e.value(res.Tiers)
	s.str(`,"villages":`)
	jsonArray(s, e, res.Villages)
	s.str(`,"regions":`)
	jsonArray(s, e, res.Regions)
	s.str(`,"gaps":`)
	jsonArray(s, e, res.Gaps)
	if o.Compare != nil {
		s.str(`,"compare":`)
		e.value(o.Compare)
	}
	if o.Source != "" {
		s.str(`,"source":`)
		e.value(o.Source)
	}
	s.str("}\n")
	return s.close(FormatJSON)
}

// jsonEncoder encodes one value at a time without HTML escaping (the
// report is not embedded in a page) and without the encoder's newline.
type jsonEncoder struct {
	s   *sink
	buf bytes.Buffer
	enc *json.Encoder
}

func newJSONEncoder(s *sink) *jsonEncoder {
	e := &jsonEncoder{s: s}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// value writes v's encoding.
func (e *jsonEncoder) value(v any) {
	if e.s.err != nil {
		return
	}
	// A village or a gap encodes itself without HTML escaping, as e does:
	// written as is, its bytes skip the validation pass encoding/json makes
	// over what a Marshaler returns (two thirds of the time).
	switch v.(type) {
	case *coverage.Village, *coverage.Gap:
		b, err := v.(json.Marshaler).MarshalJSON()
		if err != nil {
			e.s.fail(err)
			return
		}
		e.s.Write(b)
		return
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		e.s.fail(err)
		return
	}
	e.s.Write(bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'}))
}

// jsonArray writes the elements of vs as a JSON array (null when nil, as
// encoding/json writes a nil slice).
func jsonArray[T any](s *sink, e *jsonEncoder, vs []T) {
	if vs == nil {
		s.str("null")
		return
	}
	s.str("[")
	for i := range vs {
		if i > 0 {
			s.str(",")
		}
		e.value(&vs[i])
	}
	s.str("]")
}
