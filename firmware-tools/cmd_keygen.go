package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/internal/bundle"
)

func init() { commands = append(commands, newKeygenCmd) }

func newKeygenCmd() *cobra.Command {
	var out, name string
	c := &cobra.Command{
		Use:   "keygen --out DIR [--name NAME]",
		Short: "Make an ed25519 key pair for signing update bundles",
		Long: "Writes DIR/NAME.key (the private key, mode 0600) and DIR/NAME.pub (the public key that gateways " +
			"trust), each one line: \"" + bundle.PrivateKeyPrefix + "<base64>\" and \"" + bundle.PublicKeyPrefix +
			"<base64>\". Never overwrites a file. Prints the public key's fingerprint.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, priv, err := bundle.GenerateKey()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			keyFile, pubFile := filepath.Join(out, name+".key"), filepath.Join(out, name+".pub")
			if err := writeNew(keyFile, bundle.FormatPrivateKey(priv), 0o600); err != nil {
				return err
			}
			if err := writeNew(pubFile, bundle.FormatPublicKey(pub), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key %s\npublic key  %s (id %s)\n", keyFile, pubFile, bundle.KeyID(pub))
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "directory for the key files (required)")
	c.Flags().StringVar(&name, "name", "ngic-update", "base name of the key files")
	c.MarkFlagRequired("out")
	return c
}

// writeNew writes data to a file that must not exist yet.
func writeNew(path, data string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
