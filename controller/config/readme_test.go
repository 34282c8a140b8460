package config_test

import (
	"encoding"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	edgeconfig "github.com/ngic/ngic/edge/config"
)

// The configuration reference of the repository's README: one table per
// daemon under these headings, a row per YAML key, the key in backticks in
// the first cell. The edge's table is checked here too, so that one walker
// of the YAML tags serves both daemons.
const (
	readmePath        = "../../README.md"
	controllerHeading = "### ngic-controller configuration"
	edgeHeading       = "### ngic-edge configuration"
)

// TestReadmeControllerKeys fails when a YAML key of the controller's
// configuration is missing from the README's reference, or the reference
// lists a key the configuration no longer has.
func TestReadmeControllerKeys(t *testing.T) {
	checkReadme(t, controllerHeading, yamlKeys(reflect.TypeFor[config.Config]()))
}

// TestReadmeEdgeKeys is the same for the edge's configuration.
func TestReadmeEdgeKeys(t *testing.T) {
	checkReadme(t, edgeHeading, yamlKeys(reflect.TypeFor[edgeconfig.Config]()))
}

func checkReadme(t *testing.T, heading string, want []string) {
	t.Helper()
	doc, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := referenceKeys(string(doc), heading)
	if err != nil {
		t.Fatalf("%s: %v", readmePath, err)
	}
	missing, extra := diffKeys(want, got)
	for _, k := range missing {
		t.Errorf("%s %q: no row for key %s (write map keys as <name>, list elements as [])", readmePath, heading, k)
	}
	for _, k := range extra {
		t.Errorf("%s %q: row %s is not a key of the configuration", readmePath, heading, k)
	}
}

// TestReadmeCheckCatches proves that the comparison sees a missing, an
// extra and a repeated row, and a section that is not there.
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
	doc := "# x\n\n### s\n\n| key | meaning |\n| --- | --- |\n| `name` | n |\n| `list[].a` | l |\n" +
		"| `map.<id>.a` | m |\n| `a` | a |\n| `when` | w |\n| `gone` | g |\n\n### next\n\n| `plain` | not in s |\n"
	got, err := referenceKeys(doc, "### s")
	if err != nil {
		t.Fatal(err)
	}
	missing, extra := diffKeys(want, got)
	if !slices.Equal(missing, []string{"plain"}) || !slices.Equal(extra, []string{"gone"}) {
		t.Errorf("missing %v, extra %v; want [plain], [gone]", missing, extra)
	}
	if _, err := referenceKeys(strings.Replace(doc, "| `a` |", "| `name` | again |\n| `a` |", 1), "### s"); err == nil {
		t.Error("a repeated row: no error")
	}
	if _, err := referenceKeys(doc, "### none"); err == nil {
		t.Error("a missing section: no error")
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
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case name == "-" || !f.IsExported() && !f.Anonymous:
			case slices.Contains(strings.Split(opts, ","), "inline"):
				walkKeys(f.Type, prefix, keys)
			default:
				if name == "" {
					name = strings.ToLower(f.Name)
				}
				walkKeys(f.Type, join(prefix, name), keys)
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

// isStruct says whether t (or what it points to) is a struct decoded key
// by key.
func isStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(textUnmarshaler)
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

var (
	// rowKey is a table row whose first cell starts with a key in
	// backticks.
	rowKey = regexp.MustCompile("^\\| *`([^`]+)`")
	// placeholder is a map key the reader chooses, as the README writes it.
	placeholder = regexp.MustCompile(`<[^>]*>`)
)

// referenceKeys returns, sorted, the keys of the table rows of doc under
// heading, up to the next heading; map keys written <name> become "*".
func referenceKeys(doc, heading string) ([]string, error) {
	lines := strings.Split(doc, "\n")
	start := slices.Index(lines, heading)
	if start < 0 {
		return nil, &sectionError{heading: heading}
	}
	var keys []string
	for _, l := range lines[start+1:] {
		if strings.HasPrefix(l, "#") {
			break
		}
		if m := rowKey.FindStringSubmatch(l); m != nil {
			k := placeholder.ReplaceAllString(m[1], "*")
			if slices.Contains(keys, k) {
				return nil, &sectionError{heading: heading, repeated: m[1]}
			}
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// sectionError is a reference section that is missing or repeats a row.
type sectionError struct{ heading, repeated string }

func (e *sectionError) Error() string {
	if e.repeated != "" {
		return "section " + e.heading + ": row " + e.repeated + " twice"
	}
	return "no line " + e.heading
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
