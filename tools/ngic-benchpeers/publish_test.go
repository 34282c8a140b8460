package main

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestBarePublishDelivers publishes to a real mosquitto, an event a
// message and in batches, and checks that a subscriber receives every
// event once, in order, each a valid edge event payload, in as many
// messages as the publisher says.
func TestBarePublishDelivers(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	url := "tcp://" + broker.Addr
	for _, tc := range []struct {
		batch    Batch
		messages int
	}{
		{Batch{}, 3000},
		// 328-byte payloads: 49 fit 16 KiB, 3000 events are 61 messages.
		{Batch{Events: 64, Bytes: 16 << 10}, 62},
		{Batch{Events: 10, Bytes: 16 << 10}, 300},
	} {
		t.Run(fmt.Sprint(tc.batch), func(t *testing.T) {
			sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("bench-sub").SetOrderMatters(true))
			if tok := sub.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
				t.Fatalf("subscriber connect: %v", tok.Error())
			}
			defer sub.Disconnect(0)
			const n = 3000
			var got, msgs, bad atomic.Int64
			var last uint64 // read by the subscriber's goroutine only
			all := make(chan struct{})
			tok := sub.Subscribe(telemetry.EventTopic("gw-test", "r1"), 1, func(_ mqtt.Client, m mqtt.Message) {
				msgs.Add(1)
				es, err := telemetry.DecodeEvents(m.Payload())
				if err != nil || (len(es) > 1) != bytes.HasPrefix(m.Payload(), []byte("[")) {
					bad.Add(1)
				}
				for _, e := range es {
					if e.Seq != last+1 {
						bad.Add(1)
					}
					last = e.Seq
				}
				if got.Add(int64(len(es))) == n {
					close(all)
				}
			})
			if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
				t.Fatalf("subscribe: %v", tok.Error())
			}
			res, err := BarePublish(url, n, 100, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			if res.Events != n || res.Messages != tc.messages || res.Elapsed <= 0 || res.PayloadBytes < 200 {
				t.Fatalf("result %+v, want %d messages", res, tc.messages)
			}
			select {
			case <-all:
			case <-time.After(time.Minute):
			}
			if got.Load() != n || msgs.Load() != int64(tc.messages) || bad.Load() != 0 {
				t.Fatalf("subscriber received %d of %d events in %d messages, %d not valid or out of order",
					got.Load(), n, msgs.Load(), bad.Load())
			}
		})
	}
}

// TestBatchMessages: the bare publisher's batches follow the edge's
// rule: up to Events a message, within Bytes brackets and commas
// included, an event left alone sent as its payload.
func TestBatchMessages(t *testing.T) {
	p := func(n int) []byte { return bytes.Repeat([]byte("7"), n) }
	payloads := [][]byte{p(10), p(10), p(10), p(10), p(10)}
	for _, tc := range []struct {
		b    Batch
		want string
	}{
		{Batch{}, "[7777777777 7777777777 7777777777 7777777777 7777777777]"},
		{Batch{Events: 2, Bytes: 1024}, "[[7777777777,7777777777] [7777777777,7777777777] 7777777777]"},
		{Batch{Events: 64, Bytes: 34}, "[[7777777777,7777777777,7777777777] [7777777777,7777777777]]"},
		{Batch{Events: 64, Bytes: 33}, "[[7777777777,7777777777] [7777777777,7777777777] 7777777777]"},
	} {
		msgs, err := tc.b.messages(payloads)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%s", msgs); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.b, got, tc.want)
		}
	}
	for _, b := range []Batch{{Events: 1025, Bytes: 1 << 20}, {Events: 2, Bytes: 11}} {
		if _, err := b.messages(payloads); err == nil {
			t.Errorf("%+v accepted", b)
		}
	}
}
