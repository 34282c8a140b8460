package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/rollout"
)

func init() { commands = append(commands, newRolloutCmd) }

// DefaultTokenEnv is the environment variable the rollout commands read
// the API token from when no --token-file is given.
const DefaultTokenEnv = "NGIC_API_TOKEN"

// rolloutClient is the API as the rollout commands reach it.
type rolloutClient struct {
	api, tokenFile, tokenEnv, caFile string
	json                             bool
	timeout                          time.Duration
}

// newRolloutCmd builds `ngic-controller rollout` and its subcommands.
func newRolloutCmd() *cobra.Command {
	rc := &rolloutClient{}
	c := &cobra.Command{
		Use:   "rollout",
		Short: "Roll a signed update bundle out to gateways in waves, through a running controller's API",
		Long: `Start, follow, pause, resume and abort rollouts of signed update bundles (ngic-fwtool sign) on a
running controller, through its API with an admin token of every region. The token comes from
--token-file, else from the environment variable --token-env (default ` + DefaultTokenEnv + `);
it is never given on the command line.

A rollout sends the bundle to a canary share of the targets first (--canary-percent, at least one
gateway), then to waves each --growth times larger, each only once the one before is complete with
no more failures than --max-failures (or --max-failure-percent of the wave); a gateway that reports
no final step within --timeout counts as failed. A wave with too many failures halts the rollout,
and the commands no gateway acted on yet are withdrawn.`,
		Args: cobra.NoArgs,
	}
	pf := c.PersistentFlags()
	pf.StringVar(&rc.api, "api", "http://"+config.DefaultHTTPListen, "the controller's URL")
	pf.StringVar(&rc.tokenFile, "token-file", "", "file holding an admin API token")
	pf.StringVar(&rc.tokenEnv, "token-env", DefaultTokenEnv, "environment variable holding the token, without --token-file")
	pf.StringVar(&rc.caFile, "ca-file", "", "PEM file of the CA of the controller's certificate (default: the system's)")
	pf.BoolVar(&rc.json, "json", false, "print the API's JSON answer")
	pf.DurationVar(&rc.timeout, "http-timeout", 30*time.Second, "bound on each request")
	c.AddCommand(newRolloutStartCmd(rc), newRolloutListCmd(rc), newRolloutStatusCmd(rc),
		newRolloutActionCmd(rc, "pause", "Pause a rollout: no further wave starts"),
		newRolloutActionCmd(rc, "resume", "Resume a paused rollout"),
		newRolloutActionCmd(rc, "abort", "Abort a rollout, withdrawing the commands no gateway acted on yet"))
	return c
}

func newRolloutStartCmd(rc *rolloutClient) *cobra.Command {
	var spec rollout.Spec
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "start --bundle FILE (--region CODE | --site ID | --gateways A,B,...) [flags]",
		Short: "Start a rollout of a bundle of the controller's bundles folder",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec.Timeout = rollout.Duration(timeout)
			var r rollout.Rollout
			if err := rc.do(cmd, http.MethodPost, "/api/v1/rollouts", spec, &r); err != nil || rc.json {
				return err
			}
			printRollout(cmd.OutOrStdout(), &r)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&spec.Bundle, "bundle", "", "the bundle's file name in the controller's rollout.bundles folder")
	f.StringVar(&spec.Region, "region", "", "the gateways of this region's subtree")
	f.StringVar(&spec.Site, "site", "", "the gateways of this site")
	f.StringSliceVar(&spec.Gateways, "gateways", nil, "the gateways named")
	f.Float64Var(&spec.CanaryPercent, "canary-percent", 0, "the first wave's share of the targets (default 5)")
	f.Float64Var(&spec.Growth, "growth", 0, "how much larger each wave is than the one before (default 2)")
	f.IntVar(&spec.MaxFailures, "max-failures", 0, "failures a wave may have and still be followed by the next")
	f.Float64Var(&spec.MaxFailurePercent, "max-failure-percent", 0, "the same as a share of the wave")
	f.DurationVar(&timeout, "timeout", 0, "time a gateway has to report a final step (default the controller's rollout.timeout)")
	c.MarkFlagRequired("bundle")
	return c
}

func newRolloutListCmd(rc *rolloutClient) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the rollouts, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var l struct {
				Items []rollout.Summary `json:"items"`
			}
			if err := rc.do(cmd, http.MethodGet, "/api/v1/rollouts", nil, &l); err != nil || rc.json {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSTATE\tVERSION\tWAVE\tUPDATED\tFAILED\tGATEWAYS\tCREATED")
			for _, s := range l.Items {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%s\n", s.ID, s.State, s.Version, s.Wave+1, s.Waves,
					s.Updated, s.Failed, s.Gateways, s.Created.Format(time.RFC3339))
			}
			return w.Flush()
		},
	}
}

func newRolloutStatusCmd(rc *rolloutClient) *cobra.Command {
	return &cobra.Command{
		Use:   "status ID",
		Short: "Show a rollout: its waves, and the gateways not updated",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r rollout.Rollout
			if err := rc.do(cmd, http.MethodGet, "/api/v1/rollouts/"+url.PathEscape(args[0]), nil, &r); err != nil || rc.json {
				return err
			}
			printRollout(cmd.OutOrStdout(), &r)
			return nil
		},
	}
}

func newRolloutActionCmd(rc *rolloutClient, action, short string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r rollout.Rollout
			if err := rc.do(cmd, http.MethodPost, "/api/v1/rollouts/"+url.PathEscape(args[0])+"/"+action, nil, &r); err != nil || rc.json {
				return err
			}
			printRollout(cmd.OutOrStdout(), &r)
			return nil
		},
	}
}

// do sends a request with the token and decodes the answer into out
// (printed as it came with --json); an error answer is an error naming
// the status and the API's message, never the token.
func (rc *rolloutClient) do(cmd *cobra.Command, method, path string, body, out any) error {
	token, err := config.ReadSecret(rc.tokenFile, rc.tokenEnv)
	if err != nil {
		return fmt.Errorf("API token: %w (give --token-file, or set %s)", err, rc.tokenEnv)
	}
	u, err := url.Parse(strings.TrimRight(rc.api, "/") + path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return fmt.Errorf("--api %q is not an http(s) URL without credentials", rc.api)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), rc.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client, err := rc.client()
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	if rc.json {
		_, err := cmd.OutOrStdout().Write(b)
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

// client returns the HTTP client, trusting --ca-file when given.
func (rc *rolloutClient) client() (*http.Client, error) {
	if rc.caFile == "" {
		return http.DefaultClient, nil
	}
	pem, err := os.ReadFile(rc.caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", rc.caFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// printRollout writes a rollout for people: its state, each wave, the
// gateways that failed or were withdrawn, and those skipped.
func printRollout(out io.Writer, r *rollout.Rollout) {
	fmt.Fprintf(out, "rollout %s: %s", r.ID, r.State)
	if r.Reason != "" {
		fmt.Fprintf(out, " (%s)", r.Reason)
	}
	fmt.Fprintf(out, "\nbundle %s: %s %s for %s/%s, sha256 %s\n", r.Bundle.File, r.Bundle.Name, r.Bundle.Version,
		r.Bundle.OS, r.Bundle.Arch, r.Bundle.SHA256)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "WAVE\tSIZE\tUPDATED\tFAILED\tPENDING\tALLOWED\tSTARTED")
	for i, wv := range r.Waves {
		started := "-"
		if !wv.Started.IsZero() {
			started = wv.Started.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%d\t%d\t%s\n", i+1, wv.Size, wv.Updated, wv.Failed, wv.Pending, wv.Allowed, started)
	}
	w.Flush()
	for _, g := range r.Gateways {
		switch g.State {
		case rollout.GatewayFailed, rollout.GatewayWithdrawn:
			fmt.Fprintf(out, "%s %s (wave %d)", g.State, g.Name, g.Wave+1)
			if g.Reason != "" {
				fmt.Fprintf(out, ": %s", g.Reason)
			}
			fmt.Fprintln(out)
		}
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(out, "skipped %s: %s\n", s.Name, s.Reason)
	}
}
