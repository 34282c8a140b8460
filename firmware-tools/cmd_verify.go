package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/internal/bundle"
)

func init() { commands = append(commands, newVerifyCmd) }

func newVerifyCmd() *cobra.Command {
	var pub string
	var asJSON bool
	c := &cobra.Command{
		Use:   "verify --pub F BUNDLE",
		Short: "Check a bundle's signature and every file's SHA-256; print its manifest",
		Long: "Reads the whole bundle, checks the manifest's signature against the public keys in F (one per line) " +
			"and every file against the manifest, then prints the manifest. Exits non-zero with the reason otherwise.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := bundle.ReadPublicKeys(pub)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			r, err := bundle.Open(f, keys)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if err := checkFiles(r); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return printManifest(cmd, r, asJSON)
		},
	}
	c.Flags().StringVar(&pub, "pub", "", "file of trusted public keys (required)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the manifest as JSON")
	c.MarkFlagRequired("pub")
	return c
}

// checkFiles reads every file of r to its end, which checks its hash.
func checkFiles(r *bundle.Reader) error {
	for {
		_, _, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// printManifest prints a verified manifest.
func printManifest(cmd *cobra.Command, r *bundle.Reader, asJSON bool) error {
	m := r.Manifest()
	w := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	fmt.Fprintf(w, "verified: signed by key %s\nname:        %s\nversion:     %s\nplatform:    %s\n",
		r.KeyID(), m.Name, m.Version, platform(m))
	if m.MinVersion != "" {
		fmt.Fprintf(w, "min version: %s\n", m.MinVersion)
	}
	fmt.Fprintf(w, "files:       %d, %d bytes\n", len(m.Files), m.TotalSize())
	for _, f := range m.Files {
		fmt.Fprintf(w, "  %s %10d %s %s\n", f.Mode, f.Size, f.SHA256, f.Path)
	}
	return nil
}
