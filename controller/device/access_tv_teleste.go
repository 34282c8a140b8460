package device

// Teleste Luminato headends. The status group (TELESTE-COMMON-MIB, as
// LibreNMS reads it: statusGeneral 1 normal / 2 notification / 3 warning /
// 4 alarm; statusTemperature 1 normal / 2 hihi / 3 hi / 4 lo / 5 lolo;
// statusFan and statusHardware 1 normal / 2 failure; statusSoftware 1
// normal / 2 failure / 3 missing / 4 initialising) gives the device status
// and alarms. The Luminato interface table under 3715.17.3 (per-module IP
// inputs and QAM outputs with bitrates) could not be matched to a published
// MIB definition here, so it is not read.
const telesteStatus = "1.3.6.1.4.1.3715.99.1.2"

func init() { RegisterExtractor("tv-teleste", extractTVTeleste) }

func extractTVTeleste(o *Objects, d *Document) *Access {
	tv := baseTV(o, d)
	if v, ok := o.colInt(telesteStatus, "1.0"); ok {
		tv.Status = map[int64]string{1: "normal", 2: "notification", 3: "warning", 4: "alarm"}[v]
	}
	for _, a := range []struct {
		col  string
		name string
		sev  map[int64]string
	}{
		{"5.0", "temperature", map[int64]string{1: "ok", 2: "critical", 3: "major", 4: "major", 5: "critical"}},
		{"6.0", "fan-failure", map[int64]string{1: "ok", 2: "critical"}},
		{"7.0", "hardware-failure", map[int64]string{1: "ok", 2: "critical"}},
		{"8.0", "software", map[int64]string{1: "ok", 2: "critical", 3: "major", 4: "warning"}},
	} {
		v, ok := o.colInt(telesteStatus, a.col)
		if !ok {
			continue
		}
		sev, ok := a.sev[v]
		if !ok {
			continue
		}
		tv.Alarms = append(tv.Alarms, TVAlarm{Name: a.name, Severity: sev, Active: sev != "ok"})
	}
	return tvAccess(tv)
}
