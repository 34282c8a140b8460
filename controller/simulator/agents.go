package simulator

import (
	"fmt"
	"sync/atomic"
)

// agent is one community served: its recording, and whether it is down.
type agent struct {
	view *recording
	// down makes the agent answer nothing, like a dead device (SetDown).
	down atomic.Bool
}

// Agent states, as AgentState.State spells them.
const (
	StateUp   = "up"
	StateDown = "down"
)

// AgentState is one served agent and whether it answers.
type AgentState struct {
	// Community is the agent's community (its recording's name).
	Community string `json:"community"`
	// State is StateUp (it answers) or StateDown (it answers nothing).
	State string `json:"state"`
}

// SetDown takes the agent of community name down (down true): from then on
// it answers nothing, as a dead or unreachable device, and requests to it
// time out; or brings it back up (down false), answering again with its
// counters and uptime where the clock has taken them meanwhile. Other
// agents are unaffected, including those sharing its recording. Setting an
// agent to the state it is in does nothing; an unknown name is an error.
// SetDown is safe to call while Serve runs.
func (s *Simulator) SetDown(name string, down bool) error {
	a := s.devices[name]
	if a == nil {
		return fmt.Errorf("simulator: no agent with community %q (%d served)", name, len(s.names))
	}
	a.down.Store(down)
	return nil
}

// Agents returns every agent's state, sorted by community.
func (s *Simulator) Agents() []AgentState {
	out := make([]AgentState, len(s.names))
	for i, n := range s.names {
		out[i] = AgentState{Community: n, State: StateUp}
		if s.devices[n].down.Load() {
			out[i].State = StateDown
		}
	}
	return out
}
