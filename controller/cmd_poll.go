package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/yamlconf"
)

func init() { commands = append(commands, newPollCmd) }

// pollFlags are the flags of `ngic-controller poll`.
type pollFlags struct {
	target, community, version, user string
	authProto, authPassFile          string
	privProto, privPassFile          string
	profiles                         string
	timeout, rateInterval            time.Duration
	jsonOut                          bool
}

func newPollCmd() *cobra.Command {
	f := &pollFlags{}
	c := &cobra.Command{
		Use:   "poll --target HOST:PORT [--community C | --version 3 --user U ...] --json",
		Short: "Poll one device once over SNMP and print its normalised document",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runPoll(cmd, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.target, "target", "", "device address host:port (port defaults to 161)")
	fl.StringVar(&f.community, "community", "public", "SNMP v1/v2c community")
	fl.StringVar(&f.version, "version", "2c", "SNMP version: 1, 2c or 3")
	fl.StringVar(&f.user, "user", "", "SNMPv3 user")
	fl.StringVar(&f.authProto, "auth-proto", "", "SNMPv3 authentication protocol (MD5, SHA, SHA-256, ...)")
	fl.StringVar(&f.authPassFile, "auth-pass-file", "", "file holding the SNMPv3 authentication passphrase (or env NGIC_SNMP_AUTH_PASS)")
	fl.StringVar(&f.privProto, "priv-proto", "", "SNMPv3 privacy protocol (DES, AES, ...)")
	fl.StringVar(&f.privPassFile, "priv-pass-file", "", "file holding the SNMPv3 privacy passphrase (or env NGIC_SNMP_PRIV_PASS)")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Second, "timeout of one SNMP request")
	fl.StringVar(&f.profiles, "profiles", "", "folder of extra device profiles (*.yaml) added to the built-in ones")
	fl.DurationVar(&f.rateInterval, "rate-interval", 0, "poll twice this far apart and include interface rates")
	fl.BoolVar(&f.jsonOut, "json", false, "print the document as indented JSON (the only output format)")
	return c
}

func runPoll(cmd *cobra.Command, f *pollFlags) error {
	if f.target == "" {
		return errors.New("poll: --target is required")
	}
	if !f.jsonOut {
		return errors.New("poll: give --json (the only output format)")
	}
	cfg := snmp.Config{Target: f.target, Version: f.version, Community: f.community, Timeout: f.timeout}
	if f.version == "3" {
		auth, err := yamlconf.Secret(f.authPassFile, "NGIC_SNMP_AUTH_PASS")
		if err != nil {
			return err
		}
		priv, err := yamlconf.Secret(f.privPassFile, "NGIC_SNMP_PRIV_PASS")
		if err != nil {
			return err
		}
		cfg.Community = ""
		cfg.V3 = snmp.V3{User: f.user, AuthProto: f.authProto, AuthPass: auth, PrivProto: f.privProto, PrivPass: priv}
	}
	set, err := device.LoadProfilesDir(f.profiles)
	if err != nil {
		return err
	}
	s, err := snmp.Dial(cfg)
	if err != nil {
		return fmt.Errorf("poll %s: %w", f.target, err)
	}
	defer s.Close()
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rates := device.NewRates()
	d, err := pollOnce(ctx, s, set, f)
	if err != nil {
		return err
	}
	if f.rateInterval > 0 {
		rates.Apply(f.target, d)
		select {
		case <-time.After(f.rateInterval):
		case <-ctx.Done():
			return ctx.Err()
		}
		if d, err = pollOnce(ctx, s, set, f); err != nil {
			return err
		}
		rates.Apply(f.target, d)
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// pollOnce collects one document, printing warnings to stderr and turning
// transport failures into messages an operator can act on.
func pollOnce(ctx context.Context, s *snmp.Session, set *device.ProfileSet, f *pollFlags) (*device.Document, error) {
	d, warns, err := device.Collect(ctx, s, set)
	for _, w := range warns {
		fmt.Fprintln(cmd0(), "ngic-controller: warning:", w)
	}
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, snmp.ErrPriv):
		return nil, fmt.Errorf("poll %s: %w (check the privacy protocol and passphrase)", f.target, err)
	case errors.Is(err, snmp.ErrAuth):
		return nil, fmt.Errorf("poll %s: %w (check the user, authentication protocol and passphrase)", f.target, err)
	case errors.Is(err, snmp.ErrRefused):
		return nil, fmt.Errorf("poll %s: port refused (ICMP port unreachable): no SNMP agent listening there", f.target)
	case errors.Is(err, snmp.ErrTimeout):
		// The chain below says nothing more than this; keep the message short.
		c := s.Config()
		tries := c.Retries + 1
		if f.version == "3" {
			return nil, fmt.Errorf("poll %s: no answer within %v (%d tries): agent down or unreachable", f.target, c.Timeout, tries)
		}
		return nil, fmt.Errorf("poll %s: no answer within %v (%d tries): wrong community or agent down", f.target, c.Timeout, tries)
	}
	return nil, fmt.Errorf("poll %s: %w", f.target, err)
}

// cmd0 is where warnings go.
func cmd0() *os.File { return os.Stderr }
