// Package commission checks a gateway on site for ngic-fwtool commission:
// it finds the serial ports, probes each with every known reader protocol
// at its usual speeds using only harmless questions (version, region), and
// reports what answered. A port another process holds is reported, not
// taken. It also watches photo-eye lines (WatchGPIO), checks the broker
// under the commissioning identity and the gateway's own rights over
// MQTT 5 (CheckBroker), and writes an edge configuration of what it found
// (ConfigCheck). Each check says what to do when it fails.
package commission

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Opts configures a serial probe.
type Opts struct {
	// Ports are the devices to probe; empty means ListPorts(DevDir).
	Ports []string
	// Protocols limits the probe to these protocols; empty means all.
	Protocols []string
	// DevDir is where devices are listed from; "" means /dev.
	DevDir string
	// ProcDir is where processes holding a port are looked for; "" means
	// /proc.
	ProcDir string
	// Wait is how long to wait for an answer at each speed; 0 means
	// DefaultOpts.Wait.
	Wait time.Duration
	// Listen is how long to listen for readers that only talk (em4100); 0
	// means DefaultOpts.Listen.
	Listen time.Duration
}

// DefaultOpts are the values used for zero fields.
var DefaultOpts = Opts{DevDir: "/dev", ProcDir: "/proc", Wait: 300 * time.Millisecond, Listen: time.Second}

// Status is a check's outcome.
type Status string

// Statuses.
const (
	OK   Status = "ok"
	Fail Status = "fail"
	// Skip is a check not made, for the reason its Detail gives; it is no
	// failure, and its Fix says how to make it.
	Skip Status = "skip"
)

// Check is the outcome of one check.
type Check struct {
	// Name says what was checked, e.g. "serial /dev/ttyUSB0".
	Name string `json:"name"`
	// Status is OK, Fail or Skip.
	Status Status `json:"status"`
	// Detail says what was found.
	Detail string `json:"detail"`
	// Fix says what to do about a failure, or how to make a skipped
	// check; "" when OK.
	Fix string `json:"fix,omitempty"`
	// Port is the device a serial check probed.
	Port string `json:"port,omitempty"`
	// Pin is the line a GPIO check watched.
	Pin string `json:"pin,omitempty"`
	// Reader is the reader that answered, for a serial check.
	Reader *Reader `json:"reader,omitempty"`
	// Holders are the processes holding a port found held.
	Holders []Holder `json:"holders,omitempty"`
	// GPIO is what a GPIO watch saw.
	GPIO *Edges `json:"gpio,omitempty"`
}

// ListPorts returns the serial devices under dev: the names in
// dev/serial/by-id first (each standing for the device it points at), then
// the ttyUSB*, ttyACM* and ttyS* devices not already named.
func ListPorts(dev string) []string {
	var out []string
	seen := map[string]bool{}
	byID, _ := filepath.Glob(filepath.Join(dev, "serial", "by-id", "*"))
	slices.Sort(byID)
	for _, p := range byID {
		target, err := filepath.EvalSymlinks(p)
		if err != nil || seen[target] {
			continue
		}
		seen[target] = true
		out = append(out, p)
	}
	for _, pat := range []string{"ttyUSB*", "ttyACM*", "ttyS*"} {
		m, _ := filepath.Glob(filepath.Join(dev, pat))
		slices.SortFunc(m, byNumber)
		for _, p := range m {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// byNumber orders ttyS2 before ttyS10.
func byNumber(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// ProbeSerial probes every port and returns a check per port. Ports listed
// automatically with no UART behind them (ttyS*) are left out; a port given
// in Opts.Ports is always checked.
func ProbeSerial(ctx context.Context, o Opts) ([]Check, error) {
	o = withDefaults(o)
	for _, name := range o.Protocols {
		if !slices.ContainsFunc(probes, func(p protocolProbe) bool { return p.name == name }) {
			return nil, fmt.Errorf("commission: protocol %q cannot be probed (known: %s)", name, strings.Join(probeNames(), ", "))
		}
	}
	ports, given := o.Ports, true
	if len(ports) == 0 {
		ports, given = ListPorts(o.DevDir), false
	}
	if len(ports) == 0 {
		return []Check{{Name: "serial", Status: Fail, Detail: "no serial port found",
			Fix: "plug the reader's USB cable in (or give its device with --port) and check dmesg for the adapter"}}, nil
	}
	var out []Check
	for _, p := range ports {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		c, err := probePort(ctx, p, o)
		if errors.Is(err, ErrNoUART) && !given {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

func withDefaults(o Opts) Opts {
	if o.DevDir == "" {
		o.DevDir = DefaultOpts.DevDir
	}
	if o.ProcDir == "" {
		o.ProcDir = DefaultOpts.ProcDir
	}
	if o.Wait <= 0 {
		o.Wait = DefaultOpts.Wait
	}
	if o.Listen <= 0 {
		o.Listen = DefaultOpts.Listen
	}
	return o
}

func probeNames() []string {
	n := make([]string, len(probes))
	for i, p := range probes {
		n[i] = p.name
	}
	return n
}

// probePort tries every protocol at each of its speeds on one port.
func probePort(ctx context.Context, path string, o Opts) (Check, error) {
	c := Check{Name: "serial " + path, Port: path}
	if _, err := os.Stat(path); err != nil {
		c.Status, c.Detail = Fail, "no such device"
		c.Fix = "check the device name (ls /dev/serial/by-id) and that the reader's USB cable is plugged in"
		return c, nil
	}
	p, err := openPort(path, o.ProcDir)
	if err != nil {
		c.Status, c.Detail = Fail, err.Error()
		switch {
		case errors.Is(err, ErrHeld):
			c.Holders = holdersOf(path, o.ProcDir)
			c.Fix = "stop what holds the port (systemctl stop ngic-edge, or the program named) and run commission again"
		case errors.Is(err, ErrNotSerial):
			c.Fix = "give the reader's serial device with --port (ls /dev/serial/by-id)"
		case errors.Is(err, ErrNoUART):
			c.Fix = "this device has no serial port behind it; give the reader's device with --port"
		default:
			c.Fix = "run as root or as a member of the dialout group"
		}
		return c, err
	}
	defer p.close()
	var tried []string
	for _, pp := range probes {
		if len(o.Protocols) > 0 && !slices.Contains(o.Protocols, pp.name) {
			continue
		}
		wait := o.Wait
		if pp.new().query() == nil {
			wait = o.Listen
		}
		for _, baud := range pp.bauds {
			if ctx.Err() != nil {
				return c, ctx.Err()
			}
			if err := p.setSpeed(baud); err != nil {
				c.Status, c.Detail, c.Fix = Fail, err.Error(), "check that the device is a serial port"
				return c, err
			}
			r := Reader{Protocol: pp.name, Baud: baud}
			ok, err := p.exchange(pp.new(), wait, &r)
			if err != nil {
				c.Status, c.Detail, c.Fix = Fail, err.Error(), "check the adapter (dmesg): it failed while probing"
				return c, err
			}
			if ok {
				c.Status, c.Reader, c.Detail = OK, &r, r.describe()
				return c, nil
			}
			tried = append(tried, fmt.Sprintf("%s@%d", pp.name, baud))
		}
	}
	c.Status = Fail
	c.Detail = "no reader answered (tried " + strings.Join(tried, " ") + ")"
	c.Fix = "check the reader's power and wiring (TX to RX), and its protocol and speed; an em4100 reader only talks with a card in its field: hold one to it"
	return c, nil
}

// holdersOf lists the processes holding path, for the report.
func holdersOf(path, procDir string) []Holder {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	var hs []Holder
	rc.Control(func(fd uintptr) { hs = holders(procDir, int(fd)) })
	return hs
}

// describe is the reader in one line.
func (r Reader) describe() string {
	s := fmt.Sprintf("%s reader at %d baud", r.Protocol, r.Baud)
	if r.Firmware != "" {
		s += ", firmware " + r.Firmware
	}
	if r.Hardware != "" {
		s += ", hardware " + r.Hardware
	}
	if r.Region != "" {
		s += ", region " + r.Region
	}
	return s
}
