package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/cluster"
	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/internal/bundle"
)

// maxDamagedRollouts bounds the damaged rollout files moved aside at a
// start.
const maxDamagedRollouts = 100

// openRollouts prepares the rollouts of update bundles when the rollout
// section is set: the bundles folder and its trusted keys, the rollouts
// kept in the state folder (they go on where they were), the ingest's
// statuses followed for their update reports, and the API's routes. It
// runs after the broker and the API are prepared.
//
// In a cluster, only the replica holding the coverage lease runs
// rollouts; the others refuse the API's requests (409) and publish
// nothing. A rollout's state stays in the state folder of the replica
// that made it, and goes on when that replica holds the lease again.
func (d *Daemon) openRollouts(cfg *config.Config) error {
	rc := cfg.Rollout
	if rc == nil {
		return nil
	}
	keys, err := bundle.ReadPublicKeys(rc.Keys)
	if err != nil {
		return fmt.Errorf("rollout.keys: %w", err)
	}
	b, err := rollout.NewBundles(rc.Bundles, keys)
	if err != nil {
		return fmt.Errorf("rollout.bundles: %w", err)
	}
	o := rollout.Options{Dir: cfg.StatePath(config.RolloutsDir), Bundles: b, BaseURL: rc.BaseURL,
		Publisher: d, Targets: d.rolloutTargets, Versions: d.gatewayVersions, Leader: d.rolloutLeader,
		Timeout: rc.Timeout, Errors: func(err error) { d.log.Warn("rollouts", "err", err) }}
	m, err := rollout.Open(o)
	for range maxDamagedRollouts {
		var fe *rollout.FileError
		if !errors.As(err, &fe) || !errors.Is(err, rollout.ErrDamaged) {
			break
		}
		if err := d.moveAside(fe.Path, err, "that rollout is no longer followed; the commands it published stay "+
			"retained on the broker (gateways act once on each)"); err != nil {
			return err
		}
		m, err = rollout.Open(o)
	}
	if err != nil {
		return err
	}
	d.rollouts = m
	d.ingest.OnStatus(m.Observe)
	d.web.srv.SetRollouts(rolloutSource{m})
	d.reg.MustRegister(m.Collector())
	return nil
}

// runRollouts moves the rollouts on until ctx ends.
func (d *Daemon) runRollouts(ctx context.Context) error {
	if d.rollouts == nil {
		return nil
	}
	return d.rollouts.Run(ctx)
}

// rolloutLeader returns nil when this replica runs rollouts: any replica
// without a cluster, the coverage lease holder in one.
func (d *Daemon) rolloutLeader() error {
	if d.holdsCoverageLease() {
		return nil
	}
	holder := cluster.LeaseHolder(d.cluster.node.Live())
	return fmt.Errorf("%w: in a cluster, rollouts run on the replica holding the coverage lease (replica %d), "+
		"and this is replica %d: ask that one", rollout.ErrNotLeader, holder, d.cluster.shard.Ordinal)
}

// rolloutTargets returns the gateways of the inventory at site, or in
// region's subtree, or all of them.
func (d *Daemon) rolloutTargets(region, site string) ([]string, error) {
	inv := d.config().LoadedInventory()
	var sites map[string]bool
	switch {
	case site != "":
		if _, ok := inv.Site(site); !ok {
			return nil, fmt.Errorf("%w: no site %q in the inventory", rollout.ErrInvalid, site)
		}
		sites = map[string]bool{site: true}
	case region != "":
		ix, ok := inv.Region(region)
		if !ok {
			return nil, fmt.Errorf("%w: no region %q in the inventory", rollout.ErrInvalid, region)
		}
		in := map[int32]bool{}
		for todo := []int32{ix}; len(todo) > 0; {
			i := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			in[i] = true
			todo = append(todo, inv.Regions[i].Children...)
		}
		sites = map[string]bool{}
		for _, s := range inv.Sites {
			if in[s.RegionIx] {
				sites[s.ID] = true
			}
		}
	}
	var out []string
	for _, g := range inv.Gateways {
		if sites == nil || sites[g.Site] {
			out = append(out, g.Name)
		}
	}
	return out, nil
}

// gatewayVersions returns the version each gateway's latest birth told.
func (d *Daemon) gatewayVersions() map[string]string {
	out := map[string]string{}
	for _, g := range d.ingest.Gateways() {
		if g.Version != "" {
			out[g.Name] = g.Version
		}
	}
	return out
}

// rolloutSource is the manager as the API's Rollouts.
type rolloutSource struct{ m *rollout.Manager }

var _ api.Rollouts = rolloutSource{}

// StartRollout implements api.Rollouts.
func (s rolloutSource) StartRollout(spec rollout.Spec, by string) (*rollout.Rollout, error) {
	return s.m.Create(spec, by)
}

// Rollouts implements api.Rollouts.
func (s rolloutSource) Rollouts() ([]rollout.Summary, error) { return s.m.List() }

// Rollout implements api.Rollouts.
func (s rolloutSource) Rollout(id string) (*rollout.Rollout, error) { return s.m.Get(id) }

// PauseRollout implements api.Rollouts.
func (s rolloutSource) PauseRollout(id, by string) (*rollout.Rollout, error) {
	return s.m.Pause(id, by)
}

// ResumeRollout implements api.Rollouts.
func (s rolloutSource) ResumeRollout(id, by string) (*rollout.Rollout, error) {
	return s.m.Resume(id, by)
}

// AbortRollout implements api.Rollouts.
func (s rolloutSource) AbortRollout(id, by string) (*rollout.Rollout, error) {
	return s.m.Abort(id, by)
}

// Bundle implements api.Rollouts.
func (s rolloutSource) Bundle(sum string) (*os.File, error) { return s.m.Bundle(sum) }
