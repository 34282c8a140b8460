//go:build linux

package mmsg

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is the kernel's struct mmsghdr: a message header and the length
// the call transferred (the compiler pads it as C does).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// Batch is n datagram slots bound to one UDP socket, each with a buffer of
// the size given to New, a peer address and a length. Recv fills the slots
// from the socket, Send writes the first slots to it; between calls the
// slots are read and set with Message, Buffer, SetMessage, SetAddr and
// ReplyTo. A Batch is not safe for concurrent use; several Batches may
// share one socket.
type Batch struct {
	rc    syscall.RawConn // the socket, or nil for fd
	fd    int             // a blocking socket of a Group, outside the runtime's poller
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // the largest address of a UDP socket
	msgs  [][]byte                // what SetMessage set, kept alive for Send
	bufs  []byte                  // n slots of size bytes
	size  int
	dirty int // slots 0..dirty-1 may differ from what a read needs

	// The call in progress, for recvF and sendF (bound once: a closure
	// made per call would allocate).
	off, want, got int
	errno          syscall.Errno
	recvF, sendF   func(uintptr) bool
	waitF          func(uintptr) bool
}

// New returns a Batch of n slots (1..MaxBatch) on conn, which must be a
// *net.UDPConn (ErrUnsupported otherwise), each slot with a buffer of size
// bytes for Recv (0 for a Batch that only sends messages set with
// SetMessage). Slots are allocated once, here.
func New(conn net.PacketConn, n, size int) (*Batch, error) {
	udp, ok := conn.(*net.UDPConn)
	if !ok {
		return nil, ErrUnsupported
	}
	rc, err := udp.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("mmsg: %w", err)
	}
	return makeBatch(rc, -1, n, size)
}

// makeBatch allocates a Batch on rc, or on fd when rc is nil.
func makeBatch(rc syscall.RawConn, fd, n, size int) (*Batch, error) {
	if n < 1 || n > MaxBatch || size < 0 {
		return nil, fmt.Errorf("mmsg: batch of %d slots of %d bytes (want 1..%d slots)", n, size, MaxBatch)
	}
	b := &Batch{rc: rc, fd: fd, hdrs: make([]mmsghdr, n), iovs: make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet6, n), msgs: make([][]byte, n), bufs: make([]byte, n*size), size: size, dirty: n}
	for i := range b.hdrs {
		h := &b.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		if size > 0 {
			b.iovs[i].Base = &b.bufs[i*size]
		}
	}
	b.recvF, b.sendF, b.waitF = b.recv, b.send, b.wait
	return b, nil
}

// Len returns the number of slots.
func (b *Batch) Len() int { return len(b.hdrs) }

// Buffer returns slot i's whole buffer, to build a message in.
func (b *Batch) Buffer(i int) []byte { return b.bufs[i*b.size : (i+1)*b.size : (i+1)*b.size] }

// Message returns the datagram Recv put in slot i (it shares the slot's
// buffer, valid until the next Recv).
func (b *Batch) Message(i int) []byte {
	return b.bufs[i*b.size : i*b.size+int(b.hdrs[i].n)]
}

// SetMessage makes p the datagram Send writes from slot i. p may be the
// slot's Buffer or any other memory, which must not change before Send.
func (b *Batch) SetMessage(i int, p []byte) {
	b.dirty = max(b.dirty, i+1)
	b.msgs[i] = p
	b.iovs[i].Base = nil
	if len(p) > 0 {
		b.iovs[i].Base = &p[0]
	}
	b.iovs[i].SetLen(len(p))
}

// SetAddr makes ap the destination of slot i. An IPv4 address needs an
// IPv4 socket, an IPv6 address an IPv6 one.
func (b *Batch) SetAddr(i int, ap netip.AddrPort) {
	b.dirty = max(b.dirty, i+1)
	sa := &b.names[i]
	*sa = unix.RawSockaddrInet6{}
	port := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order in both layouts
	if a := ap.Addr(); a.Is4() {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		sa4.Addr = a.As4()
		b.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet4
	} else {
		sa.Family = unix.AF_INET6
		sa.Addr = a.As16()
		b.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
	}
	port[0], port[1] = byte(ap.Port()>>8), byte(ap.Port())
}

// Addr returns the sender of the datagram Recv put in slot i, or the
// destination SetAddr or ReplyTo gave it; the zero AddrPort if it has none.
func (b *Batch) Addr(i int) netip.AddrPort {
	sa := &b.names[i]
	port := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p := uint16(port[0])<<8 | uint16(port[1])
	switch {
	case sa.Family == unix.AF_INET && b.hdrs[i].hdr.Namelen >= unix.SizeofSockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4((*unix.RawSockaddrInet4)(unsafe.Pointer(sa)).Addr), p)
	case sa.Family == unix.AF_INET6 && b.hdrs[i].hdr.Namelen >= unix.SizeofSockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), p)
	}
	return netip.AddrPort{}
}

// ReplyTo makes the sender of the datagram in from's slot j the
// destination of slot i, copying the address as the kernel gave it.
func (b *Batch) ReplyTo(i int, from *Batch, j int) {
	b.dirty = max(b.dirty, i+1)
	b.names[i] = from.names[j]
	b.hdrs[i].hdr.Namelen = from.hdrs[j].hdr.Namelen
}

// Recv waits for at least one datagram (or the socket's read deadline) and
// reads as many as are queued, up to Len, in one system call. It returns
// how many slots it filled; read them with Message and Addr. A datagram
// larger than the slot's buffer is cut to it. The error is the socket's
// (closed, deadline passed: a *net.OpError) or the system call's.
func (b *Batch) Recv() (int, error) {
	if b.rc == nil {
		return b.recvWith(b.waitF) // a blocking socket: recvmmsg would wait for all slots
	}
	return b.recvWith(b.recvF)
}

// RecvWait reads as Recv does, but waits for the first datagram in the
// system call itself (recvmmsg with MSG_WAITFORONE) instead of in the Go
// runtime's network poller: for a Batch on a socket of a Group, which
// blocks. It returns 0 and no error when the socket's receive timeout
// passed with nothing to read, and at once when nothing is queued on a
// non-blocking socket (a *net.UDPConn): a read that never waits.
func (b *Batch) RecvWait() (int, error) { return b.recvWith(b.waitF) }

// recvWith prepares the slots for a read and makes it with f.
func (b *Batch) recvWith(f func(uintptr) bool) (int, error) {
	if b.size == 0 {
		return 0, errors.New("mmsg: Recv on a batch without buffers")
	}
	// The kernel writes only the slots it fills: a light load, one
	// datagram a read, resets one slot, not all.
	for i := range b.dirty {
		b.iovs[i].SetLen(b.size)
		b.iovs[i].Base = &b.bufs[i*b.size]
		b.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		b.hdrs[i].n = 0
	}
	b.off, b.want, b.got, b.errno = 0, len(b.hdrs), 0, 0
	b.dirty = len(b.hdrs) // until the read says how many it filled
	if b.rc == nil {
		f(uintptr(b.fd))
	} else if err := b.rc.Read(f); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", b.errno)
	}
	b.dirty = b.got
	return b.got, nil
}

// wait is one recvmmsg that may block; it never asks the runtime to wait.
func (b *Batch) wait(fd uintptr) bool {
	if !b.callFlags(unix.SYS_RECVMMSG, fd, unix.MSG_WAITFORONE) {
		b.got = 0 // the receive timeout, or nothing queued
	}
	return true
}

// recv is one recvmmsg; false asks the runtime to wait for the socket.
func (b *Batch) recv(fd uintptr) bool { return b.call(unix.SYS_RECVMMSG, fd) }

// Send writes the datagrams of slots 0..n-1, in as few system calls as the
// kernel allows, waiting while the socket's buffer is full. A datagram the
// kernel refuses is skipped and the others are still sent; Send returns
// how many were sent and the first such refusal, or the socket's error
// (closed) after which nothing more is sent.
func (b *Batch) Send(n int) (int, error) {
	sent := 0
	var first error
	for off := 0; off < n; {
		b.off, b.want, b.got, b.errno = off, n-off, 0, 0
		if b.rc == nil {
			b.sendF(uintptr(b.fd))
		} else if err := b.rc.Write(b.sendF); err != nil {
			return sent, err
		}
		if b.errno != 0 || b.got == 0 {
			if first == nil {
				first = os.NewSyscallError("sendmmsg", b.errno)
			}
			off++ // the datagram at off was refused
			continue
		}
		sent += b.got
		off += b.got
	}
	return sent, first
}

// send is one sendmmsg; false asks the runtime to wait for the socket.
func (b *Batch) send(fd uintptr) bool { return b.call(unix.SYS_SENDMMSG, fd) }

// call makes the system call trap (recvmmsg or sendmmsg) on the headers
// from off, want of them, keeping its result in got or errno; false asks
// the runtime to wait for the socket.
func (b *Batch) call(trap, fd uintptr) bool { return b.callFlags(trap, fd, 0) }

// callFlags is call with the system call's flags.
func (b *Batch) callFlags(trap, fd, flags uintptr) bool {
	for {
		r, _, e := unix.Syscall6(trap, fd, uintptr(unsafe.Pointer(&b.hdrs[b.off])), uintptr(b.want), flags, 0, 0)
		switch e {
		case 0:
			b.got = int(r)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		b.errno = e
		return true
	}
}

// GrowReadBuffer raises the receive buffer of conn, a *net.UDPConn, to at
// least n bytes (within the system's net.core.rmem_max), leaving a larger
// one as it is: datagrams that arrive while a batch is being answered wait
// there instead of being dropped.
func GrowReadBuffer(conn net.PacketConn, n int) error {
	udp, ok := conn.(*net.UDPConn)
	if !ok {
		return ErrUnsupported
	}
	rc, err := udp.SyscallConn()
	if err != nil {
		return fmt.Errorf("mmsg: %w", err)
	}
	cur := 0
	var serr error
	if err := rc.Control(func(fd uintptr) { cur, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil {
		return fmt.Errorf("mmsg: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("mmsg: receive buffer: %w", serr)
	}
	if cur/2 >= n { // the kernel reports twice what was set
		return nil
	}
	if err := udp.SetReadBuffer(n); err != nil {
		return fmt.Errorf("mmsg: receive buffer: %w", err)
	}
	return nil
}
