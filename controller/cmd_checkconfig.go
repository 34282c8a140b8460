package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/controller/config"
)

func init() { commands = append(commands, newCheckConfigCmd) }

func newCheckConfigCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check-config FILE",
		Short: "Check a configuration file and its inventory; exit 0, or print the field and line that is wrong",
		Long: "Decodes and validates the file strictly (an unknown key is an error naming its line), reads every secret it " +
			"names (SNMP communities and passphrases from their files or environment variables, the MQTT and InfluxDB " +
			"password or token files; none is ever printed), loads the MQTT TLS files, and reads the inventory " +
			"(devices.csv, gateways.csv), whose errors name the file, line and column. Exit 0 and \"ok\" on stdout " +
			"mean the configuration is whole.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				return err
			}
			inv := cfg.LoadedInventory()
			fmt.Fprintf(cmd.OutOrStdout(), "ok\n")
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d devices, %d gateways, %d credentials\n",
				args[0], len(inv.Devices), len(inv.Gateways), len(cfg.Credentials))
			return nil
		},
	}
}
