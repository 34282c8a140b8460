package cluster

import (
	"context"
	"fmt"

	"github.com/ngic/ngic/telemetry"
)

// Barrier returns once the node has taken (Others holds them) every
// state the broker had for it when Barrier was called: it publishes an
// empty message, not retained, on the replica's own state topic, and
// waits for it to come back on the connection of states, behind what the
// broker queued before it (the broker delivers a subscription's messages
// in order, and so does the node). Other replicas ignore the message, as
// they ignore a retained state cleared.
//
// A replica that learns of a member's death (its last will) calls it
// before settling what the dead member's last state may tell: that state
// reached the broker before the will did, but may still wait behind
// others on the way to this replica, whatever its load. The barrier
// covers the states the broker holds; one the dead member was still
// sending is not covered. Barriers run one at a time; the error is ctx's
// (or the publish's) when the message does not come back in time, lost
// with a connection that dropped, say.
func (n *Node) Barrier(ctx context.Context) error {
	n.barrier.Lock()
	defer n.barrier.Unlock()
	n.mu.Lock()
	before := n.barriers
	n.mu.Unlock()
	topic := telemetry.ControllerStateTopic(n.o.Shard.Ordinal)
	tok := n.sc.Publish(topic, 1, false, []byte{})
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("cluster: barrier of replica %d: %w", n.o.Shard.Ordinal, err)
		}
	case <-ctx.Done():
		return fmt.Errorf("cluster: barrier of replica %d: %w", n.o.Shard.Ordinal, ctx.Err())
	}
	for {
		n.mu.Lock()
		seen, wake := n.barriers, n.barrierSeen
		n.mu.Unlock()
		if seen > before {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("cluster: barrier of replica %d not back: %w", n.o.Shard.Ordinal, ctx.Err())
		}
	}
}
