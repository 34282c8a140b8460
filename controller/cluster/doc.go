// Package cluster lets several controller replicas share one fleet without a
// coordinator of their own: each replica owns the devices that rendezvous
// hashing gives its ordinal among the live members (Owner), the members know
// each other through retained MQTT status messages with a last will
// (Membership, Node), and the coverage lease is held by the lowest live
// ordinal. Each replica also publishes a retained state message (State) with
// the devices it polls and its open alerts, so that any replica can answer
// for the whole fleet.
//
// The package knows the MQTT topics only through telemetry; it never logs.
package cluster
