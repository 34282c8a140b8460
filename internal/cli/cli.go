// Package cli is the shared shape of ngic's three programs: a cobra root
// command with the version, one subcommand per file, errors printed once
// with the program's name and a non-zero exit.
package cli

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/ngic/ngic/internal/buildinfo"
)

// Main runs the program name with its subcommands and exits.
func Main(name, short string, commands []func() *cobra.Command) {
	root := &cobra.Command{
		Use:           name,
		Short:         short,
		Version:       buildinfo.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Logger returns the JSON logger on stderr that ngic's programs use, at
// level ("debug", "info", "warn", "error"; anything else means info).
func Logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
