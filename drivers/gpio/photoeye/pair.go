package photoeye

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Direction is the way a passage went through a Pair.
type Direction uint8

const (
	// In is a passage that blocked the outer beam first and cleared the inner
	// beam last.
	In Direction = iota + 1
	// Out is a passage that blocked the inner beam first and cleared the outer
	// beam last.
	Out
)

// String returns "in" or "out".
func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Passage is one counted passage through a Pair.
type Passage struct {
	// Direction is the way it went.
	Direction Direction
	// At is when it completed: the later of the two beams' Cleared times.
	At time.Time
	// Duration is from the first beam blocked to the last beam cleared.
	Duration time.Duration
}

// Counts are a Pair's counters. They only grow.
type Counts struct {
	// In and Out count passages in each direction.
	In, Out uint64
	// Aborted counts passages that blocked only one beam, or that entered and
	// left by the same beam (someone stepped in and back).
	Aborted uint64
	// Ambiguous counts passages whose order could not be told: both beams
	// blocked, or both cleared, within Simultaneous of each other.
	Ambiguous uint64
}

// PairOpts configures a Pair.
type PairOpts struct {
	// Outer and Inner are the names of the two sensors (their Event.Sensor):
	// outer then inner is In, inner then outer is Out.
	Outer, Inner string
	// Simultaneous is the largest gap between the two beams' Blocked (or
	// Cleared) times that still counts as simultaneous: the order, hence the
	// direction, is then unknown and the passage is not counted. 0 treats
	// only identical times as simultaneous; negative is an error.
	Simultaneous time.Duration
}

// DefaultPairOpts names the beams "outer" and "inner" and treats blocks less
// than 2 ms apart as simultaneous.
var DefaultPairOpts = PairOpts{Outer: "outer", Inner: "inner", Simultaneous: 2 * time.Millisecond}

// beamTrack is what a Pair remembers of one beam during a passage.
type beamTrack struct {
	blocked   bool      // blocked now
	seen      bool      // blocked at least once in this passage
	firstAt   time.Time // first Blocked in this passage
	clearedAt time.Time // last Cleared in this passage
}

// Pair infers direction from two sensors' events. It is a pure state machine:
// Feed it events in time order and it counts passages. A passage starts when
// either beam is blocked while both were clear and ends when both are clear
// again; the beam blocked first is the entry side and the beam cleared last
// the exit side. A Pair is safe for concurrent use.
type Pair struct {
	opts PairOpts

	mu     sync.Mutex
	beams  [2]beamTrack // 0 outer, 1 inner
	active bool
	counts Counts
}

// NewPair returns a Pair for the sensors named in opts. A nil opts means
// DefaultPairOpts.
func NewPair(opts *PairOpts) (*Pair, error) {
	o := DefaultPairOpts
	if opts != nil {
		o = *opts
	}
	if o.Outer == "" || o.Inner == "" {
		return nil, fmt.Errorf("photoeye: pair: Outer %q and Inner %q must both be named", o.Outer, o.Inner)
	}
	if o.Outer == o.Inner {
		return nil, fmt.Errorf("photoeye: pair: Outer and Inner are both %q", o.Outer)
	}
	if o.Simultaneous < 0 {
		return nil, fmt.Errorf("photoeye: pair %s/%s: Simultaneous %s is negative", o.Outer, o.Inner, o.Simultaneous)
	}
	return &Pair{opts: o}, nil
}

// Feed updates the Pair with one sensor event. It returns the passage and
// true when the event completes a counted passage. Events of other sensors
// and Held events are ignored.
func (p *Pair) Feed(ev Event) (Passage, bool) {
	var i int
	switch ev.Sensor {
	case p.opts.Outer:
		i = 0
	case p.opts.Inner:
		i = 1
	default:
		return Passage{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := &p.beams[i]
	switch ev.Kind {
	case Blocked:
		if !p.active {
			p.active = true
			p.beams = [2]beamTrack{}
		}
		if !b.seen {
			b.seen = true
			b.firstAt = ev.At
		}
		b.blocked = true
	case Cleared:
		if !p.active || !b.blocked {
			return Passage{}, false
		}
		b.blocked = false
		b.clearedAt = ev.At
		if p.beams[0].blocked || p.beams[1].blocked {
			return Passage{}, false
		}
		p.active = false
		return p.finish()
	}
	return Passage{}, false
}

// finish classifies the passage that just ended. p.mu is held.
func (p *Pair) finish() (Passage, bool) {
	o, n := &p.beams[0], &p.beams[1]
	if !o.seen || !n.seen {
		p.counts.Aborted++
		return Passage{}, false
	}
	if absDur(o.firstAt.Sub(n.firstAt)) <= p.opts.Simultaneous ||
		absDur(o.clearedAt.Sub(n.clearedAt)) <= p.opts.Simultaneous {
		p.counts.Ambiguous++
		return Passage{}, false
	}
	outerFirst := o.firstAt.Before(n.firstAt)
	outerLast := o.clearedAt.After(n.clearedAt)
	start, end := n.firstAt, n.clearedAt
	if outerFirst {
		start = o.firstAt
	}
	if outerLast {
		end = o.clearedAt
	}
	var d Direction
	switch {
	case outerFirst && !outerLast:
		d = In
		p.counts.In++
	case !outerFirst && outerLast:
		d = Out
		p.counts.Out++
	default:
		p.counts.Aborted++
		return Passage{}, false
	}
	return Passage{Direction: d, At: end, Duration: end.Sub(start)}, true
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// In returns the number of passages counted inwards.
func (p *Pair) In() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts.In
}

// Out returns the number of passages counted outwards.
func (p *Pair) Out() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts.Out
}

// Counts returns all the counters at once.
func (p *Pair) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

// Run runs both sensors and feeds their events to p until ctx is done. Each
// sensor event is passed to onEvent and each counted passage to onPassage,
// from one goroutine, in the order they are fed; either callback may be nil.
// The sensors must carry the names given in PairOpts and must not be run
// elsewhere. Run returns nil when ctx is done.
func (p *Pair) Run(ctx context.Context, outer, inner *Sensor, onEvent func(Event), onPassage func(Passage)) error {
	if outer == nil || inner == nil {
		return errors.New("photoeye: pair: nil sensor")
	}
	if outer.Name() != p.opts.Outer || inner.Name() != p.opts.Inner {
		return fmt.Errorf("photoeye: pair %s/%s: sensors are named %q and %q", p.opts.Outer, p.opts.Inner, outer.Name(), inner.Name())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		i   int
		err error
	}
	results := make(chan result, 2)
	for i, s := range []*Sensor{outer, inner} {
		go func() { results <- result{i, s.Run(ctx)} }()
	}
	chans := [2]<-chan Event{outer.Events(), inner.Events()}
	var errs [2]error
	var batch []Event
	for chans[0] != nil || chans[1] != nil {
		var ev Event
		var ok bool
		select {
		case r := <-results:
			if r.err != nil {
				// That sensor never ran here: its channel will not close.
				errs[r.i] = r.err
				chans[r.i] = nil
				cancel()
			}
			continue
		case ev, ok = <-chans[0]:
			if !ok {
				chans[0] = nil
				continue
			}
		case ev, ok = <-chans[1]:
			if !ok {
				chans[1] = nil
				continue
			}
		}
		// The two sensors run apart: take what both have delivered so far
		// and feed it in the order the edges happened, so that a late
		// reader of one channel cannot reorder a passage.
		batch = append(batch[:0], ev)
		for c := range chans {
		drain:
			for chans[c] != nil {
				select {
				case e, ok := <-chans[c]:
					if !ok {
						chans[c] = nil
						break drain
					}
					batch = append(batch, e)
				default:
					break drain
				}
			}
		}
		sort.SliceStable(batch, func(i, j int) bool { return batch[i].At.Before(batch[j].At) })
		for _, e := range batch {
			if onEvent != nil {
				onEvent(e)
			}
			if ps, counted := p.Feed(e); counted && onPassage != nil {
				onPassage(ps)
			}
		}
	}
	return errors.Join(errs[0], errs[1])
}
