package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/update"
	"github.com/ngic/ngic/internal/buildinfo"
)

func init() { commands = append(commands, newUpdateStatusCmd) }

func newUpdateStatusCmd() *cobra.Command {
	var root string
	var asJSON bool
	c := &cobra.Command{
		Use:   "update-status [--root DIR]",
		Short: "Show the update slots, the version on trial and what the last update did",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l := update.Layout{Root: root}
			st, err := l.ReadState()
			if err != nil {
				return err
			}
			if asJSON {
				e := json.NewEncoder(cmd.OutOrStdout())
				e.SetIndent("", "  ")
				return e.Encode(st)
			}
			printUpdateStatus(cmd.OutOrStdout(), l, st)
			return nil
		},
	}
	c.Flags().StringVar(&root, "root", config.DefaultUpdateRoot, "install root")
	c.Flags().BoolVar(&asJSON, "json", false, "print state.json as it is")
	return c
}

// printUpdateStatus writes a line per slot, the trial and the last update.
func printUpdateStatus(w io.Writer, l update.Layout, st *update.State) {
	if st.Active == "" {
		fmt.Fprintf(w, "active: the packaged program (%s here), no update kept yet\n", buildinfo.String())
	}
	for _, s := range []string{update.SlotA, update.SlotB} {
		what := "empty"
		if m, err := l.SlotManifest(s); err == nil {
			what = m.Name + " " + m.Version
		}
		mark := ""
		switch {
		case s == st.Active:
			mark = " (active)"
		case st.Trial != nil && s == st.Trial.Slot:
			mark = " (on trial)"
		}
		fmt.Fprintf(w, "slot %s: %s%s\n", s, what, mark)
	}
	if t := st.Trial; t != nil {
		fmt.Fprintf(w, "trial: %s -> %s, command %s, boot %d, since %s\n", t.From, t.To, t.ID, t.Boots, t.Started.Format("2006-01-02 15:04:05Z07:00"))
	}
	if r := st.Last; r != nil {
		fmt.Fprintf(w, "last update: %s %s (%s -> %s) at %s", r.ID, r.Step, r.From, r.To, r.Time.Format("2006-01-02 15:04:05Z07:00"))
		if r.Reason != "" {
			fmt.Fprintf(w, ": %s", r.Reason)
		}
		fmt.Fprintln(w)
	}
}
