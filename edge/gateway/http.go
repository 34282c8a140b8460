package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ngic/ngic/drivers/gpio/photoeye"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/internal/buildinfo"
	"github.com/ngic/ngic/internal/spool"
)

// Health is the /healthz document.
type Health struct {
	// Status is "ok", or "degraded" with Problems saying why.
	Status   string   `json:"status"`
	Problems []string `json:"problems,omitempty"`
	Gateway  string   `json:"gateway"`
	Version  string   `json:"version"`
	Uptime   float64  `json:"uptime_seconds"`
	MQTT     struct {
		Broker     string `json:"broker"`
		Connected  bool   `json:"connected"`
		Reconnects uint64 `json:"reconnects"`
		InFlight   int    `json:"inflight"` // events awaiting their PUBACK
		LastError  string `json:"last_error,omitempty"`
		// HealthSent counts the health messages handed to the broker;
		// HealthDropped those dropped because it was not connected.
		HealthSent    uint64 `json:"health_sent"`
		HealthDropped uint64 `json:"health_dropped"`
	} `json:"mqtt"`
	Spool struct {
		Records int    `json:"records"`
		Bytes   int64  `json:"bytes"`
		Dropped uint64 `json:"dropped"`
		// Held is the number of events held in memory on a full disk.
		Held int `json:"held"`
		// Lost counts the events lost over the spool file's life, per
		// reason (as in events.lost); LostUnreported those not yet
		// covered by a spooled events.lost event.
		Lost           map[string]uint64 `json:"lost"`
		LostUnreported uint64            `json:"lost_unreported"`
		LastError      string            `json:"last_error,omitempty"`
		// MovedAside names the damaged spool file moved aside at start.
		MovedAside string `json:"moved_aside,omitempty"`
	} `json:"spool"`
	// PresenceReset is true when the last run did not end cleanly (see
	// telemetry.Status.PresenceReset).
	PresenceReset bool           `json:"presence_reset"`
	Readers       []ReaderHealth `json:"readers"`
	Sensors       []SensorHealth `json:"sensors"`
}

// ReaderHealth is one reader in /healthz.
type ReaderHealth struct {
	Name       string       `json:"name"`
	Protocol   string       `json:"protocol"`
	Device     string       `json:"device"`
	Connected  bool         `json:"connected"`
	Since      time.Time    `json:"since"`
	LastError  string       `json:"last_error,omitempty"`
	Reconnects uint64       `json:"reconnects"`
	Reads      uint64       `json:"reads"`
	BadFrames  uint64       `json:"bad_frames"`
	Present    []PresentTag `json:"present"`
}

// PresentTag is a tag present at a reader.
type PresentTag struct {
	Tag     string    `json:"tag"`
	Antenna int       `json:"antenna,omitempty"`
	Since   time.Time `json:"since"`
	Reads   uint64    `json:"reads"`
}

// SensorHealth is one photo-eye in /healthz.
type SensorHealth struct {
	Name    string `json:"name"`
	Pin     string `json:"pin"`
	Blocked bool   `json:"blocked"`
}

func (s *sensor) blocked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Kind == photoeye.Blocked || s.last.Kind == photoeye.Held
}

// Health returns the gateway's state now.
func (g *Gateway) Health() Health {
	var h Health
	h.Gateway, h.Version = g.cfg.Gateway, buildinfo.String()
	h.Uptime = g.now().Sub(g.started).Seconds()
	ps := g.pub.Stats()
	h.MQTT.Broker, h.MQTT.Connected, h.MQTT.Reconnects, h.MQTT.InFlight, h.MQTT.LastError =
		brokerurl.Redact(g.cfg.MQTT.Broker), ps.Connected, ps.Reconnects, ps.InFlight, ps.LastError
	h.MQTT.HealthSent, h.MQTT.HealthDropped = ps.Snapshots, ps.SnapshotsDropped
	ss := g.spool.Stats()
	h.Spool.Records, h.Spool.Bytes, h.Spool.Dropped = ss.Records, ss.Bytes, ss.Dropped
	h.Spool.LastError = g.spoolErr.Load().(string)
	h.Spool.Held, h.Spool.LostUnreported, h.Spool.MovedAside = ss.Held, ss.Unreported, g.movedAside
	h.Spool.Lost = map[string]uint64{}
	for r := spool.Reason(0); r < spool.NumReasons; r++ {
		if r == spool.ReasonRefused {
			continue // a reader of the spool that talks to InfluxDB gives it, never the edge
		}
		h.Spool.Lost[lossReason(r)] = ss.Lost[r]
	}
	h.PresenceReset = g.presenceReset
	if !ps.Connected {
		h.Problems = append(h.Problems, "broker not connected")
	}
	if h.Spool.LastError != "" {
		h.Problems = append(h.Problems, "spool: "+h.Spool.LastError)
	}
	if ss.Unreported > 0 {
		h.Problems = append(h.Problems, fmt.Sprintf("spool: %d events lost, not yet reported to the broker", ss.Unreported))
	}
	if ss.JournalError != "" {
		h.Problems = append(h.Problems, "spool: "+ss.JournalError)
	}
	if g.movedAside != "" {
		h.Problems = append(h.Problems, "spool: damaged file moved aside to "+g.movedAside)
	}
	h.Readers = []ReaderHealth{}
	for _, r := range g.readers {
		st := r.link.State()
		rh := ReaderHealth{Name: r.cfg.Name, Protocol: r.cfg.Protocol, Device: r.cfg.Device, Connected: st.Connected,
			Since: st.Since.UTC(), LastError: st.LastError, Reconnects: st.Reconnects, Reads: st.Stats.Reads,
			BadFrames: st.Stats.BadFrames, Present: []PresentTag{}}
		for _, p := range r.smooth.Present() {
			rh.Present = append(rh.Present, PresentTag{Tag: p.Tag, Antenna: p.Antenna, Since: p.FirstSeen.UTC(), Reads: p.Reads})
		}
		if !st.Connected {
			h.Problems = append(h.Problems, "reader "+r.cfg.Name+" not connected")
		}
		h.Readers = append(h.Readers, rh)
	}
	h.Sensors = []SensorHealth{}
	for _, s := range g.sensors {
		h.Sensors = append(h.Sensors, SensorHealth{Name: s.cfg.Name, Pin: s.cfg.Pin, Blocked: s.blocked()})
	}
	h.Status = "ok"
	if len(h.Problems) > 0 {
		h.Status = "degraded"
	}
	return h
}

// Handler serves /healthz (JSON) and /metrics (Prometheus).
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(g.Health())
	})
	return mux
}
