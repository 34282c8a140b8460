package config

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ngic/ngic/internal/yamlconf"
	"github.com/ngic/ngic/telemetry"
)

// Cluster is the cluster section: several replicas share the fleet, each
// polling the devices rendezvous hashing gives it among the live ones,
// and taking its part of the gateways' events through a shared
// subscription (controller/cluster). It needs an external broker.
type Cluster struct {
	// Enabled turns clustering on.
	Enabled bool `yaml:"enabled"`
	// Replicas is the number of replicas expected (a StatefulSet's
	// replicas); the replica's own ordinal comes from Shard, the --shard
	// flag or the hostname <name>-<ordinal>.
	Replicas int `yaml:"replicas"`
	// Shard is "i/n", this replica's ordinal and the replicas; empty takes
	// it from --shard or the hostname.
	Shard string `yaml:"shard"`
	// Group is the shared subscription group of the events (default
	// DefaultClusterGroup): $share/<group>/ngic/v1/gw/+/event/#.
	Group string `yaml:"group"`
	// Heartbeat is the period of the replica's heartbeats (default
	// DefaultHeartbeat); one missing three is taken for gone.
	Heartbeat time.Duration `yaml:"heartbeat"`
}

// Defaults and bounds of the cluster section.
const (
	DefaultClusterGroup = "ngic"
	DefaultHeartbeat    = 5 * time.Second
	MinHeartbeat        = 100 * time.Millisecond
	MaxHeartbeat        = 10 * time.Minute
	MaxReplicas         = 1024
)

func (c *Cluster) setDefaults() {
	if c.Enabled {
		c.Group = or(c.Group, DefaultClusterGroup)
		c.Heartbeat = or(c.Heartbeat, DefaultHeartbeat)
	}
}

var shardRE = regexp.MustCompile(`^([0-9]{1,4})/([0-9]{1,4})$`)

func (c *Config) validateCluster(doc *yamlconf.Doc) error {
	cl := &c.Cluster
	if !cl.Enabled {
		if cl.Replicas != 0 || cl.Shard != "" || cl.Group != "" || cl.Heartbeat != 0 {
			return doc.Errorf("cluster", "set without cluster.enabled: true")
		}
		return nil
	}
	if c.MQTT.Embedded {
		return doc.Errorf("cluster.enabled", "needs an external broker (mqtt.broker) that the replicas share, not mqtt.embedded")
	}
	if cl.Shard != "" {
		m := shardRE.FindStringSubmatch(cl.Shard)
		if m == nil {
			return doc.Errorf("cluster.shard", "%q is not i/n (replica i of n)", cl.Shard)
		}
		i, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if n < 1 || n > MaxReplicas || i >= n {
			return doc.Errorf("cluster.shard", "%q: want 0 <= i < n <= %d", cl.Shard, MaxReplicas)
		}
		if cl.Replicas != 0 && cl.Replicas != n {
			return doc.Errorf("cluster.replicas", "%d, but cluster.shard says %d", cl.Replicas, n)
		}
		cl.Replicas = n
	}
	if cl.Replicas < 0 || cl.Replicas > MaxReplicas {
		return doc.Errorf("cluster.replicas", "%d is not within 1..%d", cl.Replicas, MaxReplicas)
	}
	if err := telemetry.ValidateName(cl.Group); err != nil || strings.HasPrefix(cl.Group, "$") {
		return doc.Errorf("cluster.group", "%q cannot be a shared subscription group (a topic level without $)", cl.Group)
	}
	if cl.Heartbeat < MinHeartbeat || cl.Heartbeat > MaxHeartbeat {
		return doc.Errorf("cluster.heartbeat", "%v is not within %v..%v", cl.Heartbeat, MinHeartbeat, MaxHeartbeat)
	}
	return nil
}
