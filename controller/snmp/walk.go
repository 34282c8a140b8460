package snmp

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gosnmp/gosnmp"
)

// walker is the transport-free state machine of a multi-root walk: it says
// which OIDs the next request carries (and, for GETBULK, how many
// repetitions) and consumes the answer. Every step either advances a root
// to a strictly greater OID or ends it, the call cap bounds the number of
// requests and the row bound the objects kept per root, so a walk always
// terminates in bounded memory.
type walker struct {
	target   string
	roots    []walkRoot
	maxOIDs  int // roots per request
	batch    int // roots per request now: maxOIDs, or fewer while a bad answer is being isolated
	maxCalls int
	maxRows  int
	maxBytes int64  // estimated memory of the objects kept, all roots
	bytes    int64  // estimated memory of the objects kept so far
	maxRep   uint32 // GETBULK repetitions (halved for good by tooBig)
	rep      uint32 // repetitions now: maxRep, or fewer while a bad answer is being isolated
	calls    int
	strikes  int // bad answers in a row to a request of one root at one repetition
	silent   int // requests in a row left unanswered
	warnings []error
	active   []int    // indices into roots of the last request
	oids     []string // OIDs of the last request
	pruned   bool     // answers are pruned: cols follows active
	// kept holds the objects kept, all roots together in the order they
	// came, and owner the root of each: result gives every root its
	// slice of one array, rather than each root's slice growing on its
	// own.
	kept  []gosnmp.SnmpPDU
	owner []int32
	buf   *walkBuf // where kept and owner came from, nil if not pooled
	// cols are the BER contents of the roots of the last request, in
	// request order, when its answer may be pruned (see prune), else nil.
	cols [][]byte
	ber  []byte // the roots' BER contents, one after the other
}

// walkBuf is a walker's kept and owner, reused by the next walk (of any
// session) through walkBufs: a poll's objects are copied into one array
// per walk (result), so the buffers they were gathered in need not be new.
type walkBuf struct {
	kept   []gosnmp.SnmpPDU
	owner  []int32
	cols   [][]byte
	ber    []byte
	active []int
	oids   []string
}

var walkBufs = sync.Pool{New: func() any { return new(walkBuf) }}

// maxPooledKept bounds the walk buffers kept for reuse (some 200 KB): a
// walk of a huge table does not pin its buffers for good.
const maxPooledKept = 4096

// reuseBufs gives w pooled buffers; recycle returns them.
func (w *walker) reuseBufs() {
	w.buf = walkBufs.Get().(*walkBuf)
	w.kept, w.owner = w.buf.kept[:0], w.buf.owner[:0]
	w.ber, w.active, w.oids = w.buf.ber[:0], w.buf.active[:0], w.buf.oids[:0]
}

// recycle hands w's buffers, cleared, to the next walk.
func (w *walker) recycle() {
	b := w.buf
	w.buf = nil
	if b == nil || cap(w.kept) > maxPooledKept {
		return
	}
	clear(w.kept)
	clear(w.cols)
	clear(w.oids)
	b.kept, b.owner, b.cols, b.ber = w.kept[:0], w.owner[:0], w.cols[:0], w.ber[:0]
	b.active, b.oids = w.active[:0], w.oids[:0]
	w.kept, w.owner, w.cols, w.ber, w.active, w.oids = nil, nil, nil, nil, nil, nil
	walkBufs.Put(b)
}

// prune has the answers of the walk's GETBULK requests pruned (see
// pruneBulk): next gives each request's columns' roots in BER. A root
// that cannot be encoded leaves the walk unpruned.
func (w *walker) prune() {
	ber := w.ber[:0]
	for i := range w.roots {
		var err error
		if ber, err = appendOIDContent(ber, w.roots[i].root); err != nil {
			return
		}
		w.roots[i].berEnd = len(ber)
	}
	w.ber = ber
	start := 0
	for i := range w.roots {
		w.roots[i].ber = ber[start:w.roots[i].berEnd:w.roots[i].berEnd]
		start = w.roots[i].berEnd
	}
	w.cols = w.cols[:0]
	if w.buf != nil && w.buf.cols != nil {
		w.cols = w.buf.cols[:0]
	}
	w.pruned = true
}

// walkRoot is the progress of one root.
type walkRoot struct {
	key    string // as the caller spelt it
	root   string // normOID form
	cur    string // last OID fetched (the root itself at first)
	done   bool
	n      int    // objects kept
	ber    []byte // the root's BER content, when the walk is pruned
	berEnd int    // where ber ends in the walker's ber
}

// walkLimits bound one walk.
type walkLimits struct {
	maxOIDs  int    // roots per request
	maxCalls int    // requests per walk
	maxRows  int    // objects kept per root
	maxBytes int64  // estimated memory of the objects kept (0: no bound)
	maxRep   uint32 // GETBULK max-repetitions (1 for GETNEXT)
}

// newWalker prepares a walk of roots (duplicates dropped) within lim.
func newWalker(target string, roots []string, lim walkLimits) *walker {
	lim.maxOIDs = max(lim.maxOIDs, 1)
	lim.maxCalls = max(lim.maxCalls, 1)
	lim.maxRows = max(lim.maxRows, 1)
	lim.maxRep = max(lim.maxRep, 1)
	if lim.maxBytes <= 0 {
		lim.maxBytes = 1<<63 - 1
	}
	w := &walker{target: target, maxOIDs: lim.maxOIDs, batch: lim.maxOIDs, maxCalls: lim.maxCalls,
		maxRows: lim.maxRows, maxBytes: lim.maxBytes, maxRep: lim.maxRep, rep: lim.maxRep}
	w.roots = make([]walkRoot, 0, len(roots))
	for k, r := range roots {
		// A few dozen roots: a scan of those before costs less than a map.
		if slices.Contains(roots[:k], r) {
			continue
		}
		n := normOID(r)
		w.roots = append(w.roots, walkRoot{key: r, root: n, cur: n})
	}
	return w
}

// next returns the OIDs of the next request, or nil when every root is
// done. Reaching the call cap ends the unfinished roots with a warning.
func (w *walker) next() []string {
	w.active = w.active[:0]
	w.oids = w.oids[:0]
	w.cols = w.cols[:0]
	for i := range w.roots {
		if w.roots[i].done {
			continue
		}
		if w.calls >= w.maxCalls {
			w.cut(i, w.roots[i].cur, fmt.Sprintf("call cap of %d requests per walk reached", w.maxCalls))
			continue
		}
		if len(w.active) < w.batch {
			w.active = append(w.active, i)
			w.oids = append(w.oids, w.roots[i].cur)
			if w.pruned {
				w.cols = append(w.cols, w.roots[i].ber)
			}
		}
	}
	if len(w.active) == 0 {
		return nil
	}
	w.calls++
	return w.oids
}

// end finishes root i; a non-empty reason adds a warning. The agent ended
// the root: what it returned is the whole table as far as it tells.
func (w *walker) end(i int, oid, reason string) { w.finish(i, oid, reason, false) }

// cut finishes root i with a warning saying the walk stopped before the
// agent ended the root, so the table may hold more rows than were kept.
func (w *walker) cut(i int, oid, reason string) { w.finish(i, oid, reason, true) }

func (w *walker) finish(i int, oid, reason string, truncated bool) {
	r := &w.roots[i]
	if r.done {
		return
	}
	r.done = true
	if reason != "" {
		w.warnings = append(w.warnings, &WalkWarning{Target: w.target, Root: r.key, OID: oid, Reason: reason, Truncated: truncated})
	}
}

// feed consumes the varbinds answering the last request: GETNEXT answers in
// request order, GETBULK answers in rows of len(active) varbinds.
func (w *walker) feed(vbs []gosnmp.SnmpPDU) { w.feedPlan(vbs, nil) }

// feedPlan is feed of an answer pruned by pruneBulk: plan has an entry for
// each varbind of the answer as it came, and vbs holds those it kept.
func (w *walker) feedPlan(vbs []gosnmp.SnmpPDU, plan []byte) {
	w.strikes = 0
	n := len(w.active)
	if n == 0 {
		return
	}
	total := len(vbs)
	if plan != nil {
		total = len(plan)
	}
	progress := false
	d := 0 // the next of vbs
	for k := 0; k < total; k++ {
		i := w.active[k%n]
		r := &w.roots[i]
		if plan != nil && plan[k] != planKept {
			switch {
			case r.done: // what the walk skips
			case plan[k] == planEnd:
				w.end(i, r.cur, "")
				progress = true
			default:
				// Never so: pruneBulk skips only after a column's end.
				w.cut(i, r.cur, "answer pruned past a varbind the walk did not end the column at")
			}
			continue
		}
		if d >= len(vbs) {
			break
		}
		vb := &vbs[d]
		d++
		if r.done {
			continue
		}
		switch vb.Type {
		case gosnmp.EndOfMibView, gosnmp.NoSuchObject, gosnmp.NoSuchInstance:
			w.end(i, vb.Name, "")
			progress = true
			continue
		}
		name := normOID(vb.Name)
		switch c := oidCompare(name, r.cur); {
		case c == 0:
			w.end(i, name, "agent returned the same OID again")
			progress = true
			continue
		case c < 0:
			w.end(i, name, "agent returned a non-increasing OID (after "+r.cur+")")
			progress = true
			continue
		}
		if !underRoot(name, r.root) {
			w.end(i, name, "")
			progress = true
			continue
		}
		progress = true
		if r.n >= w.maxRows {
			// An object beyond the bound: the table is longer than what
			// is kept. (A table of exactly maxRows objects ends above,
			// whole, at the first OID past the root.)
			w.cut(i, r.cur, fmt.Sprintf("row bound of %d objects per root reached", w.maxRows))
			continue
		}
		if why := unsendable(name); why != "" {
			// The next request would have to carry it: no agent can be
			// asked what follows, so the rest of the table is out of reach.
			w.cut(i, name, "agent returned an OID no request can carry ("+why+")")
			continue
		}
		cost := objectCost(name, vb)
		if w.bytes+cost > w.maxBytes {
			// The walk keeps no more: every unfinished root is cut here.
			w.stop(fmt.Sprintf("memory bound of %d bytes per walk reached", w.maxBytes))
			return
		}
		w.bytes += cost
		vb.Name = name
		w.kept = append(w.kept, *vb)
		w.owner = append(w.owner, int32(i))
		r.n++
		r.cur = name
	}
	if !progress {
		for _, i := range w.active {
			w.end(i, w.roots[i].cur, "agent answered with no usable varbinds")
		}
	}
}

// pduOverhead estimates what one kept object costs beyond its name and
// value: the gosnmp.SnmpPDU in the root's slice (with the slice's growth)
// and the headers of its strings.
const pduOverhead = 96

// objectCost estimates the memory one kept object takes.
func objectCost(name string, vb *gosnmp.SnmpPDU) int64 {
	n := int64(len(name) + pduOverhead)
	switch v := vb.Value.(type) {
	case []byte:
		n += int64(len(v))
	case string:
		n += int64(len(v))
	}
	return n
}

// tooBig handles a tooBig answer: fewer repetitions for the rest of the
// walk, and at one repetition fewer roots per request (an agent with a
// small message size cannot answer one row of many long columns). It
// reports false when the request was one root at one repetition already.
func (w *walker) tooBig() bool {
	switch {
	case w.rep > 1:
		w.maxRep = max(w.rep/2, 1)
		w.rep = w.maxRep
	case len(w.active) > 1:
		w.maxOIDs = max(len(w.active)/2, 1)
		w.batch = min(w.batch, w.maxOIDs)
	default:
		return false
	}
	return true
}

// badAnswer handles a request whose answer could not be used (an
// undecodable datagram or value, an OID no request can carry), after the
// transport's own retries. It narrows the next request, so that a stray
// garbage datagram costs a retry and a root whose answer is always bad is
// found alone: first half the roots, then (GETBULK) half the repetitions,
// keeping the rows before the bad one. The narrowest request, one root at
// one repetition, is tried badStrikes times before that root is cut with
// a warning; the narrowing holds until then, and the next request is full
// size again.
func (w *walker) badAnswer(detail string) {
	switch {
	case len(w.active) > 1:
		w.batch = max(len(w.active)/2, 1)
	case w.rep > 1:
		w.rep /= 2
	case len(w.active) == 1:
		if w.strikes++; w.strikes < badStrikes {
			return
		}
		i := w.active[0]
		w.cut(i, w.roots[i].cur, "answer could not be used: "+detail)
		w.batch, w.rep, w.strikes = w.maxOIDs, w.maxRep, 0
	}
}

// noAnswer handles a request the agent left unanswered after the
// transport's retries, though it may have answered others. What was lost
// may be the answer's size (an agent or a filter of IP fragments that drops
// a large answer, a sub-agent too slow for many rows): the rest of the walk
// asks for an eighth of the roots and repetitions per request. A second
// request in a row left unanswered means the agent stopped answering: the
// unfinished roots are cut with a warning, keeping what was fetched, and
// noAnswer reports false.
func (w *walker) noAnswer(detail string) bool {
	if w.silent++; w.silent >= maxSilent {
		w.stop("agent stopped answering: " + detail)
		return false
	}
	w.maxOIDs = max(w.maxOIDs/8, 1)
	w.batch = min(w.batch, w.maxOIDs)
	w.maxRep = max(w.maxRep/8, 1)
	w.rep = min(w.rep, w.maxRep)
	return true
}

// maxSilent is how many requests in a row may go unanswered (each after
// the transport's own retries) before a walk gives up on the agent.
const maxSilent = 2

// badStrikes is how many bad answers in a row the narrowest request of a
// root may get before the root is cut: a stray datagram (garbage, or a
// late answer to an earlier request that was itself bad) can spoil one
// try, a bad row spoils them all.
const badStrikes = 3

// stop cuts every unfinished root with reason: the walk ends here.
func (w *walker) stop(reason string) {
	for i := range w.roots {
		w.cut(i, w.roots[i].cur, reason)
	}
}

// agentError handles an answer carrying an error status. index is the
// 1-based varbind index the agent blamed. noSuchName (v1) ends that root
// quietly: it is how v1 says the walk left the MIB. Other statuses (genErr,
// tooBig at one root and one repetition, ...) cut the blamed root, or all
// roots of the request when none is blamed, with a truncation warning: the
// agent failed to give the rest of the table, which is not its end.
func (w *walker) agentError(status gosnmp.SNMPError, index uint8) {
	k := int(index) - 1
	if k >= 0 && k < len(w.active) {
		i := w.active[k]
		if status == gosnmp.NoSuchName {
			w.end(i, w.roots[i].cur, "")
			return
		}
		w.cut(i, w.roots[i].cur, "agent error "+status.String())
		return
	}
	for _, i := range w.active {
		w.cut(i, w.roots[i].cur, "agent error "+status.String())
	}
}

// result returns the objects per root, keyed as the caller spelt them.
func (w *walker) result() map[string][]gosnmp.SnmpPDU {
	all := make([]gosnmp.SnmpPDU, len(w.kept))
	at := make([]int, len(w.roots)) // where each root's next object goes
	n := 0
	for i := range w.roots {
		at[i] = n
		n += w.roots[i].n
	}
	m := make(map[string][]gosnmp.SnmpPDU, len(w.roots))
	for i, r := range w.roots {
		if r.n > 0 {
			m[r.key] = all[at[i] : at[i]+r.n : at[i]+r.n]
		} else {
			m[r.key] = nil
		}
	}
	for k := range w.kept {
		i := w.owner[k]
		all[at[i]] = w.kept[k]
		at[i]++
	}
	return m
}

// maxArcs is the most sub-identifiers an OID may have in SNMP (RFC 2578
// 3.5); gosnmp refuses to encode more.
const maxArcs = 128

// unsendable says why an OID (in normOID form) cannot be put in a request,
// or returns "": more than 128 arcs, fewer than two, an arc that is not a
// number below 2^32, or first arcs BER cannot encode.
func unsendable(oid string) string {
	if sendable(oid) {
		return ""
	}
	return unsendableArcs(oid)
}

// unsendableArcs is unsendable looking at every arc.
func unsendableArcs(oid string) string {
	if n := strings.Count(oid, "."); n > maxArcs {
		return fmt.Sprintf("%d arcs, SNMP allows %d", n, maxArcs)
	} else if n < 2 {
		return "fewer than two arcs"
	}
	rest := oid[1:]
	for k := 0; rest != ""; k++ {
		var arc string
		arc, rest = cutArc(rest)
		v, ok := arcValue(arc)
		switch {
		case !ok:
			return "arc " + arc + " is not a number below 2^32"
		case k == 0 && v > 2:
			return "first arc " + arc + " is above 2"
		}
		if k == 1 && v >= 40 && oid[1] != '2' {
			return "second arc " + arc + " is above 39 under " + oid[1:2]
		}
	}
	return ""
}

// sendable is unsendable's quick test of the usual OID, in one pass: a
// leading dot, 2 to maxArcs arcs of at most 9 digits each, the first 0 or
// 1 followed by an arc below 40, or 2. It reports false for anything else,
// which unsendable then looks at arc by arc.
func sendable(oid string) bool {
	if len(oid) < 4 || oid[0] != '.' || oid[2] != '.' {
		return false
	}
	switch oid[1] {
	case '0', '1':
		// The second arc must be below 40: at most two digits, the first
		// below 4.
		if len(oid) > 4 && oid[4] != '.' && (oid[3] > '3' || len(oid) > 5 && oid[5] != '.') {
			return false
		}
	case '2':
	default:
		return false
	}
	arcs, digits := 1, 0
	for i := 1; i < len(oid); i++ {
		switch c := oid[i]; {
		case c == '.':
			if digits == 0 {
				return false
			}
			arcs, digits = arcs+1, 0
		case c >= '0' && c <= '9' && digits < 9:
			digits++
		default:
			return false
		}
	}
	return digits > 0 && arcs <= maxArcs
}

// arcValue parses a decimal arc below 2^32.
func arcValue(s string) (uint64, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, v <= 1<<32-1
}
