package cluster

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxReplicas bounds the replicas of one cluster (and so an ordinal).
const MaxReplicas = 1024

// Shard is a replica's identity: its ordinal among Replicas (0 ≤ Ordinal
// < Replicas). Replicas is the number expected at start; members that
// come and go later are followed through their status messages.
type Shard struct {
	Ordinal  int
	Replicas int
}

// String spells s as ParseShard reads it.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Ordinal, s.Replicas) }

// ParseShard reads "i/n" (as given to --shard): replica i of n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("cluster: shard %q is not i/n", s)
	}
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("cluster: shard %q is not i/n with whole numbers", s)
	}
	sh := Shard{Ordinal: i, Replicas: n}
	return sh, sh.Validate()
}

// Validate checks that 0 ≤ Ordinal < Replicas ≤ MaxReplicas.
func (s Shard) Validate() error {
	if s.Replicas < 1 || s.Replicas > MaxReplicas {
		return fmt.Errorf("cluster: %d replicas: want 1 to %d", s.Replicas, MaxReplicas)
	}
	if s.Ordinal < 0 || s.Ordinal >= s.Replicas {
		return fmt.Errorf("cluster: ordinal %d outside 0..%d", s.Ordinal, s.Replicas-1)
	}
	return nil
}

// OrdinalFromHostname reads the ordinal a Kubernetes StatefulSet gives
// its pods in their hostname, "<name>-<ordinal>" (a fully qualified name
// is cut at its first dot).
func OrdinalFromHostname(host string) (int, error) {
	host, _, _ = strings.Cut(host, ".")
	i := strings.LastIndexByte(host, '-')
	if i <= 0 || i == len(host)-1 {
		return 0, fmt.Errorf("cluster: hostname %q is not <name>-<ordinal>", host)
	}
	n, err := strconv.Atoi(host[i+1:])
	if err != nil || n < 0 || n >= MaxReplicas || host[i+1] == '+' || (len(host[i+1:]) > 1 && host[i+1] == '0') {
		return 0, fmt.Errorf("cluster: hostname %q does not end in an ordinal below %d", host, MaxReplicas)
	}
	return n, nil
}

// errNoIdentity: neither a shard nor a StatefulSet hostname.
var errNoIdentity = errors.New("cluster: no shard given and the hostname is not <name>-<ordinal>")

// Identify returns the replica's shard: the shard flag or setting when
// given ("i/n"), else the ordinal of the StatefulSet hostname with
// replicas from the configuration.
func Identify(shard string, replicas int, hostname string) (Shard, error) {
	if shard != "" {
		return ParseShard(shard)
	}
	i, err := OrdinalFromHostname(hostname)
	if err != nil {
		return Shard{}, fmt.Errorf("%w: %v", errNoIdentity, err)
	}
	sh := Shard{Ordinal: i, Replicas: replicas}
	return sh, sh.Validate()
}

// Suffixes of the user names of a replica's cluster connections (see
// Shard.User and NodeOptions.Username).
const (
	ConnMembers = "members"
	ConnState   = "state"
)

// User returns the user name one of the replica's broker connections
// presents, derived from base (mqtt.username): base-<ordinal> for its
// ingest (conn ""), base-<ordinal>-<conn> for its cluster connections
// (ConnMembers, ConnState); "" when base is "" (a broker without users).
// A broker that takes the user name for the client ID (mosquitto's
// use_username_as_clientid, as ngic ships it) would otherwise let the
// connections of one user knock each other offline; with one user per
// connection its ACL also says what each may do.
func (s Shard) User(base, conn string) string {
	if base == "" {
		return ""
	}
	u := base + "-" + strconv.Itoa(s.Ordinal)
	if conn != "" {
		u += "-" + conn
	}
	return u
}
