package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/internal/testenv"
)

// deadline bounds every wait, generous for a loaded machine.
const deadline = 60 * time.Second

// cutter forwards TCP connections to a broker and can cut them all, as a
// replica killed with SIGKILL would: the broker sees the socket close
// without a DISCONNECT and publishes the last will.
type cutter struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutter(t *testing.T, to string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go func() {
		for {
			a, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", to)
			if err != nil {
				a.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, a, b)
			c.mu.Unlock()
			go func() { io.Copy(a, b); a.Close() }()
			go func() { io.Copy(b, a); b.Close() }()
		}
	}()
	return c
}

// cut closes every connection and refuses new ones.
func (c *cutter) cut() {
	c.ln.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.conns {
		x.Close()
	}
}

type runningNode struct {
	*Node
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	views  [][]int
}

func (r *runningNode) view() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.views) == 0 {
		return nil
	}
	return r.views[len(r.views)-1]
}

func startNode(t *testing.T, broker string, sh Shard) *runningNode {
	n, err := NewNode(NodeOptions{Broker: "tcp://" + broker, ClientID: fmt.Sprintf("node-test-%d", sh.Ordinal),
		Shard: sh, Heartbeat: 200 * time.Millisecond, API: fmt.Sprintf("http://127.0.0.1:%d", 9000+sh.Ordinal)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningNode{Node: n, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		n.Run(ctx, func(live []int) { r.mu.Lock(); r.views = append(r.views, live); r.mu.Unlock() })
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, deadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodeMembership runs three nodes on mosquitto: each sees the three;
// one whose connection is cut is gone for the others through its last
// will, long before it would miss its heartbeats; one stopped cleanly is
// gone at once; and the lease moves to the lowest live ordinal. A state
// published by one reaches the others.
func TestNodeMembership(t *testing.T) {
	m := testenv.StartMosquitto(t)
	cut := newCutter(t, m.Addr)
	n0 := startNode(t, m.Addr, Shard{0, 3})
	n1 := startNode(t, m.Addr, Shard{1, 3})
	n2 := startNode(t, cut.ln.Addr().String(), Shard{2, 3})
	all := []int{0, 1, 2}
	waitFor(t, "node 0's first view", func() bool { return n0.view() != nil })
	if v := n0.view(); !slices.Equal(v, all) {
		t.Fatalf("at start node 0 takes %v for live, want every replica", v)
	}
	waitFor(t, "three connected nodes", func() bool {
		return n0.Stats().Connected && n1.Stats().Connected && n2.Stats().Connected
	})
	waitFor(t, "the APIs the others advertise", func() bool {
		return n0.API(1) == "http://127.0.0.1:9001" && n0.API(2) == "http://127.0.0.1:9002" && n2.API(0) == "http://127.0.0.1:9000"
	})

	st := &State{Time: time.Now(), Devices: []Device{{DeviceState: poller.DeviceState{ID: "olt-1", State: poller.StateUp}}}}
	if err := n2.PublishState(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node 2's state at node 0", func() bool {
		o := n0.Others()
		return len(o) == 1 && o[0].Ordinal == 2 && len(o[0].Devices) == 1 && o[0].Devices[0].ID == "olt-1"
	})

	// Past the grace of the start, and several heartbeats later, nobody
	// was dropped.
	start := time.Now()
	waitFor(t, "heartbeats", func() bool {
		return n0.Stats().Statuses >= 3*2*(MissedHeartbeats+1) && time.Since(start) > MissedHeartbeats*n0.o.Heartbeat
	})
	for _, n := range []*runningNode{n0, n1, n2} {
		n.mu.Lock()
		for _, v := range n.views {
			if !slices.Equal(v, all) {
				t.Errorf("node %d's view went to %v with every replica running", n.o.Shard.Ordinal, v)
			}
		}
		n.mu.Unlock()
	}

	cut.cut()
	waitFor(t, "node 2 gone for 0 and 1", func() bool {
		return slices.Equal(n0.view(), []int{0, 1}) && slices.Equal(n1.view(), []int{0, 1})
	})
	if n0.LeaseHolder() != 0 || !n0.HoldsLease() || n1.HoldsLease() {
		t.Fatal("node 0 should hold the lease")
	}
	n0.cancel()
	<-n0.done
	waitFor(t, "node 0 gone for 1", func() bool { return slices.Equal(n1.view(), []int{1}) })
	if !n1.HoldsLease() {
		t.Fatal("node 1 did not take the lease over")
	}
	// 2's last state stays readable: its devices keep their last word.
	if o := n1.Others(); len(o) != 1 || o[0].Ordinal != 2 {
		t.Fatalf("node 1 lost node 2's last state: %d states", len(o))
	}
}

// TestNodeMissedHeartbeats: a member whose heartbeats stop (it hangs with
// its connection open) is gone after MissedHeartbeats periods.
func TestNodeMissedHeartbeats(t *testing.T) {
	m := testenv.StartMosquitto(t)
	n0 := startNode(t, m.Addr, Shard{0, 2})
	waitFor(t, "node 0 connected", func() bool { return n0.Stats().Connected })
	// A fake member 1 heartbeats twice by hand, then falls silent.
	n1, err := NewNode(NodeOptions{Broker: "tcp://" + m.Addr, ClientID: "silent", Shard: Shard{1, 2},
		Heartbeat: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if tok := n1.c.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer n1.c.Disconnect(0)
	n1.heartbeat()
	waitFor(t, "node 1 heard", func() bool { return slices.Equal(n0.view(), []int{0, 1}) })
	waitFor(t, "node 1 dropped after missed heartbeats", func() bool { return slices.Equal(n0.view(), []int{0}) })
	if !n1.c.IsConnectionOpen() {
		t.Fatal("node 1's connection closed: the will, not the heartbeats, removed it")
	}
}
