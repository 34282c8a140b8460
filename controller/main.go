// Command ngic-controller polls broadband and TV equipment over SNMP, ingests
// the edge gateways' events, and serves convergence and coverage.
//
// This file is wiring only: each subcommand lives in its own cmd_*.go file
// and adds itself to commands in init.
package main

import (
	"github.com/spf13/cobra"

	"github.com/ngic/ngic/internal/cli"
)

// commands are the subcommands; each cmd_*.go file appends its own.
var commands []func() *cobra.Command

func main() {
	cli.Main("ngic-controller", "Poll access-network and TV equipment over SNMP; serve convergence and coverage", commands)
}
