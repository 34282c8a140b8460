package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Names of the controller's alert rules in the demo.
const (
	ruleDeviceDown = "device-down"
	ruleDoorHeld   = "cabinet-door"
)

// tokenName names the demo's API token.
const tokenName = "demo"

// controllerYAML is the controller's configuration: the embedded broker,
// no InfluxDB (the in-memory history serves the dashboard), the demo's
// admin token, and the alert rules the scenario exercises. Flap damping is
// off: the scenario raises and resolves the same alerts over and over on
// purpose.
func controllerYAML(inv, brokerAddr, httpAddr, tokenFile, stateDir string, t Timing) string {
	return fmt.Sprintf(`# ngic demo: written by the demo, removed when it ends.
inventory: %s
poll:
  interval: %s
  timeout: %s
  retries: 0
mqtt:
  embedded: true
  listen: %s
ingest:
  offline_after: %s
http:
  listen: %s
  tokens:
    - {name: %s, file: %s, role: admin}
alerts:
  rules:
    - {name: %s, kind: device-down, after: %s}
    - {name: %s, kind: door-held, severity: major}
    - {name: gateway-offline, kind: gateway-offline, after: %s}
  flap: {disabled: true}
state_dir: %s
`, inv, t.Poll, pollTimeout(t.Poll), brokerAddr, offlineAfter, httpAddr, tokenName, tokenFile,
		ruleDeviceDown, t.DownAfter, ruleDoorHeld, offlineAfter, stateDir)
}

// offlineAfter is how long a silent gateway stays online: three of the
// gateways' health messages (healthInterval).
const (
	healthInterval = 10 * time.Second
	offlineAfter   = 3 * healthInterval
)

// pollTimeout bounds one SNMP request: a fifth of the poll interval, at
// most a second.
func pollTimeout(poll time.Duration) time.Duration {
	return min(poll/5, time.Second)
}

// edgeYAML is a gateway's configuration: its emulated reader on the
// pseudo-terminal pty, a door photo-eye on a lab pin, its spool in dir.
func edgeYAML(g gatewayPlan, dir, pty, brokerAddr string, t Timing) string {
	return fmt.Sprintf(`# ngic demo: written by the demo, removed when it ends.
gateway: %s
spool:
  path: %s
mqtt:
  broker: tcp://%s
  min_backoff: 100ms
  max_backoff: 2s
readers:
  - name: %s
    protocol: %s
    device: %s
    depart_after: %s
sensors:
  - name: %s
    pin: lab:%s
    held_after: %s
health:
  interval: %s
http:
  listen: "off"
log:
  level: info
`, g.Name, filepath.Join(dir, "spool.db"), brokerAddr, g.Reader, g.Protocol, pty, departAfter(t.TagPeriod),
		doorSensor, doorSensor, t.HeldAfter, healthInterval)
}

// departAfter is how long a tag goes unread before it departs: half the
// period between two moves of the tags, at least 300 ms.
func departAfter(tagPeriod time.Duration) time.Duration {
	return max(tagPeriod/2, 300*time.Millisecond)
}

// writeFile writes a file of the demo's folder, readable by its owner
// only.
func writeFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}
