package device

import (
	"sort"
	"strconv"
	"strings"
)

// DSL is the access section of a DSLAM or a DSL CPE.
type DSL struct {
	// Summary counts lines and lines in showtime per technology.
	Summary []DSLSummary `json:"summary"`
	Lines   []DSLLine    `json:"lines"`
}

// DSLSummary counts the lines of one technology.
type DSLSummary struct {
	Technology string `json:"technology"`
	Lines      int    `json:"lines"`
	Showtime   int    `json:"showtime"`
}

// DSLLine is one DSL line (an ifTable row of a DSL ifType). Rates are in
// bit/s; absent when the line tables do not give them.
type DSLLine struct {
	IfIndex           int     `json:"if_index"`
	Name              string  `json:"name,omitempty"`
	Technology        string  `json:"technology"`
	OperStatus        string  `json:"oper_status,omitempty"`
	Showtime          bool    `json:"showtime"`
	AttainableDownBps *uint64 `json:"attainable_down_bps,omitempty"`
	AttainableUpBps   *uint64 `json:"attainable_up_bps,omitempty"`
	ActualDownBps     *uint64 `json:"actual_down_bps,omitempty"`
	ActualUpBps       *uint64 `json:"actual_up_bps,omitempty"`
}

// DSL ifTypes and their technology names.
var dslTech = map[int]string{94: "adsl", 97: "vdsl", 251: "vdsl2"}

// ADSL-LINE-MIB (RFC 2662) and VDSL2-LINE-MIB (RFC 5650) columns.
const (
	adslAtucCurrAttainableRate = "1.3.6.1.2.1.10.94.1.1.2.1.8" // downstream, by line
	adslAturCurrAttainableRate = "1.3.6.1.2.1.10.94.1.1.3.1.8" // upstream, by line
	adslAtucChanCurrTxRate     = "1.3.6.1.2.1.10.94.1.1.4.1.2" // downstream, by channel
	adslAturChanCurrTxRate     = "1.3.6.1.2.1.10.94.1.1.5.1.2" // upstream, by channel
	xdsl2AttainableRateDs      = "1.3.6.1.2.1.10.251.1.1.1.1.20"
	xdsl2AttainableRateUs      = "1.3.6.1.2.1.10.251.1.1.1.1.21"
	xdsl2ChStatusActDataRate   = "1.3.6.1.2.1.10.251.1.2.2.1.2" // ifIndex.unit (1 xtuc = down, 2 xtur = up)
	ifStackStatus              = "1.3.6.1.2.1.31.1.2.1.3"       // higher.lower
	ifTypeADSLInterleave       = 124
	ifTypeADSLFast             = 125
)

func init() {
	RegisterExtractor("dsl", extractDSL)
}

// extractDSL lists the DSL lines with showtime (ifOperStatus up, as RFC 2662
// defines it), attainable and actual rates.
func extractDSL(o *Objects, d *Document) *Access {
	chanOf := adslChannels(o, d)
	dsl := &DSL{}
	sum := map[string]*DSLSummary{}
	// The rates of all the lines share one allocation.
	var rates [][4]uint64
	for _, it := range d.Interfaces {
		if it.Type == nil {
			continue
		}
		tech, ok := dslTech[*it.Type]
		if !ok {
			continue
		}
		idx := strconv.Itoa(it.Index)
		l := DSLLine{IfIndex: it.Index, Name: it.Name, Technology: tech, OperStatus: it.OperStatus,
			Showtime: it.OperStatus == "up"}
		if len(rates) == 0 {
			rates = make([][4]uint64, len(d.Interfaces))
		}
		r := &rates[0]
		rates = rates[1:]
		if tech == "adsl" {
			l.AttainableDownBps = o.rateInto(&r[0], adslAtucCurrAttainableRate, idx)
			l.AttainableUpBps = o.rateInto(&r[1], adslAturCurrAttainableRate, idx)
			for _, ch := range chanOf[it.Index] {
				cidx := strconv.Itoa(ch)
				l.ActualDownBps = o.maxRateInto(l.ActualDownBps, &r[2], adslAtucChanCurrTxRate, cidx)
				l.ActualUpBps = o.maxRateInto(l.ActualUpBps, &r[3], adslAturChanCurrTxRate, cidx)
			}
		} else {
			l.AttainableDownBps = o.rateInto(&r[0], xdsl2AttainableRateDs, idx)
			l.AttainableUpBps = o.rateInto(&r[1], xdsl2AttainableRateUs, idx)
			l.ActualDownBps = o.rateInto(&r[2], xdsl2ChStatusActDataRate, idx+".1")
			l.ActualUpBps = o.rateInto(&r[3], xdsl2ChStatusActDataRate, idx+".2")
		}
		dsl.Lines = append(dsl.Lines, l)
		s := sum[tech]
		if s == nil {
			s = &DSLSummary{Technology: tech}
			sum[tech] = s
		}
		s.Lines++
		if l.Showtime {
			s.Showtime++
		}
	}
	if len(dsl.Lines) == 0 {
		return nil
	}
	for _, s := range sum {
		dsl.Summary = append(dsl.Summary, *s)
	}
	sort.Slice(dsl.Summary, func(i, j int) bool { return dsl.Summary[i].Technology < dsl.Summary[j].Technology })
	return &Access{DSL: dsl}
}

// adslChannels maps each ADSL line ifIndex to its channel ifIndexes
// (ifType 124/125), from ifStackTable; without a stack table, a device with
// a single ADSL line gets every channel.
func adslChannels(o *Objects, d *Document) map[int][]int {
	isChan := map[int]bool{}
	var lines []int
	for _, it := range d.Interfaces {
		if it.Type == nil {
			continue
		}
		switch *it.Type {
		case ifTypeADSLInterleave, ifTypeADSLFast:
			isChan[it.Index] = true
		case 94:
			lines = append(lines, it.Index)
		}
	}
	out := map[int][]int{}
	stack := o.Column(ifStackStatus)
	for _, k := range indexes(stack) {
		parts := strings.Split(k, ".")
		if len(parts) != 2 {
			continue
		}
		hi, err1 := strconv.Atoi(parts[0])
		lo, err2 := strconv.Atoi(parts[1])
		if err1 != nil || err2 != nil {
			continue
		}
		if isChan[hi] {
			out[lo] = append(out[lo], hi)
		}
	}
	if len(out) == 0 && len(lines) == 1 {
		for _, it := range d.Interfaces {
			if isChan[it.Index] {
				out[lines[0]] = append(out[lines[0]], it.Index)
			}
		}
	}
	return out
}

// rateInto stores the unsigned value of a column at an index in slot and
// returns slot, or nil when the column has none.
func (o *Objects) rateInto(slot *uint64, root, idx string) *uint64 {
	v, ok := o.colUint(root, idx)
	if !ok {
		return nil
	}
	*slot = v
	return slot
}

// maxRateInto returns the larger of cur (nil, or slot) and the unsigned
// value of a column at an index, kept in slot.
func (o *Objects) maxRateInto(cur, slot *uint64, root, idx string) *uint64 {
	v, ok := o.colUint(root, idx)
	if !ok || cur != nil && *cur >= v {
		return cur
	}
	*slot = v
	return slot
}
