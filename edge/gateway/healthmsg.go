package gateway

import (
	"context"
	"time"

	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/telemetry"
)

// healthMessage is the periodic health message, made from the numbers of
// /healthz (Health). Its loss counts are those of this process (the
// message's counts restart with the process, see telemetry.Health): the
// spool's counts over the file's life less those it had when New opened
// it. Events of a crashed run found in the journal at the start (crash)
// were lost by that run; /healthz, /metrics and the events.lost event
// tell of them.
func (g *Gateway) healthMessage() *telemetry.Health {
	h := g.Health()
	m := &telemetry.Health{V: telemetry.SchemaVersion, Gateway: g.cfg.Gateway, Time: g.now().UTC(),
		Version: h.Version, UptimeS: max(h.Uptime, 0), ReadersTotal: len(h.Readers),
		SpoolRecords: uint64(max(h.Spool.Records, 0)), SpoolBytes: uint64(max(h.Spool.Bytes, 0)),
		BrokerReconnects: h.MQTT.Reconnects}
	for _, r := range h.Readers {
		if r.Connected {
			m.ReadersConnected++
		}
	}
	for r := spool.Reason(0); r < spool.NumReasons; r++ {
		reason := lossReason(r)
		if n, ok := h.Spool.Lost[reason]; ok && n > g.lostAtStart[r] {
			if m.Lost == nil {
				m.Lost = map[string]uint64{}
			}
			m.Lost[reason] = n - g.lostAtStart[r]
		}
	}
	return m
}

// healthLoop publishes the health message every interval while the broker
// is connected, as a snapshot: never spooled, never in the way of events,
// dropped (and counted) while the broker is away. Not retained, as
// telemetry.HealthTopic says: a retained health would outlive the gateway,
// and a consumer that starts would take a dead gateway's last numbers for
// current ones; the retained status (birth and last will) is what tells at
// once whether a gateway is up, and its health follows within an interval.
func (g *Gateway) healthLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	topic := telemetry.HealthTopic(g.cfg.Gateway)
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b, err := telemetry.EncodeHealth(g.healthMessage())
		if err != nil {
			if !failing { // said once while it lasts
				g.log.Error("cannot encode the health message", "err", err)
			}
			failing = true
			continue
		}
		failing = false
		g.pub.PublishSnapshot(topic, b, false)
	}
}
