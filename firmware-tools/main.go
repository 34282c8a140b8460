// Command ngic-fwtool is the field engineer's tool: commissioning a gateway,
// emulating readers on the bench, and signed update bundles.
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
	cli.Main("ngic-fwtool", "Field tools for ngic gateways: commissioning, reader emulation, signed updates", commands)
}
