// Package series turns what the poller learns of a device into InfluxDB
// line-protocol points: AppendDocument writes a polled device.Document as
// the measurements of telemetry (interface, pon_port, dsl_line,
// cable_channel, access, tv_input, tv_transport_stream, tv_status,
// tv_alarm), and AppendPoll writes the poll measurement of one poll.
//
// Every point of a document takes the document's PolledAt, so a document
// written twice lands once. A figure the device did not give is left out
// of its line, never written as zero, and a line with no figure at all is
// not written. Lines are appended to the caller's buffer without
// allocating; a line that cannot be encoded (a NaN, a name no escaping can
// carry) is skipped and reported as a *LineError in the joined error
// returned, the other lines staying in the buffer.
//
// The package never logs.
package series
