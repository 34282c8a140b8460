package telemetry

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"
)

// CommandUpdate is the command name (the last level of CommandTopic) of an
// update command: CommandTopic(gateway, CommandUpdate).
const CommandUpdate = "update"

// UpdateCommand asks one gateway to install a signed bundle. The controller
// publishes it retained with QoS 1 on CommandTopic(gateway, CommandUpdate),
// so a gateway that is offline finds it when it comes back; a gateway acts
// once on each ID and reports every step in the Update member of its status.
// An empty retained payload withdraws the command.
type UpdateCommand struct {
	// V is the schema version.
	V int `json:"v"`
	// ID names this command (for example the rollout and the gateway); a
	// gateway that already acted on the ID does nothing.
	ID string `json:"id"`
	// Rollout is the rollout the command belongs to, when there is one.
	Rollout string `json:"rollout,omitempty"`
	// URL is where the bundle is downloaded from: https, or http only to a
	// loopback address (tests and the embedded demo).
	URL string `json:"url"`
	// SHA256 is the hex SHA-256 of the whole bundle file, and Size its
	// length in bytes: a gateway refuses a download that differs.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Version is the version the bundle's manifest carries, so a gateway
	// can refuse a downgrade before it downloads.
	Version string `json:"version"`
	// Time is when the command was made.
	Time time.Time `json:"time"`
}

// EncodeUpdateCommand returns the JSON of an update command.
func EncodeUpdateCommand(c *UpdateCommand) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

// DecodeUpdateCommand parses and validates an update command. Unknown
// members are ignored so that newer controllers can add fields.
func DecodeUpdateCommand(b []byte) (*UpdateCommand, error) {
	var c UpdateCommand
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("telemetry: update command payload: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *UpdateCommand) validate() error {
	switch {
	case c.V != SchemaVersion:
		return fmt.Errorf("telemetry: update command field v: schema version %d, want %d", c.V, SchemaVersion)
	case c.ID == "" || len(c.ID) > 256:
		return fmt.Errorf("telemetry: update command field id: %d bytes, want 1 to 256", len(c.ID))
	case len(c.Rollout) > 256:
		return fmt.Errorf("telemetry: update command field rollout: %d bytes, want at most 256", len(c.Rollout))
	case c.Size <= 0:
		return fmt.Errorf("telemetry: update command field size: %d, want a positive length", c.Size)
	case c.Version == "" || len(c.Version) > 64:
		return fmt.Errorf("telemetry: update command field version: %d bytes, want 1 to 64", len(c.Version))
	case c.Time.IsZero():
		return errors.New("telemetry: update command field time: missing")
	case c.Time.Year() < 1678 || c.Time.Year() > 2261:
		return fmt.Errorf("telemetry: update command field time: year %d out of range", c.Time.Year())
	}
	if h, err := hex.DecodeString(c.SHA256); err != nil || len(h) != 32 {
		return fmt.Errorf("telemetry: update command field sha256: %q is not 64 hex digits", c.SHA256)
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("telemetry: update command field url: %w", err)
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	default:
		return fmt.Errorf("telemetry: update command field url: %q is neither https nor http to a loopback address", c.URL)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// Update steps, in the order an update goes through them. A gateway reports
// each in its status; UpdateDone, UpdateRolledBack, UpdateRefused and
// UpdateFailed end an update.
const (
	// UpdateReceived: the command was accepted and the update is queued.
	UpdateReceived = "received"
	// UpdateDownloading: the bundle is being downloaded (Bytes of Size).
	UpdateDownloading = "downloading"
	// UpdateVerified: the signature, the hashes and the target matched.
	UpdateVerified = "verified"
	// UpdateInstalled: the files are in the inactive slot.
	UpdateInstalled = "installed"
	// UpdateRestarting: the gateway switched slots and restarts.
	UpdateRestarting = "restarting"
	// UpdateTrial: the new version runs and must prove healthy in time.
	UpdateTrial = "trial"
	// UpdateDone: the new version proved healthy and is kept.
	UpdateDone = "done"
	// UpdateRolledBack: the new version crashed, hung or was unhealthy,
	// and the previous one runs again; Reason says what happened.
	UpdateRolledBack = "rolled-back"
	// UpdateRefused: the bundle was refused (signature, hash, downgrade,
	// target, size); nothing was installed. Reason says why.
	UpdateRefused = "refused"
	// UpdateFailed: the update could not go on (download or disk error);
	// nothing was switched. Reason says why.
	UpdateFailed = "failed"
)

var updateSteps = map[string]bool{UpdateReceived: true, UpdateDownloading: true, UpdateVerified: true,
	UpdateInstalled: true, UpdateRestarting: true, UpdateTrial: true, UpdateDone: true,
	UpdateRolledBack: true, UpdateRefused: true, UpdateFailed: true}

// UpdateFinal reports whether step ends an update.
func UpdateFinal(step string) bool {
	return step == UpdateDone || step == UpdateRolledBack || step == UpdateRefused || step == UpdateFailed
}

// UpdateReport is the state of a gateway's latest update, carried in its
// status (Status.Update) and republished at each step.
type UpdateReport struct {
	// ID is the UpdateCommand's ID, and Rollout its rollout.
	ID      string `json:"id"`
	Rollout string `json:"rollout,omitempty"`
	// Step is one of the Update* steps.
	Step string `json:"step"`
	// From is the version that ran when the command came, To the bundle's.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Reason says why an update was refused, failed or rolled back.
	Reason string `json:"reason,omitempty"`
	// Bytes is how much of the bundle is downloaded (UpdateDownloading).
	Bytes int64 `json:"bytes,omitempty"`
	// Time is when the step was reached.
	Time time.Time `json:"time"`
}

func (u *UpdateReport) validate() error {
	switch {
	case u.ID == "" || len(u.ID) > 256:
		return fmt.Errorf("telemetry: status field update.id: %d bytes, want 1 to 256", len(u.ID))
	case !updateSteps[u.Step]:
		return fmt.Errorf("telemetry: status field update.step: unknown step %q", u.Step)
	case u.Bytes < 0:
		return fmt.Errorf("telemetry: status field update.bytes: %d is negative", u.Bytes)
	case u.Time.IsZero():
		return errors.New("telemetry: status field update.time: missing")
	}
	return nil
}
