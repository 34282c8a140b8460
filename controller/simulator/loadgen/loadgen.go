// Package loadgen drives SNMP agents at the rate they can take: GETBULK
// requests to many agents (communities) of one address, many requests in
// flight, sent and received in batches of datagrams per system call
// (sendmmsg, recvmmsg), counting answers, timeouts and malformed replies.
// It measures the project's simulator; any SNMPv2c agent will do.
//
// Each socket is one goroutine with its share of the requests in flight:
// an answer frees its slot, which sends the next request at once; a
// request unanswered after Options.Timeout is counted and replaced. It
// runs on Linux only (Run returns an error elsewhere).
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ngic/ngic/controller/simulator/internal/ber"
	"github.com/ngic/ngic/controller/simulator/internal/mmsg"
	"github.com/ngic/ngic/controller/snmprec"
)

// Options configure Run. Zero fields take their value from DefaultOptions,
// except Target, Communities and one of Duration or Requests.
type Options struct {
	// Target is the agents' UDP address.
	Target netip.AddrPort
	// Communities are the agents; requests go to each in turn.
	Communities []string
	// OID is the GETBULK's one varbind; default IF-MIB ifTable.
	OID string
	// MaxRepetitions is the GETBULK's max-repetitions, how many varbinds
	// an answer holds; default 25.
	MaxRepetitions int
	// InFlight is how many requests are outstanding at once over all
	// sockets; default 256.
	InFlight int
	// Sockets is how many sockets (each with its goroutine) share them;
	// default GOMAXPROCS.
	Sockets int
	// Batch is the most datagrams read per system call; default 64.
	Batch int
	// Timeout is how long a request waits for its answer before it is
	// counted as timed out and replaced; default 1 s.
	Timeout time.Duration
	// Duration is how long requests are sent; those in flight at the end
	// are still waited for.
	Duration time.Duration
	// Requests, when positive, stops sending after this many requests.
	Requests int
}

// DefaultOptions hold the defaults of Options' zero fields.
var DefaultOptions = Options{OID: "1.3.6.1.2.1.2.2", MaxRepetitions: 25, InFlight: 256, Batch: 64, Timeout: time.Second}

// maxSlots bounds the requests in flight per socket: the slot is the low
// bits of a request-id.
const (
	slotBits = 10
	maxSlots = 1 << slotBits
)

// Result counts what a Run saw.
type Result struct {
	// Sent is how many requests were sent, Answers how many got a
	// well-formed answer with error-status noError, Varbinds how many
	// varbinds those held.
	Sent, Answers, Varbinds int64
	// Timeouts is how many requests got no answer within the timeout;
	// Late how many answers came after that (not counted as answers).
	Timeouts, Late int64
	// Malformed is how many datagrams were no answer: not BER, not a v2c
	// Response, an error-status, a request-id no request ever had.
	Malformed int64
	// Elapsed runs from the first request to the last answer (not to the
	// timeouts of the last requests, which would not measure the agent).
	Elapsed time.Duration
}

// PerSecond returns the answers per second.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Answers) / r.Elapsed.Seconds()
}

// String sums the result up on one line.
func (r Result) String() string {
	vb := 0.0
	if r.Answers > 0 {
		vb = float64(r.Varbinds) / float64(r.Answers)
	}
	return fmt.Sprintf("%.0f requests/s: %d sent, %d answered (%.1f varbinds each), %d timed out, %d late, %d malformed in %.2fs",
		r.PerSecond(), r.Sent, r.Answers, vb, r.Timeouts, r.Late, r.Malformed, r.Elapsed.Seconds())
}

// check fills defaults and rejects options that cannot run.
func (o *Options) check() error {
	d := DefaultOptions
	if o.OID == "" {
		o.OID = d.OID
	}
	if o.MaxRepetitions == 0 {
		o.MaxRepetitions = d.MaxRepetitions
	}
	if o.InFlight == 0 {
		o.InFlight = d.InFlight
	}
	if o.Sockets == 0 {
		o.Sockets = min(runtime.GOMAXPROCS(0), o.InFlight)
	}
	if o.Batch == 0 {
		o.Batch = d.Batch
	}
	if o.Timeout == 0 {
		o.Timeout = d.Timeout
	}
	switch {
	case !o.Target.IsValid():
		return errors.New("loadgen: no Target")
	case len(o.Communities) == 0:
		return errors.New("loadgen: no Communities")
	case o.Duration <= 0 && o.Requests <= 0:
		return errors.New("loadgen: neither Duration nor Requests")
	case o.MaxRepetitions < 0 || o.MaxRepetitions > 65535:
		return fmt.Errorf("loadgen: MaxRepetitions %d outside 0..65535", o.MaxRepetitions)
	case o.Sockets < 1 || o.InFlight < o.Sockets || o.InFlight > o.Sockets*maxSlots:
		return fmt.Errorf("loadgen: InFlight %d over Sockets %d: want 1..%d per socket", o.InFlight, o.Sockets, maxSlots)
	case o.Batch < 1 || o.Batch > mmsg.MaxBatch:
		return fmt.Errorf("loadgen: Batch %d outside 1..%d", o.Batch, mmsg.MaxBatch)
	case o.Timeout < 0:
		return fmt.Errorf("loadgen: Timeout %v is negative", o.Timeout)
	}
	return nil
}

// Run sends GETBULK requests to the agents until Duration has passed or
// Requests were sent, waits for those in flight, and returns the counts.
// It returns early, with the counts so far, when ctx ends (within
// Timeout) or a socket fails.
func Run(ctx context.Context, opts Options) (Result, error) {
	if err := opts.check(); err != nil {
		return Result{}, err
	}
	tmpl, err := newTemplates(opts)
	if err != nil {
		return Result{}, err
	}
	network := "udp4"
	if !opts.Target.Addr().Unmap().Is4() {
		network = "udp6"
	}
	opts.Target = netip.AddrPortFrom(opts.Target.Addr().Unmap(), opts.Target.Port())
	start := time.Now()
	sh := &shared{opts: opts, start: start, budget: int64(opts.Requests)}
	if opts.Duration > 0 {
		sh.stopAt = opts.Duration
	}
	runners := make([]*runner, opts.Sockets)
	for i := range runners {
		slots := opts.InFlight / opts.Sockets
		if i < opts.InFlight%opts.Sockets {
			slots++
		}
		conn, err := net.ListenUDP(network, nil)
		if err != nil {
			closeAll(runners)
			return Result{}, fmt.Errorf("loadgen: socket: %w", err)
		}
		_ = mmsg.GrowReadBuffer(conn, 4<<20) // answers to the requests in flight arrive at once
		if runners[i], err = newRunner(sh, conn, slots, tmpl, i); err != nil {
			conn.Close()
			closeAll(runners)
			return Result{}, err
		}
	}
	defer closeAll(runners)
	var wg sync.WaitGroup
	errs := make([]error, len(runners))
	for i, r := range runners {
		wg.Go(func() { errs[i] = r.run(ctx) })
	}
	wg.Wait()
	var res Result
	for _, r := range runners {
		res.Sent += r.res.Sent
		res.Answers += r.res.Answers
		res.Varbinds += r.res.Varbinds
		res.Timeouts += r.res.Timeouts
		res.Late += r.res.Late
		res.Malformed += r.res.Malformed
		res.Elapsed = max(res.Elapsed, r.res.Elapsed)
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// closeAll closes the runners' sockets.
func closeAll(rs []*runner) {
	for _, r := range rs {
		if r != nil {
			r.conn.Close()
		}
	}
}

// shared is what the runners of one Run share.
type shared struct {
	opts   Options
	start  time.Time
	stopAt time.Duration // no request sent after this (0: no end)
	budget int64         // requests left to send when Options.Requests > 0
	spent  atomic.Int64
}

// mayIssue reports whether one more request may be sent at elapsed d.
func (sh *shared) mayIssue(d time.Duration) bool {
	if sh.stopAt > 0 && d >= sh.stopAt {
		return false
	}
	return sh.budget <= 0 || sh.spent.Add(1) <= sh.budget
}

// template is an encoded GETBULK for one community whose request-id (four
// octets at idAt) is patched in per request.
type template struct {
	msg  []byte
	idAt int
}

// newTemplates encodes one request per community.
func newTemplates(o Options) ([]template, error) {
	oid, err := snmprec.AppendOID(nil, o.OID)
	if err != nil {
		return nil, fmt.Errorf("loadgen: OID %q: %w", o.OID, err)
	}
	vbl := ber.AppendTLV(nil, ber.TagSequence, append(ber.AppendTLV(nil, ber.TagOID, oid), ber.TagNull, 0))
	out := make([]template, len(o.Communities))
	for i, c := range o.Communities {
		pdu := []byte{ber.TagInteger, 4, 0, 0, 0, 0, ber.TagInteger, 1, 0} // request-id, non-repeaters 0
		pdu = appendUint(pdu, o.MaxRepetitions)
		pdu = ber.AppendTLV(pdu, ber.TagSequence, vbl)
		head := ber.AppendTLV([]byte{ber.TagInteger, 1, 1}, ber.TagOctetString, []byte(c)) // version 2c
		msg := ber.AppendTLV(head, pduGetBulk, pdu)
		idAt := len(msg) - len(pdu) + 2
		all := ber.AppendTLV(nil, ber.TagSequence, msg)
		out[i] = template{msg: all, idAt: idAt + len(all) - len(msg)}
	}
	return out, nil
}

// appendUint appends an INTEGER TLV of 0 <= x < 2^23.
func appendUint(dst []byte, x int) []byte {
	switch {
	case x < 0x80:
		return append(dst, ber.TagInteger, 1, byte(x))
	case x < 0x8000:
		return append(dst, ber.TagInteger, 2, byte(x>>8), byte(x))
	}
	return append(dst, ber.TagInteger, 3, byte(x>>16), byte(x>>8), byte(x))
}

// SNMP PDU tags.
const (
	pduResponse = 0xa2
	pduGetBulk  = 0xa5
)

// parseAnswer reads an SNMPv2c Response: its request-id and how many
// varbinds it holds; ok is false for anything else, including an answer
// with an error-status.
func parseAnswer(b []byte) (id int64, varbinds int, ok bool) {
	tag, _, msg, _, ok := ber.ReadTLV(b)
	if !ok || tag != ber.TagSequence {
		return 0, 0, false
	}
	var c []byte
	if tag, _, c, msg, ok = ber.ReadTLV(msg); !ok {
		return 0, 0, false
	}
	if v, ok := ber.ReadInt(tag, c); !ok || v != 1 {
		return 0, 0, false
	}
	if tag, _, _, msg, ok = ber.ReadTLV(msg); !ok || tag != ber.TagOctetString {
		return 0, 0, false
	}
	var pdu []byte
	if tag, _, pdu, _, ok = ber.ReadTLV(msg); !ok || tag != pduResponse {
		return 0, 0, false
	}
	var fields [3]int64 // request-id, error-status, error-index
	for i := range fields {
		if tag, _, c, pdu, ok = ber.ReadTLV(pdu); !ok {
			return 0, 0, false
		}
		if fields[i], ok = ber.ReadInt(tag, c); !ok {
			return 0, 0, false
		}
	}
	if fields[1] != 0 {
		return 0, 0, false
	}
	var vbl []byte
	if tag, _, vbl, _, ok = ber.ReadTLV(pdu); !ok || tag != ber.TagSequence {
		return 0, 0, false
	}
	for len(vbl) > 0 {
		if tag, _, _, vbl, ok = ber.ReadTLV(vbl); !ok || tag != ber.TagSequence {
			return 0, 0, false
		}
		varbinds++
	}
	return fields[0], varbinds, true
}
