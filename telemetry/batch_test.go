package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// eventPayload is a valid beam event with the given seq and id.
func eventPayload(seq uint64, id string) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"v":1,"id":%q,"gateway":"gw-1","source":"eye","type":"beam.blocked",`+
		`"time":"2026-11-27T10:00:00Z","beam":{}}`, seq, id)
}

// batchOf builds a batch with AppendToBatch.
func batchOf(payloads ...[]byte) []byte {
	var b []byte
	for _, p := range payloads {
		b = AppendToBatch(b, p)
	}
	return b
}

func TestAppendToBatch(t *testing.T) {
	ps := samplePayloads(t)
	b := batchOf(ps...)
	if want := "[" + string(bytes.Join(ps, []byte(","))) + "]"; string(b) != want {
		t.Fatalf("batch %s\nwant %s", b, want)
	}
	if !json.Valid(b) {
		t.Fatal("batch is not valid JSON")
	}
	evs, err := DecodeEvents(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(ps) {
		t.Fatalf("%d events, want %d", len(evs), len(ps))
	}
	for i, p := range ps {
		want, err := DecodeEvent(p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(evs[i], want) {
			t.Fatalf("element %d: %s, want %s", i, dumpEvent(evs[i]), dumpEvent(want))
		}
	}

	buf := make([]byte, 0, 64*1024)
	allocs := testing.AllocsPerRun(10, func() {
		b := buf[:0]
		for _, p := range ps {
			b = AppendToBatch(b, p)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations with capacity, want 0", allocs)
	}
}

func TestDecodeEventsSingleObject(t *testing.T) {
	for _, p := range append(samplePayloads(t), []byte(` {"seq":1} `), []byte(`null`), []byte(``)) {
		want, wantErr := DecodeEvent(p)
		got, err := DecodeEvents(p)
		if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("%s: error %v, want %v", p, err, wantErr)
		}
		if err == nil && (len(got) != 1 || !reflect.DeepEqual(got[0], want)) {
			t.Fatalf("%s: %v, want one event", p, got)
		}
	}
}

func TestDecodeEventsRefuses(t *testing.T) {
	e1, e2, e3 := eventPayload(1, "a"), eventPayload(2, "b"), eventPayload(3, "c")
	var many [][]byte
	for i := range MaxBatchEvents + 1 {
		many = append(many, eventPayload(uint64(i+1), fmt.Sprint(i)))
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	cases := []struct {
		name      string
		payload   string
		malformed bool   // a framing error, wrapping ErrMalformed
		index     int    // the element named, when not malformed
		seq       uint64 // its seq
		want      string // a part of the error
	}{
		{"empty", `[]`, true, 0, 0, "empty array"},
		{"empty with space", ` [ ] `, true, 0, 0, "empty array"},
		{"too many", string(batchOf(many...)), true, 0, 0, "more than 1024 elements"},
		{"array of arrays", `[[` + string(e1) + `]]`, true, 0, 0, "element 0 is not an object"},
		{"number", `[` + string(e1) + `,1]`, true, 0, 0, "element 1 is not an object"},
		{"null", `[null]`, true, 0, 0, "element 0 is not an object"},
		{"deep nesting", deep, true, 0, 0, "element 0 is not an object"},
		{"deep in an element", `[{"x":` + deep + `}]`, true, 0, 0, "element 0"},
		{"trailing garbage", string(batchOf(e1, e2)) + `x`, true, 0, 0, "after the array"},
		{"two arrays", string(batchOf(e1)) + string(batchOf(e2)), true, 0, 0, "after the array"},
		{"unterminated", `[` + string(e1) + `,`, true, 0, 0, "end of input at element 1"},
		{"no comma", `[` + string(e1) + string(e2) + `]`, true, 0, 0, "element 0"},
		{"bad JSON in an element", `[` + string(e1) + `,{"seq":2,]`, true, 0, 0, "element 1"},
		{"repeated seq", string(batchOf(e1, e2, eventPayload(2, "x"))), false, 2, 2, "not above 2"},
		{"descending seq", string(batchOf(e2, e1)), false, 1, 1, "not above 2"},
		{"invalid element", string(batchOf(e1, []byte(`{"seq":2,"v":2}`), e3)), false, 1, 2, "field v"},
		{"type error in an element", string(batchOf(e1, []byte(`{"seq":2,"v":"1"}`))), false, 1, 2, "event payload"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := DecodeEvents([]byte(tc.payload))
			if err == nil {
				t.Fatalf("%d events, want an error", len(evs))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want %q in it", err, tc.want)
			}
			var el *ElementError
			switch {
			case tc.malformed && !errors.Is(err, ErrMalformed):
				t.Fatalf("error %q does not wrap ErrMalformed", err)
			case tc.malformed && errors.As(err, &el):
				t.Fatalf("framing error %q is an ElementError", err)
			case !tc.malformed && !errors.As(err, &el):
				t.Fatalf("error %q is not an ElementError", err)
			case !tc.malformed && (el.Index != tc.index || el.Seq != tc.seq):
				t.Fatalf("element %d seq %d named, want %d seq %d", el.Index, el.Seq, tc.index, tc.seq)
			}
		})
	}
}

// TestEachEventDeliversTheGood: the valid elements of a batch with bad ones
// are delivered, each bad one refused on its own with its index.
func TestEachEventDeliversTheGood(t *testing.T) {
	b := []byte("[ \n" + string(eventPayload(5, "a")) + " ,\t" + `{"seq":6,"v":1}` + ",\r\n" +
		string(eventPayload(4, "old")) + "," + string(eventPayload(7, "b")) + " ]\n")
	var got []string
	err := EachEvent(b, func(i int, elem []byte, ev *Event, err error) bool {
		if !json.Valid(elem) || elem[0] != '{' || elem[len(elem)-1] != '}' {
			t.Errorf("element %d: bytes %q", i, elem)
		}
		if err != nil {
			got = append(got, fmt.Sprintf("%d:%s", i, err))
		} else {
			got = append(got, fmt.Sprintf("%d:%s/%d", i, ev.ID, ev.Seq))
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0:a/5",
		"1:telemetry: batch element 1 (seq 6): telemetry: event field id: empty",
		"2:telemetry: batch element 2 (seq 4): telemetry: event field seq: 4 not above 5 of an element before",
		"3:b/7",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	n := 0
	if err := EachEvent(b, func(int, []byte, *Event, error) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Fatalf("stopped after %d calls (%v), want 2", n, err)
	}
	n = 0
	err = EachEvent([]byte(`[`+string(eventPayload(1, "a"))+`,2]`), func(int, []byte, *Event, error) bool { n++; return true })
	if err == nil || n != 0 {
		t.Fatalf("framing error %v after %d calls, want an error and none", err, n)
	}
}

// TestDecodeEventsDeepElement: an element nested deeper than the fast path
// skips is read by encoding/json, as DecodeEvent reads it alone.
func TestDecodeEventsDeepElement(t *testing.T) {
	deep := []byte(`{"x":` + strings.Repeat("[", 1500) + strings.Repeat("]", 1500) + `,` + string(eventPayload(9, "d"))[1:])
	want, err := DecodeEvent(deep)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := DecodeEvents(batchOf(eventPayload(1, "a"), deep, eventPayload(10, "b")))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || !reflect.DeepEqual(evs[1], want) || evs[2].ID != "b" {
		t.Fatalf("%d events, want 3 with the deep one second", len(evs))
	}
	if _, err := DecodeEvents(append(batchOf(deep), '}')); err == nil || !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage after a deep batch: %v, want a malformed error", err)
	}
}

func TestDecodeEventsAllocs(t *testing.T) {
	var ps [][]byte
	for i := range 64 {
		ps = append(ps, eventPayload(uint64(i+1), fmt.Sprint(i)))
	}
	b := batchOf(ps...)
	one := testing.AllocsPerRun(10, func() {
		if _, err := DecodeEvent(ps[0]); err != nil {
			t.Fatal(err)
		}
	})
	allocs := testing.AllocsPerRun(10, func() {
		if err := EachEvent(b, func(int, []byte, *Event, error) bool { return true }); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 64*one {
		t.Fatalf("%v allocations for a batch of 64, want at most %v (64 times DecodeEvent's)", allocs, 64*one)
	}
}

// framedElements is the number of elements of a valid batch as encoding/json
// reads it, or -1 when it is not one.
func framedElements(b []byte) int {
	var raws []json.RawMessage
	if json.Unmarshal(b, &raws) != nil || len(raws) == 0 || len(raws) > MaxBatchEvents {
		return -1
	}
	for _, r := range raws {
		if r[0] != '{' {
			return -1
		}
	}
	return len(raws)
}

// isObject says whether b is valid JSON holding one object.
func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return json.Valid(b) && len(b) > 0 && b[0] == '{'
}

// FuzzDecodeEvents: DecodeEvents never panics; a payload that is not an
// array gives exactly DecodeEvent's result; and the batch [a,b] gives, for
// each element, exactly what DecodeEvent gives for it (b refused besides
// when its seq is not above a's), or a framing error when either is not a
// JSON object.
func FuzzDecodeEvents(f *testing.F) {
	ps := samplePayloads(f)
	for i, p := range ps {
		f.Add(p, ps[(i+1)%len(ps)])
		f.Add(batchOf(ps[:i+1]...), p)
	}
	for _, p := range nastyPayloads {
		f.Add([]byte(p), ps[len(ps)-1])
	}
	f.Add([]byte(`[`), []byte(`]`))
	f.Add([]byte(`[{}`), []byte(`{}]`))
	f.Add([]byte(` [{"a":"]"} , {"b":"\"["}]`), []byte(`{"seq":1,"x":[{},[]]}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		evs, err := DecodeEvents(a)
		if err == nil && (len(evs) == 0 || len(evs) > MaxBatchEvents) {
			t.Fatalf("%q: %d events and no error", a, len(evs))
		}
		if trim := bytes.TrimLeft(a, " \t\r\n"); len(trim) == 0 || trim[0] != '[' {
			checkSame(t, a, evs, err)
		}

		batch := batchOf(a, b)
		var got []*Event
		var errs []error
		var elems [][]byte
		err = EachEvent(batch, func(i int, elem []byte, ev *Event, err error) bool {
			if i != len(got) {
				t.Fatalf("index %d, want %d", i, len(got))
			}
			got, errs, elems = append(got, ev), append(errs, err), append(elems, elem)
			return true
		})
		if n := framedElements(batch); n < 0 {
			if err == nil || !errors.Is(err, ErrMalformed) || len(got) != 0 {
				t.Fatalf("%s: %d events, error %v; want a framing error", batch, len(got), err)
			}
			return
		} else if err != nil || len(got) != n {
			t.Fatalf("%s: %d events, error %v; want %d", batch, len(got), err, n)
		}
		if !isObject(a) || !isObject(b) {
			return
		}
		if err != nil || len(got) != 2 {
			t.Fatalf("[%s,%s]: %d events, error %v; want 2", a, b, len(got), err)
		}
		const space = " \t\r\n"
		if !bytes.Equal(elems[0], bytes.Trim(a, space)) || !bytes.Equal(elems[1], bytes.Trim(b, space)) {
			t.Fatalf("[%s,%s]: elements %q and %q", a, b, elems[0], elems[1])
		}
		wantA, errA := DecodeEvent(elems[0]) // the offsets of its errors count from the element's '{'
		wantB, errB := DecodeEvent(elems[1])
		if errB == nil && errA == nil && wantB.Seq <= wantA.Seq {
			wantB, errB = nil, errors.New("not above")
		}
		for i, want := range [][2]any{{wantA, errA}, {wantB, errB}} {
			wantEv, wantErr := want[0].(*Event), want[1]
			if (errs[i] == nil) != (wantErr == nil) || !reflect.DeepEqual(got[i], wantEv) {
				t.Fatalf("[%s,%s] element %d: %v, %v; want %v, %v", a, b, i, got[i], errs[i], wantEv, wantErr)
			}
			var el *ElementError
			if errs[i] != nil && (!errors.As(errs[i], &el) || el.Index != i) {
				t.Fatalf("element %d: error %v does not name it", i, errs[i])
			}
			if e, ok := wantErr.(error); ok && e.Error() != "not above" && el.Err.Error() != e.Error() {
				t.Fatalf("element %d: error %v, want %v", i, el.Err, e)
			}
		}
	})
}

// checkSame checks that DecodeEvents gave for a single payload what
// DecodeEvent gives.
func checkSame(t *testing.T, p []byte, evs []*Event, err error) {
	t.Helper()
	want, wantErr := DecodeEvent(p)
	if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("%q: error %v, want %v", p, err, wantErr)
	}
	if err == nil && (len(evs) != 1 || !reflect.DeepEqual(evs[0], want)) {
		t.Fatalf("%q: %d events, want DecodeEvent's one", p, len(evs))
	}
}

// BenchmarkEachEvent decodes a batch of 64 UHF tag events (~450 bytes
// each) as a gateway sends them under load; ns/op is per event.
func BenchmarkEachEvent(b *testing.B) {
	var batch []byte
	for i := range 64 {
		batch = AppendToBatch(batch, bytes.Replace([]byte(tagPayload), []byte(`"seq":123456`), fmt.Appendf(nil, `"seq":%d`, 1000+i), 1))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(batch) / 64))
	b.ResetTimer()
	for i := 0; i < b.N; i += 64 {
		if err := EachEvent(batch, func(_ int, _ []byte, _ *Event, err error) bool {
			if err != nil {
				b.Fatal(err)
			}
			return true
		}); err != nil {
			b.Fatal(err)
		}
	}
}
