//go:build linux

package mmsg

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// take returns a Group of n sockets taking over c, closed when the test
// ends.
func take(t *testing.T, c *net.UDPConn, n int) *Group {
	t.Helper()
	g, err := Take(c, n, 1<<20, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// TestTake: once a Group takes a socket's address over, datagrams sent
// there reach the group's sockets (spread over them as the kernel sees
// fit) and not the socket, except one it held before; answers from a
// group's socket come from the address; after Close the socket gets its
// datagrams again, until a group takes it over again.
func TestTake(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			client, server := pair(t, network)
			out := newBatch(t, client, 1, 8)
			out.SetAddr(0, addrOf(server))
			send := func(b byte) {
				t.Helper()
				out.SetMessage(0, []byte{b})
				if n, err := out.Send(1); n != 1 || err != nil {
					t.Fatalf("Send: %d, %v", n, err)
				}
			}
			send(0) // held by server
			g := take(t, server, 2)
			reachesGroup(t, g, send, addrOf(client))
			held := newBatch(t, server, 8, 8)
			if n, err := held.RecvWait(); n != 1 || err != nil || held.Message(0)[0] != 0 {
				t.Fatalf("the socket taken over read %d (%v), want only the datagram it held", n, err)
			}

			reply := groupBatch(t, g, 1, 1, 8)
			reply.SetMessage(0, []byte{42})
			reply.SetAddr(0, addrOf(client))
			if n, err := reply.Send(1); n != 1 || err != nil {
				t.Fatalf("reply: %d, %v", n, err)
			}
			buf := make([]byte, 8)
			_ = client.SetReadDeadline(time.Now().Add(30 * time.Second))
			if n, from, err := client.ReadFromUDPAddrPort(buf); err != nil || n != 1 || buf[0] != 42 || from != addrOf(server) {
				t.Fatalf("reply: % x from %v (%v), want 42 from %v", buf[:n], from, err, addrOf(server))
			}

			if err := g.Close(); err != nil {
				t.Fatal(err)
			}
			send(99)
			_ = server.SetReadDeadline(time.Now().Add(30 * time.Second))
			if n, err := server.Read(buf); err != nil || n != 1 || buf[0] != 99 {
				t.Fatalf("after Close the socket read % x (%v), want 99", buf[:n], err)
			}
			reachesGroup(t, take(t, server, 2), send, addrOf(client)) // taken over again
		})
	}
}

// reachesGroup sends 200 datagrams with send, numbered from 1, and checks
// that g's two sockets read them all, from client.
func reachesGroup(t *testing.T, g *Group, send func(byte), client netip.AddrPort) {
	t.Helper()
	const many = 200
	for i := range many {
		send(byte(i + 1))
	}
	seen := make(map[byte]bool)
	ins := []*Batch{groupBatch(t, g, 0, 64, 8), groupBatch(t, g, 1, 64, 8)}
	for deadline := time.Now().Add(30 * time.Second); len(seen) < many && time.Now().Before(deadline); {
		for _, in := range ins {
			n, err := in.RecvWait()
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if in.Addr(i) != client {
					t.Fatalf("datagram from %v, want %v", in.Addr(i), client)
				}
				seen[in.Message(i)[0]] = true
			}
		}
	}
	if len(seen) != many || seen[0] {
		t.Fatalf("the group's sockets read %d datagrams of %d (the one held before: %v)", len(seen), many, seen[0])
	}
}

// groupBatch returns a Batch on g's socket i.
func groupBatch(t *testing.T, g *Group, i, n, size int) *Batch {
	t.Helper()
	b, err := g.Batch(i, n, size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTakeBuffers: a group's sockets have the receive and send buffers of
// the socket taken over, or the larger receive buffer asked for.
func TestTakeBuffers(t *testing.T) {
	_, c := pair(t, "udp4")
	if err := c.SetReadBuffer(300 << 10); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWriteBuffer(200 << 10); err != nil {
		t.Fatal(err)
	}
	want := [2]int{rcvbuf(t, c), sockopt(t, c, unix.SO_SNDBUF)}
	for _, ask := range []int{0, 2 * want[0]} {
		g, err := Take(c, 1, ask, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		got := [2]int{}
		for i, opt := range []int{unix.SO_RCVBUF, unix.SO_SNDBUF} {
			if got[i], err = unix.GetsockoptInt(g.fds[0], unix.SOL_SOCKET, opt); err != nil {
				t.Fatal(err)
			}
		}
		g.Close()
		if got[1] != want[1] || got[0] != max(want[0], 2*ask) {
			t.Errorf("asked for %d: buffers %v, want %v and a receive buffer of %d", ask, got, want, max(want[0], 2*ask))
		}
	}
}

// TestTakeRefuses sockets a group cannot take over.
func TestTakeRefuses(t *testing.T) {
	a, b := pair(t, "udp4")
	connected, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(addrOf(a)))
	if err != nil {
		t.Fatal(err)
	}
	defer connected.Close()
	take(t, b, 1)
	for name, c := range map[string]net.PacketConn{"connected": connected, "already shared": b, "not UDP": fakeConn{}} {
		if g, err := Take(c, 1, 0, time.Second); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, %v", name, g, err)
		}
	}
	if _, err := Take(a, 0, 0, time.Second); err == nil || errors.Is(err, ErrUnsupported) {
		t.Errorf("no sockets: %v", err)
	}
}

// TestGroupWaits: RecvWait on a group's socket returns 0 and no error when
// its receive timeout passes, reads what is queued without allocating, and
// Alive tells when the socket taken over is closed.
func TestGroupWaits(t *testing.T) {
	a, b := pair(t, "udp4")
	g := take(t, b, 1)
	in, out := groupBatch(t, g, 0, 8, 64), newBatch(t, a, 3, 64)
	if n, err := in.RecvWait(); n != 0 || err != nil {
		t.Fatalf("RecvWait with nothing sent: %d, %v; want the timeout's 0, nil", n, err)
	}
	for i := range 3 {
		out.SetMessage(i, []byte{byte(i), 7})
		out.SetAddr(i, addrOf(b))
	}
	round := func() {
		if n, err := out.Send(3); n != 3 || err != nil {
			t.Fatalf("Send: %d, %v", n, err)
		}
		for got := 0; got < 3; {
			n, err := in.RecvWait()
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if m := in.Message(i); len(m) != 2 || m[0] != byte(got+i) || in.Addr(i) != addrOf(a) {
					t.Fatalf("message %d: % x from %v", got+i, m, in.Addr(i))
				}
			}
			got += n
		}
	}
	round()
	if allocs := testing.AllocsPerRun(20, round); allocs != 0 {
		t.Errorf("%.1f allocations per batch waited for", allocs)
	}
	if err := g.Alive(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := g.Alive(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Alive after the socket was closed: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("Close after the socket was closed: %v", err)
	}
}
