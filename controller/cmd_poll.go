package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/cli"
)

func init() { commands = append(commands, newPollCmd) }

// Bounds of the poll flags.
const (
	// minTimeout is the shortest --timeout: below it no agent can answer,
	// even on the loopback, and the failure would read as a dead agent.
	minTimeout = 10 * time.Millisecond
	// minRateInterval is the shortest non-zero --rate-interval: rates are
	// timed by the agent's sysUpTime, in hundredths of a second.
	minRateInterval = time.Second
	// communityEnv holds the community when neither --community nor
	// --community-file is given.
	communityEnv = "NGIC_SNMP_COMMUNITY"
	// maxSecretFile bounds what is read of a community or passphrase file:
	// a secret is one short line, and a path to /dev/zero or a log file
	// must not read without end.
	maxSecretFile = 4096
)

// pollFlags are the flags of `ngic-controller poll`.
type pollFlags struct {
	target, community, communityFile, version, user string
	authProto, authPassFile                         string
	privProto, privPassFile                         string
	profiles                                        string
	timeout, deadline, rateInterval                 time.Duration
	retries, maxRepetitions, maxRows                int
	maxBytes                                        int64
	jsonOut                                         bool
}

func newPollCmd() *cobra.Command {
	f := &pollFlags{}
	c := &cobra.Command{
		Use:   "poll --target HOST:PORT [--community-file F | --version 3 --user U ...] --json",
		Short: "Poll one device once over SNMP and print its normalised document",
		Long: `Poll one device once over SNMP and print its normalised document.

The whole poll ends within --deadline: what was fetched by then is printed with
"truncated": true, and the warnings on stderr name the tables cut short. A table
longer than --max-rows is cut the same way.

The v1/v2c community comes from --community-file, else --community, else the
environment variable NGIC_SNMP_COMMUNITY, else "public". A --community given on
the command line is visible to every user of the machine (ps, /proc): prefer
the file or the environment for a real community.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPoll(cmd, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.target, "target", "", "device address host:port (port defaults to 161)")
	fl.StringVar(&f.community, "community", "public", "SNMP v1/v2c community (visible in ps: prefer --community-file or env "+communityEnv+")")
	fl.StringVar(&f.communityFile, "community-file", "", "file holding the SNMP v1/v2c community")
	fl.StringVar(&f.version, "version", "2c", "SNMP version: 1, 2c or 3")
	fl.StringVar(&f.user, "user", "", "SNMPv3 user")
	fl.StringVar(&f.authProto, "auth-proto", "", "SNMPv3 authentication protocol (MD5, SHA, SHA-256, ...)")
	fl.StringVar(&f.authPassFile, "auth-pass-file", "", "file holding the SNMPv3 authentication passphrase (or env NGIC_SNMP_AUTH_PASS)")
	fl.StringVar(&f.privProto, "priv-proto", "", "SNMPv3 privacy protocol (DES, AES, ...)")
	fl.StringVar(&f.privPassFile, "priv-pass-file", "", "file holding the SNMPv3 privacy passphrase (or env NGIC_SNMP_PRIV_PASS)")
	fl.DurationVar(&f.timeout, "timeout", snmp.DefaultTimeout, "timeout of one SNMP request (at least 10ms)")
	fl.IntVar(&f.retries, "retries", snmp.DefaultRetries, fmt.Sprintf("times a request is resent after a timeout (0..%d)", snmp.MaxRetries))
	fl.DurationVar(&f.deadline, "deadline", 2*time.Minute, "bound on one whole poll, requests and retries included: what was fetched by then is printed, marked truncated")
	fl.IntVar(&f.maxRepetitions, "max-repetitions", snmp.DefaultMaxRepetitions, fmt.Sprintf("GETBULK max-repetitions (1..%d)", snmp.MaxMaxRepetitions))
	fl.IntVar(&f.maxRows, "max-rows", snmp.DefaultMaxRowsPerRoot, "most rows kept per walked column; a longer table is cut and marked truncated")
	fl.Int64Var(&f.maxBytes, "max-bytes", snmp.DefaultMaxBytesPerWalk, "most memory (estimated bytes) the objects of one walk may take; beyond it the unfinished tables are cut and marked truncated")
	fl.StringVar(&f.profiles, "profiles", "", "folder of extra device profiles (*.yaml) added to the built-in ones")
	fl.DurationVar(&f.rateInterval, "rate-interval", 0, "poll twice this far apart (at least 1s) and include interface rates")
	fl.BoolVar(&f.jsonOut, "json", false, "print the document as indented JSON (the only output format)")
	return c
}

// validate checks the flags that need no file or network, each error naming
// its flag.
func (f *pollFlags) validate(cmd *cobra.Command) error {
	changed := cmd.Flags().Changed
	switch {
	case f.target == "":
		return errors.New("poll: --target is required")
	case !f.jsonOut:
		return errors.New("poll: give --json (the only output format)")
	case f.version != "1" && f.version != "2c" && f.version != "3":
		return fmt.Errorf("poll: --version %q: want 1, 2c or 3", f.version)
	case f.timeout < minTimeout:
		return fmt.Errorf("poll: --timeout %v: want at least %v", f.timeout, minTimeout)
	case f.deadline < minTimeout:
		return fmt.Errorf("poll: --deadline %v: want at least %v", f.deadline, minTimeout)
	case f.retries < 0 || f.retries > snmp.MaxRetries:
		return fmt.Errorf("poll: --retries %d: want 0..%d", f.retries, snmp.MaxRetries)
	case f.maxRepetitions < 1 || f.maxRepetitions > snmp.MaxMaxRepetitions:
		return fmt.Errorf("poll: --max-repetitions %d: want 1..%d", f.maxRepetitions, snmp.MaxMaxRepetitions)
	case f.maxRows < 1:
		return fmt.Errorf("poll: --max-rows %d: want 1 or more", f.maxRows)
	case f.maxBytes < 1<<16:
		return fmt.Errorf("poll: --max-bytes %d: want at least %d", f.maxBytes, 1<<16)
	case f.rateInterval < 0 || (f.rateInterval > 0 && f.rateInterval < minRateInterval):
		return fmt.Errorf("poll: --rate-interval %v: want 0 (no rates) or at least %v", f.rateInterval, minRateInterval)
	case changed("community") && f.communityFile != "":
		return errors.New("poll: give --community or --community-file, not both")
	}
	if f.version == "3" {
		if f.user == "" {
			return errors.New("poll: --user is required with --version 3")
		}
		for _, name := range []string{"community", "community-file"} {
			if changed(name) {
				return fmt.Errorf("poll: --%s is for versions 1 and 2c, not --version 3", name)
			}
		}
		return nil
	}
	for _, name := range []string{"user", "auth-proto", "auth-pass-file", "priv-proto", "priv-pass-file"} {
		if changed(name) {
			return fmt.Errorf("poll: --%s is for --version 3, not %s", name, f.version)
		}
	}
	return nil
}

// readCommunity picks the v1/v2c community: --community-file, else an explicit
// --community, else $NGIC_SNMP_COMMUNITY, else the flag's default.
func (f *pollFlags) readCommunity(cmd *cobra.Command) (string, error) {
	switch {
	case f.communityFile != "":
		c, err := readSecretFile("community-file", f.communityFile)
		if err != nil {
			return "", err
		}
		if c == "" {
			return "", fmt.Errorf("poll: --community-file %s is empty", f.communityFile)
		}
		return c, nil
	case cmd.Flags().Changed("community"):
		return f.community, nil
	}
	if c := os.Getenv(communityEnv); c != "" {
		return oneLine(communityEnv, c)
	}
	return f.community, nil
}

// readSecret reads a passphrase from the file given to --flag, else from
// the environment variable env.
func readSecret(flag, path, env string) (string, error) {
	if path != "" {
		return readSecretFile(flag, path)
	}
	return oneLine(env, os.Getenv(env))
}

// readSecretFile reads a secret of one line (its line break dropped) from
// the file given to --flag, reading at most maxSecretFile bytes. Errors
// name the flag and the file, never the content.
func readSecretFile(flag, path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("poll: --%s: %w", flag, err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("poll: --%s: read %s: %w", flag, path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("poll: --%s %s: more than %d bytes, not a secret of one line", flag, path, maxSecretFile)
	}
	return oneLine("--"+flag+" "+path, string(b))
}

// oneLine drops the line break that ends a secret and refuses one of
// several lines, which would be sent whole and fail as a wrong secret.
func oneLine(what, s string) (string, error) {
	s = strings.TrimRight(s, "\r\n")
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("poll: %s holds more than one line (a secret is one line)", what)
	}
	return s, nil
}

func runPoll(cmd *cobra.Command, f *pollFlags) error {
	if err := f.validate(cmd); err != nil {
		return err
	}
	cfg := snmp.Config{Target: f.target, Version: f.version, Timeout: f.timeout, Retries: f.retries,
		MaxRepetitions: uint32(f.maxRepetitions), MaxRowsPerRoot: f.maxRows, MaxBytesPerWalk: f.maxBytes}
	if f.retries == 0 {
		cfg.Retries = -1 // Config reads 0 as the default
	}
	if f.version == "3" {
		auth, err := readSecret("auth-pass-file", f.authPassFile, "NGIC_SNMP_AUTH_PASS")
		if err != nil {
			return err
		}
		priv, err := readSecret("priv-pass-file", f.privPassFile, "NGIC_SNMP_PRIV_PASS")
		if err != nil {
			return err
		}
		cfg.V3 = snmp.V3{User: f.user, AuthProto: f.authProto, AuthPass: auth, PrivProto: f.privProto, PrivPass: priv}
	} else {
		c, err := f.readCommunity(cmd)
		if err != nil {
			return err
		}
		cfg.Community = c
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
	log := cli.Logger("info").With("cmd", "poll", "target", f.target)
	rates := device.NewRates()
	d, err := pollOnce(ctx, log, s, set, f)
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
		if d, err = pollOnce(ctx, log, s, set, f); err != nil {
			return err
		}
		rates.Apply(f.target, d)
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// pollOnce collects one document within --deadline, logging its warnings,
// and turns transport failures into messages an operator can act on.
func pollOnce(ctx context.Context, log *slog.Logger, s *snmp.Session, set *device.ProfileSet, f *pollFlags) (*device.Document, error) {
	ctx, cancel := context.WithTimeout(ctx, f.deadline)
	defer cancel()
	d, warns, err := device.Collect(ctx, s, set)
	for _, w := range warns {
		var ww *snmp.WalkWarning
		if errors.As(w, &ww) {
			log.Warn("walk ended early", "root", ww.Root, "oid", ww.OID, "reason", ww.Reason, "truncated", ww.Truncated)
			continue
		}
		log.Warn("incomplete answer", "detail", w.Error())
	}
	if err == nil && d.Truncated {
		log.Warn("document truncated: some tables were cut short (see the warnings above)",
			"deadline", f.deadline.String(), "max_rows", f.maxRows)
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
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("poll %s: no document within --deadline %v", f.target, f.deadline)
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
