package snmp

import (
	"fmt"

	"github.com/gosnmp/gosnmp"
)

// walker is the transport-free state machine of a multi-root walk: it says
// which OIDs the next request carries and consumes the answer. Every step
// either advances a root to a strictly greater OID or ends it, and the call
// cap bounds the number of requests, so a walk always terminates.
type walker struct {
	target   string
	roots    []walkRoot
	maxOIDs  int
	maxCalls int
	calls    int
	warnings []error
	active   []int    // indices into roots of the last request
	oids     []string // OIDs of the last request
}

// walkRoot is the progress of one root.
type walkRoot struct {
	key  string // as the caller spelt it
	root string // normOID form
	cur  string // last OID fetched (the root itself at first)
	done bool
	objs []gosnmp.SnmpPDU
}

// newWalker prepares a walk of roots (duplicates dropped) with at most
// maxOIDs roots per request and maxCalls requests.
func newWalker(target string, roots []string, maxOIDs, maxCalls int) *walker {
	if maxOIDs < 1 {
		maxOIDs = 1
	}
	if maxCalls < 1 {
		maxCalls = 1
	}
	w := &walker{target: target, maxOIDs: maxOIDs, maxCalls: maxCalls}
	seen := make(map[string]bool, len(roots))
	for _, r := range roots {
		if seen[r] {
			continue
		}
		seen[r] = true
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
	for i := range w.roots {
		if w.roots[i].done {
			continue
		}
		if w.calls >= w.maxCalls {
			w.end(i, w.roots[i].cur, fmt.Sprintf("call cap of %d requests per walk reached", w.maxCalls))
			continue
		}
		if len(w.active) < w.maxOIDs {
			w.active = append(w.active, i)
			w.oids = append(w.oids, w.roots[i].cur)
		}
	}
	if len(w.active) == 0 {
		return nil
	}
	w.calls++
	return w.oids
}

// end finishes root i; a non-empty reason adds a warning.
func (w *walker) end(i int, oid, reason string) {
	r := &w.roots[i]
	if r.done {
		return
	}
	r.done = true
	if reason != "" {
		w.warnings = append(w.warnings, &WalkWarning{Target: w.target, Root: r.key, OID: oid, Reason: reason})
	}
}

// feed consumes the varbinds answering the last request: GETNEXT answers in
// request order, GETBULK answers in rows of len(active) varbinds.
func (w *walker) feed(vbs []gosnmp.SnmpPDU) {
	n := len(w.active)
	if n == 0 {
		return
	}
	progress := false
	for k := range vbs {
		vb := &vbs[k]
		i := w.active[k%n]
		r := &w.roots[i]
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
		vb.Name = name
		r.objs = append(r.objs, *vb)
		r.cur = name
		progress = true
	}
	if !progress {
		for _, i := range w.active {
			w.end(i, w.roots[i].cur, "agent answered with no usable varbinds")
		}
	}
}

// agentError handles an answer carrying an error status. index is the
// 1-based varbind index the agent blamed. noSuchName (v1) ends that root
// quietly: it is how v1 says the walk left the MIB. Other statuses end the
// blamed root, or all roots of the request when none is blamed, with a
// warning.
func (w *walker) agentError(status gosnmp.SNMPError, index uint8) {
	k := int(index) - 1
	if k >= 0 && k < len(w.active) {
		i := w.active[k]
		if status == gosnmp.NoSuchName {
			w.end(i, w.roots[i].cur, "")
			return
		}
		w.end(i, w.roots[i].cur, "agent error "+status.String())
		return
	}
	for _, i := range w.active {
		w.end(i, w.roots[i].cur, "agent error "+status.String())
	}
}

// result returns the objects per root, keyed as the caller spelt them.
func (w *walker) result() map[string][]gosnmp.SnmpPDU {
	m := make(map[string][]gosnmp.SnmpPDU, len(w.roots))
	for _, r := range w.roots {
		m[r.key] = r.objs
	}
	return m
}
