package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all" // every reader protocol
	"github.com/ngic/ngic/drivers/rfid/emulate"
)

func init() { commands = append(commands, newEmulateCmd) }

func newEmulateCmd() *cobra.Command {
	var (
		protocol string
		tags     []string
		link     string
		baud     int
	)
	c := &cobra.Command{
		Use:   "emulate-reader --protocol P --tag HEX [--tag HEX ...] [--link PATH]",
		Short: "Behave like a reader on a pseudo-terminal; print its path first",
		Long: "Opens a pseudo-terminal that behaves like a reader of the protocol with the given tags in its field " +
			"(answering polls, or streaming for em4100) and prints the terminal's path on the first line. " +
			"A host whose line speed is not --baud reads garbage, as from a real reader. " +
			"With --link, a symlink at PATH points at it. Runs until interrupted.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			proto, err := rfid.Lookup(protocol)
			if err != nil {
				return err
			}
			raw, err := parseTags(tags)
			if err != nil {
				return err
			}
			r, err := emulate.New(proto, raw)
			if err != nil {
				return err
			}
			if baud != 0 {
				if err := r.SetBaud(baud); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			p, err := r.ServePTY(ctx, link)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), p.Path)
			select {
			case <-ctx.Done():
				p.Close()
				return nil
			case err := <-p.Done():
				return err
			}
		},
	}
	f := c.Flags()
	f.StringVar(&protocol, "protocol", "", fmt.Sprintf("reader protocol: %v (required)", rfid.Names()))
	f.StringArrayVar(&tags, "tag", nil, "tag in the field, in hex (EM4100: 10 digits; UHF: the EPC); repeatable")
	f.StringVar(&link, "link", "", "also make a symlink at this path to the pseudo-terminal")
	f.IntVar(&baud, "baud", 0, "serial speed of the emulated reader (default: the protocol's); a host at another speed reads garbage")
	c.MarkFlagRequired("protocol")
	return c
}

// parseTags decodes hex tags, naming the one that is wrong.
func parseTags(tags []string) ([][]byte, error) {
	out := make([][]byte, 0, len(tags))
	for i, t := range tags {
		b, err := hex.DecodeString(strings.TrimSpace(t))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("--tag %d (%q): not an even number of hex digits", i+1, t)
		}
		out = append(out, b)
	}
	return out, nil
}
