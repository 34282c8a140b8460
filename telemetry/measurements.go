package telemetry

import "time"

// InfluxDB measurements. Every measurement, tag key and field key ngic
// writes is spelled here and nowhere else; telemetry/README.md shows one
// line of each and says why each tag is a tag.
//
// Series cardinality stays bounded: tags carry only identity drawn from a
// bounded set (site, device, interface, gateway, reader or sensor, class,
// an enumerated kind). Anything that grows without bound (an event ID, a
// tag's EPC, a sequence number, free text) is a field.
const (
	// MeasInterface: one interface of a device at one poll.
	MeasInterface = "interface"
	// MeasPONPort: the ONT counts of one PON port of an OLT.
	MeasPONPort = "pon_port"
	// MeasDSLLine: one DSL line of a DSLAM (or a DSL CPE's own line).
	MeasDSLLine = "dsl_line"
	// MeasCableChannel: one DOCSIS upstream or downstream channel.
	MeasCableChannel = "cable_channel"
	// MeasAccess: a device's access totals (ONTs, modems, DSL lines).
	MeasAccess = "access"
	// MeasTVInput: one tuner or transport-stream input of a TV device.
	MeasTVInput = "tv_input"
	// MeasTVTransportStream: one MPEG transport interface (ifType 214).
	MeasTVTransportStream = "tv_transport_stream"
	// MeasTVStatus: a TV headend's or transmitter's status, alarm count
	// and RF output (transmitter power where present).
	MeasTVStatus = "tv_status"
	// MeasTVAlarm: one vendor alarm object of a TV device.
	MeasTVAlarm = "tv_alarm"
	// MeasPoll: the result of one poll of one device.
	MeasPoll = "poll"
	// MeasGatewayHealth: one periodic health message of an edge gateway.
	MeasGatewayHealth = "gateway_health"
	// MeasGatewayLost: a gateway's events lost since it started, per reason.
	MeasGatewayLost = "gateway_lost"
	// MeasEdgeEvent: one edge event other than a passage.
	MeasEdgeEvent = "edge_event"
	// MeasPassage: one passage through a pair of beams.
	MeasPassage = "passage"
)

// Tag keys. Within a line they are written in ascending order.
const (
	// TagAlarm is a TV alarm's name (a vendor MIB object, bounded per model).
	TagAlarm = "alarm"
	// TagClass is the device class (device.Class).
	TagClass = "class"
	// TagDevice is the device's inventory ID.
	TagDevice = "device"
	// TagDirection is a cable channel's "up"/"down" or a passage's "in"/"out".
	TagDirection = "direction"
	// TagGateway is the edge gateway's name.
	TagGateway = "gateway"
	// TagIfIndex is the interface's ifIndex.
	TagIfIndex = "if_index"
	// TagIfName is the interface's ifName (ifDescr when it has none).
	TagIfName = "if_name"
	// TagInput is a TV input's index.
	TagInput = "input"
	// TagReason is one of the Lost* reasons.
	TagReason = "reason"
	// TagSite is the inventory site of a device or gateway.
	TagSite = "site"
	// TagSource is the reader or sensor name of an edge event.
	TagSource = "source"
	// TagTechnology is a DSL line's technology (adsl, adsl2+, vdsl2...).
	TagTechnology = "technology"
	// TagType is an edge event's type (TagArrived, BeamHeld...).
	TagType = "type"
)

// Field keys.
const (
	FieldAdminStatus      = "admin_status"
	FieldOperStatus       = "oper_status"
	FieldUp               = "up"
	FieldAlias            = "alias"
	FieldSpeedBps         = "speed_bps"
	FieldInBps            = "in_bps"
	FieldOutBps           = "out_bps"
	FieldInErrorsPerS     = "in_errors_per_s"
	FieldOutErrorsPerS    = "out_errors_per_s"
	FieldONTsOnline       = "onts_online"
	FieldONTsOffline      = "onts_offline"
	FieldONTsTotal        = "onts_total"
	FieldShowtime         = "showtime"
	FieldAttainableDown   = "attainable_down_bps"
	FieldAttainableUp     = "attainable_up_bps"
	FieldActualDown       = "actual_down_bps"
	FieldActualUp         = "actual_up_bps"
	FieldSNRdB            = "snr_db"
	FieldPowerDBmV        = "power_dbmv"
	FieldFrequencyHz      = "frequency_hz"
	FieldModemsOnline     = "modems_online"
	FieldModemsRegistered = "modems_registered"
	FieldDSLLines         = "dsl_lines"
	FieldDSLShowtime      = "dsl_showtime"
	FieldName             = "name"
	FieldLocked           = "locked"
	FieldState            = "state"
	FieldStandard         = "standard"
	FieldModulation       = "modulation"
	FieldLevelDBuV        = "level_dbuv"
	FieldCNdB             = "cn_db"
	FieldMERdB            = "mer_db"
	FieldBER              = "ber"
	FieldPER              = "per"
	FieldBitrateMbps      = "bitrate_mbps"
	FieldUncorrected      = "uncorrected_packets"
	FieldCCErrors         = "cc_errors"
	FieldStatus           = "status"
	FieldActiveAlarms     = "active_alarms"
	FieldOnAir            = "on_air"
	FieldSynchronized     = "synchronized"
	FieldLevelDBm         = "level_dbm"
	FieldForwardPowerW    = "forward_power_w"
	FieldReflectedPowerW  = "reflected_power_w"
	FieldTSBitrateMbps    = "ts_bitrate_mbps"
	FieldActive           = "active"
	FieldSeverity         = "severity"
	FieldDurationS        = "duration_s"
	FieldVarbinds         = "varbinds"
	FieldTruncated        = "truncated"
	FieldWarnings         = "warnings"
	FieldUptimeS          = "uptime_s"
	FieldReadersConnected = "readers_connected"
	FieldReadersTotal     = "readers_total"
	FieldSpoolRecords     = "spool_records"
	FieldSpoolBytes       = "spool_bytes"
	FieldBrokerReconnects = "broker_reconnects"
	FieldLostTotal        = "lost_total"
	FieldVersion          = "version"
	FieldCount            = "count"
	FieldReason           = "reason"
	FieldSeq              = "seq"
	FieldID               = "id"
	FieldTagID            = "tag_id"
	FieldProtocol         = "protocol"
	FieldAntenna          = "antenna"
	FieldRSSI             = "rssi"
	FieldEPCScheme        = "epc_scheme"
	FieldEPCURI           = "epc_uri"
	FieldGTIN             = "gtin"
	FieldSSCC             = "sscc"
	FieldReads            = "reads"
	FieldPresentS         = "present_s"
	FieldIn               = "in"
	FieldOut              = "out"
	FieldFirstSeq         = "first_seq"
	FieldLastSeq          = "last_seq"
)

// Poll statuses (the "status" field of MeasPoll).
const (
	PollUp         = "up"
	PollDown       = "down"
	PollAuthFailed = "auth-failed"
)

// Cable channel directions (the "direction" tag of MeasCableChannel).
const (
	DirectionUp   = "up"
	DirectionDown = "down"
)

// DeviceTags is the identity every device measurement carries.
type DeviceTags struct {
	// Site is the device's inventory site.
	Site string
	// Device is its inventory ID.
	Device string
	// Class is its device class ("olt", "cmts"...).
	Class string
}

// Optional field helpers: a nil pointer writes nothing, since what a
// device does not tell is absent, never zero.

func optFloat(e *LineEncoder, key string, v *float64) {
	if v != nil {
		e.Float(key, *v)
	}
}

func optInt(e *LineEncoder, key string, v *int) {
	if v != nil {
		e.Int(key, int64(*v))
	}
}

func optUint(e *LineEncoder, key string, v *uint64) {
	if v != nil {
		e.IntU(key, *v)
	}
}

func optBool(e *LineEncoder, key string, v *bool) {
	if v != nil {
		e.Bool(key, *v)
	}
}

func optString(e *LineEncoder, key, v string) {
	if v != "" {
		e.String(key, v)
	}
}

// InterfacePoint is one MeasInterface line: the state and rates of one
// interface. Tags: class, device, if_index, if_name, site.
type InterfacePoint struct {
	DeviceTags
	IfIndex     int64
	IfName      string
	Alias       string
	AdminStatus string
	OperStatus  string
	SpeedBps    *uint64
	InBps       *float64
	OutBps      *float64
	InErrorsPS  *float64
	OutErrorsPS *float64
	// Time is the poll's time.
	Time time.Time
}

// AppendLine appends the point's line to dst.
func (p *InterfacePoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasInterface)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.TagInt(TagIfIndex, p.IfIndex)
	e.Tag(TagIfName, p.IfName)
	e.Tag(TagSite, p.Site)
	optString(&e, FieldAdminStatus, p.AdminStatus)
	optString(&e, FieldOperStatus, p.OperStatus)
	if p.OperStatus != "" {
		e.Bool(FieldUp, p.OperStatus == "up")
	}
	optString(&e, FieldAlias, p.Alias)
	optUint(&e, FieldSpeedBps, p.SpeedBps)
	optFloat(&e, FieldInBps, p.InBps)
	optFloat(&e, FieldOutBps, p.OutBps)
	optFloat(&e, FieldInErrorsPerS, p.InErrorsPS)
	optFloat(&e, FieldOutErrorsPerS, p.OutErrorsPS)
	err := e.End(p.Time)
	return e.buf, err
}

// PONPortPoint is one MeasPONPort line: the ONTs of one PON port.
// Tags: class, device, if_index, if_name, site.
type PONPortPoint struct {
	DeviceTags
	IfIndex     int64
	IfName      string
	OperStatus  string
	ONTsOnline  *int
	ONTsOffline *int
	Time        time.Time
}

// AppendLine appends the point's line to dst. onts_total is written when
// both counts are known.
func (p *PONPortPoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasPONPort)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.TagInt(TagIfIndex, p.IfIndex)
	e.Tag(TagIfName, p.IfName)
	e.Tag(TagSite, p.Site)
	optString(&e, FieldOperStatus, p.OperStatus)
	optInt(&e, FieldONTsOnline, p.ONTsOnline)
	optInt(&e, FieldONTsOffline, p.ONTsOffline)
	if p.ONTsOnline != nil && p.ONTsOffline != nil {
		e.Int(FieldONTsTotal, int64(*p.ONTsOnline)+int64(*p.ONTsOffline))
	}
	err := e.End(p.Time)
	return e.buf, err
}

// DSLLinePoint is one MeasDSLLine line. Tags: class, device, if_index,
// if_name, site, technology.
type DSLLinePoint struct {
	DeviceTags
	IfIndex           int64
	IfName            string
	Technology        string
	OperStatus        string
	Showtime          bool
	AttainableDownBps *uint64
	AttainableUpBps   *uint64
	ActualDownBps     *uint64
	ActualUpBps       *uint64
	Time              time.Time
}

// AppendLine appends the point's line to dst.
func (p *DSLLinePoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasDSLLine)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.TagInt(TagIfIndex, p.IfIndex)
	e.Tag(TagIfName, p.IfName)
	e.Tag(TagSite, p.Site)
	e.Tag(TagTechnology, p.Technology)
	e.Bool(FieldShowtime, p.Showtime)
	optString(&e, FieldOperStatus, p.OperStatus)
	optUint(&e, FieldAttainableDown, p.AttainableDownBps)
	optUint(&e, FieldAttainableUp, p.AttainableUpBps)
	optUint(&e, FieldActualDown, p.ActualDownBps)
	optUint(&e, FieldActualUp, p.ActualUpBps)
	err := e.End(p.Time)
	return e.buf, err
}

// CableChannelPoint is one MeasCableChannel line. Tags: class, device,
// direction (DirectionUp or DirectionDown), if_index, if_name, site.
type CableChannelPoint struct {
	DeviceTags
	Direction   string
	IfIndex     int64
	IfName      string
	OperStatus  string
	FrequencyHz *int64
	PowerDBmV   *float64
	SNRdB       *float64
	// ModemsOnline is the modems online on this upstream, where the CMTS
	// tells it.
	ModemsOnline *int
	Time         time.Time
}

// AppendLine appends the point's line to dst.
func (p *CableChannelPoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasCableChannel)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.Tag(TagDirection, p.Direction)
	e.TagInt(TagIfIndex, p.IfIndex)
	e.Tag(TagIfName, p.IfName)
	e.Tag(TagSite, p.Site)
	optString(&e, FieldOperStatus, p.OperStatus)
	if p.FrequencyHz != nil {
		e.Int(FieldFrequencyHz, *p.FrequencyHz)
	}
	optFloat(&e, FieldPowerDBmV, p.PowerDBmV)
	optFloat(&e, FieldSNRdB, p.SNRdB)
	optInt(&e, FieldModemsOnline, p.ModemsOnline)
	err := e.End(p.Time)
	return e.buf, err
}

// AccessPoint is one MeasAccess line: a device's access totals. Tags:
// class, device, site.
type AccessPoint struct {
	DeviceTags
	ONTsOnline       *int
	ONTsOffline      *int
	ModemsRegistered *int
	ModemsOnline     *int
	DSLLines         *int
	DSLShowtime      *int
	Time             time.Time
}

// AppendLine appends the point's line to dst; a device that tells none of
// these figures gives an error (a line without fields), not a line.
func (p *AccessPoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasAccess)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.Tag(TagSite, p.Site)
	optInt(&e, FieldONTsOnline, p.ONTsOnline)
	optInt(&e, FieldONTsOffline, p.ONTsOffline)
	if p.ONTsOnline != nil && p.ONTsOffline != nil {
		e.Int(FieldONTsTotal, int64(*p.ONTsOnline)+int64(*p.ONTsOffline))
	}
	optInt(&e, FieldModemsRegistered, p.ModemsRegistered)
	optInt(&e, FieldModemsOnline, p.ModemsOnline)
	optInt(&e, FieldDSLLines, p.DSLLines)
	optInt(&e, FieldDSLShowtime, p.DSLShowtime)
	err := e.End(p.Time)
	return e.buf, err
}

// TVInputPoint is one MeasTVInput line. Tags: class, device, input, site.
type TVInputPoint struct {
	DeviceTags
	Index              int
	Name               string
	Locked             *bool
	State              string
	Standard           string
	Modulation         string
	LevelDBuV          *float64
	CNdB               *float64
	MERdB              *float64
	BER                *float64
	PER                *float64
	BitrateMbps        *float64
	UncorrectedPackets *uint64
	CCErrors           *uint64
	Time               time.Time
}

// AppendLine appends the point's line to dst.
func (p *TVInputPoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasTVInput)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.TagInt(TagInput, int64(p.Index))
	e.Tag(TagSite, p.Site)
	optString(&e, FieldName, p.Name)
	optBool(&e, FieldLocked, p.Locked)
	optString(&e, FieldState, p.State)
	optString(&e, FieldStandard, p.Standard)
	optString(&e, FieldModulation, p.Modulation)
	optFloat(&e, FieldLevelDBuV, p.LevelDBuV)
	optFloat(&e, FieldCNdB, p.CNdB)
	optFloat(&e, FieldMERdB, p.MERdB)
	optFloat(&e, FieldBER, p.BER)
	optFloat(&e, FieldPER, p.PER)
	optFloat(&e, FieldBitrateMbps, p.BitrateMbps)
	optUint(&e, FieldUncorrected, p.UncorrectedPackets)
	optUint(&e, FieldCCErrors, p.CCErrors)
	err := e.End(p.Time)
	return e.buf, err
}

// TVTransportStreamPoint is one MeasTVTransportStream line. Tags: class,
// device, if_index, if_name, site.
type TVTransportStreamPoint struct {
	DeviceTags
	IfIndex    int64
	IfName     string
	OperStatus string
	Time       time.Time
}

// AppendLine appends the point's line to dst.
func (p *TVTransportStreamPoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasTVTransportStream)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.TagInt(TagIfIndex, p.IfIndex)
	e.Tag(TagIfName, p.IfName)
	e.Tag(TagSite, p.Site)
	optString(&e, FieldOperStatus, p.OperStatus)
	if p.OperStatus != "" {
		e.Bool(FieldUp, p.OperStatus == "up")
	}
	err := e.End(p.Time)
	return e.buf, err
}

// TVStatusPoint is one MeasTVStatus line: a TV device's status, alarm
// count and RF output. Tags: class, device, site.
type TVStatusPoint struct {
	DeviceTags
	Status          string
	ActiveAlarms    *int
	OnAir           *bool
	Synchronized    *bool
	FrequencyHz     *uint64
	LevelDBm        *float64
	ForwardPowerW   *float64
	ReflectedPowerW *float64
	TSBitrateMbps   *float64
	Time            time.Time
}

// AppendLine appends the point's line to dst; a device that tells none of
// these figures gives an error (a line without fields), not a line.
func (p *TVStatusPoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasTVStatus)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.Tag(TagSite, p.Site)
	optString(&e, FieldStatus, p.Status)
	optInt(&e, FieldActiveAlarms, p.ActiveAlarms)
	optBool(&e, FieldOnAir, p.OnAir)
	optBool(&e, FieldSynchronized, p.Synchronized)
	optUint(&e, FieldFrequencyHz, p.FrequencyHz)
	optFloat(&e, FieldLevelDBm, p.LevelDBm)
	optFloat(&e, FieldForwardPowerW, p.ForwardPowerW)
	optFloat(&e, FieldReflectedPowerW, p.ReflectedPowerW)
	optFloat(&e, FieldTSBitrateMbps, p.TSBitrateMbps)
	err := e.End(p.Time)
	return e.buf, err
}

// TVAlarmPoint is one MeasTVAlarm line. Tags: alarm, class, device, site.
type TVAlarmPoint struct {
	DeviceTags
	Alarm    string
	Severity string
	Active   bool
	Time     time.Time
}

// AppendLine appends the point's line to dst.
func (p *TVAlarmPoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasTVAlarm)
	e.Tag(TagAlarm, p.Alarm)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.Tag(TagSite, p.Site)
	e.Bool(FieldActive, p.Active)
	optString(&e, FieldSeverity, p.Severity)
	err := e.End(p.Time)
	return e.buf, err
}

// PollPoint is one MeasPoll line: the result of one poll. Tags: class,
// device, site. The status is a field, so that a device's series does not
// split when it goes down.
type PollPoint struct {
	DeviceTags
	// Status is PollUp, PollDown or PollAuthFailed.
	Status    string
	Duration  time.Duration
	Varbinds  int
	Truncated bool
	Warnings  int
	Time      time.Time
}

// AppendLine appends the point's line to dst.
func (p *PollPoint) AppendLine(dst []byte) ([]byte, error) {
	e := plainLine(dst)
	e.Start(MeasPoll)
	e.Tag(TagClass, p.Class)
	e.Tag(TagDevice, p.Device)
	e.Tag(TagSite, p.Site)
	switch p.Status {
	case PollUp, PollDown, PollAuthFailed:
		e.String(FieldStatus, p.Status)
		e.Bool(FieldUp, p.Status == PollUp)
	default:
		e.fail(ErrLineValue, "poll status", p.Status)
	}
	e.Float(FieldDurationS, p.Duration.Seconds())
	e.Int(FieldVarbinds, int64(p.Varbinds))
	e.Bool(FieldTruncated, p.Truncated)
	e.Int(FieldWarnings, int64(p.Warnings))
	err := e.End(p.Time)
	return e.buf, err
}
