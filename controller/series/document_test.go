package series

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/telemetry"
)

func ptr[T any](v T) *T { return &v }

// at is the poll time of the hand-built documents: 1795773600 s.
var at = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

var tags = telemetry.DeviceTags{Site: "village-07", Device: "dev-1"}

// TestAppendDocument: each row is a hand-built document and the exact
// lines it must give, one a line.
func TestAppendDocument(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  device.Document
		want []string
	}{{
		name: "what the device does not tell is absent",
		doc: device.Document{Class: device.ClassOLT, PolledAt: at, Interfaces: []device.Interface{
			{Index: 1, Name: "only a name"},                          // no figure: no line
			{Index: 2, OperStatus: "up"},                             // no name: no if_name tag
			{Index: 3, Name: "GPON 0/1/0", SpeedBps: ptr(uint64(0))}, // a told zero stays
		}, Access: &device.Access{PON: &device.PON{Ports: []device.PONPort{
			{IfIndex: 3, Name: "GPON 0/1/0", OperStatus: "down"}, // no ONT table: no counts
			{IfIndex: 4, Name: "GPON 0/1/1"},                     // nothing: no line
		}}}},
		want: []string{
			`interface,class=olt,device=dev-1,if_index=2,site=village-07 oper_status="up",up=true 1795773600000000000`,
			`interface,class=olt,device=dev-1,if_index=3,if_name=GPON\ 0/1/0,site=village-07 speed_bps=0i 1795773600000000000`,
			`pon_port,class=olt,device=dev-1,if_index=3,if_name=GPON\ 0/1/0,site=village-07 oper_status="down" 1795773600000000000`,
			// no access line: the OLT gave no ONT totals
		},
	}, {
		name: "OLT with ONT counts",
		doc: device.Document{Class: device.ClassOLT, PolledAt: at, Access: &device.Access{PON: &device.PON{
			Ports:      []device.PONPort{{IfIndex: 7, Name: "gpon_1/1/1", OperStatus: "up", ONTsOnline: ptr(30), ONTsOffline: ptr(2)}},
			ONTsOnline: ptr(30), ONTsOffline: ptr(2)}}},
		want: []string{
			`pon_port,class=olt,device=dev-1,if_index=7,if_name=gpon_1/1/1,site=village-07 oper_status="up",onts_online=30i,onts_offline=2i,onts_total=32i 1795773600000000000`,
			`access,class=olt,device=dev-1,site=village-07 onts_online=30i,onts_offline=2i,onts_total=32i 1795773600000000000`,
		},
	}, {
		name: "CMTS: downstreams, then upstreams, then the modem totals",
		doc: device.Document{Class: device.ClassCMTS, PolledAt: at, Access: &device.Access{Cable: &device.Cable{
			Upstreams:        []device.Channel{{IfIndex: 4, Name: "cable-upstream 1/0/0", PowerDBmV: ptr(0.0), SNRdB: ptr(36.1)}},
			Downstreams:      []device.Channel{{IfIndex: 3, Name: "cable-downstream 1/0/0", OperStatus: "up", FrequencyHz: ptr(int64(555e6))}, {IfIndex: 9}},
			ModemsRegistered: ptr(112), ModemsOnline: ptr(110)}}},
		want: []string{
			`cable_channel,class=cmts,device=dev-1,direction=down,if_index=3,if_name=cable-downstream\ 1/0/0,site=village-07 oper_status="up",frequency_hz=555000000i 1795773600000000000`,
			`cable_channel,class=cmts,device=dev-1,direction=up,if_index=4,if_name=cable-upstream\ 1/0/0,site=village-07 power_dbmv=0,snr_db=36.1 1795773600000000000`,
			`access,class=cmts,device=dev-1,site=village-07 modems_registered=112i,modems_online=110i 1795773600000000000`,
		},
	}, {
		name: "DSLAM: lines and their totals over every technology",
		doc: device.Document{Class: device.ClassDSLAM, PolledAt: at, Access: &device.Access{DSL: &device.DSL{
			Summary: []device.DSLSummary{{Technology: "adsl", Lines: 2, Showtime: 1}, {Technology: "vdsl2", Lines: 1}},
			Lines: []device.DSLLine{
				{IfIndex: 201, Name: "adsl-0/1/1", Technology: "adsl", OperStatus: "up", Showtime: true,
					AttainableDownBps: ptr(uint64(18400000)), ActualDownBps: ptr(uint64(12000000)), ActualUpBps: ptr(uint64(1024000))},
				{IfIndex: 202, Technology: "adsl"},
				{IfIndex: 301, Name: "vdsl-0/2/1", Technology: "vdsl2", OperStatus: "down", AttainableUpBps: ptr(uint64(0))},
			}}}},
		want: []string{
			`dsl_line,class=dslam,device=dev-1,if_index=201,if_name=adsl-0/1/1,site=village-07,technology=adsl showtime=true,oper_status="up",attainable_down_bps=18400000i,actual_down_bps=12000000i,actual_up_bps=1024000i 1795773600000000000`,
			`dsl_line,class=dslam,device=dev-1,if_index=202,site=village-07,technology=adsl showtime=false 1795773600000000000`,
			`dsl_line,class=dslam,device=dev-1,if_index=301,if_name=vdsl-0/2/1,site=village-07,technology=vdsl2 showtime=false,oper_status="down",attainable_up_bps=0i 1795773600000000000`,
			`access,class=dslam,device=dev-1,site=village-07 dsl_lines=3i,dsl_showtime=1i 1795773600000000000`,
		},
	}, {
		name: "TV: inputs, transport streams, status, alarms",
		doc: device.Document{Class: device.ClassTVTransmitter, PolledAt: at, Access: &device.Access{TV: &device.TV{
			Inputs: []device.TVInput{
				{Index: 2, Name: "Sat 19.2E", Locked: ptr(true), Standard: "DVB-S2", MERDB: ptr(12.5), CCErrors: ptr(uint64(3))},
				{Index: 3}, // nothing: no line
			},
			TransportStreams: []device.TransportStream{{IfIndex: 9, Name: "ts1", OperStatus: "down"}, {IfIndex: 10}},
			Output:           &device.TVOutput{OnAir: ptr(true), ForwardPowerW: ptr(480.5), ReflectedPowerW: ptr(2.1), TSUtilizationPct: []int{80}},
			Status:           "normal",
			Alarms:           []device.TVAlarm{{Name: "vswr", Severity: "major", Active: true}, {Name: "fan failure", Active: false}},
			ActiveAlarms:     ptr(1),
		}}},
		want: []string{
			`tv_input,class=tv-transmitter,device=dev-1,input=2,site=village-07 name="Sat 19.2E",locked=true,standard="DVB-S2",mer_db=12.5,cc_errors=3i 1795773600000000000`,
			`tv_transport_stream,class=tv-transmitter,device=dev-1,if_index=9,if_name=ts1,site=village-07 oper_status="down",up=false 1795773600000000000`,
			`tv_status,class=tv-transmitter,device=dev-1,site=village-07 status="normal",active_alarms=1i,on_air=true,forward_power_w=480.5,reflected_power_w=2.1 1795773600000000000`,
			`tv_alarm,alarm=vswr,class=tv-transmitter,device=dev-1,site=village-07 active=true,severity="major" 1795773600000000000`,
			`tv_alarm,alarm=fan\ failure,class=tv-transmitter,device=dev-1,site=village-07 active=false 1795773600000000000`,
		},
	}, {
		name: "TV receiver without status: no tv_status line",
		doc: device.Document{Class: device.ClassTVReceiver, PolledAt: at, Access: &device.Access{TV: &device.TV{
			Inputs: []device.TVInput{{Index: 1, LevelDBuV: ptr(78.1), BitrateMbps: ptr(0.0)}}}}},
		want: []string{
			`tv_input,class=tv-receiver,device=dev-1,input=1,site=village-07 level_dbuv=78.1,bitrate_mbps=0 1795773600000000000`,
		},
	}, {
		name: "no access section, no interface",
		doc:  device.Document{Class: device.ClassServer, PolledAt: at},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendDocument([]byte("kept\n"), tags, &tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			want := "kept\n"
			for _, l := range tc.want {
				want += l + "\n"
			}
			if string(got) != want {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			lines := parseLines(t, got[len("kept\n"):])
			checkSchema(t, lines)
			checkCounts(t, lines, &tc.doc)
		})
	}
}

// TestAppendDocumentClass: the inventory's class wins over the document's.
func TestAppendDocumentClass(t *testing.T) {
	d := &device.Document{Class: device.ClassSwitch, PolledAt: at, Interfaces: []device.Interface{{Index: 1, OperStatus: "up"}}}
	got, err := AppendDocument(nil, telemetry.DeviceTags{Site: "s", Device: "d", Class: "router"}, d)
	if err != nil || !strings.HasPrefix(string(got), "interface,class=router,device=d,") {
		t.Fatalf("%q, %v", got, err)
	}
}

// TestAppendDocumentBadLines: lines that cannot be encoded are left out
// and reported one by one, naming device, measurement and index; every
// other line is written.
func TestAppendDocumentBadLines(t *testing.T) {
	d := &device.Document{Class: device.ClassOLT, PolledAt: at, Interfaces: []device.Interface{
		{Index: 1, OperStatus: "up", InBps: ptr(1.5)},
		{Index: 2, OperStatus: "up", InBps: ptr(math.NaN())},
		{Index: 3, Name: "bad\x00name", OperStatus: "up"},
		{Index: 4, OperStatus: "up", OutErrorsPerS: ptr(math.Inf(1))},
		{Index: 5, OperStatus: "down"},
	}, Access: &device.Access{
		PON: &device.PON{Ports: []device.PONPort{{IfIndex: 1, OperStatus: "up", ONTsOnline: ptr(1)}}},
		TV: &device.TV{
			Inputs: []device.TVInput{{Index: 1, MERDB: ptr(math.NaN())}, {Index: 2, MERDB: ptr(30.0)}},
			Alarms: []device.TVAlarm{{Name: "", Active: true}, {Name: "ok", Active: false}},
			Output: &device.TVOutput{LevelDBm: ptr(math.Inf(-1))},
		}}}
	got, err := AppendDocument(nil, tags, d)
	wantErrs := []string{
		"series: device dev-1: interface if_index=2: ",
		"series: device dev-1: interface if_index=3: ",
		"series: device dev-1: interface if_index=4: ",
		"series: device dev-1: tv_input input=1: ",
		"series: device dev-1: tv_status: ",
		"series: device dev-1: tv_alarm alarm=: ",
	}
	if n := Skipped(err); n != len(wantErrs) {
		t.Fatalf("Skipped = %d, want %d: %v", n, len(wantErrs), err)
	}
	msgs := strings.Split(err.Error(), "\n")
	for i, w := range wantErrs {
		if !strings.HasPrefix(msgs[i], w) {
			t.Errorf("error %d is %q, want it to start with %q", i, msgs[i], w)
		}
	}
	if !errors.Is(err, telemetry.ErrLineValue) || !errors.Is(err, telemetry.ErrLineName) {
		t.Errorf("%v wraps neither ErrLineValue nor ErrLineName", err)
	}
	var le *LineError
	if !errors.As(err, &le) || le.Device != "dev-1" || le.Measurement != telemetry.MeasInterface || le.Index != "if_index=2" {
		t.Errorf("first LineError %+v", le)
	}
	lines := parseLines(t, got)
	var kept []string
	for _, l := range lines {
		kept = append(kept, l.measurement+" "+l.tags[telemetry.TagIfIndex]+l.tags[telemetry.TagInput]+l.tags[telemetry.TagAlarm])
	}
	want := "interface 1,interface 5,pon_port 1,tv_input 2,tv_alarm ok"
	if strings.Join(kept, ",") != want {
		t.Errorf("lines kept: %s, want %s", strings.Join(kept, ","), want)
	}
}

// TestAppendDocumentRefused: a document that cannot give any point
// appends nothing.
func TestAppendDocumentRefused(t *testing.T) {
	for _, tc := range []struct {
		doc  *device.Document
		want error
	}{
		{nil, ErrNoDocument},
		{&device.Document{Interfaces: []device.Interface{{Index: 1, OperStatus: "up"}}}, ErrNoTime},
		{&device.Document{PolledAt: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrNoTime},
	} {
		got, err := AppendDocument([]byte("x\n"), tags, tc.doc)
		if !errors.Is(err, tc.want) || string(got) != "x\n" || Skipped(err) != 0 {
			t.Errorf("%q, %v; want %v and nothing appended", got, err, tc.want)
		}
		if !strings.Contains(err.Error(), "dev-1") {
			t.Errorf("%v does not name the device", err)
		}
	}
}

// TestAppendPoll: one line per poll, whatever its status; an unknown
// status or a missing time is an error and appends nothing.
func TestAppendPoll(t *testing.T) {
	tg := telemetry.DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"}
	for _, tc := range []struct {
		r    PollResult
		want string
	}{
		{PollResult{Time: at, Status: PollStatus(nil), Duration: 1500 * time.Millisecond, Varbinds: 2048, Warnings: 1, Truncated: true},
			`poll,class=olt,device=olt-1,site=village-07 status="up",up=true,duration_s=1.5,varbinds=2048i,truncated=true,warnings=1i 1795773600000000000`},
		{PollResult{Time: at, Status: PollStatus(snmp.ErrTimeout), Duration: 4 * time.Second},
			`poll,class=olt,device=olt-1,site=village-07 status="down",up=false,duration_s=4,varbinds=0i,truncated=false,warnings=0i 1795773600000000000`},
		{PollResult{Time: at, Status: PollStatus(snmp.ErrUnknownUser), Duration: 20 * time.Millisecond},
			`poll,class=olt,device=olt-1,site=village-07 status="auth-failed",up=false,duration_s=0.02,varbinds=0i,truncated=false,warnings=0i 1795773600000000000`},
	} {
		got, err := AppendPoll(nil, tg, tc.r)
		if err != nil || string(got) != tc.want+"\n" {
			t.Errorf("got %q, %v\nwant %q", got, err, tc.want)
		}
		checkSchema(t, parseLines(t, got))
	}
	for _, r := range []PollResult{{Time: at, Status: "maybe"}, {Status: telemetry.PollUp}} {
		got, err := AppendPoll([]byte("x\n"), tg, r)
		var le *LineError
		if string(got) != "x\n" || !errors.As(err, &le) || le.Measurement != telemetry.MeasPoll || le.Device != "olt-1" {
			t.Errorf("%+v: %q, %v", r, got, err)
		}
	}
}

// TestPollStatus: only v3 security failures are auth-failed.
func TestPollStatus(t *testing.T) {
	for err, want := range map[error]string{
		nil: telemetry.PollUp, snmp.ErrTimeout: telemetry.PollDown, snmp.ErrRefused: telemetry.PollDown,
		snmp.ErrBadAnswer: telemetry.PollDown, snmp.ErrAuth: telemetry.PollAuthFailed,
		snmp.ErrPriv: telemetry.PollAuthFailed, snmp.ErrUnknownUser: telemetry.PollAuthFailed,
		errors.Join(errors.New("device: walk"), snmp.ErrAuth): telemetry.PollAuthFailed,
	} {
		if got := PollStatus(err); got != want {
			t.Errorf("PollStatus(%v) = %s, want %s", err, got, want)
		}
	}
}
