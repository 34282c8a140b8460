package rollout

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// plan makes a rollout's waves and gateways of the targets (sorted by
// name), the canary first.
func plan(r *Rollout, targets []Gateway) {
	sort.Slice(targets, func(i, j int) bool { return targets[i].Name < targets[j].Name })
	r.Wave = -1
	r.Waves = nil
	i := 0
	for w, size := range r.Spec.waveSizes(len(targets)) {
		r.Waves = append(r.Waves, Wave{Size: size, Allowed: r.Spec.allowed(size)})
		for range size {
			targets[i].Wave, targets[i].State = w, GatewayWaiting
			i++
		}
	}
	r.Gateways = targets
}

// observe applies a gateway's update report to the rollout, and reports
// whether it changed anything. Reports of another command, and those of a
// gateway whose part already ended, change nothing.
func (r *Rollout) observe(gw string, rep *telemetry.UpdateReport, now time.Time) bool {
	if rep == nil || rep.ID != r.CommandID(gw) {
		return false
	}
	g := r.gateway(gw)
	if g == nil || g.State == GatewayWaiting || g.State == GatewayUpdated || g.State == GatewayFailed {
		return false
	}
	switch rep.Step {
	case telemetry.UpdateDone:
		g.State, g.Reason = GatewayUpdated, ""
	case telemetry.UpdateRolledBack, telemetry.UpdateRefused, telemetry.UpdateFailed:
		g.State, g.Reason = GatewayFailed, rep.Step
		if rep.Reason != "" {
			g.Reason += ": " + rep.Reason
		}
	default:
		if g.State == GatewayUpdating && g.Step == rep.Step {
			return false
		}
		g.State = GatewayUpdating
	}
	g.Step, g.Changed = rep.Step, now
	r.Changed = now
	return true
}

// gateway returns the rollout's gateway gw, or nil.
func (r *Rollout) gateway(gw string) *Gateway {
	if r.index == nil {
		r.index = make(map[string]int, len(r.Gateways))
		for i, g := range r.Gateways {
			r.index[g.Name] = i
		}
	}
	if i, ok := r.index[gw]; ok {
		return &r.Gateways[i]
	}
	return nil
}

// advance moves the rollout on at now: gateways past their timeout fail,
// a wave with more failures than allowed halts the rollout, and a
// complete wave is followed by the next (while running) or completes the
// rollout. It reports whether anything changed.
func (r *Rollout) advance(now time.Time) bool {
	if !r.Active() {
		return false
	}
	changed := false
	timeout := time.Duration(r.Spec.Timeout)
	for i := range r.Gateways {
		g := &r.Gateways[i]
		if (g.State == GatewaySent || g.State == GatewayUpdating) && !now.Before(g.Sent.Add(timeout)) {
			g.State, g.Changed = GatewayFailed, now
			g.Reason = fmt.Sprintf("timeout: no final step within %v", timeout)
			if g.Step != "" {
				g.Reason += " (last step: " + g.Step + ")"
			}
			changed = true
		}
	}
	if r.Wave >= 0 {
		if failed := r.failed(r.Wave); len(failed) > r.Waves[r.Wave].Allowed {
			r.halt(now, fmt.Sprintf("wave %d: %d of %d gateways failed, %d allowed: %s", r.Wave+1, len(failed),
				r.Waves[r.Wave].Size, r.Waves[r.Wave].Allowed, strings.Join(failed, "; ")))
			return true
		}
	}
	if r.State != StateRunning || (r.Wave >= 0 && !r.waveDone(r.Wave)) {
		if changed {
			r.Changed = now
		}
		return changed
	}
	if r.Wave >= 0 {
		r.Waves[r.Wave].Ended = now
	}
	if r.Wave+1 >= len(r.Waves) {
		r.State, r.Changed = StateCompleted, now
		return true
	}
	r.Wave++
	r.Waves[r.Wave].Started = now
	for i := range r.Gateways {
		if g := &r.Gateways[i]; g.Wave == r.Wave {
			g.State, g.Sent, g.Changed, g.Published = GatewaySent, now, now, false
		}
	}
	r.Changed = now
	return true
}

// failed lists the failed gateways of wave w, with why.
func (r *Rollout) failed(w int) []string {
	var out []string
	for _, g := range r.Gateways {
		if g.Wave == w && g.State == GatewayFailed {
			out = append(out, g.Name+" ("+g.Reason+")")
		}
	}
	return out
}

// waveDone reports whether every gateway of wave w reached a final state.
func (r *Rollout) waveDone(w int) bool {
	for _, g := range r.Gateways {
		if g.Wave == w && !final(g.State) {
			return false
		}
	}
	return true
}

// halt stops the rollout for reason, withdrawing the commands no gateway
// acted on.
func (r *Rollout) halt(now time.Time, reason string) {
	r.State, r.Reason, r.Changed = StateHalted, reason, now
	r.withdraw(now)
}

// withdraw marks the commands no gateway acted on withdrawn (to be
// published empty).
func (r *Rollout) withdraw(now time.Time) {
	for i := range r.Gateways {
		if g := &r.Gateways[i]; g.State == GatewaySent {
			g.State, g.Changed, g.Published = GatewayWithdrawn, now, false
		}
	}
}

// pause, resume and abort are an operator's requests.
func (r *Rollout) pause(now time.Time, by string) error {
	if r.State != StateRunning {
		return fmt.Errorf("%w: rollout %s is %s, not running", ErrConflict, r.ID, r.State)
	}
	r.State, r.Changed = StatePaused, now
	r.Reason = byWhom("paused", by)
	return nil
}

func (r *Rollout) resume(now time.Time, by string) error {
	if r.State != StatePaused {
		return fmt.Errorf("%w: rollout %s is %s, not paused", ErrConflict, r.ID, r.State)
	}
	r.State, r.Changed = StateRunning, now
	r.Reason = byWhom("resumed", by)
	return nil
}

// byWhom is what an operator did, and who when the token is named.
func byWhom(what, by string) string {
	if by == "" {
		return what
	}
	return what + " by " + by
}

func (r *Rollout) abort(now time.Time, by string) error {
	if !r.Active() && r.State != StateHalted {
		return fmt.Errorf("%w: rollout %s is %s already", ErrConflict, r.ID, r.State)
	}
	r.State, r.Changed = StateAborted, now
	r.Reason = byWhom("aborted", by)
	r.withdraw(now)
	return nil
}
