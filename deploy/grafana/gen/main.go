// Command gen writes the generated Grafana files of package grafana into
// the folder given by -dir (by default the working folder, which `go
// generate` sets to deploy/grafana).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ngic/ngic/deploy/grafana"
)

func main() {
	dir := flag.String("dir", ".", "folder to write into")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func write(dir string) error {
	files, err := grafana.Files()
	if err != nil {
		return err
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
