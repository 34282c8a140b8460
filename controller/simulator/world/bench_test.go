package world

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkGenerate5000 generates a world of 5,000 villages.
func BenchmarkGenerate5000(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(Options{Villages: 5000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWorld5000 generates and writes a world of 5,000 villages (the
// inventory and every recording), and reports its files and bytes.
func BenchmarkWorld5000(b *testing.B) {
	dir := b.TempDir()
	var w *World
	for b.Loop() {
		var err error
		if w, err = Generate(Options{Villages: 5000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		if err := w.Write(dir); err != nil {
			b.Fatal(err)
		}
	}
	var size int64
	files := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
				files++
			}
		}
		return nil
	})
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(size)/1e6, "MB")
	b.ReportMetric(float64(len(w.Devices)), "devices")
}
