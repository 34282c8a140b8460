package update

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ngic/ngic/internal/bundle"
	"github.com/ngic/ngic/telemetry"
)

// DiskMargin is the room an update leaves free on the install root's file
// system, besides twice the bundle (the download and the extracted slot).
const DiskMargin = 16 << 20

// errNotNewer is wrapped by the refusal of a command whose version is not
// newer than the running one (seen before downloading).
var errNotNewer = errors.New("not newer than the running version")

// AgentOpts configure an Agent.
type AgentOpts struct {
	// Layout is the install root.
	Layout Layout
	// Keys are the trusted signers' public keys (config update.keys).
	Keys []ed25519.PublicKey
	// Version is the running version.
	Version string
	// Client downloads bundles and polls; nil means http.DefaultClient.
	Client *http.Client
	// Report is told of every step; the gateway republishes its status
	// with it. It must not block for long.
	Report func(*telemetry.UpdateReport)
	// Restart is called once the new slot is on trial: the process must
	// exit so that the supervisor starts it.
	Restart func()
	// TrialID is the command ID when this process is a version on trial
	// (the supervisor's TrialEnv); "" otherwise.
	TrialID string
	// Ready returns nil when the process is healthy (broker connected,
	// every reader open, spool writable); a version on trial says so
	// (MarkHealthy) once it returns nil.
	Ready func() error
	// PollURL, when set, is polled every PollEvery for an UpdateCommand.
	PollURL   string
	PollEvery time.Duration
	// OnError is told of what cannot be reported in a status (an
	// undecodable command, an unreadable state); nil ignores them.
	OnError func(error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Agent acts on update commands inside ngic-edge run.
type Agent struct {
	opts AgentOpts
	l    Layout

	mu     sync.Mutex
	latest *telemetry.UpdateCommand // the last command received
	wake   chan struct{}
}

// NewAgent returns an agent; Run starts it.
func NewAgent(o AgentOpts) *Agent {
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnError == nil {
		o.OnError = func(error) {}
	}
	if o.Report == nil {
		o.Report = func(*telemetry.UpdateReport) {}
	}
	if o.Restart == nil {
		o.Restart = func() {}
	}
	return &Agent{opts: o, l: o.Layout, wake: make(chan struct{}, 1)}
}

// Handle takes the payload of a message on the gateway's update command
// topic. An empty payload (a withdrawn command) is ignored. Safe for
// concurrent use; it never blocks.
func (a *Agent) Handle(payload []byte) {
	if len(payload) == 0 {
		return
	}
	c, err := telemetry.DecodeUpdateCommand(payload)
	if err != nil {
		a.opts.OnError(err)
		return
	}
	a.mu.Lock()
	a.latest = c
	a.mu.Unlock()
	a.poke()
}

func (a *Agent) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run reports the last update recorded in the state, takes part in a trial
// when the process is on one, and acts on commands until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	st, err := a.l.ReadState()
	if err != nil {
		a.opts.OnError(err)
	} else if st.Last != nil {
		a.opts.Report(st.Last)
	}
	if a.opts.TrialID != "" {
		go a.trial(ctx)
	}
	var poll <-chan time.Time
	if a.opts.PollURL != "" && a.opts.PollEvery > 0 {
		t := time.NewTicker(a.opts.PollEvery)
		defer t.Stop()
		poll = t.C
		a.poll(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.wake:
		case <-poll:
			a.poll(ctx)
		}
		a.mu.Lock()
		c := a.latest
		a.mu.Unlock()
		if c != nil && a.act(ctx, c) {
			return nil
		}
	}
}

// trial marks this version healthy once Ready says so, then waits for the
// supervisor's verdict and reports it.
func (a *Agent) trial(ctx context.Context) {
	id := a.opts.TrialID
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	marked := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !marked {
			if a.opts.Ready == nil || a.opts.Ready() != nil {
				continue
			}
			if err := a.l.MarkHealthy(id); err != nil {
				a.opts.OnError(err)
				continue
			}
			marked = true
		}
		st, err := a.l.ReadState()
		if err != nil {
			a.opts.OnError(err)
			continue
		}
		if st.Trial == nil || st.Trial.ID != id {
			if st.Last != nil && st.Last.ID == id {
				a.opts.Report(st.Last)
			}
			a.poke() // a command that came during the trial
			return
		}
	}
}

// act carries out command c unless it was already; it returns true when
// the process is to restart into the new slot.
func (a *Agent) act(ctx context.Context, c *telemetry.UpdateCommand) bool {
	st, err := a.l.ReadState()
	if err != nil {
		a.opts.OnError(err)
		return false
	}
	if st.HasHandled(c.ID) || st.Trial != nil {
		return false // done already, or wait for the trial's end
	}
	from := a.opts.Version
	rep := func(step string, err error) *telemetry.UpdateReport {
		r := &telemetry.UpdateReport{ID: c.ID, Rollout: c.Rollout, Step: step, From: from, To: c.Version, Time: a.opts.Now().UTC()}
		if err != nil {
			r.Reason = err.Error()
		}
		return r
	}
	if !a.record(rep(telemetry.UpdateReceived, nil), false) {
		return false
	}
	if err := a.precheck(c); err != nil {
		a.record(rep(telemetry.UpdateRefused, err), true)
		return false
	}
	a.record(rep(telemetry.UpdateDownloading, nil), false)
	path, err := a.downloadRetrying(ctx, c, func(n int64) {
		r := rep(telemetry.UpdateDownloading, nil)
		r.Bytes = n
		a.opts.Report(r)
	})
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		step := telemetry.UpdateFailed
		if refused(err) {
			step = telemetry.UpdateRefused
		}
		a.record(rep(step, err), true)
		return false
	}
	slot := Other(st.Active)
	t, err := bundle.Running(Binary, a.opts.Version, a.l.Root)
	if err != nil {
		a.record(rep(telemetry.UpdateFailed, err), true)
		return false
	}
	_, err = a.l.install(path, a.opts.Keys, t, slot, func(*bundle.Manifest) {
		a.record(rep(telemetry.UpdateVerified, nil), false)
	})
	if err != nil {
		step := telemetry.UpdateFailed
		if refused(err) {
			step = telemetry.UpdateRefused
			os.Remove(path) // a refused bundle is not kept
		}
		a.record(rep(step, err), true)
		return false
	}
	a.record(rep(telemetry.UpdateInstalled, nil), false)
	if err := a.l.clearHealthy(); err != nil {
		a.record(rep(telemetry.UpdateFailed, err), true)
		return false
	}
	restarting := rep(telemetry.UpdateRestarting, nil)
	_, err = a.l.Change(func(s *State) error {
		if s.Trial != nil || s.Active != st.Active {
			return errors.New("update: the state changed during the install")
		}
		s.Trial = &Trial{Slot: slot, Previous: s.Active, ID: c.ID, Rollout: c.Rollout, From: from, To: c.Version,
			Started: a.opts.Now().UTC()}
		s.AddHandled(c.ID)
		s.Last = restarting
		return nil
	})
	if err != nil {
		a.record(rep(telemetry.UpdateFailed, err), true)
		return false
	}
	os.Remove(path) // installed: the download is not needed again
	a.opts.Report(restarting)
	a.opts.Restart()
	return true
}

// record reports r and keeps it as the state's last report; final also
// remembers the command as handled. It tells whether the state was written.
func (a *Agent) record(r *telemetry.UpdateReport, final bool) bool {
	_, err := a.l.Change(func(s *State) error {
		s.Last = r
		if final {
			s.AddHandled(r.ID)
		}
		return nil
	})
	if err != nil {
		a.opts.OnError(err)
	}
	a.opts.Report(r)
	return err == nil
}

// precheck refuses what the command shows before any download: a version
// not newer than the running one, a bundle too large for the disk.
func (a *Agent) precheck(c *telemetry.UpdateCommand) error {
	want, err := bundle.ParseVersion(c.Version)
	if err != nil {
		return fmt.Errorf("update: command version: %w: %w", err, errMismatch)
	}
	if have, err := bundle.ParseVersion(a.opts.Version); err == nil && want.Compare(have) <= 0 {
		reason := bundle.ReasonDowngrade
		if want.Compare(have) == 0 {
			reason = bundle.ReasonSameVersion
		}
		return fmt.Errorf("update: %s: %s is %w %s", reason, c.Version, errNotNewer, a.opts.Version)
	}
	if err := a.l.Prepare(); err != nil {
		return err
	}
	free, err := bundle.FreeBytes(a.l.Root)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if need := 2*uint64(c.Size) + DiskMargin; free < need {
		return fmt.Errorf("update: %w", &bundle.RefusedError{Reason: bundle.ReasonTooLarge,
			Detail: fmt.Sprintf("%d bytes twice and a margin of %d need %d, %d free in %s", c.Size, DiskMargin, need, free, a.l.Root)})
	}
	return nil
}

// downloadRetrying downloads, retrying an interrupted transfer while it
// makes progress (at most 5 times in a row without any).
func (a *Agent) downloadRetrying(ctx context.Context, c *telemetry.UpdateCommand, progress func(int64)) (string, error) {
	last := time.Time{}
	var got int64
	throttled := func(n int64) {
		got = n
		if now := time.Now(); now.Sub(last) >= time.Second || n == c.Size {
			last = now
			progress(n)
		}
	}
	wait := 500 * time.Millisecond
	for fails := 0; ; {
		before := got
		path, err := a.l.download(ctx, a.opts.Client, c, throttled)
		if err == nil || refused(err) || ctx.Err() != nil {
			return path, err
		}
		if got > before {
			fails, wait = 0, 500*time.Millisecond
		} else if fails++; fails >= 5 {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}
