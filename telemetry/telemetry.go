// Package telemetry is the one definition of what travels between ngic's
// programs: the MQTT topics an edge gateway publishes on, the payloads it
// sends, the controller's alerts, and the InfluxDB measurements. Nothing
// else in ngic spells a topic string or a measurement name.
//
// Topics (gateway and source names are MQTT topic levels, so they may not
// hold '/', '+', '#' or NUL):
//
//	ngic/v1/gw/<gateway>/status            retained: birth ("online") and last will ("offline")
//	ngic/v1/gw/<gateway>/event/<source>    every event of one reader or sensor, QoS 1
//	ngic/v1/gw/<gateway>/health            periodic health (HealthTopic), QoS 1
//	ngic/v1/gw/<gateway>/commissioning     ngic-fwtool commission's probe of the gateway's rights (CommissioningTopic)
//	ngic/v1/alerts/<id>                    the controller's alerts (AlertTopic), retained while open
//	ngic/v1/controllers/<ordinal>          retained: a clustered controller replica's heartbeat and last will
//	ngic/v1/controllers/<ordinal>/state    retained: the devices that replica polls and its open alerts
//	ngic/v1/cmd/<gateway>/<command>        commands to one gateway (CommandTopic); "update" is retained (UpdateCommand)
//
// Payloads are JSON objects with a schema version "v". Every event carries
// the gateway's sequence number "seq" (strictly increasing per gateway across
// restarts) and a unique "id", so the far end can detect gaps and
// duplicates: delivery is at least once. Every event the gateway accepted
// took a number; when events are lost (overflow policy, full disk, crash)
// an "events.lost" event (source LossSource) gives their count, reason and
// seq range, so each gap in seq is explained.
package telemetry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SchemaVersion is the payload schema version carried in "v".
const SchemaVersion = 1

// Root is the first topic levels shared by every ngic topic.
const Root = "ngic/v1"

// ValidateName checks that s can be a topic level: non-empty, at most 128
// bytes, and free of '/', '+', '#', NUL and spaces.
func ValidateName(s string) error {
	if s == "" {
		return errors.New("telemetry: empty name")
	}
	if len(s) > 128 {
		return fmt.Errorf("telemetry: name %q longer than 128 bytes", s)
	}
	for i := 0; i < len(s); i++ {
		if notInName[s[i]] {
			return fmt.Errorf("telemetry: name %q holds %q, which cannot be in an MQTT topic level", s, s[i])
		}
	}
	return nil
}

// notInName marks the bytes a name may not hold (see ValidateName).
var notInName = func() (t [256]bool) {
	for _, c := range []byte("/+#\x00 \t\r\n") {
		t[c] = true
	}
	return t
}()

// StatusTopic is the retained birth / last-will topic of a gateway.
func StatusTopic(gateway string) string { return Root + "/gw/" + gateway + "/status" }

// EventTopic is the topic of the events of one source (reader or sensor).
func EventTopic(gateway, source string) string {
	return Root + "/gw/" + gateway + "/event/" + source
}

// CommandTopic is a command to one gateway (what: for example "update").
// Only the controller writes there; each gateway reads only its own
// CommandFilter (the shipped broker ACL).
func CommandTopic(gateway, what string) string { return Root + "/cmd/" + gateway + "/" + what }

// CommandFilter subscribes to every command to one gateway.
func CommandFilter(gateway string) string { return Root + "/cmd/" + gateway + "/#" }

// CommissioningTopic is where ngic-fwtool commission, under a gateway's
// credentials, publishes a probe of the gateway's rights; no consumer
// subscribes to it and ParseTopic refuses it, so a probe is never data.
func CommissioningTopic(gateway string) string { return Root + "/gw/" + gateway + "/commissioning" }

// CommandCommissioning is the command name of the probe that ngic-fwtool
// commission sends to a gateway's commands (CommandTopic(gateway,
// CommandCommissioning)) to check what it may read; a gateway ignores it.
const CommandCommissioning = "commissioning"

// StatusFilter subscribes to the status of every gateway.
const StatusFilter = Root + "/gw/+/status"

// EventFilter subscribes to every event of every gateway.
const EventFilter = Root + "/gw/+/event/#"

// ControllerTopic is the retained status of controller replica ordinal in
// a cluster: its heartbeats ("online") and its last will ("offline").
func ControllerTopic(ordinal int) string { return Root + "/controllers/" + strconv.Itoa(ordinal) }

// ControllerStateTopic is the retained state controller replica ordinal
// shares with the others. An empty, non-retained message there is not a
// state but the replica's barrier (it reads its own back to know it has
// read every state before it); readers skip it.
func ControllerStateTopic(ordinal int) string { return ControllerTopic(ordinal) + "/state" }

// Filters of every controller replica's status and state.
const (
	ControllerFilter      = Root + "/controllers/+"
	ControllerStateFilter = Root + "/controllers/+/state"
)

// ParseControllerTopic returns the ordinal of a ControllerTopic or
// ControllerStateTopic, and whether it is the latter.
func ParseControllerTopic(topic string) (ordinal int, state bool, err error) {
	rest, ok := strings.CutPrefix(topic, Root+"/controllers/")
	if ok {
		rest, state = strings.CutSuffix(rest, "/state")
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 0 && strconv.Itoa(n) == rest {
			return n, state, nil
		}
	}
	return 0, false, fmt.Errorf("telemetry: topic %q is not %s/controllers/<ordinal>[/state]", topic, Root)
}

// ParseTopic splits a topic into gateway, kind ("status", "health" or
// "event") and source (empty for status and health). It fails on topics outside the schema.
func ParseTopic(topic string) (gateway, kind, source string, err error) {
	rest, ok := strings.CutPrefix(topic, Root+"/gw/")
	if !ok {
		return "", "", "", fmt.Errorf("telemetry: topic %q is not under %s/gw/", topic, Root)
	}
	gateway, rest, _ = strings.Cut(rest, "/")
	if gateway != "" {
		switch rest {
		case "status":
			return gateway, "status", "", nil
		case "health":
			return gateway, "health", "", nil
		}
		source, ok = strings.CutPrefix(rest, "event/")
		if ok && source != "" && strings.IndexByte(source, '/') < 0 {
			return gateway, "event", source, nil
		}
	}
	return "", "", "", fmt.Errorf("telemetry: topic %q is neither .../<gateway>/status nor .../<gateway>/event/<source>", topic)
}
