// Command ngic-edge is the field gateway daemon: it reads RFID readers over
// serial and photo-eyes over GPIO, smooths reads into events, spools them on
// disk and publishes them to MQTT.
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
	cli.Main("ngic-edge", "Field gateway: RFID readers and photo-eyes to MQTT, losing nothing", commands)
}
