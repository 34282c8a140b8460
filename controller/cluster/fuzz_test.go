package cluster

import (
	"testing"
	"time"

	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/telemetry"
)

func FuzzParseStatus(f *testing.F) {
	f.Add(Status{V: 1, Ordinal: 1, State: StateOnline, Time: time.Unix(1e9, 0), Heartbeat: 5}.Encode())
	f.Add(Status{V: 1, Ordinal: 0, State: StateOffline}.Encode())
	f.Add([]byte(`{"v":1,"ordinal":1e3,"state":"online","heartbeat_s":0.001}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStatus(b)
		if err != nil {
			return
		}
		again, err := ParseStatus(s.Encode())
		if err != nil || again.Ordinal != s.Ordinal || again.State != s.State {
			t.Fatalf("a status accepted does not read back: %+v, %v", again, err)
		}
	})
}

func FuzzParseState(f *testing.F) {
	s := &State{V: 1, Ordinal: 2, Devices: []Device{{DeviceState: poller.DeviceState{ID: "a", State: poller.StateUp}}},
		Alerts: []telemetry.Alert{alert("x")}}
	b, _ := s.Encode()
	f.Add(b)
	f.Add([]byte(`{"v":1,"ordinal":0,"devices":null}`))
	f.Add([]byte(`{"v":1,"ordinal":0,"devices":[{"id":"a","state":"down","evidence":{"Ports":[{}]}}]}`))
	f.Add([]byte(`{"v":1,"ordinal":1,"devices":[],"acks":[{"alert":"x","by":"noc","at":"2026-01-02T03:04:05Z","note":"on it"}]}`))
	f.Add([]byte(`{"v":1,"ordinal":1,"devices":[],"acks":[{"alert":"","by":"noc"}]}`))
	f.Add([]byte(`{"v":1,"ordinal":1,"devices":[],"signals":[{"kind":"door-held","gateway":"gw-a","site":"s1","key":"eye-1",` +
		`"active":true,"time":"2026-01-02T03:04:05Z","attrs":{"sensor":"eye-1"},"applied":true}],"coverage":"2026-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"v":1,"ordinal":1,"devices":[],"signals":[{"kind":"device-down","gateway":"gw-a"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseState(b)
		if err != nil {
			return
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatalf("a state accepted does not encode: %v", err)
		}
		again, err := ParseState(enc)
		if err != nil || len(again.Devices) != len(s.Devices) || len(again.Alerts) != len(s.Alerts) || len(again.Acks) != len(s.Acks) ||
			len(again.Signals) != len(s.Signals) {
			t.Fatalf("a state accepted does not read back: %v", err)
		}
	})
}
