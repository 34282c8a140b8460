package main

import (
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestBarePublishDelivers publishes to a real mosquitto and checks that a
// subscriber receives every event, each a valid edge event payload.
func TestBarePublishDelivers(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	url := "tcp://" + broker.Addr
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("bench-sub"))
	if tok := sub.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	defer sub.Disconnect(0)
	const n = 3000
	var got, bad atomic.Int64
	all := make(chan struct{})
	tok := sub.Subscribe(telemetry.EventTopic("gw-test", "r1"), 1, func(_ mqtt.Client, m mqtt.Message) {
		if _, err := telemetry.DecodeEvent(m.Payload()); err != nil {
			bad.Add(1)
		}
		if got.Add(1) == n {
			close(all)
		}
	})
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	res, err := BarePublish(url, n, 100)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != n || res.Elapsed <= 0 || res.PayloadBytes < 200 {
		t.Fatalf("result %+v", res)
	}
	select {
	case <-all:
	case <-time.After(time.Minute):
	}
	if got.Load() != n || bad.Load() != 0 {
		t.Fatalf("subscriber received %d of %d events, %d not valid", got.Load(), n, bad.Load())
	}
}
