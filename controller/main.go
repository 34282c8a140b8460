// Command ngic-controller polls broadband and TV equipment over SNMP, ingests
// the edge gateways' events, and serves convergence and coverage.
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
		Use:           "ngic-controller",
		Short:         "Poll access-network and TV equipment over SNMP; serve convergence and coverage",
		Version:       buildinfo.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ngic-controller:", err)
		os.Exit(1)
	}
}
