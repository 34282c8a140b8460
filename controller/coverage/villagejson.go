package coverage

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// errReflect says a value must go through encoding/json (which gives the
// error for it): a float that is not finite, a time out of its range.
var errReflect = errors.New("coverage: encoded by reflection")

// appendVillage appends v's JSON as encoding/json writes plainVillage
// without HTML escaping, its trail from trail (v.Trail, or the compact
// trail expanded): a national report has 700,000 villages, which
// reflection encodes three times slower. It returns errReflect for what
// only encoding/json says how to fail.
func appendVillage(b []byte, v *Village, trail func(yield func(*TrailEntry) bool)) ([]byte, error) {
	fl := floatAppender{}
	b = append(b, '{')
	if r := v.Region; r != nil {
		b = appendIdentity(b, r.Code, r.Name, r.Parent, r.Households, r.Population)
		b = fl.field(b, `,"lat":`, r.Lat)
		b = fl.field(b, `,"lon":`, r.Lon)
		b = appendBool(b, `,"priority":`, r.Priority)
		b = append(b, ',')
	}
	b = append(b, `"broadband":`...)
	b = AppendJSONString(b, v.Broadband)
	b = append(b, `,"tier":`...)
	b = strconv.AppendInt(b, int64(v.Tier), 10)
	b = append(b, `,"evidence":`...)
	b = AppendJSONString(b, v.Evidence)
	b = fl.field(b, `,"down_mbps":`, v.DownMbps)
	b = fl.field(b, `,"up_mbps":`, v.UpMbps)
	b = appendString(b, `,"technology":`, v.Technology, true)
	b = appendBool(b, `,"stale":`, v.Stale)
	b = appendBool(b, `,"outage":`, v.Outage)
	b = fl.field(b, `,"subscribers_online":`, v.SubscribersOnline)
	b = fl.field(b, `,"next_gen_subscribers":`, v.NextGenSubscribers)
	b = fl.field(b, `,"take_up":`, v.TakeUp)
	b = appendBool(b, `,"digital_tv":`, v.DigitalTV)
	b = appendString(b, `,"tv":`, v.TV.String(), false)
	b = appendString(b, `,"tv_evidence":`, v.TVEvidence.String(), false)
	b = appendBool(b, `,"voice":`, v.Voice)
	b = appendString(b, `,"voice_evidence":`, v.VoiceEvidence.String(), false)
	b = appendBool(b, `,"converged":`, v.Converged)
	b = appendString(b, `,"network":`, v.Network, true)
	if len(v.Overrides) > 0 {
		b = append(b, `,"overrides":[`...)
		for i := range v.Overrides {
			if i > 0 {
				b = append(b, ',')
			}
			b = fl.override(b, &v.Overrides[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"trail":`...)
	if trail == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		n := 0
		for e := range trail {
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = fl.entry(b, e)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	return b, fl.err
}

// floatAppender appends numbers and times as encoding/json does, keeping
// errReflect for one it cannot write as encoding/json would.
type floatAppender struct{ err error }

func (f *floatAppender) field(b []byte, name string, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		f.err = errReflect
	}
	return appendJSONFloat(append(b, name...), v)
}

// time appends a time as time.Time's MarshalJSON writes it.
func (f *floatAppender) time(b []byte, name string, t time.Time) []byte {
	b = append(append(b, name...), '"')
	b, err := t.AppendText(b)
	if err != nil {
		f.err = errReflect
	}
	return append(b, '"')
}

func (f *floatAppender) override(b []byte, o *OverrideInfo) []byte {
	b = append(b, `{"service":`...)
	b = AppendJSONString(b, o.Service)
	b = append(b, `,"class":`...)
	b = AppendJSONString(b, o.Class)
	b = appendString(b, `,"reason":`, o.Reason, true)
	if !o.Until.IsZero() {
		b = f.time(b, `,"until":`, o.Until)
	}
	b = append(b, `,"measured":`...)
	b = AppendJSONString(b, o.Measured)
	b = append(b, `,"measured_evidence":`...)
	b = AppendJSONString(b, o.MeasuredEvidence)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(o.Line), 10)
	return append(b, '}')
}

func (f *floatAppender) entry(b []byte, e *TrailEntry) []byte {
	b = append(b, `{"service":`...)
	b = AppendJSONString(b, e.Service)
	b = append(b, `,"source":`...)
	b = AppendJSONString(b, e.Source)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(e.Line), 10)
	b = appendString(b, `,"device":`, e.Device, true)
	b = appendString(b, `,"port":`, e.Port, true)
	b = appendString(b, `,"technology":`, e.Technology, true)
	b = appendString(b, `,"figure":`, e.Figure, true)
	b = f.field(b, `,"value":`, e.Value)
	b = appendString(b, `,"unit":`, e.Unit, true)
	if e.DownMbps != 0 {
		b = f.field(b, `,"down_mbps":`, e.DownMbps)
	}
	if e.UpMbps != 0 {
		b = f.field(b, `,"up_mbps":`, e.UpMbps)
	}
	b = appendString(b, `,"class":`, e.Class, true)
	b = appendString(b, `,"why":`, e.Why, true)
	if !e.PolledAt.IsZero() {
		b = f.time(b, `,"polled_at":`, e.PolledAt)
	}
	b = appendString(b, `,"state":`, e.State, true)
	b = appendBool(b, `,"used":`, e.Used)
	b = appendString(b, `,"rejected":`, e.Rejected, true)
	if e.Stale {
		b = appendBool(b, `,"stale":`, true)
	}
	if e.Outage {
		b = appendBool(b, `,"outage":`, true)
	}
	return append(b, '}')
}

// appendString appends a member of a string, left out when empty and
// omitEmpty.
func appendString(b []byte, name, s string, omitEmpty bool) []byte {
	if omitEmpty && s == "" {
		return b
	}
	return AppendJSONString(append(b, name...), s)
}

func appendBool(b []byte, name string, v bool) []byte {
	return strconv.AppendBool(append(b, name...), v)
}
