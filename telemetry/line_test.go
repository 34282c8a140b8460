package telemetry

import (
	"errors"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// parsedLine is one line as github.com/influxdata/line-protocol/v2 reads it.
type parsedLine struct {
	measurement string
	tags        [][2]string
	fields      map[string]any
	time        time.Time
}

// parseLines decodes buf with the reference parser.
func parseLines(t testing.TB, buf []byte) []parsedLine {
	t.Helper()
	var out []parsedLine
	d := lineprotocol.NewDecoderWithBytes(buf)
	for d.Next() {
		var l parsedLine
		m, err := d.Measurement()
		if err != nil {
			t.Fatalf("measurement of %q: %v", buf, err)
		}
		l.measurement = string(m)
		for {
			k, v, err := d.NextTag()
			if err != nil {
				t.Fatalf("tag of %q: %v", buf, err)
			}
			if k == nil {
				break
			}
			l.tags = append(l.tags, [2]string{string(k), string(v)})
		}
		l.fields = map[string]any{}
		for {
			k, v, err := d.NextField()
			if err != nil {
				t.Fatalf("field of %q: %v", buf, err)
			}
			if k == nil {
				break
			}
			l.fields[string(k)] = v.Interface()
		}
		tm, err := d.Time(lineprotocol.Nanosecond, time.Time{})
		if err != nil {
			t.Fatalf("time of %q: %v", buf, err)
		}
		l.time = tm
		out = append(out, l)
	}
	return out
}

// TestLineEscaping: each row is one line built from the parts given and
// the exact bytes expected.
func TestLineEscaping(t *testing.T) {
	ts := time.Unix(0, 1764237600000000123)
	for _, tc := range []struct {
		name  string
		build func(e *LineEncoder)
		want  string // "" when the line must be refused
	}{
		{"plain", func(e *LineEncoder) { e.Start("m"); e.Tag("a", "1"); e.Int("f", 2) },
			"m,a=1 f=2i 1764237600000000123\n"},
		{"measurement comma space", func(e *LineEncoder) { e.Start("m, x=y"); e.Bool("f", true) },
			`m\,\ x=y f=true 1764237600000000123` + "\n"}, // '=' stays in a measurement
		{"tag key and value", func(e *LineEncoder) { e.Start("m"); e.Tag("k =,", "v =,"); e.Bool("f", false) },
			`m,k\ \=\,=v\ \=\, f=false 1764237600000000123` + "\n"},
		{"field key", func(e *LineEncoder) { e.Start("m"); e.Float("a b=c,d", 1.5) },
			`m a\ b\=c\,d=1.5 1764237600000000123` + "\n"},
		{"string quotes backslashes", func(e *LineEncoder) { e.Start("m"); e.String("s", `a"b\c\`) },
			`m s="a\"b\\c\\" 1764237600000000123` + "\n"},
		{"string with comma space equals newline", func(e *LineEncoder) { e.Start("m"); e.String("s", "a, b=c\nd") },
			"m s=\"a, b=c\nd\" 1764237600000000123\n"},
		{"unsigned and negative", func(e *LineEncoder) { e.Start("m"); e.Uint("u", math.MaxUint64); e.Int("i", -3) },
			"m u=18446744073709551615u,i=-3i 1764237600000000123\n"},
		{"intu", func(e *LineEncoder) { e.Start("m"); e.IntU("n", math.MaxInt64) },
			"m n=9223372036854775807i 1764237600000000123\n"},
		{"float forms", func(e *LineEncoder) { e.Start("m"); e.Float("a", 3); e.Float("b", 1e21); e.Float("c", -0.000001) },
			"m a=3,b=1e+21,c=-1e-06 1764237600000000123\n"},
		{"tag int", func(e *LineEncoder) { e.Start("m"); e.TagInt("i", -7); e.Bool("f", true) },
			"m,i=-7 f=true 1764237600000000123\n"},
		{"empty tag value left out", func(e *LineEncoder) { e.Start("m"); e.Tag("a", ""); e.Tag("b", "x"); e.Bool("f", true) },
			"m,b=x f=true 1764237600000000123\n"},
		{"backslash inside tag", func(e *LineEncoder) { e.Start("m"); e.Tag("a", `x\,y`); e.Bool("f", true) },
			`m,a=x\\,y f=true 1764237600000000123` + "\n"},
		{"utf8", func(e *LineEncoder) { e.Start("Ström"); e.Tag("站点", "北京 1"); e.String("s", "ü") },
			`Ström,站点=北京\ 1 s="ü" 1764237600000000123` + "\n"},
		// Refused lines.
		{"empty measurement", func(e *LineEncoder) { e.Start(""); e.Bool("f", true) }, ""},
		{"comment measurement", func(e *LineEncoder) { e.Start("#m"); e.Bool("f", true) }, ""},
		{"newline in tag", func(e *LineEncoder) { e.Start("m"); e.Tag("a", "x\ny"); e.Bool("f", true) }, ""},
		{"tab in field key", func(e *LineEncoder) { e.Start("m"); e.Bool("f\t", true) }, ""},
		{"newline in tag key", func(e *LineEncoder) { e.Start("m"); e.Tag("a\n", "x"); e.Bool("f", true) }, ""},
		{"newline in key of empty tag", func(e *LineEncoder) { e.Start("m"); e.Tag("a\n", ""); e.Bool("f", true) }, ""},
		{"newline in int tag key", func(e *LineEncoder) { e.Start("m"); e.TagInt("a\n", 1); e.Bool("f", true) }, ""},
		{"trailing backslash tag", func(e *LineEncoder) { e.Start("m"); e.Tag("a", `x\`); e.Bool("f", true) }, ""},
		{"tags out of order", func(e *LineEncoder) { e.Start("m"); e.Tag("b", "1"); e.Tag("a", "1"); e.Bool("f", true) }, ""},
		{"duplicate tag", func(e *LineEncoder) { e.Start("m"); e.Tag("a", "1"); e.Tag("a", "2"); e.Bool("f", true) }, ""},
		{"tag after field", func(e *LineEncoder) { e.Start("m"); e.Bool("f", true); e.Tag("a", "1") }, ""},
		{"no field", func(e *LineEncoder) { e.Start("m"); e.Tag("a", "1") }, ""},
		{"NaN", func(e *LineEncoder) { e.Start("m"); e.Float("f", math.NaN()) }, ""},
		{"Inf", func(e *LineEncoder) { e.Start("m"); e.Bool("g", true); e.Float("f", math.Inf(-1)) }, ""},
		{"bad utf8 string", func(e *LineEncoder) { e.Start("m"); e.String("f", "\xff") }, ""},
		{"bad utf8 tag", func(e *LineEncoder) { e.Start("m"); e.Tag("a", "\xc3"); e.Bool("f", true) }, ""},
		{"intu overflow", func(e *LineEncoder) { e.Start("m"); e.IntU("f", math.MaxInt64+1) }, ""},
	} {
		var e LineEncoder
		e.Reset([]byte("prev f=1i 1\n"))
		tc.build(&e)
		err := e.End(ts)
		got := strings.TrimPrefix(string(e.Bytes()), "prev f=1i 1\n")
		if !strings.HasPrefix(string(e.Bytes()), "prev f=1i 1\n") {
			t.Errorf("%s: the line before was damaged: %q", tc.name, e.Bytes())
		}
		if tc.want == "" {
			if err == nil || got != "" {
				t.Errorf("%s: accepted as %q (err %v)", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v\nwant %q", tc.name, got, err, tc.want)
			continue
		}
		// The reference parser reads back what was meant.
		parseLines(t, e.Bytes())
	}
}

func TestLineTimeRequired(t *testing.T) {
	var e LineEncoder
	for _, tm := range []time.Time{{}, time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)} {
		e.Start("m")
		e.Bool("f", true)
		if err := e.End(tm); !errors.Is(err, ErrLineValue) || len(e.Bytes()) != 0 {
			t.Errorf("time %v: err %v, buffer %q", tm, err, e.Bytes())
		}
	}
	if err := e.End(time.Now()); !errors.Is(err, ErrLineOrder) {
		t.Errorf("End without Start: %v", err)
	}
	// A line started and abandoned is discarded by the next Start.
	e.Start("a")
	e.Bool("f", true)
	e.Start("b")
	e.Bool("g", true)
	if err := e.End(time.Unix(1, 0)); err != nil || string(e.Bytes()) != "b g=true 1000000000\n" {
		t.Errorf("abandoned line: %q, %v", e.Bytes(), err)
	}
}

// FuzzLineRoundTrip encodes one line from fuzzed parts and checks that
// the reference parser decodes exactly those parts, or that the encoder
// refused the line and left the buffer as it was.
func FuzzLineRoundTrip(f *testing.F) {
	f.Add("m", "k", "v", "k2", "v2", "f", "s", int64(1), uint64(2), 1.5, true, int64(1764237600000000123))
	f.Add("m, x", "a =", "b,=", "c", `d\e`, "g h", `q"\`, int64(-1), uint64(math.MaxUint64), -1e300, false, int64(0))
	f.Add("#x", "a", "", "b", `x\`, "\n", "\xff", int64(math.MinInt64), uint64(0), math.Inf(1), true, int64(-1))
	f.Fuzz(func(t *testing.T, meas, k1, v1, k2, v2, fkey, sval string, iv int64, uv uint64, fv float64, bv bool, ns int64) {
		tm := time.Unix(0, ns)
		var e LineEncoder
		prefix := []byte("prev f=1i 1\n")
		e.Reset(append([]byte(nil), prefix...))
		e.Start(meas)
		// Tags go in ascending order; the encoder refuses others.
		e.Tag(k1, v1)
		e.Tag(k2, v2)
		e.Int(fkey+"i", iv)
		e.Uint(fkey+"u", uv)
		e.Float(fkey+"f", fv)
		e.Bool(fkey+"b", bv)
		e.String(fkey+"s", sval)
		err := e.End(tm)
		out := e.Bytes()
		if err != nil {
			if string(out) != string(prefix) {
				t.Fatalf("refused line (%v) left bytes: %q", err, out)
			}
			return
		}
		lines := parseLines(t, out)
		if len(lines) != 2 {
			t.Fatalf("%d lines in %q", len(lines), out)
		}
		l := lines[1]
		if l.measurement != meas {
			t.Fatalf("measurement %q, want %q (%q)", l.measurement, meas, out)
		}
		var want [][2]string
		if v1 != "" {
			want = append(want, [2]string{k1, v1})
		}
		if v2 != "" {
			want = append(want, [2]string{k2, v2})
		}
		if len(l.tags) != len(want) {
			t.Fatalf("tags %q, want %q (%q)", l.tags, want, out)
		}
		for i := range want {
			if l.tags[i] != want[i] {
				t.Fatalf("tags %q, want %q (%q)", l.tags, want, out)
			}
		}
		if !sort.SliceIsSorted(l.tags, func(i, j int) bool { return l.tags[i][0] < l.tags[j][0] }) {
			t.Fatalf("tags not sorted: %q", l.tags)
		}
		if len(l.fields) != 5 || l.fields[fkey+"i"] != iv || l.fields[fkey+"u"] != uv ||
			l.fields[fkey+"f"] != fv || l.fields[fkey+"b"] != bv || l.fields[fkey+"s"] != sval {
			t.Fatalf("fields %v (%q)", l.fields, out)
		}
		if !l.time.Equal(tm) {
			t.Fatalf("time %v, want %v", l.time, tm)
		}
	})
}

// TestNamesArePlain: every builder of measurements.go that uses plainLine
// passes, as the measurement and as every tag and field key, a constant
// of measurements.go that is a valid name needing no escaping, and adds
// its tags in strictly ascending key order, so that plainLine may append
// the names as they are without checking the order.
func TestNamesArePlain(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "measurements.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
			for _, sp := range g.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[n.Name] = constant.StringVal(constant.MakeFromLiteral(lit.Value, lit.Kind, 0))
						}
					}
				}
			}
		}
	}
	// nameArg is the index of the name argument of each call that takes one.
	nameArg := map[string]int{"Start": 0, "Tag": 0, "TagInt": 0, "Int": 0, "IntU": 0, "Uint": 0, "Float": 0,
		"Bool": 0, "String": 0, "optFloat": 1, "optInt": 1, "optUint": 1, "optBool": 1, "optString": 1}
	builders, names := 0, 0
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil || !calls(fn.Body, "plainLine") {
			continue
		}
		builders++
		prevTag := ""
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var callee string
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				callee = fun.Sel.Name
			case *ast.Ident:
				callee = fun.Name
			}
			i, takes := nameArg[callee]
			if !takes || i >= len(call.Args) {
				return true
			}
			id, _ := call.Args[i].(*ast.Ident)
			v, isConst := "", false
			if id != nil {
				v, isConst = consts[id.Name]
			}
			if !isConst {
				t.Errorf("%s: %s's name is not a constant of measurements.go", fset.Position(call.Pos()), callee)
				return true
			}
			names++
			esc, valid := appendName(nil, v)
			if callee == "Start" {
				valid = validName(v) && v[0] != '#'
				esc = appendMeasurement(nil, v)
			}
			if !valid || string(esc) != v {
				t.Errorf("%s: name %q of %s needs checks or escaping", fset.Position(call.Pos()), v, callee)
			}
			if callee == "Tag" || callee == "TagInt" {
				if v <= prevTag {
					t.Errorf("%s: tag %q after %q", fset.Position(call.Pos()), v, prevTag)
				}
				prevTag = v
			}
			return true
		})
	}
	if builders < 10 || names < 50 {
		t.Errorf("%d builders with %d names seen; the parse missed them", builders, names)
	}
}

// calls reports whether n calls the function named name.
func calls(n ast.Node, name string) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if id, ok := c.Fun.(*ast.Ident); ok && id.Name == name {
				found = true
			}
		}
		return !found
	})
	return found
}
