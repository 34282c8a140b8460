//go:build linux

package mmsg

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Group is sockets of the process's own that take over a UDP socket's
// address: each datagram sent to it goes to one of them, chosen by the
// CPU it arrived on, and none to the socket taken over.
//
// The Go runtime registers every socket it makes with its network poller,
// whose thread then wakes for each datagram that arrives, wanted or not;
// a Group's sockets are made with socket(2) and the runtime never hears
// of them. They block: a read waits in the kernel (Batch.RecvWait), for at
// most the Group's receive timeout, so a goroutine reading one holds its
// thread while it waits.
//
// The sockets join the taken one's address through SO_REUSEPORT, which
// Take sets on it too, and a classic BPF program steers every datagram to
// them. While the Group is open another socket of the same user could
// join the address as well.
type Group struct {
	orig syscall.RawConn // the socket taken over
	fds  []int
}

// skfAdCPU is what a classic BPF program loads to read the CPU a datagram
// arrived on (SKF_AD_OFF + SKF_AD_CPU, missing from golang.org/x/sys/unix).
const skfAdCPU = 0xfffff000 + 36

// Take opens n (1..64) sockets that take over conn's address, each with
// conn's send buffer, a receive buffer as large as conn's and of at least
// rcvbuf bytes (within net.core.rmem_max), and a receive timeout of wait. conn must be an unconnected *net.UDPConn not
// bound to a device and not sharing its address already (SO_REUSEPORT
// unset); ErrUnsupported otherwise. conn keeps its address, and gets no
// datagram until Close; datagrams it held already stay there, for Drain.
func Take(conn net.PacketConn, n, rcvbuf int, wait time.Duration) (*Group, error) {
	udp, ok := conn.(*net.UDPConn)
	if !ok || udp.RemoteAddr() != nil {
		return nil, ErrUnsupported
	}
	if n < 1 || n > 64 {
		return nil, fmt.Errorf("mmsg: group of %d sockets (want 1..64)", n)
	}
	rc, err := udp.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("mmsg: %w", err)
	}
	var sa unix.Sockaddr
	var family, v6only int
	var bufs [2]int // the socket's receive and send buffers, as the kernel reports them (twice what was set)
	var serr error
	err = rc.Control(func(fd uintptr) {
		s := int(fd)
		var reuse int
		var dev string
		if family, serr = unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_DOMAIN); serr != nil {
			return
		}
		if bufs[0], serr = unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_RCVBUF); serr != nil {
			return
		}
		if bufs[1], serr = unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_SNDBUF); serr != nil {
			return
		}
		if reuse, serr = unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEPORT); serr != nil {
			return
		}
		if dev, serr = unix.GetsockoptString(s, unix.SOL_SOCKET, unix.SO_BINDTODEVICE); serr != nil {
			return
		}
		if reuse != 0 || dev != "" {
			serr = ErrUnsupported
			return
		}
		if family == unix.AF_INET6 {
			if v6only, serr = unix.GetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); serr != nil {
				return
			}
		}
		if sa, serr = unix.Getsockname(s); serr != nil {
			return
		}
		serr = unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err = errors.Join(err, serr); err != nil {
		if errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		return nil, fmt.Errorf("mmsg: socket to take over: %w", err)
	}
	g := &Group{orig: rc}
	for range n {
		fd, err := open(family, v6only, sa, [2]int{max(rcvbuf, bufs[0]/2), bufs[1] / 2}, wait)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.fds = append(g.fds, fd)
	}
	// The taken socket is the first of the address's sockets, the
	// group's follow: the program returns 1 + CPU mod n.
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: skfAdCPU},
		{Code: unix.BPF_ALU | unix.BPF_MOD | unix.BPF_K, K: uint32(n)},
		{Code: unix.BPF_ALU | unix.BPF_ADD | unix.BPF_K, K: 1},
		{Code: unix.BPF_RET | unix.BPF_A},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(g.fds[0], unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, &fprog); err != nil {
		g.Close()
		return nil, fmt.Errorf("mmsg: steering program: %w", err)
	}
	return g, nil
}

// open returns a blocking UDP socket bound to sa beside the socket taken
// over, with at least the receive and send buffers of bufs.
func open(family, v6only int, sa unix.Sockaddr, bufs [2]int, wait time.Duration) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, fmt.Errorf("mmsg: socket: %w", err)
	}
	tv := unix.NsecToTimeval(max(wait, time.Microsecond).Nanoseconds())
	err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	if err == nil && family == unix.AF_INET6 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only)
	}
	if err == nil {
		err = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	}
	if err == nil {
		// Fewer drops; not needed to serve.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, bufs[0])
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, bufs[1])
		err = unix.Bind(fd, sa)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("mmsg: socket beside the one taken over: %w", err)
	}
	return fd, nil
}

// Len returns the number of sockets.
func (g *Group) Len() int { return len(g.fds) }

// Batch returns a Batch of n slots of size bytes on socket i, for
// RecvWait (Recv reads the same way) and Send, which waits while the
// socket's buffer is full. It must not be used after Close.
func (g *Group) Batch(i, n, size int) (*Batch, error) { return makeBatch(nil, g.fds[i], n, size) }

// Close closes the sockets, datagrams they held unread included, and
// gives the address back to the socket taken over (its SO_REUSEPORT
// unset), unless that one was closed meanwhile. No Batch of the Group may
// be in use.
func (g *Group) Close() error {
	var errs []error
	for _, fd := range g.fds {
		errs = append(errs, unix.Close(fd))
	}
	g.fds = nil
	_ = g.orig.Control(func(fd uintptr) {
		errs = append(errs, unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 0))
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mmsg: closing a group: %w", err)
	}
	return nil
}

// Alive returns nil while the socket taken over is open, and its error
// (net.ErrClosed) once it was closed.
func (g *Group) Alive() error {
	return g.orig.Control(func(uintptr) {})
}
