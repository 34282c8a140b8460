package daemon

import (
	"strings"
	"testing"

	"github.com/ngic/ngic/controller/config"
)

// TestAdvertiseURL: cluster.advertise as given; else a concrete listen
// address; else the StatefulSet pod's stable name from the hosts file,
// https when the API serves TLS; without any, an error naming the field.
func TestAdvertiseURL(t *testing.T) {
	hosts := []byte("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n" +
		"10.42.0.7\tngic-controller-1.ngic-controller-headless.ngic.svc.cluster.local\tngic-controller-1\n")
	for _, c := range []struct {
		listen, advertise, host, want string
		tls                           bool
	}{
		{listen: "0.0.0.0:9480", advertise: "http://ctl-1.example.net:9480", want: "http://ctl-1.example.net:9480"},
		{listen: "127.0.0.1:9480", host: "ngic-controller-1", want: "http://127.0.0.1:9480"},
		{listen: "[::1]:9480", want: "http://[::1]:9480"},
		{listen: "0.0.0.0:9480", host: "ngic-controller-1", tls: true,
			want: "https://ngic-controller-1.ngic-controller-headless.ngic.svc.cluster.local:9480"},
		{listen: ":9480", host: "NGIC-controller-1", want: "http://ngic-controller-1.ngic-controller-headless.ngic.svc.cluster.local:9480"},
		{listen: "0.0.0.0:9480", host: "ngic-controller-2", want: "error: cluster.advertise: not set"},
		{listen: "0.0.0.0:9480", host: "ngic-controller", want: "error: cluster.advertise: not set"},
		{listen: "127.0.0.1:0", want: "error: cluster.advertise: not set, and http.listen \"127.0.0.1:0\" has no fixed port"},
	} {
		cfg := &config.Config{HTTP: config.HTTP{Listen: c.listen}, Cluster: config.Cluster{Advertise: c.advertise}}
		if c.tls {
			cfg.HTTP.TLS.CertFile = "tls.crt"
		}
		got, err := advertiseURL(cfg, c.host, hosts)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("listen %s, advertise %q, hostname %q: %q, want %q", c.listen, c.advertise, c.host, got, c.want)
		}
	}
}
