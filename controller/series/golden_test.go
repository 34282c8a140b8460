package series

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden polls every recording twice (pollGap apart, so the second
// document has rates), appends the lines of both documents and compares
// them byte for byte with testdata/<recording>.lp. Every line must read
// back with the reference parser, with the tags and field types its
// measurement defines, and as many lines of each measurement as the
// documents hold points.
func TestGolden(t *testing.T) {
	f := startFleet(t)
	for _, name := range f.names {
		t.Run(name, func(t *testing.T) {
			docs := f.twoPolls(t, name)
			var got []byte
			for _, d := range docs {
				var err error
				if got, err = AppendDocument(got, tagsOf(name), d); err != nil {
					t.Fatal(err)
				}
			}
			lines := parseLines(t, got)
			checkSchema(t, lines)
			checkCounts(t, lines, docs[:]...)
			golden(t, filepath.Join("testdata", name+".lp"), got)
		})
	}
}

// golden compares got with the file at path, or rewrites the file under
// -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	switch want, err := os.ReadFile(path); {
	case err != nil:
		t.Fatalf("%v (run with -update to create it)", err)
	case !bytes.Equal(got, want):
		t.Errorf("lines differ from %s (run with -update after checking):\n%s", path, firstDiff(got, want))
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.SplitAfter(string(got), "\n"), strings.SplitAfter(string(want), "\n")
	at := func(l []string, i int) string {
		if i < len(l) {
			return strings.TrimSuffix(l[i], "\n")
		}
		return "(end)"
	}
	for i := range max(len(g), len(w)) {
		if at(g, i) != at(w, i) {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, at(g, i), at(w, i))
		}
	}
	return "(same lines)"
}
