package config

import (
	"fmt"
	"net"
	"net/url"
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
	// Advertise is the base URL of this replica's API for the other
	// replicas (http://host:port, https:// when http.tls is set), given
	// in its heartbeat: they forward the coverage requests to the
	// replica holding the coverage lease. Empty derives it at start: the
	// listen address when it is a concrete IP, else the pod's stable DNS
	// name (<hostname>.<governing service>...) with the listen port.
	Advertise string `yaml:"advertise"`
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
		if cl.Replicas != 0 || cl.Shard != "" || cl.Group != "" || cl.Heartbeat != 0 || cl.Advertise != "" {
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
	if cl.Advertise != "" {
		if err := CheckAdvertise(cl.Advertise, c.HTTP.TLS.CertFile != ""); err != nil {
			return doc.Errorf("cluster.advertise", "%v", err)
		}
	}
	return nil
}

// CheckAdvertise checks an API base URL a replica advertises: http or
// https as the server speaks (tls), a host and a port, nothing else.
func CheckAdvertise(s string, tls bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	want := "http"
	if tls {
		want = "https"
	}
	host, port, err := net.SplitHostPort(u.Host)
	switch {
	case u.Scheme != want:
		return fmt.Errorf("%q: want %s://host:port, as the API is served (http.tls)", s, want)
	case err != nil || host == "" || port == "":
		return fmt.Errorf("%q: want %s://host:port, with the port", s, want)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("%q: want only %s://host:port, without user, path, query or fragment", s, want)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("%q: %s is no address another replica can reach", s, host)
	}
	return nil
}
