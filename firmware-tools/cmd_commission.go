package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/firmware-tools/commission"
)

func init() { commands = append(commands, newCommissionCmd) }

func newCommissionCmd() *cobra.Command {
	var (
		o       commission.Opts
		jsonOut bool
		pins    []string
		watch   time.Duration
		pull    string
		site    commission.Site
		cfgPath string
		edgeCfg string
		bo      commission.BrokerOpts
	)
	c := &cobra.Command{
		Use:   "commission [--port DEV ...] [--protocol P ...] [--gpio NAME ... --watch 10s] [--json]",
		Short: "Check a gateway on site: which reader answers on which serial port",
		Long: "Lists the serial ports (/dev/serial/by-id names first, then ttyUSB*, ttyACM*, ttyS*) or takes them from " +
			"--port, and probes each with every known reader protocol at its usual speeds, asking only harmless " +
			"questions (version, region). A port another process holds is reported, not taken. Then watches each " +
			"--gpio line for --watch and reports the edges seen and the polarity they imply. With --broker, checks " +
			"the broker under the commissioning identity: name, port, certificates, credentials, ACL, clock (--ntp); " +
			"with the gateway's --password-file (and --cert, --key), also what the gateway may publish and read, over " +
			"MQTT 5 under a client ID of the check's own (skipped while the gateway is connected to a broker that ties " +
			"client IDs to users, where it would knock the gateway offline). " +
			"With --write-config, " +
			"writes an edge configuration of what answered, checked as ngic-edge check-config does. Prints a line per " +
			"check (or --json) and exits non-zero when a check fails, each failure saying what to do.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			p, err := commission.ParsePull(pull)
			if err != nil {
				return err
			}
			if edgeCfg != "" {
				if err := siteFromEdgeConfig(cmd.Flags().Changed, edgeCfg, &site); err != nil {
					return err
				}
			}
			checks, err := commission.ProbeSerial(ctx, o)
			if err != nil && len(checks) == 0 {
				return err
			}
			for _, name := range pins {
				checks = append(checks, commission.WatchGPIO(ctx, name, p, watch))
			}
			if site.Broker != "" && site.Broker != "embedded" {
				bo.Broker, bo.Gateway, bo.TLS.CAFile = site.Broker, site.Gateway, site.CAFile
				bo.GatewayAuth = commission.GatewayAuth{Username: site.Username, PasswordFile: site.PasswordFile,
					CertFile: site.CertFile, KeyFile: site.KeyFile}
				checks = append(checks, commission.CheckBroker(ctx, bo)...)
			}
			if cfgPath != "" {
				site.Pull = pull
				checks = append(checks, commission.ConfigCheck(cfgPath, site, checks))
			}
			r := commission.NewReport(checks)
			write := r.WriteText
			if jsonOut {
				write = r.WriteJSON
			}
			if err := write(cmd.OutOrStdout()); err != nil {
				return err
			}
			if r.Failed > 0 {
				return fmt.Errorf("commission: %d of %d checks failed", r.Failed, len(r.Checks))
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVar(&o.Ports, "port", nil, "serial device to probe (repeatable); default: every serial port found")
	f.StringArrayVar(&o.Protocols, "protocol", nil, "probe only this reader protocol (repeatable); default: all")
	f.DurationVar(&o.Wait, "wait", commission.DefaultOpts.Wait, "how long to wait for an answer at each speed")
	f.DurationVar(&o.Listen, "listen", commission.DefaultOpts.Listen, "how long to listen for readers that only talk (em4100)")
	f.StringArrayVar(&pins, "gpio", nil, "GPIO line of a photo-eye to watch (repeatable): cross its beam during the watch")
	f.DurationVar(&watch, "watch", 10*time.Second, "how long to watch each --gpio line")
	f.StringVar(&pull, "pull", "none", "pull resistor on the --gpio lines: up (NPN), down (PNP), float or none (the board's)")
	f.StringVar(&edgeCfg, "edge-config", "", "take the gateway's name, broker, credentials and spool from this edge configuration (the flags given win)")
	f.StringVar(&cfgPath, "write-config", "", "write an edge configuration with what was found to this file, if ngic-edge check-config accepts it")
	f.StringVar(&site.Gateway, "gateway", "", "the gateway's name, for the broker checks and --write-config")
	f.StringVar(&site.Broker, "broker", "", "the broker URL (ssl://host:8883): checked under the commissioning identity, and written by --write-config (default: embedded)")
	f.StringVar(&site.Username, "username", "", "the gateway's broker user (default: its name), for the check of its rights and --write-config")
	f.StringVar(&site.PasswordFile, "password-file", "", "the file holding the gateway's broker password, for the check of its rights and --write-config")
	f.StringVar(&site.CAFile, "ca", "", "the broker's CA file, for the broker checks and --write-config")
	f.StringVar(&site.CertFile, "cert", "", "the gateway's client certificate file, for the check of its rights and --write-config")
	f.StringVar(&site.KeyFile, "key", "", "the gateway's client key file, for the check of its rights and --write-config")
	f.StringVar(&site.SpoolPath, "spool", "", "the spool file, for --write-config (default: the edge's)")
	f.StringVar(&bo.Username, "commission-user", "ngic-commissioning", "the commissioning identity's broker user (never the gateway's: that would knock the gateway offline)")
	f.StringVar(&bo.PasswordFile, "commission-password-file", "", "the file holding the commissioning identity's broker password")
	f.StringVar(&bo.TLS.CertFile, "commission-cert", "", "the commissioning identity's client certificate file")
	f.StringVar(&bo.TLS.KeyFile, "commission-key", "", "the commissioning identity's client key file")
	f.StringVar(&bo.NTP, "ntp", "", "an NTP server (host[:port]) to compare the clock with")
	f.DurationVar(&bo.MinValidity, "cert-min-validity", commission.DefaultBrokerOpts.MinValidity, "how long the certificates must stay valid")
	f.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	return c
}

// siteFromEdgeConfig sets each field of site whose flag was not given
// (changed tells) from the edge configuration at path.
func siteFromEdgeConfig(changed func(flag string) bool, path string, site *commission.Site) error {
	from, err := commission.ReadSite(path)
	if err != nil {
		return err
	}
	for flag, v := range map[string]struct {
		dst *string
		v   string
	}{
		"gateway": {&site.Gateway, from.Gateway}, "broker": {&site.Broker, from.Broker},
		"username": {&site.Username, from.Username}, "password-file": {&site.PasswordFile, from.PasswordFile},
		"ca": {&site.CAFile, from.CAFile}, "cert": {&site.CertFile, from.CertFile},
		"key": {&site.KeyFile, from.KeyFile}, "spool": {&site.SpoolPath, from.SpoolPath},
	} {
		if !changed(flag) {
			*v.dst = v.v
		}
	}
	return nil
}
