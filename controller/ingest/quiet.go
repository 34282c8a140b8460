package ingest

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Run checks for quiet gateways until ctx ends, every quarter of
// OfflineAfter (at least every 10 ms, at most every 15 s): an online
// gateway from which nothing came for OfflineAfter becomes offline
// (CauseQuiet) and is online again with its next message. It returns nil
// when ctx ends; a failure to store a change is counted in Stats and
// retried at the next check.
func (in *Ingester) Run(ctx context.Context) error {
	every := min(max(in.o.OfflineAfter/4, 10*time.Millisecond), 15*time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := in.checkQuiet(); err != nil {
				in.mu.Lock()
				in.stats.StateErrors++
				in.stats.LastError = err.Error()
				in.mu.Unlock()
			}
		}
	}
}

// checkQuiet turns the online gateways quiet past OfflineAfter offline.
func (in *Ingester) checkQuiet() error {
	in.recMu.Lock()
	defer in.recMu.Unlock()
	if in.closed {
		return nil
	}
	in.mu.RLock()
	sites := in.sites
	in.mu.RUnlock()
	t := in.newTxn(sites, nil)
	for name, g := range in.st.gws {
		if g.State != StateOnline || t.now.Sub(later(g.LastSeen, in.opened)) < in.o.OfflineAfter {
			continue
		}
		t.setState(name, t.gw(name), StateOffline, CauseQuiet, t.now)
	}
	if len(t.gws) == 0 {
		return nil
	}
	if err := in.db.Update(func(tx *bolt.Tx) error { return t.store(tx) }); err != nil {
		return fmt.Errorf("ingest: state %s: %w", in.o.StatePath, err)
	}
	in.apply(t)
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
