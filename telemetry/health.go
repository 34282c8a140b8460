package telemetry

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// HealthTopic is the topic of a gateway's periodic health message
// (QoS 1, not retained: the status topic says whether it is online).
func HealthTopic(gateway string) string { return Root + "/gw/" + gateway + "/health" }

// HealthFilter subscribes to the health of every gateway.
const HealthFilter = Root + "/gw/+/health"

// Health is the periodic health message of an edge gateway. Counts are
// since the gateway process started (like Prometheus counters), so a
// consumer sees a restart as a fall of UptimeS and of the counts.
type Health struct {
	// V is the schema version.
	V int `json:"v"`
	// Gateway is the gateway name.
	Gateway string `json:"gateway"`
	// Time is when the message was made, per the gateway's clock.
	Time time.Time `json:"time"`
	// Version is the gateway software version.
	Version string `json:"version,omitempty"`
	// UptimeS is how long the gateway process has run, in seconds.
	UptimeS float64 `json:"uptime_s"`
	// ReadersConnected of ReadersTotal configured readers are open.
	ReadersConnected int `json:"readers_connected"`
	ReadersTotal     int `json:"readers_total"`
	// SpoolRecords and SpoolBytes are the events waiting in the spool for
	// the broker's acknowledgement, and the bytes they take.
	SpoolRecords uint64 `json:"spool_records"`
	SpoolBytes   uint64 `json:"spool_bytes"`
	// Lost counts the events lost, by Lost* reason; reasons with no loss
	// are absent.
	Lost map[string]uint64 `json:"lost,omitempty"`
	// BrokerReconnects counts the broker connections made after the first.
	BrokerReconnects uint64 `json:"broker_reconnects"`
}

// EncodeHealth returns the JSON of a health message.
func EncodeHealth(h *Health) ([]byte, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(h)
}

// DecodeHealth parses and validates a health payload. Unknown members are
// ignored so that newer gateways can add fields.
func DecodeHealth(b []byte) (*Health, error) {
	var h Health
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("telemetry: health payload: %w", err)
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	return &h, nil
}

func (h *Health) validate() error {
	switch {
	case h.V != SchemaVersion:
		return fmt.Errorf("telemetry: health field v: schema version %d, want %d", h.V, SchemaVersion)
	case h.Time.IsZero():
		return errors.New("telemetry: health field time: missing")
	case h.Time.Year() < 1678 || h.Time.Year() > 2261:
		return fmt.Errorf("telemetry: health field time: year %d out of range", h.Time.Year())
	case math.IsNaN(h.UptimeS) || math.IsInf(h.UptimeS, 0) || h.UptimeS < 0:
		return fmt.Errorf("telemetry: health field uptime_s: %v is not a duration", h.UptimeS)
	case h.ReadersTotal < 0 || h.ReadersConnected < 0 || h.ReadersConnected > h.ReadersTotal:
		return fmt.Errorf("telemetry: health field readers_connected: %d of %d readers", h.ReadersConnected, h.ReadersTotal)
	case h.SpoolRecords > math.MaxInt64 || h.SpoolBytes > math.MaxInt64 || h.BrokerReconnects > math.MaxInt64:
		return errors.New("telemetry: health field spool_records/spool_bytes/broker_reconnects: above 2^63-1")
	case len(h.Version) > 128:
		return errors.New("telemetry: health field version: longer than 128 bytes")
	}
	if err := ValidateName(h.Gateway); err != nil {
		return fmt.Errorf("telemetry: health field gateway: %w", err)
	}
	for r, n := range h.Lost {
		if !lostReasons[r] {
			return fmt.Errorf("telemetry: health field lost: unknown reason %q", r)
		}
		if n > math.MaxInt64 {
			return fmt.Errorf("telemetry: health field lost.%s: above 2^63-1", r)
		}
	}
	return nil
}

// LostTotal is the sum of Lost.
func (h *Health) LostTotal() uint64 {
	var n uint64
	for _, c := range h.Lost {
		n += c
	}
	return n
}

// AppendLines appends the health message's lines to dst: one
// MeasGatewayHealth line (tags gateway, site) and one MeasGatewayLost line
// per reason with a loss (tags gateway, reason, site), in reason order,
// all at the message's time. site is the gateway's inventory site ("" when
// unknown). A line in error is left out and its error returned; the other
// lines are still appended.
func (h *Health) AppendLines(dst []byte, site string) ([]byte, error) {
	e := LineEncoder{buf: dst, lineStart: len(dst)}
	e.Start(MeasGatewayHealth)
	e.Tag(TagGateway, h.Gateway)
	e.Tag(TagSite, site)
	e.Float(FieldUptimeS, h.UptimeS)
	e.Int(FieldReadersConnected, int64(h.ReadersConnected))
	e.Int(FieldReadersTotal, int64(h.ReadersTotal))
	e.IntU(FieldSpoolRecords, h.SpoolRecords)
	e.IntU(FieldSpoolBytes, h.SpoolBytes)
	e.IntU(FieldBrokerReconnects, h.BrokerReconnects)
	e.IntU(FieldLostTotal, h.LostTotal())
	optString(&e, FieldVersion, h.Version)
	first := e.End(h.Time)
	if len(h.Lost) == 0 {
		return e.buf, first
	}
	var reasons [8]string
	rs := reasons[:0]
	for r := range h.Lost {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	for _, r := range rs {
		e.Start(MeasGatewayLost)
		e.Tag(TagGateway, h.Gateway)
		e.Tag(TagReason, r)
		e.Tag(TagSite, site)
		e.IntU(FieldCount, h.Lost[r])
		if err := e.End(h.Time); err != nil && first == nil {
			first = err
		}
	}
	return e.buf, first
}
