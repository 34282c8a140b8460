// Package schema reads the InfluxDB names ngic writes (measurements, tag
// keys, field keys) from the source of package telemetry, the one place
// that spells them, so that generated dashboards and shipped InfluxQL can
// be checked against what is really written. It reads the constants named
// Meas*, Tag* and Field* of the package's non-test files.
package schema

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Names are the InfluxDB names of telemetry.
type Names struct {
	// Measurements, Tags and Fields hold the constants' values.
	Measurements, Tags, Fields map[string]bool
}

// Dir is the folder of package telemetry's source, found from this file's.
func Dir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("schema: cannot tell where its source is")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "telemetry"), nil
}

// Load reads the names from telemetry's source.
func Load() (*Names, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	n := &Names{Measurements: map[string]bool{}, Tags: map[string]bool{}, Fields: map[string]bool{}}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		collect(f, n)
	}
	if len(n.Measurements) == 0 || len(n.Fields) == 0 {
		return nil, fmt.Errorf("schema: no Meas* or Field* constants in %s", dir)
	}
	return n, nil
}

// isName reports whether v is a whole InfluxDB name as ngic spells them:
// lower-case letters, digits and '_', not ending in '_' (a prefix).
func isName(v string) bool {
	if v == "" || strings.HasSuffix(v, "_") {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// collect adds the string constants of f named Meas*, Tag* and Field* to n.
func collect(f *ast.File, n *Names) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil || !isName(v) {
					continue // not an InfluxDB name: an event type ("tag.arrived"), a prefix
				}
				switch {
				case strings.HasPrefix(name.Name, "Meas"):
					n.Measurements[v] = true
				case strings.HasPrefix(name.Name, "Tag"):
					n.Tags[v] = true
				case strings.HasPrefix(name.Name, "Field"):
					n.Fields[v] = true
				}
			}
		}
	}
}
