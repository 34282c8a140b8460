package ingest

// Message is one MQTT message as the broker delivered it.
type Message struct {
	// Topic is the message's topic.
	Topic string
	// Payload is its payload; Record does not keep it after it returns.
	Payload []byte
	// Retained is set when the broker delivered it as a retained message.
	Retained bool
}

// Recorder durably records messages. When Record returns nil, every
// message of the batch is recorded (or counted as refused, for a payload
// that is not valid) so that the caller may acknowledge them to the
// broker; after an error none may be acknowledged, and the batch is
// offered again later. Record must be safe to call again with messages it
// already recorded: a redelivery counts nothing twice.
type Recorder interface {
	Record(batch []Message) error
}
