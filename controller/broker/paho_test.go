package broker

import (
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
)

// TestPahoAckOfDeadConnection checks what the Subscriber's design relies
// on in paho v1.5.1 (it never acknowledges a message of an ended
// connection, but a caller might): Ack on a message whose connection
// ended neither panics nor blocks, and is not sent on the new connection,
// even though the broker redelivers the message there with the same
// packet identifier: a later session still gets the message.
func TestPahoAckOfDeadConnection(t *testing.T) {
	m := testenv.StartMosquittoPersistent(t)
	got := make(chan mqtt.Message, 10)
	o := mqtt.NewClientOptions().AddBroker("tcp://" + m.Addr).SetClientID("ack-probe").
		SetCleanSession(false).SetAutoAckDisabled(true).SetOrderMatters(true).
		SetAutoReconnect(true).SetMaxReconnectInterval(time.Second).
		SetDefaultPublishHandler(func(_ mqtt.Client, msg mqtt.Message) { got <- msg })
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(0)
	if tok := c.Subscribe(eventTopic, 1, nil); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	pub := pahoClient(t, m.Addr, "gw-test", nil)
	publish(t, pub, eventTopic, eventPayload(t, 0), false)
	next := func(what string) mqtt.Message {
		t.Helper()
		select {
		case msg := <-got:
			return msg
		case <-time.After(wait):
			t.Fatalf("%s: nothing within %v", what, wait)
			return nil
		}
	}
	old := next("first delivery")
	m.Stop()
	m.Restart(t)
	again := next("redelivery on the new connection")
	if !again.Duplicate() || again.MessageID() != old.MessageID() {
		t.Fatalf("redelivery DUP %v, id %d; want DUP with the first delivery's id %d", again.Duplicate(), again.MessageID(), old.MessageID())
	}
	acked := make(chan struct{})
	go func() { old.Ack(); close(acked) }()
	select {
	case <-acked:
	case <-time.After(wait):
		t.Fatal("Ack of a message of the dead connection blocks")
	}
	// Make sure anything the Ack might have sent reached the broker before
	// the session ends: a round trip on the same connection.
	if tok := c.Subscribe(eventTopic, 1, nil); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	c.Disconnect(250)
	for len(got) > 0 { // the renewed subscription may bring nothing; drain anyway
		<-got
	}

	c = mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(0)
	if msg := next("delivery to the next session"); string(msg.Payload()) != string(old.Payload()) {
		t.Fatalf("next session got %q, want the message never acknowledged on a live connection", msg.Payload())
	}
}
