package snmp

import (
	"context"

	"github.com/gosnmp/gosnmp"
)

// CountingClient is a Client that counts the objects (varbinds) its
// Client returns, for the poll's figures. It is not safe for concurrent
// use, like the Client a poll is given.
type CountingClient struct {
	Client
	// Varbinds is the number of objects returned so far.
	Varbinds uint64
}

// Get implements Client.
func (c *CountingClient) Get(ctx context.Context, oids []string) ([]gosnmp.SnmpPDU, error) {
	r, err := c.Client.Get(ctx, oids)
	c.Varbinds += uint64(len(r))
	return r, err
}

// Walk implements Client.
func (c *CountingClient) Walk(ctx context.Context, roots []string) (map[string][]gosnmp.SnmpPDU, []error, error) {
	objs, w, err := c.Client.Walk(ctx, roots)
	for _, o := range objs {
		c.Varbinds += uint64(len(o))
	}
	return objs, w, err
}
