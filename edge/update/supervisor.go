package update

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// Defaults of SupervisorOpts.
const (
	DefaultHealthTimeout = 2 * time.Minute
	DefaultMaxBoots      = 3
	DefaultMinBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	// StopGrace is how long a child has to stop after SIGTERM before it
	// is killed.
	StopGrace = 15 * time.Second
)

// SupervisorOpts configure a Supervisor.
type SupervisorOpts struct {
	// Layout is the install root.
	Layout Layout
	// Args are the arguments of the child (e.g. run --config FILE).
	Args []string
	// Self is the supervisor's own program, run when no slot was ever
	// installed or the active slot has no program.
	Self string
	// HealthTimeout is how long a version on trial has to prove healthy
	// (default DefaultHealthTimeout).
	HealthTimeout time.Duration
	// MaxBoots is how many starts a version on trial gets (default
	// DefaultMaxBoots): it is rolled back when it exits before proving
	// healthy that many times.
	MaxBoots int
	// MinBackoff and MaxBackoff bound the wait before restarting a child
	// that exited (defaults DefaultMinBackoff, DefaultMaxBackoff); a child
	// that ran for StableAfter restarts after MinBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the supervisor's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// StableAfter is how long a child must run for its next restart to wait
// only MinBackoff.
const StableAfter = time.Minute

// Supervisor runs the active slot's program and decides the trials.
type Supervisor struct {
	opts SupervisorOpts
	l    Layout
	log  *slog.Logger
}

// NewSupervisor checks the options and returns a supervisor.
func NewSupervisor(o SupervisorOpts) (*Supervisor, error) {
	if o.Layout.Root == "" {
		return nil, errors.New("update: supervisor: no install root")
	}
	if o.Self == "" {
		return nil, errors.New("update: supervisor: no program of its own")
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = DefaultHealthTimeout
	}
	if o.MaxBoots <= 0 {
		o.MaxBoots = DefaultMaxBoots
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Supervisor{opts: o, l: o.Layout, log: o.Logger}, nil
}

// Run starts children until ctx ends (SIGTERM or SIGINT to the
// supervisor), which it forwards to the running child before returning.
// It returns nil: whatever fails, a program runs (its own at worst).
func (s *Supervisor) Run(ctx context.Context) error {
	if err := s.l.Prepare(); err != nil {
		// The packaged program runs all the same; it takes no update.
		s.log.Error("install root unusable: running the packaged program", "err", err)
	}
	wait := s.opts.MinBackoff
	for ctx.Err() == nil {
		began := time.Now()
		if err := s.once(ctx); err != nil {
			s.log.Error("child", "err", err)
		}
		if ctx.Err() != nil {
			break
		}
		if time.Since(began) >= StableAfter {
			wait = s.opts.MinBackoff
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, s.opts.MaxBackoff)
	}
	return nil
}

// once starts one child, as the state says, and waits for its end.
func (s *Supervisor) once(ctx context.Context) error {
	st, err := s.l.ReadState()
	if err != nil {
		// Never stuck on a damaged state: the packaged program runs.
		s.log.Error("unreadable update state: running the packaged program", "err", err)
		return s.runChild(ctx, s.opts.Self, nil, nil)
	}
	if st.Trial != nil {
		return s.runTrial(ctx)
	}
	return s.runChild(ctx, s.program(st.Active), nil, nil)
}

// program returns the program of slot, or the supervisor's own when slot
// is "" or holds none.
func (s *Supervisor) program(slot string) string {
	if slot == "" {
		return s.opts.Self
	}
	p := s.l.SlotBinary(slot)
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		s.log.Error("active slot has no program: running the packaged program", "slot", slot, "err", err)
		return s.opts.Self
	}
	return p
}

// runTrial counts a boot of the version on trial and starts it, or rolls
// back when it has had its boots.
func (s *Supervisor) runTrial(ctx context.Context) error {
	exhausted := false
	st, err := s.l.Change(func(st *State) error {
		t := st.Trial
		if t == nil {
			return errNoTrial
		}
		if t.Boots >= s.opts.MaxBoots {
			exhausted = true
			return nil
		}
		t.Boots++
		st.Last = t.Report(telemetry.UpdateTrial, "", s.opts.Now())
		return nil
	})
	if errors.Is(err, errNoTrial) {
		return nil // decided meanwhile: the next round runs the active slot
	}
	if err != nil {
		return err
	}
	trial := *st.Trial
	if exhausted {
		return s.rollBack(fmt.Sprintf("%s ended before proving healthy in each of its %d boots", trial.To, trial.Boots))
	}
	if err := s.l.clearHealthy(); err != nil {
		return err
	}
	s.log.Info("starting a version on trial", "version", trial.To, "slot", trial.Slot, "boot", trial.Boots,
		"health_timeout", s.opts.HealthTimeout.String())
	verdict := make(chan string, 1)
	err = s.runChild(ctx, s.l.SlotBinary(trial.Slot), []string{TrialEnv + "=" + trial.ID},
		func(ctx context.Context, p *os.Process) {
			if reason, decided := s.watchTrial(ctx, p, trial); decided {
				verdict <- reason
			}
		})
	if ctx.Err() != nil {
		return err
	}
	select {
	case reason := <-verdict:
		if reason != "" {
			return s.rollBack(reason)
		}
		return err
	default:
	}
	// It exited before a verdict: kept if it proved healthy just before;
	// else the next round counts another boot, or rolls back.
	if ok, herr := s.l.healthyFor(trial.ID); herr == nil && ok {
		if kerr := s.keep(trial); kerr != nil && !errors.Is(kerr, errNoTrial) {
			return kerr
		}
		return err
	}
	if trial.Boots >= s.opts.MaxBoots {
		return s.rollBack(fmt.Sprintf("%s ended before proving healthy in each of its %d boots; last: %s",
			trial.To, trial.Boots, exitStatus(err)))
	}
	return err
}

var errNoTrial = errors.New("update: no trial")

// exitStatus says how a child ended, from runChild's error.
func exitStatus(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String() // "exit status 3", "signal: killed"
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// watchTrial waits for the child on trial to prove healthy and keeps it
// (""), or returns why it is rolled back after killing it. decided is false
// when ctx ended first (the child exited, or the supervisor stops).
func (s *Supervisor) watchTrial(ctx context.Context, p *os.Process, t Trial) (reason string, decided bool) {
	deadline := time.NewTimer(s.opts.HealthTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", false
		case <-deadline.C:
			if s.stop(p) {
				return fmt.Sprintf("%s did not prove healthy within %s, nor stop on SIGTERM within %s: hung",
					t.To, s.opts.HealthTimeout, StopGrace), true
			}
			return fmt.Sprintf("%s did not prove healthy within %s: unhealthy", t.To, s.opts.HealthTimeout), true
		case <-tick.C:
		}
		ok, err := s.l.healthyFor(t.ID)
		if err != nil {
			s.log.Error("reading the trial's health", "err", err)
			continue
		}
		if !ok {
			continue
		}
		if err := s.keep(t); err != nil && !errors.Is(err, errNoTrial) {
			s.log.Error("cannot record the trial's success; it will be decided again", "err", err)
			continue
		}
		return "", true
	}
}

// keep makes the slot on trial active.
func (s *Supervisor) keep(t Trial) error {
	_, err := s.l.Change(func(st *State) error {
		if st.Trial == nil || st.Trial.ID != t.ID {
			return errNoTrial
		}
		st.Active = st.Trial.Slot
		st.Last = st.Trial.Report(telemetry.UpdateDone, "", s.opts.Now())
		st.Trial = nil
		return nil
	})
	if err == nil {
		s.log.Info("version on trial proved healthy: kept", "version", t.To, "slot", t.Slot)
		s.l.clearHealthy()
	}
	return err
}

// rollBack ends the trial: the previous slot stays active.
func (s *Supervisor) rollBack(reason string) error {
	_, err := s.l.Change(func(st *State) error {
		if st.Trial == nil {
			return errNoTrial
		}
		st.Last = st.Trial.Report(telemetry.UpdateRolledBack, reason, s.opts.Now())
		st.Trial = nil
		return nil
	})
	if errors.Is(err, errNoTrial) {
		return nil
	}
	if err == nil {
		s.log.Warn("version on trial rolled back", "reason", reason)
	}
	return err
}

// stop asks p to stop, and kills it after StopGrace; it tells whether it
// had to kill it.
func (s *Supervisor) stop(p *os.Process) (killed bool) {
	p.Signal(syscall.SIGTERM)
	for end := time.Now().Add(StopGrace); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if p.Signal(syscall.Signal(0)) != nil {
			return false // reaped by runChild's Wait
		}
	}
	p.Kill()
	return true
}

// runChild runs prog with the supervisor's child arguments and extra
// environment until it exits; watch, when set, runs beside it. It forwards
// the end of ctx as SIGTERM. The child dies with the supervisor (Pdeathsig
// on the thread that started it, locked until the child is reaped).
func (s *Supervisor) runChild(ctx context.Context, prog string, env []string, watch func(context.Context, *os.Process)) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(prog, s.opts.Args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	cmd.Env = append(withoutTrial(os.Environ()), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("update: starting %s: %w", prog, err)
	}
	s.log.Info("child started", "program", prog, "pid", cmd.Process.Pid)
	wctx, cancel := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if watch != nil {
			watch(wctx, cmd.Process)
		}
		<-wctx.Done()
		if ctx.Err() != nil {
			s.stop(cmd.Process)
		}
	}()
	err := cmd.Wait()
	cancel()
	<-watched
	if err != nil {
		return fmt.Errorf("update: %s: %w", prog, err)
	}
	s.log.Info("child exited", "program", prog)
	return nil
}

// withoutTrial drops TrialEnv from env: only a child on trial has it.
func withoutTrial(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if len(e) <= len(TrialEnv) || e[:len(TrialEnv)+1] != TrialEnv+"=" {
			out = append(out, e)
		}
	}
	return out
}
