package config_test

import (
	"encoding"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ngic/ngic/controller/config"
	_ "github.com/ngic/ngic/drivers/rfid/all" // the reader protocols edge samples name
	edgeconfig "github.com/ngic/ngic/edge/config"
)

// The configuration reference of the repository's README: one table per
// daemon under its heading, a row per YAML key with the key in backticks
// in the first cell and its default in the column headed "default". The
// edge's table is checked here too, so that one walker of the YAML tags
// serves both daemons.
const readmePath = "../../README.md"

// daemon is one daemon's configuration as the README describes it.
type daemon struct {
	heading string
	typ     reflect.Type
	// parse decodes and validates a file, filling the defaults.
	parse func(name string, data []byte) (any, error)
	// samples are small valid files: a key's default is read from those
	// that leave it unset.
	samples []string
}

var daemons = []daemon{{
	heading: "### ngic-controller configuration",
	typ:     reflect.TypeFor[config.Config](),
	parse:   func(name string, data []byte) (any, error) { return config.Parse(name, data) },
	samples: []string{`
inventory: inv
credentials:
  c: {version: 2c, community_env: X}
mqtt: {embedded: true}
alerts:
  rules:
    - {name: a, kind: pon-drop}
    - {name: b, kind: dsl-drop}
    - {name: c, kind: events-lost}
  webhooks:
    - {url: "https://alerts.example.net/ngic", token_env: X}
`, `
inventory: inv
mqtt: {broker: "tcp://127.0.0.1:1883"}
influxdb: {url: "http://127.0.0.1:8086", bucket: ngic/autogen}
cluster: {enabled: true, replicas: 3}
`},
}, {
	heading: "### ngic-edge configuration",
	typ:     reflect.TypeFor[edgeconfig.Config](),
	parse:   func(name string, data []byte) (any, error) { return edgeconfig.Parse(name, data) },
	samples: []string{`
gateway: g
mqtt: {broker: embedded}
readers: [{name: r, protocol: em4100, device: /dev/null}]
sensors: [{name: s, pin: GPIO17}]
`},
}}

// TestReadmeKeys fails when a YAML key of a daemon's configuration is
// missing from the README's reference, or the reference lists a key the
// configuration no longer has.
func TestReadmeKeys(t *testing.T) {
	for _, d := range daemons {
		t.Run(strings.TrimPrefix(d.heading, "### "), func(t *testing.T) {
			rows := readRows(t, d.heading)
			missing, extra := diffKeys(yamlKeys(d.typ), sortedKeys(rows))
			for _, k := range missing {
				t.Errorf("%s: no row for key %s (write map keys as <name>, list elements as [])", readmePath, k)
			}
			for _, k := range extra {
				t.Errorf("%s: row %s is not a key of the configuration", readmePath, k)
			}
		})
	}
}

// TestReadmeDefaults fails when the default the README gives as a value
// (a number, true or false, or one value in backticks) is not what the
// configuration fills in when the key is left unset. Defaults given in
// words ("required", "the protocol's") are not checked.
func TestReadmeDefaults(t *testing.T) {
	for _, d := range daemons {
		t.Run(strings.TrimPrefix(d.heading, "### "), func(t *testing.T) {
			rows := readRows(t, d.heading)
			col := slices.Index(rows["key"], "default")
			if col < 0 {
				t.Fatalf("%s: no header row | key | ... | default | ...", readmePath)
			}
			filled := map[string][]string{}
			for i, src := range d.samples {
				for k, vs := range fillDefaults(t, d, fmt.Sprintf("sample-%d.yaml", i), src) {
					filled[k] = append(filled[k], vs...)
				}
			}
			checked := 0
			for _, k := range sortedKeys(rows) {
				lit, ok := literal(rows[k][col])
				if k == "key" || !ok {
					continue
				}
				checked++
				switch {
				case len(filled[k]) == 0:
					t.Errorf("%s: default of %s is %q, but no sample leaves it unset", readmePath, k, lit)
				case !slices.ContainsFunc(filled[k], func(v string) bool { return sameValue(lit, v) }):
					t.Errorf("%s: default of %s is %q, but the configuration fills in %q", readmePath, k, lit, filled[k])
				}
			}
			if checked == 0 {
				t.Errorf("%s: no default given as a value", readmePath)
			}
		})
	}
}

// fillDefaults parses src and returns, for each key src leaves unset, the
// values the parse filled in (several for a key under a list or map).
func fillDefaults(t *testing.T, d daemon, name, src string) map[string][]string {
	t.Helper()
	raw := reflect.New(d.typ)
	if err := yaml.Unmarshal([]byte(src), raw.Interface()); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	parsed, err := d.parse(name, []byte(src))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string][]string{}
	for _, k := range yamlKeys(d.typ) {
		if slices.ContainsFunc(valuesAt(raw.Elem(), k), func(v reflect.Value) bool { return !v.IsZero() }) {
			continue // given
		}
		for _, v := range valuesAt(reflect.ValueOf(parsed).Elem(), k) {
			out[k] = append(out[k], fmt.Sprint(v))
		}
	}
	return out
}

// TestReadmeCheckCatches proves that the checks see a missing, an extra
// and a repeated row, a section that is not there, and a wrong default.
func TestReadmeCheckCatches(t *testing.T) {
	type inner struct {
		A string `yaml:"a"`
	}
	type sample struct {
		Name  string           `yaml:"name"`
		List  []inner          `yaml:"list"`
		Map   map[string]inner `yaml:"map"`
		Plain map[string]int   `yaml:"plain"`
		When  time.Time        `yaml:"when"`
		Skip  string           `yaml:"-"`
		inner `yaml:",inline"`
	}
	want := yamlKeys(reflect.TypeFor[sample]())
	if exp := []string{"a", "list[].a", "map.*.a", "name", "plain", "when"}; !slices.Equal(want, exp) {
		t.Fatalf("keys %v, want %v", want, exp)
	}
	doc := "# x\n\n### s\n\n| key | default |\n| --- | --- |\n| `name` | n |\n| `list[].a` | l |\n" +
		"| `map.<id>.a` | m |\n| `a` | a |\n| `when` | w |\n| `gone` | g |\n\n### next\n\n| `plain` | not in s |\n"
	rows, err := referenceRows(doc, "### s")
	if err != nil {
		t.Fatal(err)
	}
	missing, extra := diffKeys(want, sortedKeys(rows))
	if !slices.Equal(missing, []string{"plain"}) || !slices.Equal(extra, []string{"gone"}) {
		t.Errorf("missing %v, extra %v; want [plain], [gone]", missing, extra)
	}
	if _, err := referenceRows(strings.Replace(doc, "| `a` |", "| `name` | again |\n| `a` |", 1), "### s"); err == nil {
		t.Error("a repeated row: no error")
	}
	if _, err := referenceRows(doc, "### none"); err == nil {
		t.Error("a missing section: no error")
	}
	v := reflect.ValueOf(sample{List: []inner{{"x"}, {"y"}}, Map: map[string]inner{"k": {"z"}}})
	if got := fmt.Sprint(valuesAt(v, "list[].a"), valuesAt(v, "map.*.a")); got != "[x y] [z]" {
		t.Errorf("values %s, want [x y] [z]", got)
	}
	for cell, want := range map[string]string{"`30s`": "30s", "67108864 (64 MiB)": "67108864", "0: never": "0",
		"false": "false", "`ngic-edge-<gateway>`": "", "`username`, else `ngic-controller`": "", "required": ""} {
		if got, _ := literal(cell); got != want {
			t.Errorf("literal(%q) = %q, want %q", cell, got, want)
		}
	}
	if !sameValue("60s", "1m0s") || !sameValue("0", "0s") || sameValue("30s", "3s") || sameValue("1", "2") {
		t.Error("sameValue: wrong")
	}
}

// textUnmarshaler is what a struct decoded from one scalar implements
// (time.Time).
var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// yamlKeys returns, sorted, the dotted path of every leaf YAML key of t as
// yaml.v3 decodes it: "[]" for an element of a list of structs, "*" for a
// key of a map of structs. A value decoded whole (a scalar, a list or map
// of scalars, a struct written as one scalar such as time.Time) is a leaf;
// a struct with its own UnmarshalYAML is walked by its tags, which name
// the keys it reads (alerts.Window).
func yamlKeys(t reflect.Type) []string {
	var keys []string
	walkKeys(t, "", &keys)
	slices.Sort(keys)
	return keys
}

func walkKeys(t reflect.Type, prefix string, keys *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case isStruct(t):
		for i := range t.NumField() {
			f := t.Field(i)
			name, inline, ok := yamlName(f)
			switch {
			case !ok:
			case inline:
				walkKeys(f.Type, prefix, keys)
			case prefix == "":
				walkKeys(f.Type, name, keys)
			default:
				walkKeys(f.Type, prefix+"."+name, keys)
			}
		}
		return
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) && isStruct(t.Elem()):
		step := "[]"
		if t.Kind() == reflect.Map {
			step = ".*"
		}
		walkKeys(t.Elem(), prefix+step, keys)
		return
	}
	*keys = append(*keys, prefix)
}

// yamlName returns the key of a struct field as yaml.v3 decodes it, or
// that it is inlined, or !ok when yaml.v3 skips it.
func yamlName(f reflect.StructField) (name string, inline, ok bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch {
	case name == "-" || !f.IsExported() && !f.Anonymous:
		return "", false, false
	case slices.Contains(strings.Split(opts, ","), "inline"):
		return "", true, true
	case name == "":
		return strings.ToLower(f.Name), false, true
	}
	return name, false, true
}

// isStruct says whether t (or what it points to) is a struct decoded key
// by key.
func isStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(textUnmarshaler)
}

// valuesAt returns the values at key (a path of yamlKeys) in v: none when
// a pointer on the way is nil or a list or map empty, several under a
// list or map.
func valuesAt(v reflect.Value, key string) []reflect.Value {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if key == "" {
		return []reflect.Value{v}
	}
	var out []reflect.Value
	switch {
	case strings.HasPrefix(key, "[]"):
		for i := range v.Len() {
			out = append(out, valuesAt(v.Index(i), strings.TrimPrefix(key[2:], "."))...)
		}
	case strings.HasPrefix(key, "*"):
		for it := v.MapRange(); it.Next(); {
			out = append(out, valuesAt(it.Value(), strings.TrimPrefix(key[1:], "."))...)
		}
	default:
		end := strings.IndexAny(key, ".[")
		if end < 0 {
			end = len(key)
		}
		if f, ok := fieldByKey(v, key[:end]); ok {
			out = valuesAt(f, strings.TrimPrefix(key[end:], "."))
		}
	}
	return out
}

// fieldByKey returns the field of struct v whose YAML key is name,
// looking into inlined fields.
func fieldByKey(v reflect.Value, name string) (reflect.Value, bool) {
	for i := range v.NumField() {
		n, inline, ok := yamlName(v.Type().Field(i))
		switch {
		case inline:
			if f, ok := fieldByKey(v.Field(i), name); ok {
				return f, true
			}
		case ok && n == name:
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

var (
	// rowKey is a table row whose first cell is a key in backticks.
	rowKey = regexp.MustCompile("^\\| *`([^`]+)` *\\|")
	// placeholder is a map key the reader chooses, as the README writes it.
	placeholder = regexp.MustCompile(`<[^>]*>`)
	// value is a default given as one value, perhaps followed by a word on
	// it: "`30s`", "67108864 (64 MiB)", "0: never", "false".
	value = regexp.MustCompile("^(?:`([^`<]+)`|([0-9][0-9.]*|true|false))(?: \\(.*\\)|: .*)?$")
)

// readRows returns the rows of the README's section under heading.
func readRows(t *testing.T, heading string) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := referenceRows(string(doc), heading)
	if err != nil {
		t.Fatalf("%s: %v", readmePath, err)
	}
	return rows
}

// referenceRows returns the cells of the table rows of doc under heading,
// up to the next heading, by key (map keys written <name> become "*"),
// and the header row under "key".
func referenceRows(doc, heading string) (map[string][]string, error) {
	lines := strings.Split(doc, "\n")
	start := slices.Index(lines, heading)
	if start < 0 {
		return nil, fmt.Errorf("no line %s", heading)
	}
	rows := map[string][]string{}
	for _, l := range lines[start+1:] {
		if strings.HasPrefix(l, "#") {
			break
		}
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if m := rowKey.FindStringSubmatch(l); m != nil {
			k := placeholder.ReplaceAllString(m[1], "*")
			if _, ok := rows[k]; ok {
				return nil, fmt.Errorf("section %s: row %s twice", heading, m[1])
			}
			rows[k] = cells
		} else if cells[0] == "key" {
			rows["key"] = cells
		}
	}
	return rows, nil
}

// literal returns the value a default cell gives, when it gives one.
func literal(cell string) (string, bool) {
	m := value.FindStringSubmatch(strings.TrimSpace(cell))
	if m == nil {
		return "", false
	}
	return m[1] + m[2], true
}

// sameValue says whether the README's value and the configuration's are
// the same, as text or as durations ("60s" is "1m0s").
func sameValue(readme, filled string) bool {
	if readme == filled {
		return true
	}
	a, err1 := time.ParseDuration(readme)
	b, err2 := time.ParseDuration(filled)
	return err1 == nil && err2 == nil && a == b
}

// sortedKeys returns the keys of rows but the header, sorted.
func sortedKeys(rows map[string][]string) []string {
	var keys []string
	for k := range rows {
		if k != "key" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// diffKeys returns the keys of want missing from got, and those of got not
// in want; both are sorted.
func diffKeys(want, got []string) (missing, extra []string) {
	for _, k := range want {
		if _, ok := slices.BinarySearch(got, k); !ok {
			missing = append(missing, k)
		}
	}
	for _, k := range got {
		if _, ok := slices.BinarySearch(want, k); !ok {
			extra = append(extra, k)
		}
	}
	return missing, extra
}
