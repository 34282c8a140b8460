package device

import (
	"strings"

	"github.com/gosnmp/gosnmp"
)

// TV is the access section of a headend, transmitter or receiver.
type TV struct {
	// TransportStreams are the MPEG transport interfaces (ifType 214).
	TransportStreams []TransportStream `json:"transport_streams,omitempty"`
	// TR101290 counts the TR 101 290 error indicators the DVB monitoring
	// MIB gives, by OID column (first, second and third priority).
	TR101290 []TR101290Counter `json:"tr101290,omitempty"`
	// Inputs are the tuners or transport-stream inputs the vendor MIB
	// describes, in index order.
	Inputs []TVInput `json:"inputs,omitempty"`
	// Output is the modulator or transmitter output, when the MIB gives one.
	Output *TVOutput `json:"output,omitempty"`
	// Status is the device's overall status word from its vendor MIB
	// ("normal", "warning", ...).
	Status string `json:"status,omitempty"`
	// Alarms are the vendor alarm or status objects the device answered.
	Alarms []TVAlarm `json:"alarms,omitempty"`
	// ActiveAlarms counts the Alarms whose Active is true; absent when the
	// device gives no alarm objects.
	ActiveAlarms *int `json:"active_alarms,omitempty"`
}

// TVInput is one tuner or transport-stream input. Every figure is absent
// when the device does not give it.
type TVInput struct {
	Index int    `json:"index"`
	Name  string `json:"name,omitempty"`
	// Locked is the tuner lock (or, for a TS input, "available").
	Locked *bool `json:"locked,omitempty"`
	// State is the vendor's word for the input state when it says more
	// than locked/unlocked ("no-sync", "unavailable").
	State       string   `json:"state,omitempty"`
	Standard    string   `json:"standard,omitempty"`
	Modulation  string   `json:"modulation,omitempty"`
	LevelDBuV   *float64 `json:"level_dbuv,omitempty"`
	CNDB        *float64 `json:"cn_db,omitempty"`
	MERDB       *float64 `json:"mer_db,omitempty"`
	BER         *float64 `json:"ber,omitempty"`
	PER         *float64 `json:"per,omitempty"`
	BitrateMbps *float64 `json:"bitrate_mbps,omitempty"`
	// UncorrectedPackets and CCErrors are the input's running counts of
	// uncorrectable packets and TR 101 290 continuity-count errors.
	UncorrectedPackets *uint64 `json:"uncorrected_packets,omitempty"`
	CCErrors           *uint64 `json:"cc_errors,omitempty"`
}

// TVOutput is the RF output of a modulator or transmitter.
type TVOutput struct {
	OnAir           *bool    `json:"on_air,omitempty"`
	Synchronized    *bool    `json:"synchronized,omitempty"`
	FrequencyHz     *uint64  `json:"frequency_hz,omitempty"`
	LevelDBm        *float64 `json:"level_dbm,omitempty"`
	ForwardPowerW   *float64 `json:"forward_power_w,omitempty"`
	ReflectedPowerW *float64 `json:"reflected_power_w,omitempty"`
	// TSBitrateMbps is the bitrate of the transport stream being modulated.
	TSBitrateMbps *float64 `json:"ts_bitrate_mbps,omitempty"`
	// TSUtilizationPct lists, per output transport stream, how full it is.
	TSUtilizationPct []int `json:"ts_utilization_pct,omitempty"`
}

// TVAlarm is one vendor alarm or status object.
type TVAlarm struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Active   bool   `json:"active"`
}

// TransportStream is one MPEG transport interface.
type TransportStream struct {
	IfIndex    int    `json:"if_index"`
	Name       string `json:"name,omitempty"`
	OperStatus string `json:"oper_status,omitempty"`
}

// TR101290Counter is one TR 101 290 error indicator column summed over its
// rows.
type TR101290Counter struct {
	Column string `json:"column"`
	Rows   int    `json:"rows"`
	Total  uint64 `json:"total"`
}

const (
	ifTypeMPEGTransport = 214
	// dvbTR101290 is the root of the DVB measurement MIB (ETSI TR 101 290).
	dvbTR101290 = "1.3.6.1.4.1.2696.3.2"
)

func init() {
	RegisterExtractor("tv", extractTV)
}

// extractTV lists MPEG transport interfaces and sums the TR 101 290
// counters; vendor tables without a public MIB are left out.
func extractTV(o *Objects, d *Document) *Access {
	return tvAccess(baseTV(o, d))
}

// tvAccess wraps a TV section, or gives nil when it holds nothing.
func tvAccess(tv *TV) *Access {
	if tv == nil || (len(tv.TransportStreams) == 0 && len(tv.TR101290) == 0 && len(tv.Inputs) == 0 &&
		tv.Output == nil && tv.Status == "" && len(tv.Alarms) == 0) {
		return nil
	}
	if len(tv.Alarms) > 0 {
		n := 0
		for _, a := range tv.Alarms {
			if a.Active {
				n++
			}
		}
		tv.ActiveAlarms = &n
	}
	return &Access{TV: tv}
}

// scaled returns an integer column value divided by div.
func scaled(o *Objects, oid string, div float64) *float64 {
	p, ok := o.Get(oid)
	if !ok {
		return nil
	}
	v, ok := pduInt(p)
	if !ok {
		return nil
	}
	return ptr(float64(v) / div)
}

// baseTV lists MPEG transport interfaces and sums the TR 101 290 counters.
func baseTV(o *Objects, d *Document) *TV {
	tv := &TV{}
	for _, it := range d.Interfaces {
		if it.Type != nil && *it.Type == ifTypeMPEGTransport {
			tv.TransportStreams = append(tv.TransportStreams, TransportStream{IfIndex: it.Index, Name: it.Name, OperStatus: it.OperStatus})
		}
	}
	cols := map[string]*TR101290Counter{}
	var order []string
	col := o.Column(dvbTR101290)
	for _, k := range indexes(col) {
		p := col[k]
		if p.Type != gosnmp.Counter32 && p.Type != gosnmp.Counter64 {
			continue
		}
		v, ok := pduUint(p)
		if !ok {
			continue
		}
		// Column = the OID up to the entry's column arc: table.entry.column.
		parts := strings.SplitN(k, ".", 4)
		if len(parts) < 4 {
			continue
		}
		name := dvbTR101290 + "." + strings.Join(parts[:3], ".")
		c := cols[name]
		if c == nil {
			c = &TR101290Counter{Column: name}
			cols[name] = c
			order = append(order, name)
		}
		c.Rows++
		c.Total += v
	}
	for _, n := range order {
		tv.TR101290 = append(tv.TR101290, *cols[n])
	}
	return tv
}
