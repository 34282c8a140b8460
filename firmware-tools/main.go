// Command ngic-fwtool is the field engineer's tool: commissioning a gateway,
// emulating readers on the bench, and signed update bundles.
//
// This file is wiring only: each subcommand lives in its own cmd_*.go file
// and adds itself to commands in init.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/internal/buildinfo"
)

// commands are the subcommands; each cmd_*.go file appends its own.
var commands []func() *cobra.Command

func main() {
	root := &cobra.Command{
		Use:           "ngic-fwtool",
		Short:         "Field tools for ngic gateways: commissioning, reader emulation, signed updates",
		Version:       buildinfo.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ngic-fwtool:", err)
		os.Exit(1)
	}
}
