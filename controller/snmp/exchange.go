package snmp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
)

// A v1 or v2c request does not go through gosnmp's send, which builds a
// new packet, a new buffer per TLV and a text dump of the packet (for a
// logger nobody set) for every request, and copies a 64 KiB receive buffer
// that every connected gosnmp.GoSNMP owns. exchange sends the request
// (appendRequest writes gosnmp's bytes into a reused buffer), reads the
// answer into the link's buffer, and has gosnmp decode it
// (GoSNMP.SnmpDecodePacket): gosnmp stays the SNMP library, only the loop
// around it is the session's. The loop keeps gosnmp's semantics: the same
// timeouts, retries, request-ID matching and error texts. v3 requests,
// which carry security state, still go through gosnmp's send.

// rxSize is gosnmp's receive buffer size: any UDP datagram fits.
const rxSize = 65536

// link is what a connected v1 or v2c session uses: its socket, a receive
// buffer and reused request buffers. A released link goes to idleLinks,
// so that a poll does not allocate a 64 KiB buffer: while polls run, the
// links in the pool are about as many as the polls in flight; a link left
// unused for two garbage collections is freed, so an idle poller holds
// none.
type link struct {
	// conn is new for each socket: when a request's context ends, a
	// goroutine of context.AfterFunc sets the socket's deadline, and may
	// still be doing so on the old one after the link was released.
	conn  *saneConn
	codec gosnmp.GoSNMP // decodes answers; never connected
	rx    [rxSize]byte
	tx    []byte
	ids   []uint32 // request IDs of the current request's sends
	reqID uint32
	// plan is what pruneBulk made of the varbinds of the answer exchange
	// returned last, when planned: that answer's pkt.Variables are the
	// varbinds it kept.
	plan    []byte
	planned bool
	// unwatch stops the context.AfterFunc that aborts the link's
	// requests when a walk's context ends (see Session.watch), nil when
	// each request sets up its own.
	unwatch func() bool
}

// idleLinks holds released links.
var idleLinks = sync.Pool{New: func() any { return &link{reqID: rand.Uint32() & 0x7fffffff} }}

// openLink returns a link for a v1 or v2c cfg with a new socket to
// host:port, taken from idleLinks when one waits there.
func openLink(cfg *Config, host string, port uint16) (*link, error) {
	conn, err := (&net.Dialer{Timeout: cfg.Timeout}).DialContext(context.Background(), "udp",
		net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		return nil, fmt.Errorf("snmp: open socket: error establishing connection to host: %w", err)
	}
	l := idleLinks.Get().(*link)
	l.setup(cfg, conn)
	return l, nil
}

// setup readies l, new or used, for cfg over conn.
func (l *link) setup(cfg *Config, conn net.Conn) {
	l.conn = &saneConn{Conn: conn, community: []byte(cfg.Community)}
	l.codec = gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: cfg.Community}
	if cfg.Version == "1" {
		l.codec.Version = gosnmp.Version1
	}
}

// close closes the link's socket and keeps the link for the next
// openLink.
func (l *link) close() error {
	err := l.conn.Conn.Close()
	l.conn = nil
	l.codec = gosnmp.GoSNMP{}
	idleLinks.Put(l)
	return err
}

// request is one request of a session: its PDU type, OIDs and, for
// GETBULK, max-repetitions and, when its answer may be pruned (see
// pruneBulk), the BER contents of the roots of its columns.
type request struct {
	typ   gosnmp.PDUType
	oids  []string
	rep   uint32
	roots [][]byte
}

// exchange sends r over l and returns the decoded answer, as gosnmp's send
// would for cfg: each try waits Timeout (or until ctx's deadline, if
// sooner), a datagram that is not an answer to one of this request's
// sends is skipped, an undecodable one or a read error spends a try, and
// after Retries more tries the last error is returned.
func (l *link) exchange(ctx context.Context, cfg *Config, r request) (*gosnmp.SnmpPacket, error) {
	if len(r.oids) > max(cfg.MaxOIDsPerRequest, gosnmp.MaxOids) {
		return nil, fmt.Errorf("oid count (%d) is greater than MaxOids (%d)", len(r.oids), max(cfg.MaxOIDsPerRequest, gosnmp.MaxOids))
	}
	l.ids = l.ids[:0]
	l.planned = false
	var err error
	ctxDeadline := false
	for try := 0; ; try++ {
		if try > 0 {
			if ctxDeadline && strings.Contains(err.Error(), "timeout") {
				return nil, context.DeadlineExceeded
			}
			if try > cfg.Retries {
				if strings.Contains(err.Error(), "timeout") {
					err = fmt.Errorf("request timeout (after %d retries): %w", try-1, gosnmp.ErrMaxRetriesExceeded)
				}
				return nil, err
			}
			ctxDeadline = false
		}
		if err = ctx.Err(); err != nil {
			return nil, err
		}
		deadline := time.Now().Add(cfg.Timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline, ctxDeadline = d, true
		}
		if err = l.conn.SetDeadline(deadline); err != nil {
			return nil, err
		}
		l.reqID = (l.reqID + 1) & 0x7fffffff
		l.ids = append(l.ids, l.reqID)
		var a, b uint32
		if r.typ == gosnmp.GetBulkRequest {
			b = r.rep & 0x7fffffff
		}
		l.tx, err = appendRequest(l.tx[:0], l.codec.Version, l.codec.Community, r.typ, l.reqID, a, b, r.oids)
		if err != nil {
			return nil, fmt.Errorf("marshal: %w", err)
		}
		if _, err = l.conn.Write(l.tx); err != nil {
			continue
		}
		var pkt *gosnmp.SnmpPacket
		if pkt, err = l.await(r); err == nil {
			return pkt, nil
		}
	}
}

// await reads datagrams until one answers a send of the current request
// r (by request ID, or ID 0) and returns it decoded, pruned when r says
// how (l.plan then says what became of each varbind). A read error or an
// undecodable datagram ends the wait with an error.
func (l *link) await(r request) (*gosnmp.SnmpPacket, error) {
	for {
		n, err := l.conn.Read(l.rx[:])
		if err != nil {
			return nil, fmt.Errorf("error reading from socket: %w", err)
		}
		if n == len(l.rx) {
			return nil, errors.New("response buffer too small")
		}
		pkt, err := l.decode(l.rx[:n], r.roots)
		if err != nil {
			return nil, err
		}
		// An empty answer is taken whatever its ID, as gosnmp does.
		if pkt.RequestID == 0 || l.sent(pkt.RequestID) || pkt.Error == gosnmp.NoError && len(pkt.Variables) == 0 {
			return pkt, nil
		}
	}
}

// sent reports whether id is one of the current request's sends.
func (l *link) sent(id uint32) bool {
	for _, s := range l.ids {
		if s == id {
			return true
		}
	}
	return false
}

// decode decodes the datagram msg, pruned first when roots are given and
// pruneBulk leaves something out (l.planned then says so). gosnmp's values
// may alias the bytes they were decoded from (an OCTET STRING as []byte):
// they are decoded from their own copy, as in gosnmp's own receive.
func (l *link) decode(msg []byte, roots [][]byte) (*gosnmp.SnmpPacket, error) {
	l.planned = false
	if roots != nil {
		var kept int
		var ok bool
		var pruned []byte
		pruned, l.plan, kept, ok = pruneBulk(make([]byte, 0, len(msg)), msg, roots, l.plan)
		if ok {
			pkt, err := l.codec.SnmpDecodePacket(pruned)
			if err == nil && len(pkt.Variables) == kept {
				l.planned = true
				return pkt, nil
			}
			// What gosnmp makes of the answer as it came decides.
		}
	}
	return l.codec.SnmpDecodePacket(append([]byte(nil), msg...))
}
