package series

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/telemetry"
)

// AppendDocument appends every point of a device's document to dst: one
// interface line per interface, the access lines of its class (PON ports,
// DSL lines, cable channels, access totals, TV inputs, transport streams,
// status and alarms), all at the document's PolledAt. What the device did
// not tell is absent, never zero: a nil figure is left out of its line, and
// a point with no figure at all (an interface row holding only a name, the
// access totals of an OLT without an ONT table) has no line.
//
// tags.Site and tags.Device come from the inventory; an empty tags.Class
// is taken from the document's class.
//
// A line that cannot be encoded is left out; the others are appended and
// the error joins one *LineError per line left out (see Skipped). A nil
// document or one without a poll time appends nothing and returns an error
// wrapping ErrNoDocument or ErrNoTime.
func AppendDocument(dst []byte, tags telemetry.DeviceTags, d *device.Document) ([]byte, error) {
	if d == nil {
		return dst, fmt.Errorf("series: device %s: %w", tags.Device, ErrNoDocument)
	}
	if !validTime(d.PolledAt) {
		return dst, fmt.Errorf("series: device %s: %w", tags.Device, ErrNoTime)
	}
	if tags.Class == "" {
		tags.Class = string(d.Class)
	}
	a := appender{dst: dst, tags: tags, t: d.PolledAt}
	for i := range d.Interfaces {
		a.iface(&d.Interfaces[i])
	}
	if acc := d.Access; acc != nil {
		if acc.PON != nil {
			a.pon(acc.PON)
		}
		if acc.Cable != nil {
			a.cable(acc.Cable)
		}
		if acc.DSL != nil {
			a.dsl(acc.DSL)
		}
		a.access(acc)
		if acc.TV != nil {
			a.tv(acc.TV)
		}
	}
	return a.dst, errors.Join(a.errs...)
}

// validTime reports whether t can be a point's time: set, and within what
// a nanosecond int64 holds.
func validTime(t time.Time) bool {
	return !t.IsZero() && !t.Before(minTime) && !t.After(maxTime)
}

// minTime and maxTime bound what a nanosecond int64 can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// ifaceTold reports whether an interface row has a figure to write (a row
// can hold only a name, when the agent gave only ifDescr).
func ifaceTold(it *device.Interface) bool {
	return it.AdminStatus != "" || it.OperStatus != "" || it.Alias != "" || it.SpeedBps != nil ||
		it.InBps != nil || it.OutBps != nil || it.InErrorsPerS != nil || it.OutErrorsPerS != nil
}

// portTold reports whether a PON port has a figure to write.
func portTold(p *device.PONPort) bool {
	return p.OperStatus != "" || p.ONTsOnline != nil || p.ONTsOffline != nil
}

// channelTold reports whether a cable channel has a figure to write.
func channelTold(ch *device.Channel) bool {
	return ch.OperStatus != "" || ch.FrequencyHz != nil || ch.PowerDBmV != nil || ch.SNRdB != nil
}

// inputTold reports whether a TV input has a figure to write.
func inputTold(in *device.TVInput) bool {
	return in.Name != "" || in.Locked != nil || in.State != "" || in.Standard != "" || in.Modulation != "" ||
		in.LevelDBuV != nil || in.CNDB != nil || in.MERDB != nil || in.BER != nil || in.PER != nil ||
		in.BitrateMbps != nil || in.UncorrectedPackets != nil || in.CCErrors != nil
}

// appender appends one document's lines and collects the errors of the
// lines it left out.
type appender struct {
	dst  []byte
	tags telemetry.DeviceTags
	t    time.Time
	errs []error
}

// fail records a line left out; index is built by the caller only on this
// path.
func (a *appender) fail(measurement, index string, err error) {
	a.errs = append(a.errs, &LineError{Device: a.tags.Device, Measurement: measurement, Index: index, Err: err})
}

func (a *appender) iface(it *device.Interface) {
	if !ifaceTold(it) {
		return
	}
	p := telemetry.InterfacePoint{DeviceTags: a.tags, IfIndex: int64(it.Index), IfName: it.Name, Alias: it.Alias,
		AdminStatus: it.AdminStatus, OperStatus: it.OperStatus, SpeedBps: it.SpeedBps,
		InBps: it.InBps, OutBps: it.OutBps, InErrorsPS: it.InErrorsPerS, OutErrorsPS: it.OutErrorsPerS, Time: a.t}
	var err error
	if a.dst, err = p.AppendLine(a.dst); err != nil {
		a.fail(telemetry.MeasInterface, keyIndex(telemetry.TagIfIndex, it.Index), err)
	}
}

func (a *appender) pon(pon *device.PON) {
	for i := range pon.Ports {
		port := &pon.Ports[i]
		if !portTold(port) {
			continue
		}
		p := telemetry.PONPortPoint{DeviceTags: a.tags, IfIndex: int64(port.IfIndex), IfName: port.Name,
			OperStatus: port.OperStatus, ONTsOnline: port.ONTsOnline, ONTsOffline: port.ONTsOffline, Time: a.t}
		var err error
		if a.dst, err = p.AppendLine(a.dst); err != nil {
			a.fail(telemetry.MeasPONPort, keyIndex(telemetry.TagIfIndex, port.IfIndex), err)
		}
	}
}

func (a *appender) cable(c *device.Cable) {
	a.channels(telemetry.DirectionDown, c.Downstreams)
	a.channels(telemetry.DirectionUp, c.Upstreams)
}

func (a *appender) channels(direction string, chs []device.Channel) {
	for i := range chs {
		ch := &chs[i]
		if !channelTold(ch) {
			continue
		}
		p := telemetry.CableChannelPoint{DeviceTags: a.tags, Direction: direction, IfIndex: int64(ch.IfIndex),
			IfName: ch.Name, OperStatus: ch.OperStatus, FrequencyHz: ch.FrequencyHz, PowerDBmV: ch.PowerDBmV,
			SNRdB: ch.SNRdB, Time: a.t}
		var err error
		if a.dst, err = p.AppendLine(a.dst); err != nil {
			a.fail(telemetry.MeasCableChannel,
				telemetry.TagDirection+"="+direction+" "+keyIndex(telemetry.TagIfIndex, ch.IfIndex), err)
		}
	}
}

func (a *appender) dsl(dsl *device.DSL) {
	for i := range dsl.Lines {
		l := &dsl.Lines[i]
		p := telemetry.DSLLinePoint{DeviceTags: a.tags, IfIndex: int64(l.IfIndex), IfName: l.Name,
			Technology: l.Technology, OperStatus: l.OperStatus, Showtime: l.Showtime,
			AttainableDownBps: l.AttainableDownBps, AttainableUpBps: l.AttainableUpBps,
			ActualDownBps: l.ActualDownBps, ActualUpBps: l.ActualUpBps, Time: a.t}
		var err error
		if a.dst, err = p.AppendLine(a.dst); err != nil {
			a.fail(telemetry.MeasDSLLine, keyIndex(telemetry.TagIfIndex, l.IfIndex), err)
		}
	}
}

// dslTotals holds the DSL lines and those in showtime that an access point
// points to. The encoder may quote a point's figures in an error, so they
// escape, and two local counters would cost an allocation per document.
var dslTotals = sync.Pool{New: func() any { return new([2]int) }}

// access appends the device's totals: ONTs of an OLT, modems of a CMTS,
// DSL lines (and those in showtime) of a DSLAM or CPE; no line when the
// device tells none of them.
func (a *appender) access(acc *device.Access) {
	p := telemetry.AccessPoint{DeviceTags: a.tags, Time: a.t}
	if acc.PON != nil {
		p.ONTsOnline, p.ONTsOffline = acc.PON.ONTsOnline, acc.PON.ONTsOffline
	}
	if acc.Cable != nil {
		p.ModemsRegistered, p.ModemsOnline = acc.Cable.ModemsRegistered, acc.Cable.ModemsOnline
	}
	if acc.DSL != nil && len(acc.DSL.Summary) > 0 {
		sum := dslTotals.Get().(*[2]int)
		defer dslTotals.Put(sum)
		*sum = [2]int{}
		for _, s := range acc.DSL.Summary {
			sum[0] += s.Lines
			sum[1] += s.Showtime
		}
		p.DSLLines, p.DSLShowtime = &sum[0], &sum[1]
	}
	if p.ONTsOnline == nil && p.ONTsOffline == nil && p.ModemsRegistered == nil && p.ModemsOnline == nil &&
		p.DSLLines == nil {
		return
	}
	var err error
	if a.dst, err = p.AppendLine(a.dst); err != nil {
		a.fail(telemetry.MeasAccess, "", err)
	}
}

func (a *appender) tv(tv *device.TV) {
	for i := range tv.Inputs {
		in := &tv.Inputs[i]
		if !inputTold(in) {
			continue
		}
		p := telemetry.TVInputPoint{DeviceTags: a.tags, Index: in.Index, Name: in.Name, Locked: in.Locked,
			State: in.State, Standard: in.Standard, Modulation: in.Modulation, LevelDBuV: in.LevelDBuV,
			CNdB: in.CNDB, MERdB: in.MERDB, BER: in.BER, PER: in.PER, BitrateMbps: in.BitrateMbps,
			UncorrectedPackets: in.UncorrectedPackets, CCErrors: in.CCErrors, Time: a.t}
		var err error
		if a.dst, err = p.AppendLine(a.dst); err != nil {
			a.fail(telemetry.MeasTVInput, keyIndex(telemetry.TagInput, in.Index), err)
		}
	}
	for i := range tv.TransportStreams {
		ts := &tv.TransportStreams[i]
		if ts.OperStatus == "" {
			continue
		}
		p := telemetry.TVTransportStreamPoint{DeviceTags: a.tags, IfIndex: int64(ts.IfIndex), IfName: ts.Name,
			OperStatus: ts.OperStatus, Time: a.t}
		var err error
		if a.dst, err = p.AppendLine(a.dst); err != nil {
			a.fail(telemetry.MeasTVTransportStream, keyIndex(telemetry.TagIfIndex, ts.IfIndex), err)
		}
	}
	a.tvStatus(tv)
	for i := range tv.Alarms {
		al := &tv.Alarms[i]
		if al.Name == "" {
			a.fail(telemetry.MeasTVAlarm, telemetry.TagAlarm+"=", errNoAlarmName)
			continue
		}
		p := telemetry.TVAlarmPoint{DeviceTags: a.tags, Alarm: al.Name, Severity: al.Severity, Active: al.Active,
			Time: a.t}
		var err error
		if a.dst, err = p.AppendLine(a.dst); err != nil {
			a.fail(telemetry.MeasTVAlarm, telemetry.TagAlarm+"="+al.Name, err)
		}
	}
}

// tvStatus appends the status word, active alarm count and RF output of a
// TV device; no line when it tells none of them.
func (a *appender) tvStatus(tv *device.TV) {
	p := telemetry.TVStatusPoint{DeviceTags: a.tags, Status: tv.Status, ActiveAlarms: tv.ActiveAlarms, Time: a.t}
	if o := tv.Output; o != nil {
		p.OnAir, p.Synchronized, p.FrequencyHz = o.OnAir, o.Synchronized, o.FrequencyHz
		p.LevelDBm, p.ForwardPowerW, p.ReflectedPowerW = o.LevelDBm, o.ForwardPowerW, o.ReflectedPowerW
		p.TSBitrateMbps = o.TSBitrateMbps
	}
	if p.Status == "" && p.ActiveAlarms == nil && p.OnAir == nil && p.Synchronized == nil &&
		p.FrequencyHz == nil && p.LevelDBm == nil && p.ForwardPowerW == nil && p.ReflectedPowerW == nil &&
		p.TSBitrateMbps == nil {
		return
	}
	var err error
	if a.dst, err = p.AppendLine(a.dst); err != nil {
		a.fail(telemetry.MeasTVStatus, "", err)
	}
}
