// Package mmsg reads and writes batches of UDP datagrams with one system
// call each way (recvmmsg and sendmmsg on Linux), without allocating: a
// Batch's message headers, buffers and peer addresses are allocated once
// and reused for every call.
//
// golang.org/x/net/ipv4's ReadBatch does the same system calls but parses
// every sender's address into a new *net.UDPAddr (two allocations per
// datagram); a Batch keeps the raw socket address instead, which is all
// an answer needs: Reply sends a datagram back to where another one came
// from without looking at the address.
//
// A Group (Take) is sockets of the process's own that take a UDP socket's
// address over, outside the Go runtime's network poller: reading them
// waits in the kernel (Batch.RecvWait), so a light load does not pay the
// poller's wake-ups.
//
// On other systems New and Take return ErrUnsupported and callers keep
// their one-datagram-at-a-time path.
package mmsg

import "errors"

// ErrUnsupported is returned by New where batched system calls do not
// exist, or for a connection that is not a UDP socket.
var ErrUnsupported = errors.New("mmsg: batched datagram system calls are not supported here")

// MaxBatch is the most datagrams one Batch holds (the kernel's UIO_MAXIOV
// bound on one recvmmsg or sendmmsg).
const MaxBatch = 1024
