package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/gateway"
	"github.com/ngic/ngic/edge/update"
	"github.com/ngic/ngic/internal/buildinfo"
	"github.com/ngic/ngic/internal/bundle"
	"github.com/ngic/ngic/telemetry"
)

// errRestart ends a run so that the supervisor starts the new slot.
var errRestart = errors.New("restarting into the updated version")

// errStarting is the agent's Ready answer before the gateway is built.
var errStarting = errors.New("gateway starting")

// updateAgent returns what runs the update agent beside the gateway, or
// nil when update.keys is not set (the gateway takes no update). It may set
// hooks in opts, before the gateway is built.
func updateAgent(cfg *config.Config, opts *gateway.Opts, log *slog.Logger) (func(context.Context, *gateway.Gateway) error, error) {
	if cfg.Update.Keys == "" {
		return nil, nil
	}
	keys, err := bundle.ReadPublicKeys(cfg.Update.Keys)
	if err != nil {
		return nil, err
	}
	client, err := update.NewHTTPClient(cfg.Update.CAFile)
	if err != nil {
		return nil, err
	}
	var gw atomic.Pointer[gateway.Gateway] // set once built
	var restart atomic.Bool
	var cancel atomic.Pointer[context.CancelFunc]
	a := update.NewAgent(update.AgentOpts{
		Layout: update.Layout{Root: cfg.Update.Root}, Keys: keys, Version: buildinfo.String(), Client: client,
		// Run, the only caller of Report, starts once the gateway is built.
		Report: func(r *telemetry.UpdateReport) { gw.Load().SetUpdate(r) },
		Restart: func() {
			restart.Store(true)
			(*cancel.Load())()
		},
		TrialID: os.Getenv(update.TrialEnv),
		Ready: func() error {
			if g := gw.Load(); g != nil {
				return g.Ready()
			}
			return errStarting
		},
		PollURL: cfg.Update.PollURL, PollEvery: cfg.Update.PollEvery,
		OnError: func(err error) { log.Warn("update", "err", err) },
	})
	opts.UpdateCommand = a.Handle
	return func(ctx context.Context, g *gateway.Gateway) error {
		gw.Store(g)
		ctx, stop := context.WithCancel(ctx)
		defer stop()
		cancel.Store(&stop)
		a.Run(ctx)
		if restart.Load() {
			log.Info("update installed: restarting into the new version")
			return errRestart
		}
		return nil
	}, nil
}
