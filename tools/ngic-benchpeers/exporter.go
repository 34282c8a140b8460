package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ExporterConfig returns an snmp.yml holding the module named module of
// shipped (the snmp.yml snmp_exporter ships), walked with GETBULKs of
// maxRep repetitions, and an auth named auth: SNMP v2c with community.
func ExporterConfig(shipped []byte, module, auth, community string, maxRep int) ([]byte, error) {
	var doc struct {
		Modules map[string]map[string]any `yaml:"modules"`
	}
	if err := yaml.Unmarshal(shipped, &doc); err != nil {
		return nil, fmt.Errorf("benchpeers: snmp_exporter config: %w", err)
	}
	m, ok := doc.Modules[module]
	if !ok {
		return nil, fmt.Errorf("benchpeers: snmp_exporter config has no module %q", module)
	}
	m["max_repetitions"] = maxRep
	out := map[string]any{
		"auths":   map[string]any{auth: map[string]any{"community": community, "version": 2}},
		"modules": map[string]any{module: m},
	}
	return yaml.Marshal(out)
}

// Exporter is a running snmp_exporter.
type Exporter struct {
	cmd  *exec.Cmd
	addr string
}

// StartExporter runs bin with config on a free 127.0.0.1 port and waits
// (up to a minute) until it answers.
func StartExporter(bin, config string) (*Exporter, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--config.file="+config, "--web.listen-address="+addr, "--log.level=error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("benchpeers: start snmp_exporter: %w", err)
	}
	e := &Exporter{cmd: cmd, addr: addr}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return e, nil
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("benchpeers: snmp_exporter not answering on %s after a minute: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the exporter and waits for it.
func (e *Exporter) Stop() {
	_ = e.cmd.Process.Kill()
	_ = e.cmd.Wait()
}

// Scrape asks the exporter for module of target with auth, scrapes times,
// and returns the exporter's CPU time over them (from /proc, user and
// system, every thread) and the varbinds it fetched in all (its
// snmp_scrape_pdus_returned).
func (e *Exporter) Scrape(target, module, auth string, scrapes int) (time.Duration, int, error) {
	q := url.Values{"target": {target}, "module": {module}, "auth": {auth}}
	u := "http://" + e.addr + "/snmp?" + q.Encode()
	c0, err := ProcessCPU(e.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for range scrapes {
		resp, err := http.Get(u)
		if err != nil {
			return 0, 0, fmt.Errorf("benchpeers: scrape: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("benchpeers: scrape: status %d, %v: %.300s", resp.StatusCode, err, body)
		}
		pdus, err := PDUsReturned(body)
		if err != nil {
			return 0, 0, err
		}
		n += pdus
	}
	c1, err := ProcessCPU(e.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	return c1 - c0, n, nil
}

// PDUsReturned reads snmp_scrape_pdus_returned, the varbinds the exporter
// fetched, from a scrape in the Prometheus text format.
func PDUsReturned(body []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "snmp_scrape_pdus_returned") {
			continue
		}
		f := strings.Fields(l)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil || !(v >= 0 && v < 1e12) {
			return 0, fmt.Errorf("benchpeers: snmp_scrape_pdus_returned: %q", l)
		}
		return int(v), nil
	}
	return 0, errors.New("benchpeers: the scrape has no snmp_scrape_pdus_returned")
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat
// (sysconf(_SC_CLK_TCK), 100 on Linux).
const clockTick = 10 * time.Millisecond

// ProcessCPU returns the user and system CPU time of process pid, all its
// threads, living or ended, included.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("benchpeers: cpu of %d: %w", pid, err)
	}
	return ParseStatCPU(b)
}

// ParseStatCPU reads utime+stime from the text of /proc/<pid>/stat.
func ParseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("benchpeers: /proc stat without a command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("benchpeers: /proc stat too short")
	}
	var t int64
	for _, s := range f[11:13] { // fields 14 and 15: utime, stime
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 || v > 1<<40 {
			return 0, fmt.Errorf("benchpeers: /proc stat: cpu field %q", s)
		}
		t += v
	}
	return time.Duration(t) * clockTick, nil
}

// FreePort returns a TCP port free on 127.0.0.1 a moment ago.
func FreePort() (int, error) { return freePort("tcp") }

// FreeUDPPort returns a UDP port free on 127.0.0.1 a moment ago.
func FreeUDPPort() (int, error) { return freePort("udp") }

// freePort returns a port of network ("tcp" or "udp") free on 127.0.0.1
// a moment ago.
func freePort(network string) (int, error) {
	var c io.Closer
	var a net.Addr
	var err error
	if network == "udp" {
		var pc net.PacketConn
		if pc, err = net.ListenPacket(network, "127.0.0.1:0"); err == nil {
			c, a = pc, pc.LocalAddr()
		}
	} else {
		var l net.Listener
		if l, err = net.Listen(network, "127.0.0.1:0"); err == nil {
			c, a = l, l.Addr()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("benchpeers: free %s port: %w", network, err)
	}
	c.Close()
	ap, err := netip.ParseAddrPort(a.String())
	return int(ap.Port()), err
}

// Agent is the project's SNMP simulator serving one recording in its own
// process (controller/scale's farmsim).
type Agent struct {
	cmd   *exec.Cmd
	stdin io.Closer
	// Addr is the UDP address it serves.
	Addr string
}

// StartAgent runs the farmsim binary serving recording from dir as one
// device and waits for its address.
func StartAgent(ctx context.Context, bin, dir, recording string) (*Agent, error) {
	cmd := exec.CommandContext(ctx, bin, "-recordings", dir, "-n", "1", "-names", recording)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("benchpeers: start agent: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		in.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("benchpeers: agent: %w", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &Agent{cmd: cmd, stdin: in, Addr: strings.TrimSpace(line)}, nil
}

// Stop ends the agent (closing its input) and waits for it.
func (a *Agent) Stop() {
	a.stdin.Close()
	_ = a.cmd.Wait()
}
