package broker

import (
	"errors"
	"net"
	"strings"
	"sync"
)

// maxCauses bounds the distinct causes remembered while disconnected.
const maxCauses = 16

// reporter tells OnState of changes of the connection (see
// Options.OnState), once per change, one call at a time.
type reporter struct {
	on func(connected bool, err error)

	mu        sync.Mutex
	reported  bool
	connected bool
	causes    map[string]bool // reported since the last change
}

// report tells on of the state, unless it is no change: the same state
// with a cause already reported since the last change, or a clean
// disconnect (nil error) while already disconnected.
func (r *reporter) report(connected bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cause := causeOf(err)
	if r.reported && connected == r.connected && (r.causes[cause] || (!connected && err == nil)) {
		return
	}
	if !r.reported || connected != r.connected {
		r.causes = map[string]bool{}
	}
	r.reported, r.connected = true, connected
	if len(r.causes) < maxCauses {
		r.causes[cause] = true
	}
	if r.on != nil {
		r.on(connected, err)
	}
}

// causeOf returns the text by which a failure is told apart from others:
// its message, without the local address of a network error (a new port
// at each attempt would make every failure look new).
func causeOf(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	var op *net.OpError
	if errors.As(err, &op) && op.Source != nil {
		s = strings.ReplaceAll(s, op.Source.String()+"->", "")
	}
	return s
}
