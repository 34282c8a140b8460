package rollout_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/rollout"
)

// validState is a rollout's state file as the Manager writes it.
func validState(t testing.TB) []byte {
	now := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	r := &rollout.Rollout{ID: "ro-20261130T010000Z-a1b2c3", By: "ops", State: rollout.StateRunning,
		Spec: rollout.Spec{Bundle: "edge.ngb", Region: "east", CanaryPercent: 5, Growth: 2,
			Timeout: rollout.Duration(time.Hour)},
		Bundle: rollout.Bundle{File: "edge.ngb", SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Size: 1000, Name: "ngic-edge", Version: "1.1.0", OS: "linux", Arch: "arm64", KeyID: "00"},
		URL: "https://c.example/api/v1/bundles/x", Created: now, Changed: now, Wave: 0,
		Waves: []rollout.Wave{{Size: 1, Started: now}, {Size: 2}},
		Gateways: []rollout.Gateway{{Name: "gw-1", Wave: 0, State: rollout.GatewaySent, From: "1.0.0", Sent: now},
			{Name: "gw-2", Wave: 1, State: rollout.GatewayWaiting}, {Name: "gw-3", Wave: 1, State: rollout.GatewayWaiting}}}
	b, err := rollout.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Decoding a state file never panics; what it accepts it writes back
// the same and reads again alike.
func FuzzDecode(f *testing.F) {
	valid := validState(f)
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"ro-20261130T010000Z-a1b2c3","state":"running","waves":[],"wave":5}`))
	f.Add(bytes.Replace(valid, []byte(`"wave": 1`), []byte(`"wave": 7`), 1))
	f.Add(bytes.Replace(valid, []byte(`"state": "waiting"`), []byte(`"state": "sent"`), 1))
	f.Add(append(append([]byte{}, valid...), valid...))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := rollout.Decode(b)
		if err != nil {
			return
		}
		out, err := rollout.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := rollout.Decode(out)
		if err != nil {
			t.Fatalf("a decoded state does not decode again: %v\n%s", err, out)
		}
		out2, _ := rollout.Encode(r2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
		r2.Summary()
	})
}

// The seed that Encode wrote decodes; damaged ones do not.
func TestDecodeRefusesDamage(t *testing.T) {
	valid := validState(t)
	if _, err := rollout.Decode(valid); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"truncated":                         valid[:len(valid)/2],
		"unknown field":                     bytes.Replace(valid, []byte(`"by"`), []byte(`"byy"`), 1),
		"wave past end":                     bytes.Replace(valid, []byte(`"wave": 0,`), []byte(`"wave": 9,`), 1),
		"gateway waiting in a started wave": bytes.Replace(valid, []byte(`"state": "sent"`), []byte(`"state": "waiting"`), 1),
		"bad id":                            bytes.Replace(valid, []byte(`ro-2026`), []byte(`../2026`), 1),
		"trailing data":                     append(append([]byte{}, valid...), '{'),
	} {
		if _, err := rollout.Decode(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
