package report

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/controller/snmp"
)

// GatherOptions says where Gather takes the devices' evidence from.
type GatherOptions struct {
	// Poll polls every device of the inventory once now (poller.PollOnce,
	// at most the configuration's poll.concurrency at once); otherwise the
	// running controller's device snapshot is read, when a configuration
	// is given and its state_dir holds one.
	Poll bool
	// Progress, when not nil, is told of the polls as they end (see
	// poller.PollOnceOptions.Progress): done of len(inv.Devices), down of
	// them without an answer.
	Progress func(done, down int)
}

// Gather returns each device's status, in the order of inv.Devices, and a
// sentence saying where it comes from (Options.Source): a poll of every
// device (o.Poll), else the running controller's device snapshot in
// cfg's state_dir (read only: poller.ReadSnapshot), else none, the report
// then resting on declared coverage and overrides alone. cfg may be nil:
// then devices are polled only through inline communities, with the
// default poll settings. Devices naming the configuration's credentials
// are polled with them only when they are devices of the configuration's
// own inventory at the same address (config.FileDevices). When ctx ends
// the polls stop and its error is returned.
func Gather(ctx context.Context, inv *inventory.Inventory, cfg *config.Config, o GatherOptions) ([]coverage.DeviceStatus, string, error) {
	if o.Poll {
		return gatherPolls(ctx, inv, cfg, o.Progress)
	}
	devs := make([]coverage.DeviceStatus, len(inv.Devices))
	if cfg == nil {
		return devs, "none: no poll and no controller state (declared coverage and overrides only)", nil
	}
	path := cfg.StatePath(config.DevicesSnapshotFile)
	states, err := poller.ReadSnapshot(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return devs, "none: no poll, and no device snapshot in " + cfg.StateDir + " (declared coverage and overrides only)", nil
	case err != nil:
		return nil, "", fmt.Errorf("report: the controller's device snapshot cannot be read: %w", err)
	}
	byID := make(map[string]*poller.DeviceState, len(states))
	for i := range states {
		if states[i].State != poller.StateUnknown {
			byID[states[i].ID] = &states[i]
		}
	}
	known := 0
	for i := range inv.Devices {
		if st, ok := byID[inv.Devices[i].ID]; ok {
			devs[i] = coverage.DeviceStatus{State: string(st.State), Since: st.Since, PolledAt: st.LastSuccess,
				Evidence: coverage.Summarize(st.Document)}
			known++
		}
	}
	return devs, fmt.Sprintf("the controller's device snapshot %s (%d of %d devices known)", path, known, len(inv.Devices)), nil
}

// gatherPolls polls every device of inv once.
func gatherPolls(ctx context.Context, inv *inventory.Inventory, cfg *config.Config, progress func(done, down int)) ([]coverage.DeviceStatus, string, error) {
	confs, err := deviceConfigs(inv, cfg)
	if err != nil {
		return nil, "", err
	}
	conc := snmp.DefaultMaxConcurrent
	if cfg != nil {
		conc = cfg.Poll.Concurrency
	}
	started := time.Now().UTC()
	polls, err := poller.PollOnce(ctx, confs, poller.PollOnceOptions{Concurrency: conc, Progress: progress})
	if err != nil {
		return nil, "", fmt.Errorf("report: %w", err)
	}
	devs := make([]coverage.DeviceStatus, len(polls))
	up := 0
	for i := range polls {
		p := &polls[i]
		switch p.State {
		case poller.StateUp:
			devs[i] = coverage.DeviceStatus{State: coverage.StateUp, Since: p.Start, PolledAt: p.Start,
				Evidence: coverage.Summarize(p.Document)}
			up++
		case poller.StateAuthFailed:
			devs[i] = coverage.DeviceStatus{State: coverage.StateAuthFailed, Since: p.Start}
		default:
			devs[i] = coverage.DeviceStatus{State: coverage.StateDown, Since: p.Start}
		}
	}
	return devs, fmt.Sprintf("%d of %d devices answered a poll at %s", up, len(inv.Devices), started.Format(time.RFC3339)), nil
}

// deviceConfigs turns the inventory's devices into SNMP configurations,
// in the order of inv.Devices: a device of the configuration's own
// inventory at the same address (and with the same inline community, if
// it has one) as the configuration gives it (credentials, poll settings
// and overrides); any other device with an inline community as v2c with
// the poll settings of cfg (or the defaults).
func deviceConfigs(inv *inventory.Inventory, cfg *config.Config) ([]config.DeviceConfig, error) {
	settings := config.PollSettings{Interval: config.DefaultPollInterval, Timeout: snmp.DefaultTimeout}
	retries := snmp.DefaultRetries
	maxRep := snmp.DefaultMaxRepetitions
	known := map[string]config.DeviceConfig{}
	if cfg != nil {
		settings = cfg.Poll.PollSettings
		retries, maxRep = *settings.Retries, settings.MaxRepetitions
		devs, err := cfg.FileDevices()
		if err != nil {
			return nil, fmt.Errorf("report: the configuration's devices: %w", err)
		}
		for _, d := range devs {
			known[d.ID] = d
		}
	}
	name := filepath.Join(inv.Dir, "devices.csv")
	out := make([]config.DeviceConfig, 0, len(inv.Devices))
	for i := range inv.Devices {
		d := &inv.Devices[i]
		k, ok := known[d.ID]
		if ok && k.SNMP.Target == snmpTarget(d.Address) && (d.Community() == "" || k.SNMP.Community == d.Community()) {
			out = append(out, k)
			continue
		}
		if d.Community() == "" {
			return nil, fmt.Errorf("report: %s:%d: device %s: credentials %q: %s", name, d.Line, d.ID, d.Credentials, credentialsHint(cfg))
		}
		sc := snmp.Config{Target: d.Address, Version: "2c", Community: d.Community(), Timeout: settings.Timeout,
			Retries: retries, MaxRepetitions: uint32(maxRep)}
		if sc.Retries == 0 {
			sc.Retries = -1 // snmp.Config reads 0 as the default
		}
		if err := sc.Validate(); err != nil {
			return nil, fmt.Errorf("report: %s:%d: device %s: %w", name, d.Line, d.ID, err)
		}
		out = append(out, config.DeviceConfig{ID: d.ID, Site: d.Site, Parent: d.Parent, Interval: settings.Interval, SNMP: sc})
	}
	return out, nil
}

// snmpTarget is the address as snmp.Config.Validate leaves it (port 161
// added when absent).
func snmpTarget(addr string) string {
	c := snmp.Config{Target: addr, Version: "2c", Community: "x"}
	if c.Validate() != nil {
		return addr
	}
	return c.Target
}

// credentialsHint says why a device naming credentials cannot be polled.
func credentialsHint(cfg *config.Config) string {
	if cfg == nil {
		return "named credentials need --config (or give community:<string>)"
	}
	return "not a device of the configuration's inventory: with --inventory other than the configuration's, only inline communities (community:<string>) can be polled"
}
