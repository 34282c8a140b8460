package publish

import (
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// nullStore is the MQTT client's store of unacknowledged packets: none.
// Each session is clean and new (a client is never reconnected), so the
// client would never replay what it stored; the spool is the store, and
// replays after a reconnect come from it. Keeping a copy of every packet
// in flight in a map cost the client a good part of its CPU per event.
type nullStore struct{}

var _ mqtt.Store = nullStore{}

// Open does nothing.
func (nullStore) Open() {}

// Put forgets the packet.
func (nullStore) Put(string, packets.ControlPacket) {}

// Get finds nothing.
func (nullStore) Get(string) packets.ControlPacket { return nil }

// All lists nothing.
func (nullStore) All() []string { return nil }

// Del does nothing.
func (nullStore) Del(string) {}

// Close does nothing.
func (nullStore) Close() {}

// Reset does nothing.
func (nullStore) Reset() {}
