package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/gateway"
	"github.com/ngic/ngic/edge/update"
	"github.com/ngic/ngic/internal/buildinfo"
	"github.com/ngic/ngic/internal/bundle"
)

// errRestart ends a run so that the supervisor starts the new slot.
var errRestart = errors.New("restarting into the updated version")

// updateAgent returns what runs the update agent beside the gateway, or
// nil when update.keys is not set (the gateway takes no update).
func updateAgent(cfg *config.Config, log *slog.Logger) (func(context.Context, *gateway.Gateway) error, error) {
	if cfg.Update.Keys == "" {
		return nil, nil
	}
	keys, err := bundle.ReadPublicKeys(cfg.Update.Keys)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, g *gateway.Gateway) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		restart := false
		a := update.NewAgent(update.AgentOpts{
			Layout: update.Layout{Root: cfg.Update.Root}, Keys: keys, Version: buildinfo.String(),
			Report:  g.SetUpdate,
			Restart: func() { restart = true; cancel() },
			TrialID: os.Getenv(update.TrialEnv), Ready: g.Ready,
			PollURL: cfg.Update.PollURL, PollEvery: cfg.Update.PollEvery,
			OnError: func(err error) { log.Warn("update", "err", err) },
		})
		a.Run(ctx)
		if restart {
			log.Info("update installed: restarting into the new version")
			return errRestart
		}
		return nil
	}, nil
}
