package device

// ProTelevision PT3080 DVB-T/T2 modulators and transmitters (PT3080-MIB,
// enterprise 18086). Object names and encodings follow the vendor MIB as
// published with LibreNMS (PT3080-MIB and its discovery definitions):
// TS input status 0 available / 1 unavailable / 2 no sync; output
// synchronized 1; RF frequency in Hz; HP TS bitrate in kbit/s; effective
// output level in hundredths of dBm. The recording gives no forward or
// reflected power and no on-air flag, so those stay absent.
const (
	pt3080                 = "1.3.6.1.4.1.18086.3080"
	pt3080TSPrimaryStatus  = pt3080 + ".3.36.0"
	pt3080TSSecondaryState = pt3080 + ".3.37.0"
	pt3080TSHpBitrate      = pt3080 + ".3.41.0"
	pt3080RfFrequency      = pt3080 + ".4.2.0"
	pt3080Synchronized     = pt3080 + ".4.6.0"
	pt3080EffectiveLevel   = pt3080 + ".4.17.0"
	pt3080Gps1PPSStatus    = pt3080 + ".7.1.0"
)

func init() { RegisterExtractor("tv-protelevision", extractTVProtelevision) }

func extractTVProtelevision(o *Objects, d *Document) *Access {
	tv := baseTV(o, d)
	for i, in := range []struct{ oid, name string }{{pt3080TSPrimaryStatus, "primary"}, {pt3080TSSecondaryState, "secondary"}} {
		p, ok := o.Get(in.oid)
		if !ok {
			continue
		}
		v, ok := pduInt(p)
		if !ok {
			continue
		}
		ti := TVInput{Index: i + 1, Name: in.name}
		switch v {
		case 0:
			ti.Locked, ti.State = ptr(true), "available"
		case 1:
			ti.Locked, ti.State = ptr(false), "unavailable"
		case 2:
			ti.Locked, ti.State = ptr(false), "no-sync"
		default:
			continue
		}
		tv.Inputs = append(tv.Inputs, ti)
	}
	out := &TVOutput{}
	any := false
	if p, ok := o.Get(pt3080RfFrequency); ok {
		if v, ok := pduUint(p); ok && v > 0 {
			out.FrequencyHz, any = ptr(v), true
		}
	}
	if p, ok := o.Get(pt3080Synchronized); ok {
		if v, ok := pduInt(p); ok && (v == 0 || v == 1) {
			out.Synchronized, any = ptr(v == 1), true
		}
	}
	if v := scaled(o, pt3080EffectiveLevel, 100); v != nil {
		out.LevelDBm, any = v, true
	}
	if v := scaled(o, pt3080TSHpBitrate, 1000); v != nil {
		out.TSBitrateMbps, any = v, true
	}
	if any {
		tv.Output = out
	}
	if p, ok := o.Get(pt3080Gps1PPSStatus); ok {
		if v, ok := pduInt(p); ok && (v == 0 || v == 1) {
			sev := "ok"
			if v == 1 {
				sev = "major"
			}
			tv.Alarms = append(tv.Alarms, TVAlarm{Name: "gps-1pps-unlocked", Severity: sev, Active: v == 1})
		}
	}
	return tvAccess(tv)
}
