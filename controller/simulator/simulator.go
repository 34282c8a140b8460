// Package simulator serves SNMP recordings as live agents: one UDP socket,
// every recording of a folder behind it, the community string choosing the
// device (the file name without ".snmprec", as snmpsim does). A request
// for an unknown community gets no answer, like snmpsim.
//
// It answers GET, GETNEXT and GETBULK over SNMPv1 and SNMPv2c. SNMPv1 errors
// use the noSuchName error-status and skip Counter64 objects (RFC 2576);
// SNMPv2c answers with noSuchObject, noSuchInstance and endOfMibView
// exceptions. SET is refused (notWritable, noSuchName for v1).
//
// Recordings are frozen in time but a poller needs rates, so some values
// move with the clock: every Counter32 and Counter64 grows from its recorded
// value at a rate derived from its OID (deterministic: the same object grows
// at the same rate on every run; Counter32 wraps at 2^32), and sysUpTime.0
// and hrSystemUptime.0 count hundredths of a second since the simulator
// started. Other TimeTicks (ifLastChange and the like) are points in time
// and stay as recorded.
//
// Requests are decoded and answers encoded by hand, without allocating. On
// Linux, Serve reads and writes datagrams in batches (recvmmsg, sendmmsg),
// so that the socket's system calls cost less than the answers, and waits
// for them in the kernel on sockets of its own rather than in the Go
// runtime's network poller, whose wake-ups would cost more than an answer
// when few requests are in flight.
// Responses stay within Options.MaxMessageSize: a GETBULK answer is cut
// short, a GET or GETNEXT answer too large becomes a tooBig error.
//
// For labs, SetDown takes one agent down (it answers nothing, like a dead
// device) and back up while the others keep answering.
package simulator

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/simulator/internal/ber"
	"github.com/ngic/ngic/controller/simulator/internal/mmsg"
	"github.com/ngic/ngic/controller/snmprec"
)

// Options configure a Simulator. The zero value of a field means its
// default from DefaultOptions.
type Options struct {
	// MaxMessageSize bounds a response datagram in bytes (UDP payload),
	// 484 to 65507. Default 1400, below a 1500-byte Ethernet MTU.
	MaxMessageSize int
	// Workers is how many goroutines Serve runs. The default is
	// GOMAXPROCS, less one (at least one) where the workers wait for
	// requests in the kernel (Serve's sockets of its own, on Linux): a
	// worker waiting there holds a processor, and with none left idle the
	// runtime keeps taking them back, polling every 20 µs.
	Workers int
	// Batch is how many datagrams a worker reads or writes per system
	// call (recvmmsg, sendmmsg) on Linux, 1..1024; default 64. 1 reads and
	// writes one datagram per call, the path also taken on other systems
	// and for a net.PacketConn that is not a *net.UDPConn. A worker holds
	// Batch buffers of 64 KiB for requests.
	Batch int
	// Now is the clock counters and sysUpTime follow; default time.Now.
	Now func() time.Time
}

// DefaultOptions are the values used for zero fields of Options.
var DefaultOptions = Options{MaxMessageSize: 1400, Batch: 64, Now: time.Now}

// Simulator answers SNMP requests from a set of recordings. It is safe for
// concurrent use.
type Simulator struct {
	devices map[string]*agent
	names   []string
	opts    Options
	start   time.Time
}

// Load parses every *.snmprec file in dir and returns a Simulator serving
// them, with warnings for what it skipped: bad lines (Line > 0), and whole
// files (Line 0) that cannot be read (a folder, a dangling symbolic link,
// a FIFO, no permission) or hold no object (empty, or only bad lines).
// The error is for a folder that cannot be read, bad options, or a folder
// with no usable recording.
func Load(dir string, opts Options) (*Simulator, []snmprec.Warning, error) {
	names, err := Communities(dir)
	if err != nil {
		return nil, nil, err
	}
	files := make([]string, len(names))
	for i, n := range names {
		files[i] = filepath.Join(dir, n+".snmprec")
	}
	views := make(map[string]*snmprec.View, len(files))
	views2 := make([]*snmprec.View, len(files))
	warns := make([][]snmprec.Warning, len(files))
	errs := make([]error, len(files))
	// Parse on every core; files are independent.
	var wg sync.WaitGroup
	next := make(chan int, len(files))
	for i := range files {
		next <- i
	}
	close(next)
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			for i := range next {
				views2[i], warns[i], errs[i] = snmprec.ParseFile(files[i])
			}
		})
	}
	wg.Wait()
	var all []snmprec.Warning
	for i, f := range files {
		base := filepath.Base(f)
		all = append(all, warns[i]...)
		switch {
		case errs[i] != nil:
			all = append(all, snmprec.Warning{File: base, Msg: errs[i].Error()})
			continue
		case views2[i].Len() == 0:
			all = append(all, snmprec.Warning{File: base, Msg: "holds no object (empty, or no valid line)"})
			continue
		}
		views[strings.TrimSuffix(base, ".snmprec")] = views2[i]
	}
	if len(views) == 0 {
		return nil, all, fmt.Errorf("simulator: recordings folder %q holds no usable recording (%d skipped)", dir, len(files))
	}
	s, err := New(views, opts)
	return s, all, err
}

// Communities returns the communities Load would serve from dir, sorted:
// the names of its *.snmprec files without ".snmprec", read from the
// folder alone (a file Load would skip is listed). A folder that cannot be
// read or holds no such file is an error.
func Communities(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("simulator: recordings folder: %w", err)
	}
	var names []string // sorted, as ReadDir returns them
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".snmprec"); ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("simulator: recordings folder %q holds no .snmprec file", dir)
	}
	return names, nil
}

// New returns a Simulator serving the given views, keyed by community.
// Several communities may share one view (a farm of identical devices).
func New(devices map[string]*snmprec.View, opts Options) (*Simulator, error) {
	if opts.MaxMessageSize == 0 {
		opts.MaxMessageSize = DefaultOptions.MaxMessageSize
	}
	if opts.MaxMessageSize < 484 || opts.MaxMessageSize > 65507 {
		return nil, fmt.Errorf("simulator: MaxMessageSize %d outside 484..65507", opts.MaxMessageSize)
	}
	if opts.Workers < 0 {
		return nil, fmt.Errorf("simulator: Workers %d is negative", opts.Workers)
	}
	if opts.Batch == 0 {
		opts.Batch = DefaultOptions.Batch
	}
	if opts.Batch < 1 || opts.Batch > mmsg.MaxBatch {
		return nil, fmt.Errorf("simulator: Batch %d outside 1..%d", opts.Batch, mmsg.MaxBatch)
	}
	if opts.Now == nil {
		opts.Now = DefaultOptions.Now
	}
	s := &Simulator{devices: make(map[string]*agent, len(devices)), opts: opts, start: opts.Now()}
	recs := make(map[*snmprec.View]*recording)
	for k, v := range devices {
		if v == nil {
			return nil, fmt.Errorf("simulator: device %q has no recording", k)
		}
		if recs[v] == nil {
			recs[v] = newRecording(v)
		}
		s.devices[k] = &agent{view: recs[v]}
		s.names = append(s.names, k)
	}
	slices.Sort(s.names)
	return s, nil
}

// Devices returns the communities served, sorted.
func (s *Simulator) Devices() []string { return slices.Clone(s.names) }

// elapsed is the simulated time since start, for one request.
type elapsed struct {
	ms uint64 // milliseconds
}

// uptime OIDs whose TimeTicks follow the clock.
var (
	sysUpTime      = mustOID("1.3.6.1.2.1.1.3.0")
	hrSystemUptime = mustOID("1.3.6.1.2.1.25.1.1.0")
)

func mustOID(s string) []byte {
	b, err := snmprec.AppendOID(nil, s)
	if err != nil {
		panic(err) // constant input
	}
	return b
}

// CounterRate returns how much the counter with the BER-encoded oid grows
// per second: m×10^e with m in 1..9 and e in 0..6 taken from an FNV-1a hash
// of the OID, or 0 or 1 for a counter recorded as zero (errors, discards).
func CounterRate(oid []byte, recorded uint64) uint64 { return rate(oid, recorded) }

// fnv64a is FNV-1a inline (hash/fnv allocates through its interface).
func fnv64a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// rate is CounterRate without allocation.
func rate(oid []byte, recorded uint64) uint64 {
	x := fnv64a(oid)
	if recorded == 0 {
		return x & 1
	}
	r := x%9 + 1
	for e := (x >> 8) % 7; e > 0; e-- {
		r *= 10
	}
	return r
}

// appendRecord appends the varbind of record r at time el.
func appendRecord(dst []byte, r snmprec.Record, el elapsed) []byte {
	var tmp [9]byte
	val := r.Value
	switch r.Type {
	case snmprec.Counter32, snmprec.Counter64:
		base, _ := r.Uint64()
		x := base + rate(r.OID, base)*el.ms/1000
		if r.Type == snmprec.Counter32 {
			x = uint64(uint32(x))
		}
		val = snmprec.AppendUint(tmp[:0], x)
	case snmprec.TimeTicks:
		if string(r.OID) == string(sysUpTime) || string(r.OID) == string(hrSystemUptime) {
			base, _ := r.Uint64()
			val = snmprec.AppendUint(tmp[:0], uint64(uint32(base+el.ms/10)))
		}
	}
	return appendVarbind(dst, r.OID, byte(r.Type), val)
}

// request is a decoded SNMP message.
type request struct {
	version   int64
	verTLV    []byte
	commTLV   []byte
	pdu       byte
	reqIDTLV  []byte
	nonRep    int64 // error-status of GET/GETNEXT, non-repeaters of GETBULK
	maxRep    int64 // error-index, max-repetitions
	vbl       []byte
	community []byte
}

// decode parses a v1/v2c message; ok is false for anything else.
func decode(b []byte) (r request, ok bool) {
	tag, _, msg, _, ok := ber.ReadTLV(b)
	if !ok || tag != tagSequence {
		return r, false
	}
	var c []byte
	if tag, r.verTLV, c, msg, ok = ber.ReadTLV(msg); !ok {
		return r, false
	}
	if r.version, ok = ber.ReadInt(tag, c); !ok || (r.version != 0 && r.version != 1) {
		return r, false
	}
	if tag, r.commTLV, r.community, msg, ok = ber.ReadTLV(msg); !ok || tag != tagOctetString {
		return r, false
	}
	var pdu []byte
	if r.pdu, _, pdu, _, ok = ber.ReadTLV(msg); !ok {
		return r, false
	}
	if tag, r.reqIDTLV, c, pdu, ok = ber.ReadTLV(pdu); !ok || tag != tagInteger || len(c) == 0 || len(c) > 4 {
		return r, false
	}
	if tag, _, c, pdu, ok = ber.ReadTLV(pdu); !ok {
		return r, false
	}
	if r.nonRep, ok = ber.ReadInt(tag, c); !ok {
		return r, false
	}
	if tag, _, c, pdu, ok = ber.ReadTLV(pdu); !ok {
		return r, false
	}
	if r.maxRep, ok = ber.ReadInt(tag, c); !ok {
		return r, false
	}
	if tag, _, r.vbl, _, ok = ber.ReadTLV(pdu); !ok || tag != tagSequence {
		return r, false
	}
	// Check every varbind once, so the handlers can trust them.
	for v := r.vbl; len(v) > 0; {
		var vb []byte
		if tag, _, vb, v, ok = ber.ReadTLV(v); !ok || tag != tagSequence {
			return r, false
		}
		var oid []byte
		if tag, _, oid, vb, ok = ber.ReadTLV(vb); !ok || tag != tagOID || !snmprec.CanonicalOID(oid) {
			return r, false
		}
		if _, _, _, vb, ok = ber.ReadTLV(vb); !ok || len(vb) != 0 {
			return r, false
		}
	}
	return r, true
}

// nextVarbind returns the OID of the first varbind of a checked list and
// the rest of the list.
func nextVarbind(v []byte) (oid, rest []byte) {
	_, _, vb, rest, _ := ber.ReadTLV(v)
	_, _, oid, _, _ = ber.ReadTLV(vb)
	return oid, rest
}

// HandlePacket answers one request datagram. buf is scratch space the
// answer is built in (grown when too small; pass the same buffer again to
// avoid allocation); the answer is a sub-slice of it, or nil when the
// request gets no answer (malformed, not v1/v2c, unknown community, a PDU
// type an agent does not answer, an agent taken down by SetDown).
// HandlePacket is safe for concurrent use with distinct buffers.
func (s *Simulator) HandlePacket(buf, req []byte) []byte {
	return s.handle(buf, req, s.elapsed())
}

// elapsed reads the clock for the requests answered next.
func (s *Simulator) elapsed() elapsed {
	return elapsed{ms: uint64(max(s.opts.Now().Sub(s.start), 0) / time.Millisecond)}
}

// handle is HandlePacket at the time el, which a batch of requests shares.
func (s *Simulator) handle(buf, req []byte, el elapsed) []byte {
	r, ok := decode(req)
	if !ok {
		return nil
	}
	a := s.devices[string(r.community)]
	if a == nil || a.down.Load() {
		return nil
	}
	view := a.view
	// Room for the message, PDU and list headers (4 octets each at most),
	// version, community, request-id, error-status and error-index.
	reserve := 15 + len(r.verTLV) + len(r.commTLV) + len(r.reqIDTLV) + 3 + 6
	limit := s.opts.MaxMessageSize
	if cap(buf) < reserve+limit+1024 {
		buf = make([]byte, 0, reserve+limit+1024)
	}
	buf = buf[:reserve]
	errStatus, errIndex := errNoError, 0
	switch r.pdu {
	case pduGet, pduGetNext:
		buf, errStatus, errIndex = s.getOrNext(buf, limit, &r, view, el)
	case pduGetBulk:
		if r.version == 0 {
			return nil // no GETBULK in SNMPv1
		}
		var tooBig bool
		buf, tooBig = s.bulk(buf, limit, &r, view, el)
		if tooBig {
			errStatus = errTooBig
		}
	case pduSet:
		errStatus, errIndex = errNotWritable, 1
		if r.version == 0 {
			errStatus = errNoSuchName
		}
		if len(r.vbl) == 0 {
			errStatus, errIndex = errNoError, 0
		}
	default:
		return nil
	}
	switch {
	case errStatus == errTooBig && r.version == 1:
		buf = buf[:reserve] // SNMPv2c: an empty list
	case errStatus != errNoError:
		// The request's names with NULL values: a request value is any
		// TLV at all, so echoing it could send invalid BER.
		buf = appendNullList(buf[:reserve], r.vbl)
		if errStatus == errTooBig {
			errIndex = 0
		}
	}
	end := len(buf)
	p := putHeader(buf, reserve, tagSequence, end-reserve)
	p = putSmallInt(buf, p, errIndex)
	p = putSmallInt(buf, p, errStatus)
	p = putBytes(buf, p, r.reqIDTLV)
	p = putHeader(buf, p, pduResponse, end-p)
	p = putBytes(buf, p, r.commTLV)
	p = putBytes(buf, p, r.verTLV)
	p = putHeader(buf, p, tagSequence, end-p)
	return buf[p:end]
}

// getOrNext answers GET and GETNEXT, or tooBig as soon as the answer
// outgrows limit: a request of thousands of varbinds naming a large object
// must not build an answer thousands of times that size first.
func (s *Simulator) getOrNext(buf []byte, limit int, r *request, view *recording, el elapsed) ([]byte, int, int) {
	n := 0
	for v := r.vbl; len(v) > 0; {
		if len(buf) > limit {
			return buf, errTooBig, 0
		}
		var oid []byte
		oid, v = nextVarbind(v)
		n++
		if r.pdu == pduGet {
			i, exact := search(view.View, oid)
			if exact && (r.version == 1 || view.Record(i).Type != snmprec.Counter64) {
				buf = view.appendRecord(buf, i, el)
				continue
			}
			if r.version == 0 {
				return buf, errNoSuchName, n
			}
			exc := byte(excNoSuchObject)
			if exact || hasParent(view.View, i, oid) {
				exc = excNoSuchInstance
			}
			buf = appendVarbind(buf, oid, exc, nil)
			continue
		}
		i := next(view.View, oid)
		if r.version == 0 {
			for i < view.Len() && view.Record(i).Type == snmprec.Counter64 {
				i++
			}
		}
		if i >= view.Len() {
			if r.version == 0 {
				return buf, errNoSuchName, n
			}
			buf = appendVarbind(buf, oid, excEndOfMibView, nil)
			continue
		}
		buf = view.appendRecord(buf, i, el)
	}
	if len(buf) > limit {
		return buf, errTooBig, 0
	}
	return buf, errNoError, 0
}

// appendNullList appends the varbinds of a checked list with their names
// and NULL values, as error responses carry them.
func appendNullList(dst, vbl []byte) []byte {
	for v := vbl; len(v) > 0; {
		var oid []byte
		oid, v = nextVarbind(v)
		dst = appendVarbind(dst, oid, tagNull, nil)
	}
	return dst
}

// hasParent reports whether a record next to position i shares oid's
// parent (oid without its last arc): then oid names a missing instance of
// an existing object rather than a missing object.
func hasParent(view *snmprec.View, i int, oid []byte) bool {
	p := len(oid) - 1 // last octet ends the last arc
	for p > 0 && oid[p-1]&0x80 != 0 {
		p--
	}
	parent := oid[:p]
	if len(parent) == 0 {
		return false
	}
	for _, j := range [2]int{i - 1, i} {
		if j >= 0 && j < view.Len() {
			o := view.Record(j).OID
			if len(o) > len(parent) && string(o[:len(parent)]) == string(parent) {
				return true
			}
		}
	}
	return false
}

// maxColumns is how many repeated varbinds a GETBULK tracks without
// allocating.
const maxColumns = 64

// bulk answers GETBULK: non-repeaters get one GETNEXT each, the other
// varbinds max-repetitions successive GETNEXTs, row by row, until the
// response would outgrow limit or every column is past the end.
// tooBig reports that not even the first varbind fitted.
func (s *Simulator) bulk(buf []byte, limit int, r *request, view *recording, el elapsed) (_ []byte, tooBig bool) {
	total := 0
	for v := r.vbl; len(v) > 0; {
		_, v = nextVarbind(v)
		total++
	}
	nonRep := int(min(max(r.nonRep, 0), int64(total)))
	maxRep := int(min(max(r.maxRep, 0), 65535))
	start := len(buf)
	fits := func(b []byte) bool { return len(b) <= limit }
	v := r.vbl
	for range nonRep {
		var oid []byte
		oid, v = nextVarbind(v)
		mark := len(buf)
		if i := next(view.View, oid); i < view.Len() {
			buf = view.appendRecord(buf, i, el)
		} else {
			buf = appendVarbind(buf, oid, excEndOfMibView, nil)
		}
		if !fits(buf) {
			return buf[:mark], mark == start
		}
	}
	cols := total - nonRep
	if cols == 0 || maxRep == 0 {
		return buf, false
	}
	var small [maxColumns]int
	var smallOIDs [maxColumns][]byte
	idx, oids := small[:0], smallOIDs[:0]
	if cols > maxColumns {
		idx, oids = make([]int, 0, cols), make([][]byte, 0, cols)
	}
	for c := 0; c < cols; c++ {
		var oid []byte
		oid, v = nextVarbind(v)
		idx, oids = append(idx, next(view.View, oid)), append(oids, oid)
	}
	for rep := 0; rep < maxRep; rep++ {
		live := false
		for c, oid := range oids {
			mark := len(buf)
			if i := idx[c]; i < view.Len() {
				buf = view.appendRecord(buf, i, el)
				idx[c]++
				live = true
			} else if rep == 0 {
				buf = appendVarbind(buf, oid, excEndOfMibView, nil)
			} else {
				// Past the end: repeat the last name of the view.
				last := oid
				if view.Len() > 0 {
					last = view.Record(view.Len() - 1).OID
				}
				buf = appendVarbind(buf, last, excEndOfMibView, nil)
			}
			if !fits(buf) {
				return buf[:mark], mark == start
			}
		}
		if !live {
			break
		}
	}
	return buf, false
}
