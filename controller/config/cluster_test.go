package config

import (
	"strings"
	"testing"
	"time"
)

// clusterYAML is goodYAML with an external broker and the cluster section
// given.
func clusterYAML(cluster string) string {
	return strings.Replace(goodYAML, "  embedded: true\n", "  broker: tcp://127.0.0.1:1883\n", 1) + "cluster:\n" + cluster
}

func TestCluster(t *testing.T) {
	c, err := Parse("c.yaml", []byte(clusterYAML("  enabled: true\n  replicas: 3\n")))
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Cluster
	if !cl.Enabled || cl.Replicas != 3 || cl.Group != DefaultClusterGroup || cl.Heartbeat != DefaultHeartbeat {
		t.Fatalf("cluster %+v", cl)
	}
	c, err = Parse("c.yaml", []byte(clusterYAML("  enabled: true\n  shard: 2/4\n  group: prov-a\n  heartbeat: 1s\n")))
	if err != nil {
		t.Fatal(err)
	}
	if cl := c.Cluster; cl.Replicas != 4 || cl.Shard != "2/4" || cl.Group != "prov-a" || cl.Heartbeat != time.Second {
		t.Fatalf("cluster %+v", cl)
	}
	c, err = Parse("c.yaml", []byte(clusterYAML("  enabled: true\n  replicas: 3\n  advertise: http://ngic-0.ngic:9480\n")))
	if err != nil || c.Cluster.Advertise != "http://ngic-0.ngic:9480" {
		t.Fatalf("advertise: %+v, %v", c.Cluster, err)
	}
	if c, err := Parse("c.yaml", []byte(goodYAML)); err != nil || c.Cluster.Enabled || c.Cluster.Group != "" {
		t.Fatalf("without the section: %+v, %v", c.Cluster, err)
	}
}

func TestClusterRefused(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{goodYAML + "cluster:\n  enabled: true\n", "line 16: cluster.enabled: needs an external broker"},
		{clusterYAML("  replicas: 3\n"), "cluster: set without cluster.enabled"},
		{clusterYAML("  enabled: true\n  shard: 3/3\n"), "cluster.shard: \"3/3\""},
		{clusterYAML("  enabled: true\n  shard: one/3\n"), "cluster.shard: \"one/3\" is not i/n"},
		{clusterYAML("  enabled: true\n  shard: 1/3\n  replicas: 4\n"), "cluster.replicas: 4, but cluster.shard says 3"},
		{clusterYAML("  enabled: true\n  replicas: 5000\n"), "cluster.replicas: 5000 is not within"},
		{clusterYAML("  enabled: true\n  group: a/b\n"), "cluster.group: \"a/b\""},
		{clusterYAML("  enabled: true\n  group: $x\n"), "cluster.group: \"$x\""},
		{clusterYAML("  enabled: true\n  heartbeat: 1ms\n"), "cluster.heartbeat: 1ms is not within"},
		{clusterYAML("  enabled: true\n  heartbeats: 1s\n"), "heartbeats"},
		{clusterYAML("  advertise: http://10.0.0.1:9480\n"), "cluster: set without cluster.enabled"},
		{clusterYAML("  enabled: true\n  advertise: https://10.0.0.1:9480\n"), "cluster.advertise: \"https://10.0.0.1:9480\": want http://host:port"},
		{clusterYAML("  enabled: true\n  advertise: http://10.0.0.1\n"), "cluster.advertise: \"http://10.0.0.1\": want http://host:port, with the port"},
		{clusterYAML("  enabled: true\n  advertise: http://10.0.0.1:9480/api\n"), "without user, path"},
		{clusterYAML("  enabled: true\n  advertise: http://0.0.0.0:9480\n"), "no address another replica can reach"},
		{clusterYAML("  enabled: true\n  advertise: \"%zz\"\n"), "is not a URL"},
	} {
		_, err := Parse("c.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.yaml[len(goodYAML)-10:], err, c.want)
		}
	}
}
