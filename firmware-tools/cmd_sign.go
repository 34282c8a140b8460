package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/internal/bundle"
)

func init() { commands = append(commands, newSignCmd) }

func newSignCmd() *cobra.Command {
	var (
		key, out string
		m        bundle.Manifest
	)
	c := &cobra.Command{
		Use:   "sign --key F --name N --version V --os OS --arch ARCH [--arm 7] [--min-version V] --out BUNDLE FILE[=PATH]...",
		Short: "Make a signed update bundle of files",
		Long: "Writes BUNDLE: a manifest (name, version, target, minimum version it may replace, each file's path, " +
			"mode, size and SHA-256) signed with the private key, then the files. A FILE is stored under its base " +
			"name, or under PATH when written FILE=PATH (e.g. bin/ngic-edge=bin/ngic-edge), with its mode on disk.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			priv, err := bundle.ReadPrivateKey(key)
			if err != nil {
				return err
			}
			var files []bundle.Source
			for _, a := range args {
				src, dst, ok := strings.Cut(a, "=")
				if !ok {
					dst = filepath.Base(src)
				}
				s, err := bundle.FileSource(src, dst)
				if err != nil {
					return err
				}
				files = append(files, s)
			}
			tmp := out + ".tmp"
			f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			signed, err := bundle.Create(f, m, files, priv)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp, out)
			}
			if err != nil {
				os.Remove(tmp)
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %s for %s, %d files, %d bytes, key %s\n", out, signed.Name,
				signed.Version, platform(signed), len(signed.Files), signed.TotalSize(), bundle.KeyID(priv.Public().(ed25519.PublicKey)))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&key, "key", "", "private key file made by keygen (required)")
	f.StringVar(&out, "out", "", "bundle file to write (required)")
	f.StringVar(&m.Name, "name", "", "product name, e.g. ngic-edge (required)")
	f.StringVar(&m.Version, "version", "", "semantic version, e.g. 1.4.0 (required)")
	f.StringVar(&m.OS, "os", "linux", "target GOOS")
	f.StringVar(&m.Arch, "arch", "", "target GOARCH: arm64, arm, amd64 (required)")
	f.StringVar(&m.ARM, "arm", "", "target GOARM (5, 6 or 7) when --arch arm")
	f.StringVar(&m.MinVersion, "min-version", "", "oldest running version this bundle may replace")
	for _, r := range []string{"key", "out", "name", "version", "arch"} {
		c.MarkFlagRequired(r)
	}
	return c
}

// platform returns "os/arch" or "linux/arm v7".
func platform(m *bundle.Manifest) string {
	if m.ARM != "" {
		return m.OS + "/" + m.Arch + " v" + m.ARM
	}
	return m.OS + "/" + m.Arch
}
