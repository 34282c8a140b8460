package cluster

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// MaxSignals bounds the gateway signals of one state.
const MaxSignals = 1 << 16

// GatewaySignal is a condition of a gateway that a replica heard in the
// gateway's events (a door held open, or closed again), shared in its
// State: the events of a gateway reach one replica each (a shared
// subscription), not always the gateway's owner, which raises and
// resolves the gateway's alerts (GatewayAlerts).
type GatewaySignal struct {
	Kind    string            `json:"kind"`
	Gateway string            `json:"gateway"`
	Site    string            `json:"site,omitempty"`
	Key     string            `json:"key,omitempty"`
	Active  bool              `json:"active"`
	Time    time.Time         `json:"time"`
	Summary string            `json:"summary,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
	// Applied tells that the gateway's owner of the time passed the
	// signal to its alert engine (the sharer, or another replica whose
	// state the sharer read): the alert was raised or resolved there,
	// and its webhooks told.
	Applied bool `json:"applied,omitempty"`
}

// sharedKinds are the kinds of signal replicas share: those of a
// gateway's events.
var sharedKinds = map[string]bool{alerts.KindDoorHeld: true}

// shareSignal is s as a replica shares it.
func shareSignal(s alerts.Signal, applied bool) GatewaySignal {
	return GatewaySignal{Kind: s.Kind, Gateway: s.Subject.ID, Site: s.Subject.Site, Key: s.Key, Active: s.Active,
		Time: s.Time, Summary: s.Summary, Attrs: s.Attrs, Applied: applied}
}

// signal is the shared signal as the alert engine takes it.
func (g *GatewaySignal) signal() alerts.Signal {
	return alerts.Signal{Kind: g.Kind, Subject: alerts.Subject{Type: alerts.SubjectGateway, ID: g.Gateway, Site: g.Site},
		Key: g.Key, Active: g.Active, Time: g.Time, Summary: g.Summary, Attrs: g.Attrs}
}

// validate checks a shared signal within the bounds of an alert's fields.
func (g *GatewaySignal) validate() error {
	switch {
	case !sharedKinds[g.Kind]:
		return fmt.Errorf("kind %.64q is not one replicas share", g.Kind)
	case !telemetry.ValidAlertSubject(alerts.SubjectGateway, g.Gateway, g.Site):
		return fmt.Errorf("gateway %.64q, site %.64q: empty or too long", g.Gateway, g.Site)
	case len(g.Key) > telemetry.MaxAlertText || len(g.Summary) > telemetry.MaxAlertText || len(g.Attrs) > telemetry.MaxAlertAttrs:
		return errors.New("key, summary or attributes too long")
	case !utf8.ValidString(g.Gateway + g.Site + g.Key + g.Summary):
		return errors.New("not UTF-8")
	}
	for k, v := range g.Attrs {
		if k == "" || len(k) > telemetry.MaxAlertName || len(v) > telemetry.MaxAlertText || !utf8.ValidString(k+v) {
			return fmt.Errorf("attribute %.64q: empty, too long or not UTF-8", k)
		}
	}
	return nil
}
