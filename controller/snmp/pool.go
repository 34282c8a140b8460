package snmp

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/gosnmp/gosnmp"
)

// gosnmp gives every connected gosnmp.GoSNMP a new 64 KiB receive buffer,
// so a session that opens a socket for each poll (Release between polls)
// would allocate 64 KiB a poll: 430 MB a second for 200,000 devices
// polled every 30 s, which keeps the garbage collector busy and the heap
// high. Released v1 and v2c GoSNMPs wait here instead, and the next
// connect takes one and gives it a new socket, keeping its buffer. A v3
// GoSNMP carries its security state and is never pooled. The pool holds
// at most idleGoSNMPs (the scheduler's concurrency bound by default): what
// the polls in flight use, about 16 MB.
var idleGoSNMP = make(chan *gosnmp.GoSNMP, idleGoSNMPs)

const idleGoSNMPs = DefaultMaxConcurrent

// reuseGoSNMP returns an idle GoSNMP set up for cfg (v1 or v2c) with a new
// socket to host:port, or nil when none is idle. Its fields are those
// connect gives a new one, and those gosnmp's Connect filled in the first
// time.
func reuseGoSNMP(cfg *Config, host string, port uint16) (*gosnmp.GoSNMP, error) {
	var g *gosnmp.GoSNMP
	select {
	case g = <-idleGoSNMP:
	default:
		return nil, nil
	}
	conn, err := (&net.Dialer{Timeout: cfg.Timeout}).DialContext(context.Background(), "udp",
		net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		releaseGoSNMP(g)
		return nil, fmt.Errorf("snmp: open socket: error establishing connection to host: %w", err)
	}
	g.Target, g.Port, g.Community = host, port, cfg.Community
	g.Timeout, g.Retries = cfg.Timeout, cfg.Retries
	g.MaxOids = max(cfg.MaxOIDsPerRequest, gosnmp.MaxOids)
	g.Context = context.Background()
	g.Version = gosnmp.Version2c
	if cfg.Version == "1" {
		g.Version = gosnmp.Version1
	}
	g.Conn = conn
	return g, nil
}

// releaseGoSNMP keeps a closed v1 or v2c GoSNMP for reuseGoSNMP, unless
// the pool is full.
func releaseGoSNMP(g *gosnmp.GoSNMP) {
	if g.Version == gosnmp.Version3 {
		return
	}
	g.Conn, g.Context = nil, nil
	select {
	case idleGoSNMP <- g:
	default:
	}
}
