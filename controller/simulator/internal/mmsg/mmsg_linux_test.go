//go:build linux

package mmsg

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pair returns two sockets of network on loopback.
func pair(t *testing.T, network string) (a, b *net.UDPConn) {
	t.Helper()
	ip := net.IPv4(127, 0, 0, 1)
	if network == "udp6" {
		ip = net.IPv6loopback
	}
	for _, c := range []**net.UDPConn{&a, &b} {
		conn, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		*c = conn
	}
	return a, b
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

func newBatch(t *testing.T, c *net.UDPConn, n, size int) *Batch {
	t.Helper()
	b, err := New(c, n, size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRoundTrip sends a batch from a to b, which reads it in one call,
// sees a as the sender of each, and replies to each with ReplyTo.
func TestRoundTrip(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			a, b := pair(t, network)
			out, in := newBatch(t, a, 8, 64), newBatch(t, b, 16, 64)
			for i := range 8 {
				out.SetMessage(i, fmt.Appendf(out.Buffer(i)[:0], "request %d", i))
				out.SetAddr(i, addrOf(b))
			}
			if n, err := out.Send(8); n != 8 || err != nil {
				t.Fatalf("Send: %d, %v", n, err)
			}
			n, err := in.Recv()
			if err != nil || n != 8 {
				t.Fatalf("Recv: %d, %v; want the 8 queued", n, err)
			}
			replies := newBatch(t, b, 8, 0)
			for i := range n {
				if got, want := string(in.Message(i)), fmt.Sprintf("request %d", i); got != want {
					t.Errorf("message %d: %q, want %q", i, got, want)
				}
				if in.Addr(i) != addrOf(a) {
					t.Errorf("message %d from %v, want %v", i, in.Addr(i), addrOf(a))
				}
				replies.SetMessage(i, []byte{byte(i)})
				replies.ReplyTo(i, in, i)
			}
			if m, err := replies.Send(n); m != n || err != nil {
				t.Fatalf("replies: %d, %v", m, err)
			}
			back := newBatch(t, a, 8, 16)
			if m, err := back.Recv(); m != n || err != nil {
				t.Fatalf("Recv of replies: %d, %v", m, err)
			}
			for i := range n {
				if got := back.Message(i); len(got) != 1 || got[0] != byte(i) {
					t.Errorf("reply %d: % x", i, got)
				}
			}
		})
	}
}

// TestSendSkipsRefused: a datagram the kernel refuses (to port 0) does not
// stop those after it.
func TestSendSkipsRefused(t *testing.T) {
	a, b := pair(t, "udp4")
	out, in := newBatch(t, a, 3, 8), newBatch(t, b, 4, 8)
	for i, to := range []netip.AddrPort{addrOf(b), netip.MustParseAddrPort("127.0.0.1:0"), addrOf(b)} {
		out.SetMessage(i, []byte{byte(i)})
		out.SetAddr(i, to)
	}
	n, err := out.Send(3)
	if n != 2 || err == nil {
		t.Fatalf("Send: %d, %v; want 2 sent and the refusal", n, err)
	}
	if n, err := in.Recv(); n != 2 || err != nil || in.Message(0)[0] != 0 || in.Message(1)[0] != 2 {
		t.Fatalf("Recv: %d, %v", n, err)
	}
}

// TestRecvStops: Recv returns the socket's deadline and closing as errors.
func TestRecvStops(t *testing.T) {
	a, _ := pair(t, "udp4")
	in := newBatch(t, a, 4, 8)
	_ = a.SetReadDeadline(time.Now().Add(-time.Second))
	var ne net.Error
	if _, err := in.Recv(); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Recv past the deadline: %v", err)
	}
	_ = a.SetReadDeadline(time.Time{})
	a.Close()
	if _, err := in.Recv(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Recv on a closed socket: %v", err)
	}
	if _, err := New(fakeConn{}, 4, 8); !errors.Is(err, ErrUnsupported) {
		t.Errorf("New on a PacketConn that is no UDP socket: %v", err)
	}
	if err := GrowReadBuffer(fakeConn{}, 1<<20); !errors.Is(err, ErrUnsupported) {
		t.Errorf("GrowReadBuffer on a PacketConn that is no UDP socket: %v", err)
	}
}

// fakeConn is a PacketConn that is not a socket.
type fakeConn struct{ net.PacketConn }

// TestNoAllocs: sending and receiving a batch allocates nothing.
func TestNoAllocs(t *testing.T) {
	a, b := pair(t, "udp4")
	out, in := newBatch(t, a, 32, 64), newBatch(t, b, 32, 64)
	for i := range 32 {
		out.SetMessage(i, out.Buffer(i)[:40])
		out.SetAddr(i, addrOf(b))
	}
	round := func() {
		if n, err := out.Send(32); n != 32 || err != nil {
			t.Fatalf("Send: %d, %v", n, err)
		}
		if n, err := in.Recv(); n != 32 || err != nil {
			t.Fatalf("Recv: %d, %v", n, err)
		}
	}
	if allocs := testing.AllocsPerRun(50, round); allocs != 0 {
		t.Errorf("%.1f allocations per batch of 32 sent and received", allocs)
	}
}

// rcvbuf returns a socket's receive buffer as the kernel reports it.
func rcvbuf(t *testing.T, c *net.UDPConn) int { return sockopt(t, c, unix.SO_RCVBUF) }

// sockopt returns a socket's integer option opt of level SOL_SOCKET.
func sockopt(t *testing.T, c *net.UDPConn, opt int) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var serr error
	if err := rc.Control(func(fd uintptr) { n, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, opt) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return n
}

// TestGrowReadBuffer raises a socket's receive buffer and leaves a larger
// one alone.
func TestGrowReadBuffer(t *testing.T) {
	a, _ := pair(t, "udp4")
	before := rcvbuf(t, a)
	if err := GrowReadBuffer(a, before); err != nil { // ask for twice what it has
		t.Fatal(err)
	}
	grown := rcvbuf(t, a)
	if grown <= before {
		t.Skipf("receive buffer %d not raised above %d: net.core.rmem_max too low", grown, before)
	}
	if err := GrowReadBuffer(a, before/4); err != nil {
		t.Fatal(err)
	}
	if got := rcvbuf(t, a); got != grown {
		t.Errorf("receive buffer %d shrunk to %d", grown, got)
	}
}

// TestRecvWaitAfterFewer: slots a read left untouched keep serving the
// next read after one that filled fewer of them.
func TestRecvWaitAfterFewer(t *testing.T) {
	a, b := pair(t, "udp4")
	in, out := newBatch(t, b, 4, 64), newBatch(t, a, 4, 64)
	for i := range 4 {
		out.SetMessage(i, bytes.Repeat([]byte{byte(i)}, 10+i))
		out.SetAddr(i, addrOf(b))
	}
	for _, k := range []int{4, 1, 3, 4} {
		if n, err := out.Send(k); n != k || err != nil {
			t.Fatalf("Send: %d, %v", n, err)
		}
		n, err := in.Recv()
		if n != k || err != nil {
			t.Fatalf("Recv: %d, %v; want %d", n, err, k)
		}
		for i := range n {
			if m := in.Message(i); !bytes.Equal(m, bytes.Repeat([]byte{byte(i)}, 10+i)) || in.Addr(i) != addrOf(a) {
				t.Fatalf("after %d: message %d: % x from %v", k, i, m, in.Addr(i))
			}
		}
	}
}
