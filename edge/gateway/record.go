package gateway

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ngic/ngic/edge/publish"
	"github.com/ngic/ngic/edge/spool"
	"github.com/ngic/ngic/telemetry"
)

// A spooled record is the MQTT topic, a NUL byte, and the event's JSON
// without its sequence number (the spool assigns that; see telemetry.WithSeq).

func encodeRecord(topic string, payload []byte) []byte {
	b := make([]byte, 0, len(topic)+1+len(payload))
	b = append(b, topic...)
	b = append(b, 0)
	return append(b, payload...)
}

// decodeRecord turns a spooled record into the message to publish.
func decodeRecord(r spool.Record) (publish.Message, error) {
	i := bytes.IndexByte(r.Data, 0)
	if i <= 0 {
		return publish.Message{}, errors.New("gateway: spooled record has no topic")
	}
	topic := string(r.Data[:i])
	if _, kind, _, err := telemetry.ParseTopic(topic); err != nil || kind != "event" {
		return publish.Message{}, fmt.Errorf("gateway: spooled record %d: bad topic %q", r.Seq, topic)
	}
	payload, err := telemetry.WithSeq(make([]byte, 0, len(r.Data)+24), r.Data[i+1:], r.Seq)
	if err != nil {
		return publish.Message{}, fmt.Errorf("gateway: spooled record %d: %w", r.Seq, err)
	}
	return publish.Message{Topic: topic, Payload: payload}, nil
}
