// Package rollout rolls a signed update bundle out to edge gateways in
// waves: a canary share first, then growing waves, each started only when
// the one before is complete with no more failures than allowed. A
// rollout publishes one telemetry.UpdateCommand per gateway (retained,
// QoS 1, so a gateway offline at the time finds it when it comes back),
// follows the update reports in the gateways' statuses, and halts when a
// wave fails. An operator may pause, resume and abort it; aborting and
// halting withdraw the commands no gateway acted on yet.
//
// Every rollout is kept as one JSON file in a folder (written atomically),
// so that a controller restarted, even after kill -9, goes on where it
// was: commands are published again (a gateway acts once on each command
// ID) and the gateways' retained statuses say how far each got.
//
// The package is sans-logging: Manager returns errors, and the caller
// logs them.
package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// Errors the Manager wraps, so that an API answers with the right status.
var (
	// ErrNotFound: no rollout of that ID.
	ErrNotFound = errors.New("rollout: not found")
	// ErrInvalid: the request is wrong (bundle, targets, waves).
	ErrInvalid = errors.New("rollout: invalid")
	// ErrConflict: the request does not fit the rollout's state, or a
	// gateway is in another active rollout.
	ErrConflict = errors.New("rollout: conflict")
	// ErrNotLeader: this controller does not run rollouts (a replica of a
	// cluster that does not hold the coverage lease).
	ErrNotLeader = errors.New("rollout: not the replica that runs rollouts")
	// ErrDamaged: a rollout's state file cannot be read.
	ErrDamaged = errors.New("rollout: state file damaged")
)

// States of a rollout.
const (
	// StateRunning: waves are started as the previous ones complete.
	StateRunning = "running"
	// StatePaused: no wave is started; reports and timeouts still count.
	StatePaused = "paused"
	// StateHalted: a wave had more failures than allowed; the commands
	// not acted on were withdrawn. Reason says which gateways failed.
	StateHalted = "halted"
	// StateCompleted: every wave completed.
	StateCompleted = "completed"
	// StateAborted: an operator aborted it; the commands not acted on
	// were withdrawn.
	StateAborted = "aborted"
)

// States of a gateway in a rollout.
const (
	// GatewayWaiting: its wave has not started.
	GatewayWaiting = "waiting"
	// GatewaySent: the command is published; no report of it yet.
	GatewaySent = "sent"
	// GatewayUpdating: the gateway reported a step that is not final
	// (Step says which).
	GatewayUpdating = "updating"
	// GatewayUpdated: the gateway reported telemetry.UpdateDone.
	GatewayUpdated = "updated"
	// GatewayFailed: the gateway rolled back, refused or failed the
	// update, or reported no final step in time (Reason says which).
	GatewayFailed = "failed"
	// GatewayWithdrawn: the command was withdrawn before the gateway
	// acted on it.
	GatewayWithdrawn = "withdrawn"
)

// Defaults and bounds of a Spec.
const (
	DefaultCanaryPercent = 5
	DefaultGrowth        = 2
	DefaultTimeout       = time.Hour
	MinTimeout           = time.Second
	MaxTimeout           = 7 * 24 * time.Hour
	MaxGrowth            = 100
	// MaxTargets bounds the gateways of one rollout.
	MaxTargets = 100_000
	// MaxName bounds a name (bundle file, region, site, gateway).
	MaxName = 200
)

// Duration is a time.Duration written in JSON as Go writes it ("30m").
type Duration time.Duration

// MarshalJSON writes d as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a string such as "30m" or "1h30m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"30m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Spec is what an operator asks for: a bundle, the gateways, the waves,
// the failure threshold and the per-gateway timeout.
type Spec struct {
	// Bundle is the bundle's file name in the bundles folder.
	Bundle string `json:"bundle"`
	// Region, Site or Gateways choose the targets (one of them): the
	// gateways of a region's subtree, of a site, or those named. Only
	// gateways whose status says they run an older version than the
	// bundle's are updated; the others are listed as skipped.
	Region   string   `json:"region,omitempty"`
	Site     string   `json:"site,omitempty"`
	Gateways []string `json:"gateways,omitempty"`
	// CanaryPercent is the first wave's share of the targets, at least
	// one gateway (default DefaultCanaryPercent).
	CanaryPercent float64 `json:"canary_percent,omitempty"`
	// Growth is how much larger each wave is than the one before
	// (default DefaultGrowth, 1 keeps the canary's size).
	Growth float64 `json:"growth,omitempty"`
	// MaxFailures is the failures a wave may have and still be followed
	// by the next (default 0: the first failure halts the rollout);
	// MaxFailurePercent, when set, is that bound as a share of the wave.
	MaxFailures       int     `json:"max_failures,omitempty"`
	MaxFailurePercent float64 `json:"max_failure_percent,omitempty"`
	// Timeout is how long a gateway has, from its command, to report a
	// final step; none in time counts as a failure (default the
	// configuration's, else DefaultTimeout).
	Timeout Duration `json:"timeout,omitempty"`
}

// fill sets the defaults of the fields left empty.
func (s *Spec) fill(timeout time.Duration) {
	if s.CanaryPercent == 0 {
		s.CanaryPercent = DefaultCanaryPercent
	}
	if s.Growth == 0 {
		s.Growth = DefaultGrowth
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(timeout)
	}
}

// Validate checks the spec, its defaults filled, naming the wrong field.
func (s *Spec) Validate() error {
	n := 0
	for _, set := range []bool{s.Region != "", s.Site != "", len(s.Gateways) > 0} {
		if set {
			n++
		}
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
	}
	switch {
	case s.Bundle == "" || len(s.Bundle) > MaxName:
		return bad("bundle", "missing, or longer than %d bytes: the file name of a bundle in the bundles folder", MaxName)
	case n != 1:
		return bad("region", "give one of region, site or gateways")
	case len(s.Region) > MaxName || len(s.Site) > MaxName:
		return bad("region", "longer than %d bytes", MaxName)
	case len(s.Gateways) > MaxTargets:
		return bad("gateways", "more than %d", MaxTargets)
	case !(s.CanaryPercent > 0 && s.CanaryPercent <= 100):
		return bad("canary_percent", "%v is not within (0, 100]", s.CanaryPercent)
	case !(s.Growth >= 1 && s.Growth <= MaxGrowth):
		return bad("growth", "%v is not within 1..%d", s.Growth, MaxGrowth)
	case s.MaxFailures < 0 || s.MaxFailures > MaxTargets:
		return bad("max_failures", "%d is not within 0..%d", s.MaxFailures, MaxTargets)
	case !(s.MaxFailurePercent >= 0 && s.MaxFailurePercent < 100):
		return bad("max_failure_percent", "%v is not within [0, 100)", s.MaxFailurePercent)
	case s.MaxFailures > 0 && s.MaxFailurePercent > 0:
		return bad("max_failures", "give max_failures or max_failure_percent, not both")
	case time.Duration(s.Timeout) < MinTimeout || time.Duration(s.Timeout) > MaxTimeout:
		return bad("timeout", "%v is not within %v..%v", time.Duration(s.Timeout), MinTimeout, MaxTimeout)
	}
	seen := map[string]bool{}
	for i, g := range s.Gateways {
		if err := telemetry.ValidateName(g); err != nil {
			return bad(fmt.Sprintf("gateways[%d]", i), "%q is not a gateway name", g)
		}
		if seen[g] {
			return bad(fmt.Sprintf("gateways[%d]", i), "%q is named twice", g)
		}
		seen[g] = true
	}
	return nil
}

// allowed is how many failures a wave of size gateways may have.
func (s *Spec) allowed(size int) int {
	if s.MaxFailurePercent > 0 {
		return int(math.Floor(float64(size) * s.MaxFailurePercent / 100))
	}
	return s.MaxFailures
}

// waveSizes splits n targets into the canary and growing waves.
func (s *Spec) waveSizes(n int) []int {
	var sizes []int
	size := max(1, int(math.Ceil(float64(n)*s.CanaryPercent/100)))
	for left := n; left > 0; {
		size = min(size, left)
		sizes = append(sizes, size)
		left -= size
		size = max(size+1, int(math.Ceil(float64(size)*s.Growth)))
		if s.Growth == 1 {
			size = sizes[0]
		}
	}
	return sizes
}

// Bundle is the bundle a rollout installs, as verified at its creation.
type Bundle struct {
	// File is the file name in the bundles folder.
	File string `json:"file"`
	// SHA256 and Size are the whole file's.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Name, Version, OS, Arch and ARM are the signed manifest's.
	Name    string `json:"name"`
	Version string `json:"version"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	ARM     string `json:"arm,omitempty"`
	// KeyID is the fingerprint of the key that signed it.
	KeyID string `json:"key_id"`
}

// Wave is one wave of a rollout.
type Wave struct {
	// Size is its number of gateways; Allowed the failures it may have.
	Size    int `json:"size"`
	Allowed int `json:"allowed"`
	// Started and Ended are zero until it starts and ends.
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	// Updated, Failed and Pending count its gateways (filled in answers).
	Updated int `json:"updated"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
}

// Gateway is one target of a rollout.
type Gateway struct {
	// Name is the gateway's; Wave the index of its wave.
	Name string `json:"name"`
	Wave int    `json:"wave"`
	// State is one of the Gateway* states.
	State string `json:"state"`
	// From is the version it ran when the rollout was made.
	From string `json:"from,omitempty"`
	// Step is the latest update step it reported (telemetry.Update*).
	Step string `json:"step,omitempty"`
	// Reason says why it failed.
	Reason string `json:"reason,omitempty"`
	// Sent is when its command was published first; Changed when its
	// state last changed.
	Sent    time.Time `json:"sent,omitzero"`
	Changed time.Time `json:"changed,omitzero"`
	// Published: the command (or, withdrawn, its withdrawal) reached the
	// broker since the controller started.
	Published bool `json:"published,omitempty"`
}

// Skipped is a gateway of the targets that the rollout leaves alone.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Rollout is one rollout: what it installs where, and how far it got.
type Rollout struct {
	// ID identifies it; By is the token that made it.
	ID string `json:"id"`
	By string `json:"by,omitempty"`
	// State is one of the State* states; Reason says why it halted, or
	// who last paused, resumed or aborted it.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Spec is the request, its defaults filled.
	Spec Spec `json:"spec"`
	// Bundle is what it installs; URL where the gateways download it.
	Bundle Bundle `json:"bundle"`
	URL    string `json:"url"`
	// Created and Changed are when it was made and last changed.
	Created time.Time `json:"created"`
	Changed time.Time `json:"changed"`
	// Waves are its waves in order; Wave is the index of the latest
	// started (-1 before the first).
	Waves []Wave `json:"waves"`
	Wave  int    `json:"wave"`
	// Gateways are its targets, wave by wave.
	Gateways []Gateway `json:"gateways"`
	// Skipped are the targets left alone, with why.
	Skipped []Skipped `json:"skipped,omitempty"`

	// index maps a gateway's name to its index in Gateways.
	index map[string]int
}

// Summary is a rollout without its gateways, for lists.
type Summary struct {
	ID      string    `json:"id"`
	State   string    `json:"state"`
	Reason  string    `json:"reason,omitempty"`
	Bundle  string    `json:"bundle"`
	Version string    `json:"version"`
	Created time.Time `json:"created"`
	Changed time.Time `json:"changed"`
	// Wave is the latest started wave (-1 before the first), Waves their
	// number.
	Wave  int `json:"wave"`
	Waves int `json:"waves"`
	// Gateways, Updated and Failed count its targets.
	Gateways int `json:"gateways"`
	Updated  int `json:"updated"`
	Failed   int `json:"failed"`
}

// Active reports whether the rollout may still publish commands.
func (r *Rollout) Active() bool { return r.State == StateRunning || r.State == StatePaused }

// CommandID is the UpdateCommand ID of the rollout's command to gw.
func (r *Rollout) CommandID(gw string) string { return r.ID + ":" + gw }

// final reports whether a gateway state ends its part in a rollout.
func final(state string) bool {
	return state == GatewayUpdated || state == GatewayFailed || state == GatewayWithdrawn
}

// count fills the waves' counters from the gateways.
func (r *Rollout) count() {
	for i := range r.Waves {
		r.Waves[i].Updated, r.Waves[i].Failed, r.Waves[i].Pending = 0, 0, 0
	}
	for _, g := range r.Gateways {
		w := &r.Waves[g.Wave]
		switch g.State {
		case GatewayUpdated:
			w.Updated++
		case GatewayFailed:
			w.Failed++
		case GatewayWithdrawn:
		default:
			w.Pending++
		}
	}
}

// Summary returns the rollout's summary.
func (r *Rollout) Summary() Summary {
	s := Summary{ID: r.ID, State: r.State, Reason: r.Reason, Bundle: r.Bundle.File, Version: r.Bundle.Version,
		Created: r.Created, Changed: r.Changed, Wave: r.Wave, Waves: len(r.Waves), Gateways: len(r.Gateways)}
	for _, g := range r.Gateways {
		switch g.State {
		case GatewayUpdated:
			s.Updated++
		case GatewayFailed:
			s.Failed++
		}
	}
	return s
}

// clone returns a deep copy the caller may keep.
func (r *Rollout) clone() *Rollout {
	c := *r
	c.Spec.Gateways = append([]string(nil), r.Spec.Gateways...)
	c.Waves = append([]Wave(nil), r.Waves...)
	c.Gateways = append([]Gateway(nil), r.Gateways...)
	c.Skipped = append([]Skipped(nil), r.Skipped...)
	c.index = nil
	c.count()
	return &c
}
