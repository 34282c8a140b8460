package daemon

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"

	"github.com/ngic/ngic/controller/config"
)

// hostsFile lists the names of the machine; in a StatefulSet's pod the
// kubelet writes there the pod's stable DNS name,
// <hostname>.<governing service>.<namespace>.svc.<cluster domain>.
const hostsFile = "/etc/hosts"

// advertiseURL is the base URL of this replica's API for the others:
// cluster.advertise when set; else the listen address when it is a
// concrete IP (or a name); else, listening on every address, the stable
// DNS name hosts (the hosts file's content) gives hostname, with the
// listen port. http or https as the API is served.
func advertiseURL(cfg *config.Config, hostname string, hosts []byte) (string, error) {
	tls := cfg.HTTP.TLS.CertFile != ""
	if a := cfg.Cluster.Advertise; a != "" {
		return a, nil // checked by the configuration's validation
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil || port == "0" || port == "" {
		return "", fmt.Errorf("cluster.advertise: not set, and http.listen %q has no fixed port to derive it from: set it",
			cfg.HTTP.Listen)
	}
	ip := net.ParseIP(host)
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		host = stableName(hosts, hostname)
		if host == "" {
			return "", fmt.Errorf("cluster.advertise: not set, http.listen %s is every address, and %s gives the hostname %q "+
				"no stable DNS name (<hostname>.<service>..., as a StatefulSet's pod has): set it to the URL the other replicas reach this one at",
				cfg.HTTP.Listen, hostsFile, hostname)
		}
	}
	u := scheme + "://" + net.JoinHostPort(host, port)
	if err := config.CheckAdvertise(u, tls); err != nil {
		return "", fmt.Errorf("cluster.advertise: derived %w: set it", err)
	}
	return u, nil
}

// stableName returns the first name of hosts (a hosts file) under
// hostname ("<hostname>.<more>"), or "".
func stableName(hosts []byte, hostname string) string {
	if hostname == "" {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(hosts))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		for i := 1; i < len(f); i++ {
			if len(f[i]) > len(hostname)+1 && strings.HasPrefix(strings.ToLower(f[i]), strings.ToLower(hostname)+".") {
				return strings.TrimSuffix(f[i], ".")
			}
		}
	}
	return ""
}
