package broker

import (
	"strings"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// outboundStore is paho's memory store for the messages the Subscriber
// sends (alerts, subscriptions), resent after a reconnection, without the
// messages it receives. paho stores every QoS 1 PUBLISH received until
// its PUBACK goes out, a map entry and a debug line per message, and
// discards them when it resumes a session anyway: the broker keeps what
// is not acknowledged and delivers it again (DUP).
type outboundStore struct {
	*mqtt.MemoryStore
}

var _ mqtt.Store = outboundStore{}

// newOutboundStore returns an open-able store; paho opens it.
func newOutboundStore() outboundStore { return outboundStore{mqtt.NewMemoryStore()} }

// inbound tells paho's keys of received messages ("i.<id>").
func inbound(key string) bool { return strings.HasPrefix(key, "i.") }

// Put stores an outbound message.
func (s outboundStore) Put(key string, m packets.ControlPacket) {
	if !inbound(key) {
		s.MemoryStore.Put(key, m)
	}
}

// Get returns an outbound message, nil for a received one.
func (s outboundStore) Get(key string) packets.ControlPacket {
	if inbound(key) {
		return nil
	}
	return s.MemoryStore.Get(key)
}

// Del deletes an outbound message.
func (s outboundStore) Del(key string) {
	if !inbound(key) {
		s.MemoryStore.Del(key)
	}
}
