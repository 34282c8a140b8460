// Command ngic-edge is the field gateway daemon: it reads RFID readers over
// serial and photo-eyes over GPIO, smooths reads into events, spools them on
// disk and publishes them to MQTT.
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
		Use:           "ngic-edge",
		Short:         "Field gateway: RFID readers and photo-eyes to MQTT, losing nothing",
		Version:       buildinfo.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ngic-edge:", err)
		os.Exit(1)
	}
}
