// Package device turns what an SNMP agent answers into one normalised
// document per device: its class (OLT, CMTS, DSLAM, TV transmitter, ...),
// system group, interfaces, and an access section with the figures that
// matter for that class (ONTs online per PON port, modems per CMTS, DSL lines
// in showtime, transport streams). Which tables to walk and which access
// extractor to apply come from device profiles, YAML data embedded in the
// package and extendable from a folder.
//
// The package never logs: it returns wrapped errors, and warnings for what a
// broken agent left out.
package device
