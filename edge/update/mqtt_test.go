package update_test

import (
	"testing"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/telemetry"
)

// TestUpdateCommandFromTheBroker: a retained command on the gateway's own
// command topic is acted on once, also when it is delivered again at the
// new version's connect; then an empty retained payload withdraws it.
func TestUpdateCommandFromTheBroker(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	g := r.start(t, gwOpts{noPoll: true})
	b := r.newBundle(t)
	c := r.srv.Offer(g.name, "mqtt-1", newVersion, b)
	payload, err := telemetry.EncodeUpdateCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	ctl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + r.broker.Addr).SetClientID("controller-" + g.name))
	if tok := ctl.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("controller: %v", tok.Error())
	}
	defer ctl.Disconnect(0)
	topic := telemetry.CommandTopic(g.name, telemetry.CommandUpdate)
	if tok := ctl.Publish(topic, 1, true, payload); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	g.waitStep(newVersion, c.ID, telemetry.UpdateDone)
	// The new version got the retained command again at its connect, and
	// did nothing with it.
	if n := r.srv.served.Load(); n != c.Size {
		t.Errorf("served %d bytes, the bundle is %d", n, c.Size)
	}
	if tok := ctl.Publish(topic, 1, true, []byte{}); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("withdraw: %v", tok.Error())
	}
}
