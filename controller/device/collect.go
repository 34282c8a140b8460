package device

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/ngic/ngic/controller/snmp"
)

// now is the clock Collect stamps documents with.
var now = time.Now

// Collect polls one device: it GETs the system group, classifies the device
// (walking the probe tables when the sysObjectID alone does not decide),
// walks the interface, entity and profile tables in one Walk call (several
// columns per GETBULK), and builds the document. Warnings report what a
// broken agent left out and name the target; err is for failures that lose
// the poll (timeout, authentication) and does not name the target, which
// the caller adds once. When ctx's deadline passes during the walks, or the
// agent stops answering after it answered the system group, the
// document keeps what was fetched, with Truncated set and warnings naming
// the roots cut; so does a table cut by the walk's bounds.
func Collect(ctx context.Context, c snmp.Client, set *ProfileSet) (*Document, []error, error) {
	if c == nil || set == nil {
		return nil, nil, errors.New("device: collect: nil client or profile set")
	}
	target := c.Target()
	sys, warnings, err := getSystem(ctx, c, target)
	if err != nil {
		return nil, nil, fmt.Errorf("device: system group: %w", err)
	}
	warnings = append(warnings, checkSysObjectID(sys, target)...)
	o := NewObjects(sys)
	if _, ok := o.Get(oidSysObjectID); !ok {
		if _, ok := o.Get(oidSysDescr); !ok {
			return nil, warnings, errors.New("device: system group: agent answered neither sysDescr nor sysObjectID")
		}
	}
	walked := map[string]bool{}
	// silent is set when the agent stopped answering during a walk: later
	// walks are not sent (each would wait for its timeouts again), and
	// their roots are named as cut.
	var silent error
	walk := func(roots []string) error {
		if len(roots) == 0 {
			return nil
		}
		if silent != nil {
			for _, r := range roots {
				warnings = append(warnings, &snmp.WalkWarning{Target: target, Root: r, OID: r,
					Reason: "not walked: the agent stopped answering", Truncated: true})
			}
			return nil
		}
		objs, warns, err := c.Walk(ctx, roots)
		warnings = append(warnings, warns...)
		// At the poll's deadline the walk keeps what it fetched and its
		// warnings name the roots it cut; later walks cut theirs at once.
		// So does a walk whose agent stopped answering (after answering
		// the system group): the document keeps what was fetched,
		// marked truncated, rather than being lost.
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			if !errors.Is(err, snmp.ErrTimeout) {
				return fmt.Errorf("device: walk: %w", err)
			}
			silent = err
		}
		for _, r := range roots {
			walked[r] = true
		}
		for r, list := range objs {
			o.addWalk(r, list)
		}
		return nil
	}
	var p *Profile
	if set.NeedsProbes(o) {
		// The base columns and what classification reads in one walk: when
		// the sysObjectID points to profiles, their probe tables and the
		// columns of the first one the system group does not rule out (it
		// usually applies); else every probe
		// table. Only when none of those profiles applies are the other
		// probe tables walked before the later stages.
		cands := set.candidates(o)
		roots := set.probeRoots()
		if len(cands) > 0 {
			roots = tableRoots(cands)
			for _, c := range cands {
				if c.Match.decide(o) != no {
					roots = append(roots, c.Walk...)
					break
				}
			}
		}
		if err := walk(walkRoots(nil, nil, roots...)); err != nil {
			return nil, warnings, err
		}
		if p = set.firstStage(o); p == nil {
			if err := walk(walkRoots(nil, walked, set.probeRoots()...)); err != nil {
				return nil, warnings, err
			}
			p = set.Classify(o)
		}
		if err := walk(walkRoots(p, walked)); err != nil {
			return nil, warnings, err
		}
	} else {
		p = set.Classify(o)
		if err := walk(walkRoots(p, nil)); err != nil {
			return nil, warnings, err
		}
	}
	// The columns the document reads are checked for gaps; probe tables
	// are not.
	var all []string
	for _, r := range walkRoots(p, nil) {
		if walked[r] {
			all = append(all, r)
		}
	}
	expected := map[string]bool{}
	if p != nil {
		for _, r := range p.Walk {
			expected[r] = true
		}
	}
	if silent == nil {
		warnings = append(warnings, checkComplete(ctx, c, target, o, all, expected, warnings)...)
	}
	var odd oddities
	d := buildDocument(p, o, &odd)
	warnings = append(warnings, odd.warnings(target)...)
	d.PolledAt = now().UTC()
	d.Truncated = snmp.Truncated(warnings) || silent != nil
	return d, warnings, nil
}

// systemNames name the objects of SystemOIDs in warnings.
var systemNames = map[string]string{oidSysDescr: "sysDescr", oidSysObjectID: "sysObjectID",
	oidSysUpTime: "sysUpTime", oidSysName: "sysName", oidSysServices: "sysServices"}

// getSystem GETs the system group. An answer that cannot be used (an
// undecodable value, an OID no request can carry) costs only the object
// behind it: the group is asked again one object at a time, and an object
// whose answer still cannot be used is left out (absent from the
// document) with a warning naming it.
func getSystem(ctx context.Context, c snmp.Client, target string) ([]gosnmp.SnmpPDU, []error, error) {
	sys, err := c.Get(ctx, SystemOIDs)
	if !errors.Is(err, snmp.ErrBadAnswer) {
		return sys, nil, err
	}
	var warnings []error
	sys = make([]gosnmp.SnmpPDU, len(SystemOIDs))
	for i, oid := range SystemOIDs {
		p, err := c.Get(ctx, []string{oid})
		switch {
		case err == nil && len(p) == 1:
			sys[i] = p[0]
		case err == nil:
			return nil, nil, fmt.Errorf("snmp: get: %d varbinds for one OID", len(p))
		case errors.Is(err, snmp.ErrBadAnswer):
			sys[i] = gosnmp.SnmpPDU{Name: oid, Type: gosnmp.NoSuchObject}
			warnings = append(warnings, fmt.Errorf("device: %s: %s (%s) left out: %w", target, systemNames[oid], oid, err))
		default:
			return nil, nil, err
		}
	}
	return sys, warnings, nil
}

// checkSysObjectID leaves out (as absent) a sysObjectID sent as another type
// than OBJECT IDENTIFIER, with a warning: an INTEGER 42 printed as
// sys_object_id "42" would pass for an OID, and no profile can match it.
func checkSysObjectID(sys []gosnmp.SnmpPDU, target string) []error {
	for i, p := range sys {
		if normOID(p.Name) != oidSysObjectID || absent(p) || p.Type == gosnmp.ObjectIdentifier {
			continue
		}
		sys[i] = gosnmp.SnmpPDU{Name: p.Name, Type: gosnmp.NoSuchObject}
		return []error{fmt.Errorf("device: %s: sysObjectID (%s) sent as %v, not an OBJECT IDENTIFIER: left out",
			target, oidSysObjectID, p.Type)}
	}
	return nil
}
