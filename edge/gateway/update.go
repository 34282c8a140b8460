package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// SetUpdate sets the update report carried in the gateway's status and
// republishes the retained status with it (edge/update's agent reports
// every step through it). Safe for concurrent use; it never blocks.
func (g *Gateway) SetUpdate(r *telemetry.UpdateReport) {
	if r != nil {
		c := *r
		r = &c
	}
	g.update.Store(r)
	select {
	case g.statusWake <- struct{}{}:
	default:
	}
}

// Ready returns nil when the gateway is healthy enough for a new version
// to be kept: the broker connected, every reader open and the spool
// storing events; otherwise an error saying what is not.
func (g *Gateway) Ready() error {
	if !g.pub.Stats().Connected {
		return errors.New("gateway: broker not connected")
	}
	for _, r := range g.readers {
		if !r.link.State().Connected {
			return errors.New("gateway: reader " + r.cfg.Name + " not connected")
		}
	}
	if e := g.spoolErr.Load().(string); e != "" {
		return errors.New("gateway: spool: " + e)
	}
	if e := g.spool.Stats().JournalError; e != "" {
		return errors.New("gateway: spool: " + e)
	}
	return nil
}

// statusLoop republishes the retained status each time SetUpdate changes
// it, retrying while the publisher drops it (no session, or a snapshot
// still in flight) until it goes out or a newer one replaces it.
func (g *Gateway) statusLoop(ctx context.Context) {
	topic := telemetry.StatusTopic(g.cfg.Gateway)
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.statusWake:
		case <-retry:
		}
		retry = nil
		if !g.pub.PublishSnapshot(topic, g.status(false), true) {
			retry = time.After(250 * time.Millisecond)
		}
	}
}
