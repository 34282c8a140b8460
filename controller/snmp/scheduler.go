package snmp

import (
	"container/heap"
	"container/list"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxConcurrent bounds the polls in flight of a Scheduler.
const DefaultMaxConcurrent = 256

// ErrDeadline is wrapped by the error of a poll abandoned at its deadline.
var ErrDeadline = errors.New("snmp: poll abandoned at its deadline")

// PollFunc is the caller's work on one device in one cycle. It must honour
// ctx: the Client's requests do, and the scheduler abandons the poll at
// ctx's deadline either way.
type PollFunc func(ctx context.Context, c Client) error

// DialFunc opens a session; Scheduler uses Dial unless told otherwise.
type DialFunc func(cfg Config) (SessionClient, error)

// SessionClient is a Client that can be closed, such as *Session.
type SessionClient interface {
	Client
	// Close releases the session's socket.
	Close() error
}

// Device is one device a Scheduler polls.
type Device struct {
	// ID names the device in the scheduler (default Config.Target).
	ID string
	// Config says how to reach it.
	Config Config
	// Interval is the polling cycle; required.
	Interval time.Duration
	// Deadline bounds one cycle's poll from its start (default 80 % of
	// Interval, at most Interval).
	Deadline time.Duration
	// Retries is how many more times a failed poll is tried within the
	// same deadline, on a freshly dialled session (default 0).
	Retries int
	// Poll is the work of one cycle; required.
	Poll PollFunc
}

// DeviceStatus is what the scheduler knows about one device.
type DeviceStatus struct {
	// ID and Target name the device.
	ID, Target string
	// LastStart is when the last poll started (zero before the first).
	LastStart time.Time
	// LastSuccess is when the last successful poll ended.
	LastSuccess time.Time
	// LastError is the last poll's error, nil after a success.
	LastError error
	// LastDuration is how long the last poll took.
	LastDuration time.Duration
	// ConsecutiveFailures counts failed polls since the last success.
	ConsecutiveFailures int
	// Polls and Failures count every finished poll and every failed one.
	Polls, Failures uint64
}

// Stats are the scheduler's counters, monotonic except Devices and
// InFlight, ready to export as Prometheus counters and gauges.
type Stats struct {
	// Devices is the number of devices scheduled.
	Devices int
	// InFlight is the number of poll callbacks running now, including
	// those abandoned at their deadline that have not returned yet.
	InFlight int64
	// Polls counts finished polls; Failures the failed ones among them.
	Polls, Failures uint64
	// Deadlines counts polls abandoned at their deadline.
	Deadlines uint64
	// Skipped counts cycles not started because the device's previous poll
	// was still running or the scheduler fell behind.
	Skipped uint64
	// Dials counts sessions opened.
	Dials uint64
}

// SchedulerConfig tunes a Scheduler.
type SchedulerConfig struct {
	// MaxConcurrent bounds the polls (and so the sockets busy) at once
	// (default 256).
	MaxConcurrent int
	// Dial opens sessions (default: Dial).
	Dial DialFunc
}

// Scheduler polls a set of devices, each on its own interval at a fixed
// per-device phase (StartOffset) plus a small per-cycle Jitter, with a
// per-cycle deadline and bounded concurrency. Each device
// has its own session, created at its first poll, kept between cycles (and
// released after each successful poll when it is a Releaser) and redialled
// after a failure. Its methods are safe for concurrent use.
type Scheduler struct {
	dial DialFunc // nil: dialValid with the device's own Config
	sem  chan struct{}

	// slotMu orders taking and handing over slots with waiting, the
	// devices dispatched while every slot was taken (*waiter, oldest first).
	slotMu  sync.Mutex
	waiting list.List

	mu      sync.Mutex
	devices map[string]*device
	queue   dueQueue
	wake    chan struct{}

	inFlight                                 atomic.Int64
	polls, failures, deadlines, skips, dials atomic.Uint64
}

// device is the scheduler's state for one Device.
type device struct {
	d       Device
	busy    atomic.Bool // a poll runs (only that poll touches sess)
	removed atomic.Bool
	sess    SessionClient

	mu     sync.Mutex
	status DeviceStatus
}

// NewScheduler returns an empty scheduler.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.MaxConcurrent < 0 {
		return nil, fmt.Errorf("snmp: scheduler config: MaxConcurrent %d is negative", cfg.MaxConcurrent)
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	return &Scheduler{dial: cfg.Dial, sem: make(chan struct{}, cfg.MaxConcurrent),
		devices: map[string]*device{}, wake: make(chan struct{}, 1)}, nil
}

// StartOffset is a device's start offset within its interval: a
// deterministic hash of id spread over [0, interval), so devices do not all
// start at once and a restart keeps each device's phase.
func StartOffset(id string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(interval))
}

// JitterFraction is the largest per-cycle jitter as a fraction of the
// interval (1/20, 5 %).
const JitterFraction = 20

// Jitter is a random delay in [0, interval/JitterFraction) added to each
// cycle's start. The phase itself (StartOffset) is fixed per device and
// spreads the load; the jitter keeps devices that share a phase, or whose
// polls line up with a periodic event on the network, from staying locked
// together cycle after cycle. It does not accumulate: each cycle is
// jittered from its phase-locked start.
func Jitter(interval time.Duration) time.Duration {
	n := int64(interval / JitterFraction)
	if n <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(n))
}

// firstDue is the first instant at or after now whose phase in the interval
// is the device's offset.
func firstDue(now time.Time, id string, interval time.Duration) time.Time {
	t := now.Truncate(interval).Add(StartOffset(id, interval))
	if t.Before(now) {
		t = t.Add(interval)
	}
	return t
}

// AddDevice validates d (filling defaults) and schedules it. An ID already
// scheduled is an error.
func (s *Scheduler) AddDevice(d Device) error {
	if err := d.Config.Validate(); err != nil {
		return err
	}
	if d.ID == "" {
		d.ID = d.Config.Target
	}
	switch {
	case d.Interval <= 0:
		return fmt.Errorf("snmp: device %s: Interval %v must be positive", d.ID, d.Interval)
	case d.Deadline < 0 || d.Deadline > d.Interval:
		return fmt.Errorf("snmp: device %s: Deadline %v must be within 0..Interval (%v)", d.ID, d.Deadline, d.Interval)
	case d.Retries < 0:
		return fmt.Errorf("snmp: device %s: Retries %d is negative", d.ID, d.Retries)
	case d.Poll == nil:
		return fmt.Errorf("snmp: device %s: Poll is nil", d.ID)
	}
	if d.Deadline == 0 {
		d.Deadline = d.Interval * 8 / 10
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.devices[d.ID]; ok {
		return fmt.Errorf("snmp: device %s: already scheduled", d.ID)
	}
	dev := &device{d: d, status: DeviceStatus{ID: d.ID, Target: d.Config.Target}}
	s.devices[d.ID] = dev
	base := firstDue(time.Now(), d.ID, d.Interval)
	heap.Push(&s.queue, &dueEntry{base: base, at: base.Add(Jitter(d.Interval)), dev: dev})
	s.poke()
	return nil
}

// RemoveDevice stops polling id; its session is closed once no poll uses
// it. It reports whether id was scheduled.
func (s *Scheduler) RemoveDevice(id string) bool {
	s.mu.Lock()
	dev, ok := s.devices[id]
	delete(s.devices, id)
	s.mu.Unlock()
	if !ok {
		return false
	}
	dev.removed.Store(true)
	if dev.busy.CompareAndSwap(false, true) {
		dev.closeSession()
		// Left busy for good: a removed device never polls again.
	}
	s.poke()
	return true
}

// poke wakes Run to look at the queue again.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Status returns one device's status.
func (s *Scheduler) Status(id string) (DeviceStatus, bool) {
	s.mu.Lock()
	dev, ok := s.devices[id]
	s.mu.Unlock()
	if !ok {
		return DeviceStatus{}, false
	}
	return dev.snapshot(), true
}

// Statuses returns every device's status, sorted by ID.
func (s *Scheduler) Statuses() []DeviceStatus {
	s.mu.Lock()
	out := make([]DeviceStatus, 0, len(s.devices))
	for _, dev := range s.devices {
		out = append(out, dev.snapshot())
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Stats returns the scheduler's counters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	n := len(s.devices)
	s.mu.Unlock()
	return Stats{Devices: n, InFlight: s.inFlight.Load(), Polls: s.polls.Load(), Failures: s.failures.Load(),
		Deadlines: s.deadlines.Load(), Skipped: s.skips.Load(), Dials: s.dials.Load()}
}

// Run polls every device on its schedule until ctx ends, then waits for the
// polls in flight (each bounded by its deadline) and closes the sessions.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		s.closeAll()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var next *dueEntry
		if len(s.queue) > 0 {
			next = s.queue[0]
		}
		s.mu.Unlock()
		wait := time.Hour
		if next != nil {
			wait = time.Until(next.at)
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.wake:
				continue
			case <-timer.C:
				continue
			}
		}
		s.mu.Lock()
		e := heap.Pop(&s.queue).(*dueEntry)
		dev := e.dev
		if dev.removed.Load() {
			s.mu.Unlock()
			continue
		}
		now := time.Now()
		e.base = e.base.Add(dev.d.Interval)
		if e.base.Before(now) { // fell behind: skip the missed cycles
			missed := now.Sub(e.base)/dev.d.Interval + 1
			s.skips.Add(uint64(missed))
			e.base = e.base.Add(missed * dev.d.Interval)
		}
		e.at = e.base.Add(Jitter(dev.d.Interval))
		heap.Push(&s.queue, e)
		s.mu.Unlock()
		s.start(ctx, &wg, dev)
	}
}

// RunCycle polls every device once now, all under the concurrency bound,
// and returns when every poll has ended or been abandoned at its deadline
// (or got no slot before it). Devices whose previous poll still runs are
// skipped. The error is ctx's, if it ended.
func (s *Scheduler) RunCycle(ctx context.Context) error {
	s.mu.Lock()
	devs := make([]*device, 0, len(s.devices))
	for _, dev := range s.devices {
		devs = append(devs, dev)
	}
	s.mu.Unlock()
	sort.Slice(devs, func(i, j int) bool { return devs[i].d.ID < devs[j].d.ID })
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, dev := range devs {
		s.start(ctx, &wg, dev)
	}
	wg.Wait()
	return ctx.Err()
}

// start polls dev, unless its previous poll still runs (counted as a
// skip). It never blocks: with a concurrency slot free the poll starts in a
// goroutine at once; otherwise dev waits in line for a slot, at most until
// the poll's deadline (a cycle that gets no slot in time is skipped and
// counted), so one slow device never holds up the dispatch of the others.
// A waiting device has no goroutine of its own: the runtime never frees a
// goroutine's descriptor, so a cycle of 10,000 devices parked in 10,000
// goroutines would keep about 400 B of heap per device for good. A slot is
// a live callback: it is freed (or handed to the next in line) only when
// the callback really returns, even after the poll was abandoned at its
// deadline, so MaxConcurrent bounds the sockets in use.
func (s *Scheduler) start(ctx context.Context, wg *sync.WaitGroup, dev *device) {
	if !dev.busy.CompareAndSwap(false, true) {
		s.skips.Add(1)
		return
	}
	wg.Add(1)
	deadline := time.Now().Add(dev.d.Deadline)
	s.slotMu.Lock()
	defer s.slotMu.Unlock()
	select {
	case s.sem <- struct{}{}:
		go s.run(ctx, wg, dev, deadline)
		return
	default:
	}
	w := &waiter{ctx: ctx, wg: wg, dev: dev, deadline: deadline}
	w.elem = s.waiting.PushBack(w)
	w.timer = time.AfterFunc(time.Until(deadline), func() { s.giveUp(w, true) })
	w.stopCtx = context.AfterFunc(ctx, func() { s.giveUp(w, false) })
}

// waiter is a device dispatched while every concurrency slot was taken.
type waiter struct {
	ctx      context.Context
	wg       *sync.WaitGroup
	dev      *device
	deadline time.Time
	elem     *list.Element // nil once it got a slot or gave up (under slotMu)
	timer    *time.Timer
	stopCtx  func() bool
}

// run polls dev holding a slot, then releases the slot.
func (s *Scheduler) run(ctx context.Context, wg *sync.WaitGroup, dev *device, deadline time.Time) {
	defer wg.Done()
	s.poll(ctx, dev, deadline)
}

// giveUp ends w's wait without a slot: its deadline passed (a skip) or its
// ctx ended.
func (s *Scheduler) giveUp(w *waiter, expired bool) {
	s.slotMu.Lock()
	if w.elem == nil {
		s.slotMu.Unlock()
		return
	}
	s.waiting.Remove(w.elem)
	w.elem = nil
	s.slotMu.Unlock()
	w.timer.Stop()
	w.stopCtx()
	if expired {
		s.skips.Add(1)
	}
	s.idle(w.dev)
	w.wg.Done()
}

// release hands the caller's slot to the oldest waiting device still
// within its deadline and ctx, or frees the slot when none waits.
func (s *Scheduler) release() {
	for {
		s.slotMu.Lock()
		front := s.waiting.Front()
		if front == nil {
			<-s.sem
			s.slotMu.Unlock()
			return
		}
		w := s.waiting.Remove(front).(*waiter)
		w.elem = nil
		s.slotMu.Unlock()
		w.timer.Stop()
		w.stopCtx()
		switch {
		case w.ctx.Err() != nil:
		case !time.Now().Before(w.deadline):
			s.skips.Add(1)
		default:
			go s.run(w.ctx, w.wg, w.dev, w.deadline)
			return
		}
		s.idle(w.dev)
		w.wg.Done()
	}
}

// idle marks dev free again after a cycle that did not poll.
func (s *Scheduler) idle(dev *device) {
	if dev.removed.Load() {
		dev.closeSession()
		return
	}
	dev.busy.Store(false)
}

// closeAll closes the sessions of idle devices.
func (s *Scheduler) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, dev := range s.devices {
		if dev.busy.CompareAndSwap(false, true) {
			dev.closeSession()
			dev.busy.Store(false)
		}
	}
}

// poll runs one cycle of dev, which the caller marked busy, holding one
// concurrency slot. The device stays busy, and the slot and the InFlight
// count stay taken, until its callback really returns, even when abandoned
// at the deadline: a session is never used by two goroutines and the
// sockets in use never exceed MaxConcurrent.
func (s *Scheduler) poll(ctx context.Context, dev *device, deadline time.Time) {
	s.inFlight.Add(1)
	abandoned := false
	defer func() {
		if !abandoned {
			s.inFlight.Add(-1)
			s.release()
		}
	}()
	start := time.Now()
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	dev.mu.Lock()
	dev.status.LastStart = start
	dev.mu.Unlock()

	var err error
	for attempt := 0; attempt <= dev.d.Retries; attempt++ {
		if dev.sess == nil {
			sess, derr := s.dialDevice(dev)
			if derr != nil {
				err = derr
				break
			}
			s.dials.Add(1)
			dev.sess = sess
		}
		done := make(chan error, 1)
		sess := dev.sess
		go func() { done <- safePoll(dctx, dev.d.Poll, sess) }()
		select {
		case err = <-done:
		case <-dctx.Done():
			select {
			case err = <-done: // finished just in time
			default:
				abandoned = true
			}
		}
		if abandoned {
			dev.sess = nil
			err = fmt.Errorf("snmp: device %s: %w after %v: %w", dev.d.ID, ErrDeadline, time.Since(start).Round(time.Millisecond), context.Cause(dctx))
			s.deadlines.Add(1)
			go func() {
				<-done
				_ = sess.Close()
				s.inFlight.Add(-1)
				s.release()
				if dev.removed.Load() {
					return
				}
				dev.busy.Store(false)
			}()
			break
		}
		if err == nil {
			break
		}
		dev.closeSession()
		if dctx.Err() != nil {
			break
		}
	}
	if err != nil && dctx.Err() != nil && errors.Is(dctx.Err(), context.DeadlineExceeded) && !abandoned {
		s.deadlines.Add(1)
	}
	end := time.Now()
	dev.mu.Lock()
	st := &dev.status
	st.LastDuration = end.Sub(start)
	st.Polls++
	st.LastError = err
	if err == nil {
		st.LastSuccess = end
		st.ConsecutiveFailures = 0
	} else {
		st.Failures++
		st.ConsecutiveFailures++
	}
	dev.mu.Unlock()
	s.polls.Add(1)
	if err != nil {
		s.failures.Add(1)
	}
	if abandoned {
		return
	}
	if dev.removed.Load() {
		dev.closeSession()
		return
	}
	if r, ok := dev.sess.(Releaser); ok {
		if r.Release() != nil {
			dev.closeSession()
		}
	}
	dev.busy.Store(false)
}

// dialDevice opens dev's session: with SchedulerConfig.Dial when set, else a
// Session sharing the device's validated Config.
func (s *Scheduler) dialDevice(dev *device) (SessionClient, error) {
	if s.dial != nil {
		return s.dial(dev.d.Config)
	}
	return dialValid(&dev.d.Config)
}

// Releaser is a SessionClient that can drop its socket and buffers between
// cycles while staying usable, such as *Session. The Scheduler releases such
// a session after each successful poll, so an idle device costs only its
// small state.
type Releaser interface {
	// Release frees the socket and buffers; the next request reopens them.
	Release() error
}

// safePoll runs the caller's callback, turning a panic into an error so
// one device's bug does not stop the poller.
func safePoll(ctx context.Context, f PollFunc, c Client) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("snmp: device %s: poll callback panicked: %v", c.Target(), r)
		}
	}()
	return f(ctx, c)
}

// closeSession closes and forgets the session; the caller owns dev (busy).
func (dev *device) closeSession() {
	if dev.sess != nil {
		_ = dev.sess.Close()
		dev.sess = nil
	}
}

// snapshot copies the status.
func (dev *device) snapshot() DeviceStatus {
	dev.mu.Lock()
	defer dev.mu.Unlock()
	return dev.status
}

// dueEntry is a device's next due time in the queue: base is the
// phase-locked cycle start (its StartOffset in the interval), at adds the
// cycle's jitter to it.
type dueEntry struct {
	base, at time.Time
	dev      *device
}

// dueQueue is a min-heap of due times.
type dueQueue []*dueEntry

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q dueQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(*dueEntry)) }
func (q *dueQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}
