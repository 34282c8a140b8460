package broker

// Sizes of inboundArena's chunks and bounds.
const (
	// bodyChunk is the size of a chunk of packet bodies (the largest
	// size class of the allocator: larger ones take its slower path); a
	// body larger than a quarter of it has an allocation of its own.
	bodyChunk = 32 << 10
	// messageChunk is the number of messages of a chunk.
	messageChunk = 256
	// maxTopics bounds the topics kept, and maxTopicLen the length of one
	// kept: a longer or further topic is allocated for its message alone.
	maxTopics   = 1024
	maxTopicLen = 256
)

// inboundArena allocates what a connection's reader makes of the PUBLISH
// packets it decodes (see readPacket): the bodies and the messages in
// chunks, a few allocations for hundreds of messages instead of three
// each, and each topic once. A chunk is freed once no message of it is
// referenced (they are dropped when their batch is acknowledged); nothing
// of a chunk is ever written again once handed out, and each body is
// capped so that appending to it cannot reach its neighbour. One reader
// uses it; it is not safe for concurrent use.
type inboundArena struct {
	bodies   []byte           // what is left of the current chunk of bodies
	messages []inboundMessage // what is left of the current chunk of messages
	topics   map[string]string
}

// body returns a slice of n bytes of its own.
func (a *inboundArena) body(n int) []byte {
	if n > bodyChunk/4 {
		return make([]byte, n)
	}
	if len(a.bodies) < n {
		a.bodies = make([]byte, bodyChunk)
	}
	b := a.bodies[:n:n]
	a.bodies = a.bodies[n:]
	return b
}

// message returns a zero message of its own.
func (a *inboundArena) message() *inboundMessage {
	if len(a.messages) == 0 {
		a.messages = make([]inboundMessage, messageChunk)
	}
	m := &a.messages[0]
	a.messages = a.messages[1:]
	return m
}

// topic returns b as a string, the same string each time for the topics
// kept.
func (a *inboundArena) topic(b []byte) string {
	if s, ok := a.topics[string(b)]; ok { // the lookup does not allocate
		return s
	}
	s := string(b)
	if len(s) > maxTopicLen {
		return s
	}
	if a.topics == nil || len(a.topics) >= maxTopics {
		a.topics = make(map[string]string)
	}
	a.topics[s] = s
	return s
}
