package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/cluster"
	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/telemetry"
)

// minStateEvery bounds how often a replica publishes its state.
const minStateEvery = time.Second

// A replica that joins waits for a state of each other member to sync its
// gateways' door alerts (cluster.GatewayAlerts) for at most syncWaits
// periods of the states, and at least minSyncWait; then it goes on
// without the silent ones.
const (
	syncWaits   = 3
	minSyncWait = 15 * time.Second
)

// After a change of the members a replica settles the door alerts of the
// gateways it gained (cluster.GatewayAlerts.SettleDeferred) once it has
// taken every state the broker held for it (cluster.Node.Barrier, given
// at most handoverBarrier), and handoverGrace after the change at the
// soonest: a dead owner's last state (several megabytes, on another
// connection than its will) may still be on its way. Settled before it,
// a door the dead owner applied would raise its alert a second time.
const (
	handoverGrace   = 3 * time.Second
	handoverBarrier = time.Minute
)

// clusterRun is the daemon's side of a cluster (config's cluster
// section): the node that follows the members, the devices this replica
// owns among them, and what the others share.
type clusterRun struct {
	node  *cluster.Node
	shard cluster.Shard
	group string
	// gateways makes each gateway's alerts one replica's.
	gateways *cluster.GatewayAlerts

	// assign serialises the changes of the poller's devices (membership
	// changes and reloads); inventory is the latest inventory's devices.
	assign    sync.Mutex
	inventory []config.DeviceConfig
	mu        sync.Mutex
	live      []int
	owned     int
	// acks are the acknowledgements this replica's API took for alerts
	// another raised, shared in its state until that one applies them;
	// applied are those of the others this replica applied.
	acks    map[string]cluster.Ack
	applied map[cluster.Ack]bool

	published, publishErrors prometheus.Counter
}

// openCluster prepares the replica's membership when the cluster section
// is enabled: its identity comes from shard (the --shard flag), else
// cluster.shard, else the StatefulSet hostname.
func (d *Daemon) openCluster(cfg *config.Config, shard string) error {
	cl := cfg.Cluster
	if !cl.Enabled {
		if shard != "" {
			return errors.New("--shard given, but the configuration's cluster section is not enabled")
		}
		return nil
	}
	if shard == "" {
		shard = cl.Shard
	}
	host, _ := os.Hostname()
	sh, err := cluster.Identify(shard, cl.Replicas, host)
	if err != nil {
		return fmt.Errorf("cluster: %w (give --shard i/n, cluster.shard, or run as a StatefulSet pod with cluster.replicas)", err)
	}
	m := cfg.MQTT
	tlsConf, password, err := brokerSecrets(&m)
	if err != nil {
		return err
	}
	hosts, _ := os.ReadFile(hostsFile) // none: no stable name to derive from
	advertise, err := advertiseURL(cfg, host, hosts)
	if err != nil {
		return err
	}
	node, err := cluster.NewNode(cluster.NodeOptions{Broker: m.Broker, TLS: tlsConf, Username: sh.User(m.Username, ""),
		Password: password, ClientID: fmt.Sprintf("%s-cluster-%d", m.ClientID, sh.Ordinal), Shard: sh,
		Heartbeat: cl.Heartbeat, API: advertise})
	if err != nil {
		return err
	}
	c := &clusterRun{node: node, shard: sh, group: cl.Group, live: node.Live(),
		gateways: cluster.NewGatewayAlerts(sh.Ordinal, node.Live(), d.alerts),
		acks:     map[string]cluster.Ack{}, applied: map[cluster.Ack]bool{},
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "ngic_controller_cluster_states_published_total",
			Help: "States this replica published for the others."}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "ngic_controller_cluster_state_errors_total",
			Help: "States this replica failed to publish."}),
	}
	d.cluster = c
	d.reg.MustRegister(c.published, c.publishErrors, clusterCollector{c})
	d.log.Info("clustered", "ordinal", sh.Ordinal, "replicas", sh.Replicas, "share_group", cl.Group, "advertise", advertise)
	return nil
}

// brokerSecrets reads the external broker's TLS configuration (nil for
// plain TCP) and password, for the ingest's connection and the cluster's.
func brokerSecrets(m *config.MQTT) (*tls.Config, string, error) {
	tlsConf, key, err := m.TLS.Config()
	if err != nil {
		return nil, "", fmt.Errorf("mqtt.tls.%s: %w", key, err)
	}
	if !brokerurl.IsTLS(m.Broker) {
		tlsConf = nil
	}
	password := ""
	if m.PasswordFile != "" {
		if password, err = config.ReadSecret(m.PasswordFile, ""); err != nil {
			return nil, "", fmt.Errorf("mqtt.password_file: %w", err)
		}
	}
	return tlsConf, password, nil
}

// clientID is the ingest's MQTT client ID: one per replica in a cluster,
// so that each keeps its own persistent session.
func (d *Daemon) clientID(id string) string {
	if d.cluster == nil {
		return id
	}
	return fmt.Sprintf("%s-%d", id, d.cluster.shard.Ordinal)
}

// username is the ingest's MQTT user name: one per replica in a cluster
// (cluster.Shard.User), so that with a broker that makes the user name
// the client ID (the shipped mosquitto) no two connections share one.
func (d *Daemon) username(base string) string {
	if d.cluster == nil {
		return base
	}
	return d.cluster.shard.User(base, "")
}

// gatewaySignals is the ingest's alert sink: the engine, through the
// cluster's GatewayAlerts when clustered (openCluster runs before any
// message arrives).
type gatewaySignals struct{ d *Daemon }

// Signal implements alerts.Sink.
func (g gatewaySignals) Signal(s alerts.Signal) {
	if c := g.d.cluster; c != nil {
		c.gateways.Signal(s)
		return
	}
	g.d.alerts.Signal(s)
}

// liveOthers are the latest states of the other live replicas.
func (d *Daemon) liveOthers() []*cluster.State {
	live := d.cluster.node.Live()
	var out []*cluster.State
	for _, s := range d.cluster.node.Others() {
		if slices.Contains(live, s.Ordinal) {
			out = append(out, s)
		}
	}
	return out
}

// forwardAck acknowledges the open alert id that another live replica
// raised: the acknowledgement goes in this replica's shared state, and
// that replica applies it (applyAcks) within a state period. It returns
// the alert as acknowledged, and false when no live replica has it open.
func (d *Daemon) forwardAck(id, by, note string) (telemetry.Alert, bool) {
	if d.cluster == nil {
		return telemetry.Alert{}, false
	}
	for _, s := range d.cluster.node.Others() { // a dead replica's alert: the gateway's new owner adopts it
		for _, a := range s.Alerts {
			if a.ID != id {
				continue
			}
			ack := cluster.Ack{Alert: id, AlertAck: telemetry.AlertAck{By: by, At: time.Now().UTC(), Note: note}}
			if a.Started.After(ack.At) {
				ack.At = a.Started
			}
			d.cluster.mu.Lock()
			d.cluster.acks[id] = ack
			d.cluster.mu.Unlock()
			a.Ack = &ack.AlertAck
			return a, true
		}
	}
	return telemetry.Alert{}, false
}

// pendingAcks are the forwarded acknowledgements whose alert another
// replica lists open, none of them with the acknowledgement applied; the
// others are forgotten. A replica that died before applying one leaves
// its alert listed in its last state: the acknowledgement waits for
// whoever takes the alert over (a gateway's new owner adopts it) or for
// the raiser's return.
func (d *Daemon) pendingAcks() []cluster.Ack {
	c := d.cluster
	c.mu.Lock()
	acks := maps.Clone(c.acks)
	c.mu.Unlock()
	listed, applied := map[string]bool{}, map[string]bool{}
	for _, s := range c.node.Others() {
		for _, a := range s.Alerts {
			if ack, ok := acks[a.ID]; ok {
				listed[a.ID] = true
				applied[a.ID] = applied[a.ID] || hasAck(a, ack)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cluster.Ack
	for id, ack := range c.acks {
		if !listed[id] || applied[id] {
			delete(c.acks, id)
			continue
		}
		out = append(out, ack)
	}
	slices.SortFunc(out, func(a, b cluster.Ack) int { return strings.Compare(a.Alert, b.Alert) })
	return out
}

// hasAck tells whether a carries ack (or a later one of the same).
func hasAck(a telemetry.Alert, ack cluster.Ack) bool {
	return a.Ack != nil && a.Ack.By == ack.By && a.Ack.Note == ack.Note && !a.Ack.At.Before(ack.At)
}

// applyAcks applies the acknowledgements the other replicas (live, or
// in the last state of a dead one) took for this replica's open alerts,
// each once, unless the alert carries it already (adopted with it).
func (d *Daemon) applyAcks() {
	open := map[string]telemetry.Alert{}
	for _, a := range d.alerts.Open() {
		open[a.ID] = a
	}
	c := d.cluster
	type forwarded struct {
		cluster.Ack
		from int
	}
	var todo []forwarded
	c.mu.Lock()
	for ack := range c.applied {
		if _, ok := open[ack.Alert]; !ok {
			delete(c.applied, ack)
		}
	}
	for _, s := range c.node.Others() {
		for _, ack := range s.Acks {
			a, ok := open[ack.Alert]
			if ok && !c.applied[ack] && hasAck(a, ack) {
				c.applied[ack] = true
			}
			if ok && !c.applied[ack] {
				c.applied[ack] = true
				todo = append(todo, forwarded{ack, s.Ordinal})
			}
		}
	}
	c.mu.Unlock()
	for _, ack := range todo {
		if _, err := d.alerts.Acknowledge(ack.Alert, ack.By, ack.Note, ack.At); err != nil {
			d.log.Warn("acknowledgement from another replica not applied", "alert", ack.Alert, "err", err)
			continue
		}
		d.log.Info("alert acknowledged", "alert", ack.Alert, "by", ack.By, "through_replica", ack.from)
	}
}

// shareGroup is the shared subscription group of the events ("" without
// a cluster).
func (d *Daemon) shareGroup() string {
	if d.cluster == nil {
		return ""
	}
	return d.cluster.group
}

// owned returns the devices of devs this replica polls: those rendezvous
// hashing gives it among the live members (all of them without a
// cluster).
func (d *Daemon) owned(devs []config.DeviceConfig) []config.DeviceConfig {
	c := d.cluster
	if c == nil {
		return devs
	}
	c.mu.Lock()
	live := c.live
	c.mu.Unlock()
	var out []config.DeviceConfig
	for _, dv := range devs {
		if cluster.Owner(dv.ID, live) == c.shard.Ordinal {
			out = append(out, dv)
		}
	}
	c.mu.Lock()
	c.owned = len(out)
	c.mu.Unlock()
	return out
}

// setDevices gives the poller the devices of the inventory this replica
// owns; with a cluster, changes of the members and reloads take turns.
func (d *Daemon) setDevices(devs []config.DeviceConfig) (poller.Change, error) {
	if d.cluster != nil {
		d.cluster.assign.Lock()
		defer d.cluster.assign.Unlock()
		d.cluster.inventory = devs
	}
	return d.poller.SetDevices(d.owned(devs))
}

// reassign gives the poller the devices of the latest inventory this
// replica owns now.
func (d *Daemon) reassign() error {
	c := d.cluster
	c.assign.Lock()
	defer c.assign.Unlock()
	_, err := d.poller.SetDevices(d.owned(c.inventory))
	return err
}

// runCluster follows the members, giving the poller the devices this
// replica owns at each change, and publishes the replica's state for the
// others every half poll interval.
func (d *Daemon) runCluster(ctx context.Context) error {
	c := d.cluster
	if c == nil {
		return nil
	}
	errc := make(chan error, 1)
	go func() {
		errc <- c.node.Run(ctx, func(live []int) {
			c.mu.Lock()
			same := slices.Equal(live, c.live)
			c.live = live
			c.mu.Unlock()
			if same {
				return
			}
			c.gateways.Merge(c.node.Others()) // the alerts of the gateways that move here come from the latest states
			c.gateways.SetLive(live)
			go d.settleGained(ctx)
			err := d.reassign()
			if err != nil {
				d.log.Error("devices not reassigned after a change of the cluster's members", "err", err)
				return
			}
			c.mu.Lock()
			owned := c.owned
			c.mu.Unlock()
			d.log.Info("cluster members changed", "live", live, "owned_devices", owned,
				"coverage_lease", cluster.LeaseHolder(live) == c.shard.Ordinal)
			d.recomputeCoverage()
		})
	}()
	var last time.Time
	started := time.Now()
	next := started.Add(d.stateEvery())
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return <-errc
		case <-c.node.StateArrived(): // a door another replica heard, an alert to adopt
			t.Stop()
			c.gateways.Merge(c.node.Others())
			continue
		case <-c.gateways.Changed(): // a door heard here: out soon, for the gateway's owner
			t.Stop()
			if soon := last.Add(minStateEvery); soon.Before(next) {
				next = soon
			}
			continue
		case <-t.C:
		}
		d.applyAcks()
		c.gateways.Merge(c.node.Others())
		if wait := max(syncWaits*d.stateEvery(), minSyncWait); !c.gateways.Synced() && time.Since(started) > wait {
			missing := c.gateways.ForceSync()
			d.log.Warn("cluster: applying the gateways' door events without having heard from every member since this replica joined",
				"waited", wait, "members_not_heard", missing)
		}
		last = time.Now()
		next = last.Add(d.stateEvery())
		if err := c.node.PublishState(ctx, d.localState()); err != nil {
			c.publishErrors.Inc()
			if ctx.Err() == nil {
				d.log.Warn("cluster state not published", "err", err)
			}
			continue
		}
		c.published.Inc()
	}
}

// settleGained settles the door alerts of the gateways gained at a
// change of the members, once the states the broker held for this
// replica are taken and handoverGrace has passed.
func (d *Daemon) settleGained(ctx context.Context) {
	c := d.cluster
	grace := time.NewTimer(handoverGrace)
	defer grace.Stop()
	bctx, cancel := context.WithTimeout(ctx, handoverBarrier)
	err := c.node.Barrier(bctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		d.log.Warn("cluster: settling the gateways gained without knowing every state the broker held arrived", "err", err)
	}
	select {
	case <-grace.C:
	case <-ctx.Done():
		return
	}
	c.gateways.Merge(c.node.Others())
	c.gateways.SettleDeferred()
}

// stateEvery is the period of the replica's states: half a poll
// interval, at least minStateEvery.
func (d *Daemon) stateEvery() time.Duration { return max(d.config().Poll.Interval/2, minStateEvery) }

// config returns the running configuration.
func (d *Daemon) config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// localState is what this replica shares: the devices it polls, its
// open alerts, and the acknowledgements it took for the others'.
func (d *Daemon) localState() *cluster.State {
	st := &cluster.State{Time: time.Now(), Devices: d.localDevices(), Alerts: d.alerts.Open(), Acks: d.pendingAcks()}
	d.cluster.gateways.Share(st)
	if computed, _, _, ok := d.coverageState(); ok {
		st.Coverage = computed
	}
	return st
}

// coverageComputed is when the coverage this replica's API serves was
// computed: its own result's, else (clustered) the lease holder's as its
// state tells; zero when there is none.
func (d *Daemon) coverageComputed() time.Time {
	if computed, _, _, ok := d.coverageState(); ok {
		return computed
	}
	if d.cluster == nil {
		return time.Time{}
	}
	h := d.cluster.node.LeaseHolder()
	for _, s := range d.cluster.node.Others() {
		if s.Ordinal == h {
			return s.Coverage
		}
	}
	return time.Time{}
}

// localDevices are the devices this replica polls, with their class and
// coverage evidence.
func (d *Daemon) localDevices() []cluster.Device {
	states := d.poller.Devices()
	out := make([]cluster.Device, len(states))
	d.web.mu.Lock()
	for i, st := range states {
		st.History = nil
		out[i] = cluster.Device{DeviceState: st, Class: d.web.classes[st.ID]}
	}
	d.web.mu.Unlock()
	d.cov.mu.Lock()
	for i := range out {
		if pe, ok := d.cov.evidence[out[i].ID]; ok {
			out[i].Evidence, out[i].PolledAt = pe.ev, pe.at
		}
	}
	d.cov.mu.Unlock()
	return out
}

// fleet returns every device of the inventory as this replica and the
// others know it (the newest word on each), and whether the replica is
// clustered.
func (d *Daemon) fleet() ([]cluster.Device, bool) {
	if d.cluster == nil {
		return nil, false
	}
	merged := cluster.Merge(d.localDevices(), d.cluster.node.Others())
	inv := d.config().LoadedInventory()
	out := merged[:0]
	for _, dv := range merged {
		if _, ok := inv.Device(dv.ID); ok {
			out = append(out, dv)
		}
	}
	return out, true
}

// fleetDevices is the API's device list of the whole fleet (false
// without a cluster: the poller's own list is the fleet).
func (d *Daemon) fleetDevices() ([]api.Device, bool) {
	devs, ok := d.fleet()
	if !ok {
		return nil, false
	}
	out := make([]api.Device, len(devs))
	for i, dv := range devs {
		out[i] = api.Device{DeviceState: dv.DeviceState, Class: dv.Class}
	}
	return out, true
}

// fleetCounts counts the fleet's devices by state.
func (d *Daemon) fleetCounts() (map[string]int, bool) {
	devs, ok := d.fleet()
	if !ok {
		return nil, false
	}
	n := map[string]int{}
	for _, dv := range devs {
		n[string(dv.State)]++
	}
	return n, true
}

// fleetDevice is a device another replica polls, as it last told.
func (d *Daemon) fleetDevice(id string) (api.Device, bool) {
	if d.cluster == nil {
		return api.Device{}, false
	}
	var best *cluster.Device
	for _, s := range d.cluster.node.Others() {
		for i := range s.Devices {
			if dv := &s.Devices[i]; dv.ID == id && (best == nil || dv.LastPoll.After(best.LastPoll)) {
				best = dv
			}
		}
	}
	if best == nil {
		return api.Device{}, false
	}
	return api.Device{DeviceState: best.DeviceState, Class: best.Class}, true
}

// fleetAlerts are this replica's open alerts and those of the live others.
func (d *Daemon) fleetAlerts() []telemetry.Alert {
	local := d.alerts.Open()
	if d.cluster == nil {
		return local
	}
	return cluster.OpenAlerts(local, d.liveOthers())
}

// coverageStates are the devices' states coverage is computed from: the
// fleet's with a cluster, the poller's without.
func (d *Daemon) coverageStates() []poller.DeviceState {
	devs, ok := d.fleet()
	if !ok {
		return d.poller.Devices()
	}
	out := make([]poller.DeviceState, len(devs))
	for i, dv := range devs {
		out[i] = dv.DeviceState
	}
	return out
}

// fleetEvidence gives each device of inv (devs in its order) that
// another replica polls, or that this one has not polled since it took
// it over, the evidence the others last shared.
func (d *Daemon) fleetEvidence(inv *config.Inventory, devs []coverage.DeviceStatus) {
	if d.cluster == nil {
		return
	}
	local := map[string]bool{}
	d.poller.EachState(func(_ int, st *poller.DeviceState) { local[st.ID] = true }) // no copy of every state
	cluster.FillEvidence(devs, func(i int) string { return inv.Devices[i].ID }, func(id string) bool { return local[id] },
		d.cluster.node.Others())
}

// holdsCoverageLease tells whether this replica computes the coverage
// and stores its snapshots (and writes them to InfluxDB): the lowest live
// ordinal does, and any replica without a cluster; the others forward
// the coverage's requests to it (cluster_forward.go).
func (d *Daemon) holdsCoverageLease() bool { return d.cluster == nil || d.cluster.node.HoldsLease() }

// clusterCollector exports the replica's view of the cluster.
type clusterCollector struct{ c *clusterRun }

var (
	clusterMembers = prometheus.NewDesc("ngic_controller_cluster_members",
		"Live replicas of the cluster, this one included.", nil, nil)
	clusterOwned = prometheus.NewDesc("ngic_controller_cluster_owned_devices",
		"Devices this replica polls.", nil, nil)
	clusterLease = prometheus.NewDesc("ngic_controller_cluster_coverage_lease",
		"1 while this replica holds the coverage lease.", nil, nil)
	clusterStates = prometheus.NewDesc("ngic_controller_cluster_states_received_total",
		"States of the other replicas received.", nil, nil)
	clusterRefused = prometheus.NewDesc("ngic_controller_cluster_refused_total",
		"Cluster status and state payloads refused.", nil, nil)
	clusterAdopted = prometheus.NewDesc("ngic_controller_cluster_alerts_adopted_total",
		"Gateway alerts (or their acknowledgements) this replica took over from another, the gateway having moved to it.", nil, nil)
	clusterReleased = prometheus.NewDesc("ngic_controller_cluster_alerts_released_total",
		"Gateway alerts this replica let go without a word, the gateway having moved to another.", nil, nil)
	clusterSynced = prometheus.NewDesc("ngic_controller_cluster_synced",
		"1 once this replica has read every live member's state since it joined, and applies its gateways' door signals.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{clusterMembers, clusterOwned, clusterLease, clusterStates, clusterRefused,
		clusterAdopted, clusterReleased, clusterSynced} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c clusterCollector) Collect(ch chan<- prometheus.Metric) {
	live := c.c.node.Live()
	st := c.c.node.Stats()
	c.c.mu.Lock()
	owned := c.c.owned
	c.c.mu.Unlock()
	lease := 0.0
	if cluster.LeaseHolder(live) == c.c.shard.Ordinal {
		lease = 1
	}
	ch <- prometheus.MustNewConstMetric(clusterMembers, prometheus.GaugeValue, float64(len(live)))
	ch <- prometheus.MustNewConstMetric(clusterOwned, prometheus.GaugeValue, float64(owned))
	ch <- prometheus.MustNewConstMetric(clusterLease, prometheus.GaugeValue, lease)
	ch <- prometheus.MustNewConstMetric(clusterStates, prometheus.CounterValue, float64(st.States))
	ch <- prometheus.MustNewConstMetric(clusterRefused, prometheus.CounterValue, float64(st.Refused))
	ho := c.c.gateways.Stats()
	ch <- prometheus.MustNewConstMetric(clusterAdopted, prometheus.CounterValue, float64(ho.Adopted))
	ch <- prometheus.MustNewConstMetric(clusterReleased, prometheus.CounterValue, float64(ho.Released))
	synced := 0.0
	if ho.Synced {
		synced = 1
	}
	ch <- prometheus.MustNewConstMetric(clusterSynced, prometheus.GaugeValue, synced)
}
