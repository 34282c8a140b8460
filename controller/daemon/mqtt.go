package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ngic/ngic/controller/broker"
	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/internal/mqttembed"
)

// Files kept in the state folder by the ingest.
const ingestState = "ingest.db"

// refusalLogEvery is how often refused payloads are logged: a summary
// per period, so that a hostile or broken client cannot flood the log.
const refusalLogEvery = 10 * time.Second

// openIngest opens the ingest's durable state, writing lines to InfluxDB
// when configured and signals to the alert engine.
func (d *Daemon) openIngest(cfg *config.Config) error {
	o := ingest.Options{StatePath: filepath.Join(cfg.StateDir, ingestState), Signals: gatewaySignals{d},
		OfflineAfter: cfg.Ingest.OfflineAfter, MaxPayload: cfg.Ingest.MaxPayload,
		SharedEvents: cfg.Cluster.Enabled} // the events come through $share
	if d.influx != nil {
		o.Lines = d.influx.Write
	}
	// The engine drops signals no rule takes (the configured rules, or
	// the defaults Validate set): the ingest need not build them.
	if rules := cfg.Alerts.Rules; len(rules) > 0 {
		taken := map[string]bool{}
		for _, r := range rules {
			taken[r.Kind] = true
		}
		o.SignalKinds = func(kind string) bool { return taken[kind] }
	}
	in, err := ingest.Open(o)
	if errors.Is(err, ingest.ErrDamaged) {
		if err := d.moveAside(o.StatePath, err, "gateways' counts start from zero, and events the gateways send again may be counted again"); err != nil {
			return err
		}
		in, err = ingest.Open(o)
	}
	if err != nil {
		return err
	}
	d.ingest = in
	in.SetGateways(gatewaySites(cfg))
	return nil
}

// gatewaySites maps each gateway of gateways.csv to its site.
func gatewaySites(cfg *config.Config) map[string]string {
	m := map[string]string{}
	for _, g := range cfg.LoadedInventory().Gateways {
		m[g.Name] = g.Site
	}
	return m
}

// openBroker starts the embedded broker with the recording hook, or
// prepares the subscriber to the external one (it connects in Run).
func (d *Daemon) openBroker(cfg *config.Config) error {
	m := cfg.MQTT
	if m.Embedded {
		hook := broker.NewRecordingHook(d.ingest)
		b, err := mqttembed.Start(m.Listen, d.log.With("component", "broker"), hook.Hook())
		if err != nil {
			return fmt.Errorf("mqtt.listen: %w", err)
		}
		d.embedded = b
		d.pub = broker.EmbeddedPublisher(b)
		d.reg.MustRegister(hook.Collector())
		d.log.Info("embedded broker listening", "addr", b.Addr())
		return nil
	}
	tlsConf, password, err := brokerSecrets(&m)
	if err != nil {
		return err
	}
	redacted := brokerurl.Redact(m.Broker)
	sub, err := broker.Subscribe(broker.Options{Broker: m.Broker, TLS: tlsConf, Username: d.username(m.Username),
		Password: password, ClientID: d.clientID(m.ClientID), ShareGroup: d.shareGroup(), Recorder: d.ingest,
		OnState: func(connected bool, err error) {
			switch {
			case connected && err == nil:
				d.log.Info("broker connected", "broker", redacted, "client_id", m.ClientID)
			case connected:
				d.log.Error("broker connected but a subscription was refused (check the ACL)", "broker", redacted, "err", err)
			case err != nil:
				d.log.Warn("broker unavailable", "broker", redacted, "err", err)
			default:
				d.log.Info("broker disconnected", "broker", redacted)
			}
		}})
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	d.sub = sub
	d.pub = sub
	d.reg.MustRegister(sub.Collector())
	return nil
}

// Publish publishes the controller's own messages (alerts) on the broker
// in use; it implements alerts.Publisher.
func (d *Daemon) Publish(ctx context.Context, topic string, payload []byte, retained bool) error {
	if d.pub == nil {
		return errors.New("mqtt: no broker yet")
	}
	return d.pub.Publish(ctx, topic, payload, retained)
}

// logRefusals logs the payloads the ingest refused, once per period: a
// count per reason and gateway, and one example of each.
func (d *Daemon) logRefusals(ctx context.Context) error {
	t := time.NewTicker(refusalLogEvery)
	defer t.Stop()
	var dropped uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rs := d.ingest.Refusals()
		st := d.ingest.Stats()
		missed := st.RefusalsDropped - dropped
		dropped = st.RefusalsDropped
		if len(rs) == 0 && missed == 0 {
			continue
		}
		type key struct{ reason, gateway string }
		count := map[key]int{}
		first := map[key]ingest.Refusal{}
		for _, r := range rs {
			k := key{r.Reason, r.Gateway}
			if count[k] == 0 {
				first[k] = r
			}
			count[k]++
		}
		keys := make([]key, 0, len(count))
		for k := range count {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].reason+keys[i].gateway < keys[j].reason+keys[j].gateway
		})
		for _, k := range keys {
			r := first[k]
			d.log.Warn("payloads refused", "reason", k.reason, "gateway", k.gateway, "count", count[k],
				"example_topic", r.Topic, "example_error", strings.TrimSpace(r.Err))
		}
		if missed > 0 {
			d.log.Warn("more payloads refused than logged", "not_logged", missed)
		}
	}
}
