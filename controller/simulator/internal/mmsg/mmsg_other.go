//go:build !linux

package mmsg

import (
	"net"
	"net/netip"
	"time"
)

// Batch is a set of datagram slots; on this system it cannot be built.
type Batch struct{}

// New returns ErrUnsupported: there is no recvmmsg or sendmmsg here.
func New(conn net.PacketConn, n, size int) (*Batch, error) { return nil, ErrUnsupported }

// Len is always 0.
func (b *Batch) Len() int { return 0 }

// Buffer is always nil.
func (b *Batch) Buffer(i int) []byte { return nil }

// Message is always nil.
func (b *Batch) Message(i int) []byte { return nil }

// SetMessage does nothing.
func (b *Batch) SetMessage(i int, p []byte) {}

// SetAddr does nothing.
func (b *Batch) SetAddr(i int, ap netip.AddrPort) {}

// Addr is always the zero AddrPort.
func (b *Batch) Addr(i int) netip.AddrPort { return netip.AddrPort{} }

// ReplyTo does nothing.
func (b *Batch) ReplyTo(i int, from *Batch, j int) {}

// Recv returns ErrUnsupported.
func (b *Batch) Recv() (int, error) { return 0, ErrUnsupported }

// RecvWait returns ErrUnsupported.
func (b *Batch) RecvWait() (int, error) { return 0, ErrUnsupported }

// Group is a set of sockets sharing an address; on this system it cannot
// be made.
type Group struct{}

// Take returns ErrUnsupported.
func Take(conn net.PacketConn, n, rcvbuf int, wait time.Duration) (*Group, error) {
	return nil, ErrUnsupported
}

// Len is always 0.
func (g *Group) Len() int { return 0 }

// Batch returns ErrUnsupported.
func (g *Group) Batch(i, n, size int) (*Batch, error) { return nil, ErrUnsupported }

// Close does nothing.
func (g *Group) Close() error { return nil }

// Alive returns ErrUnsupported.
func (g *Group) Alive() error { return ErrUnsupported }

// Send returns ErrUnsupported.
func (b *Batch) Send(n int) (int, error) { return 0, ErrUnsupported }

// GrowReadBuffer returns ErrUnsupported.
func GrowReadBuffer(conn net.PacketConn, n int) error { return ErrUnsupported }
