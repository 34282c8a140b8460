package yamlconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type conf struct {
	Name  string `yaml:"name"`
	Items []struct {
		ID    string        `yaml:"id"`
		Every time.Duration `yaml:"every"`
	} `yaml:"items"`
}

const sample = `name: x
items:
  - id: a
    every: 2s
  - id: b
    every: 1m
`

func TestDecodeAndLines(t *testing.T) {
	var c conf
	d, err := Decode("s.yaml", []byte(sample), &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Items[1].Every != time.Minute {
		t.Fatalf("duration: %v", c.Items[1].Every)
	}
	if l := d.Line("items[1].every"); l != 6 {
		t.Fatalf("line of items[1].every = %d, want 6", l)
	}
	if l := d.Line("items[1].missing"); l != 5 {
		t.Fatalf("line of a missing key falls back to its parent: %d, want 5", l)
	}
	err = d.Errorf("items[0].id", "duplicate id %q", "a")
	if !strings.Contains(err.Error(), "line 3: items[0].id: duplicate id") {
		t.Fatalf("Errorf = %v", err)
	}
}

func TestStrict(t *testing.T) {
	var c conf
	_, err := Decode("s.yaml", []byte("name: x\nnmae: y\n"), &c)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "nmae") {
		t.Fatalf("unknown key: %v", err)
	}
	_, err = Decode("s.yaml", []byte("name: x\n---\nname: y\n"), &c)
	if err == nil || !strings.Contains(err.Error(), "second YAML document") {
		t.Fatalf("two documents: %v", err)
	}
	_, err = Decode("s.yaml", []byte(""), &c)
	if err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty: %v", err)
	}
	_, err = Decode("s.yaml", []byte("items:\n  - every: soon\n"), &c)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad duration: %v", err)
	}
}

func TestSecret(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(p, []byte("s3cret\n"), 0o600)
	if s, err := Secret(p, ""); err != nil || s != "s3cret" {
		t.Fatalf("file secret = %q, %v", s, err)
	}
	t.Setenv("NGIC_TEST_SECRET", "fromenv")
	if s, _ := Secret("", "NGIC_TEST_SECRET"); s != "fromenv" {
		t.Fatalf("env secret = %q", s)
	}
	if _, err := Secret(p+"x", ""); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	var c conf
	_, err := Decode("s.yaml", []byte("name: x\nitems:\n  - id: a\n    every: 20\n  - id: b\n    evry: 1s\n"), &c)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"line 4: items[0].every: cannot unmarshal", "line 6: items[1].evry: field evry not found"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestDecoderErrorText pins what Decode reads from the decoder's error
// text (the YAML library reports positions only there): each "line N: " of
// a type error, an unknown key or a syntax error gets the path of the key on
// that line, every error of a multi-error report is kept, and "line N: "
// inside a quoted value is not taken for a position.
func TestDecoderErrorText(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
		notWant    string
	}{
		{"type in a sequence", "items:\n  - id: a\n    every: twice\n", []string{"line 3: items[0].every: cannot unmarshal"}, ""},
		{"unknown key in a sequence", "items:\n  - id: a\n    evry: 1s\n", []string{"line 3: items[0].evry: field evry not found"}, ""},
		{"section of the wrong kind", "name: x\nitems: 5\n", []string{"line 2: items: cannot unmarshal"}, ""},
		{"scalar of the wrong kind", "name: [1, 2]\n", []string{"line 1: name: cannot unmarshal"}, ""},
		{"two errors", "name: x\nitems:\n  - every: 3\n  - id: b\n    bad: 1\n",
			[]string{"line 3: items[0].every: cannot unmarshal", "line 5: items[1].bad: field bad not found"}, ""},
		{"syntax", "name: x\nitems: [\n", []string{"line 2"}, ""},
		{"tab indentation", "name: x\n\titems: 1\n", []string{"line 2"}, ""},
		{"position-like text in a value", "name: x\nitems:\n  - every: 'line 1: x'\n",
			[]string{"line 3: items[0].every: cannot unmarshal"}, "line 1: name"},
	} {
		var c conf
		_, err := Decode("s.yaml", []byte(tc.yaml), &c)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
		if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
			t.Errorf("%s: error %q has %q", tc.name, err, tc.notWant)
		}
	}
}
