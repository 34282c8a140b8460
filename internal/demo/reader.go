package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all" // the gateways' protocols
	"github.com/ngic/ngic/drivers/rfid/emulate"
	edgedemo "github.com/ngic/ngic/edge/demo"
)

// serveReader emulates a reader of protocol on a pseudo-terminal, with
// an empty field, until ctx ends; it returns the runner and the path.
func serveReader(ctx context.Context, protocol string) (*emulate.Runner, string, error) {
	proto, err := rfid.Lookup(protocol)
	if err != nil {
		return nil, "", fmt.Errorf("demo: %w", err)
	}
	r, err := emulate.New(proto, nil)
	if err != nil {
		return nil, "", fmt.Errorf("demo: %w", err)
	}
	pty, err := r.ServePTY(ctx, "")
	if err != nil {
		return nil, "", fmt.Errorf("demo: %s reader: %w", protocol, err)
	}
	return r, pty.Path, nil
}

// moveTags makes the demo's tags enter a reader's field one by one, then
// leave one by one, every period until ctx ends (edge/demo's moves).
func moveTags(ctx context.Context, r *emulate.Runner, protocol string, period time.Duration) {
	field := edgedemo.Field(protocol)
	t := time.NewTicker(period)
	defer t.Stop()
	for step := 1; ; step++ {
		_ = r.SetTags(edgedemo.Step(field, step))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
