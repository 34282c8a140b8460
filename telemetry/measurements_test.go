package telemetry

import (
	"strings"
	"testing"
	"time"
)

func ptrOf[T any](v T) *T { return &v }

var (
	pollTime = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	olt      = DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"}
)

// measurementCases: every measurement builder with the exact line it makes.
var measurementCases = []struct {
	name   string
	append func(dst []byte) ([]byte, error)
	want   string
}{
	{"interface", (&InterfacePoint{DeviceTags: olt, IfIndex: 4194312448, IfName: "GPON 0/1/0", AdminStatus: "up",
		OperStatus: "up", SpeedBps: ptrOf(uint64(2488320000)), InBps: ptrOf(1.25e6), OutBps: ptrOf(3.5e7), Time: pollTime}).AppendLine,
		`interface,class=olt,device=olt-1,if_index=4194312448,if_name=GPON\ 0/1/0,site=village-07 admin_status="up",oper_status="up",up=true,speed_bps=2488320000i,in_bps=1.25e+06,out_bps=3.5e+07 1795773600000000000`},
	{"pon_port", (&PONPortPoint{DeviceTags: olt, IfIndex: 4194312448, IfName: "GPON 0/1/0", OperStatus: "up",
		ONTsOnline: ptrOf(30), ONTsOffline: ptrOf(2), Time: pollTime}).AppendLine,
		`pon_port,class=olt,device=olt-1,if_index=4194312448,if_name=GPON\ 0/1/0,site=village-07 oper_status="up",onts_online=30i,onts_offline=2i,onts_total=32i 1795773600000000000`},
	{"dsl_line", (&DSLLinePoint{DeviceTags: DeviceTags{Site: "exchange-3", Device: "dslam-2", Class: "dslam"}, IfIndex: 201, IfName: "adsl-0/1/1",
		Technology: "adsl2+", OperStatus: "up", Showtime: true, AttainableDownBps: ptrOf(uint64(18400000)), ActualDownBps: ptrOf(uint64(12000000)),
		ActualUpBps: ptrOf(uint64(1024000)), Time: pollTime}).AppendLine,
		`dsl_line,class=dslam,device=dslam-2,if_index=201,if_name=adsl-0/1/1,site=exchange-3,technology=adsl2+ showtime=true,oper_status="up",attainable_down_bps=18400000i,actual_down_bps=12000000i,actual_up_bps=1024000i 1795773600000000000`},
	{"cable_channel", (&CableChannelPoint{DeviceTags: DeviceTags{Site: "hub-1", Device: "cmts-1", Class: "cmts"}, Direction: DirectionUp,
		IfIndex: 4, IfName: "cable-upstream 1/0/0", SNRdB: ptrOf(36.1), PowerDBmV: ptrOf(0.0), ModemsOnline: ptrOf(112), Time: pollTime}).AppendLine,
		`cable_channel,class=cmts,device=cmts-1,direction=up,if_index=4,if_name=cable-upstream\ 1/0/0,site=hub-1 power_dbmv=0,snr_db=36.1,modems_online=112i 1795773600000000000`},
	{"access", (&AccessPoint{DeviceTags: olt, ONTsOnline: ptrOf(300), ONTsOffline: ptrOf(12), Time: pollTime}).AppendLine,
		`access,class=olt,device=olt-1,site=village-07 onts_online=300i,onts_offline=12i,onts_total=312i 1795773600000000000`},
	{"tv_input", (&TVInputPoint{DeviceTags: DeviceTags{Site: "headend", Device: "hd-1", Class: "tv-headend"}, Index: 2, Name: "Sat 19.2E",
		Locked: ptrOf(true), Standard: "DVB-S2", MERdB: ptrOf(12.5), CCErrors: ptrOf(uint64(3)), Time: pollTime}).AppendLine,
		`tv_input,class=tv-headend,device=hd-1,input=2,site=headend name="Sat 19.2E",locked=true,standard="DVB-S2",mer_db=12.5,cc_errors=3i 1795773600000000000`},
	{"tv_transport_stream", (&TVTransportStreamPoint{DeviceTags: DeviceTags{Site: "headend", Device: "hd-1", Class: "tv-headend"},
		IfIndex: 9, IfName: "ts1", OperStatus: "down", Time: pollTime}).AppendLine,
		`tv_transport_stream,class=tv-headend,device=hd-1,if_index=9,if_name=ts1,site=headend oper_status="down",up=false 1795773600000000000`},
	{"tv_status", (&TVStatusPoint{DeviceTags: DeviceTags{Site: "hill-tx", Device: "tx-1", Class: "tv-transmitter"}, Status: "normal",
		ActiveAlarms: ptrOf(0), OnAir: ptrOf(true), ForwardPowerW: ptrOf(480.5), ReflectedPowerW: ptrOf(2.1), Time: pollTime}).AppendLine,
		`tv_status,class=tv-transmitter,device=tx-1,site=hill-tx status="normal",active_alarms=0i,on_air=true,forward_power_w=480.5,reflected_power_w=2.1 1795773600000000000`},
	{"tv_alarm", (&TVAlarmPoint{DeviceTags: DeviceTags{Site: "hill-tx", Device: "tx-1", Class: "tv-transmitter"}, Alarm: "vswr",
		Severity: "major", Active: true, Time: pollTime}).AppendLine,
		`tv_alarm,alarm=vswr,class=tv-transmitter,device=tx-1,site=hill-tx active=true,severity="major" 1795773600000000000`},
	{"poll", (&PollPoint{DeviceTags: olt, Status: PollAuthFailed, Duration: 1500 * time.Millisecond, Varbinds: 0, Time: pollTime}).AppendLine,
		`poll,class=olt,device=olt-1,site=village-07 status="auth-failed",up=false,duration_s=1.5,varbinds=0i,truncated=false,warnings=0i 1795773600000000000`},
}

func TestMeasurements(t *testing.T) {
	for _, tc := range measurementCases {
		b, err := tc.append([]byte("x f=1i 1\n"))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := strings.TrimPrefix(string(b), "x f=1i 1\n")
		if got != tc.want+"\n" {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		lines := parseLines(t, b)
		if len(lines) != 2 || lines[1].measurement != tc.name || !lines[1].time.Equal(pollTime) {
			t.Errorf("%s: parsed %+v", tc.name, lines)
		}
	}
}

func TestMeasurementsRefuse(t *testing.T) {
	if b, err := (&PollPoint{DeviceTags: olt, Status: "maybe", Time: pollTime}).AppendLine(nil); err == nil || len(b) != 0 {
		t.Errorf("poll status maybe: %q, %v", b, err)
	}
	// A device that tells nothing gives no line.
	if b, err := (&AccessPoint{DeviceTags: olt, Time: pollTime}).AppendLine(nil); err == nil || len(b) != 0 {
		t.Errorf("empty access: %q, %v", b, err)
	}
	if b, err := (&InterfacePoint{DeviceTags: olt, IfIndex: 1, InBps: ptrOf(1.0)}).AppendLine(nil); err == nil || len(b) != 0 {
		t.Errorf("no time: %q, %v", b, err)
	}
}

// TestNoSeriesFromUnboundedValues: an event's id, seq and tag ID are
// fields, never tags.
func TestNoSeriesFromUnboundedValues(t *testing.T) {
	ev := &Event{V: 1, Seq: 77, ID: "4f1c2a9e-0000-4000-8000-000000000001", Gateway: "gw-1", Source: "dock",
		Type: TagArrived, Time: pollTime, Tag: &Tag{ID: "3074257BF7194E4000001A85", Protocol: "magicrf"}}
	b, err := AppendEventLine(nil, "village-07", ev)
	if err != nil {
		t.Fatal(err)
	}
	l := parseLines(t, b)[0]
	for _, tag := range l.tags {
		switch tag[0] {
		case TagGateway, TagSite, TagSource, TagType:
		default:
			t.Errorf("unexpected tag %q", tag)
		}
	}
	if l.fields[FieldSeq] != int64(77) || l.fields[FieldID] != ev.ID || l.fields[FieldTagID] != ev.Tag.ID {
		t.Errorf("fields %v", l.fields)
	}
}
