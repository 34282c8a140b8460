// Package snmp is the controller's SNMP transport: one session per device
// (never shared between goroutines), SNMP v1, v2c and v3, bulk walks of
// several columns at once with guards against broken agents, and the
// polling scheduler.
package snmp

import (
	"context"

	"github.com/gosnmp/gosnmp"
)

// Client talks to one device. Implementations are not safe for concurrent
// use: each device has its own Client, used by one goroutine at a time.
type Client interface {
	// Get fetches the given scalar OIDs (dotted, with or without a leading
	// dot) in as few requests as the agent allows. A missing object comes
	// back with type NoSuchObject or NoSuchInstance, not as an error.
	Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error)
	// Walk fetches every object under each of the given column (or table)
	// roots, several roots per GETBULK request (GETNEXT for v1). It returns
	// the objects per root in the order the agent gave them. A broken agent
	// (non-increasing OIDs, endOfMibView loops, the per-walk call cap) ends
	// that root's walk with what was returned and a *WalkWarning in
	// warnings; err is only for failures that lose the whole walk (timeout,
	// authentication).
	Walk(ctx context.Context, roots []string) (objs map[string][]gosnmp.SnmpPDU, warnings []error, err error)
	// Target names the device for messages ("host:port").
	Target() string
}
