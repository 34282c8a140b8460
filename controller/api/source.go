package api

import (
	"errors"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/telemetry"
)

// Source is what the API reads and acts on: the controller's poller,
// ingest, alert engine, coverage result and snapshots, and inventory. The
// daemon implements it; tests use a fake. Every method is safe for
// concurrent use and returns values the API may keep (it never modifies
// them), except the current coverage result, which the API holds only
// between AcquireCoverage and the release it returns.
type Source interface {
	// AcquireCoverage returns the current coverage result, or nil before
	// the first computation and when the inventory has no regions.csv,
	// and a function that releases it (never nil; calling it again does
	// nothing). The result and everything read from it (villages,
	// regions, gaps, trails) stay as they are until the release; after
	// it, the source may compute another result into their memory.
	AcquireCoverage() (res *coverage.Result, release func())
	// Snapshots returns the times of the stored coverage snapshots,
	// oldest first.
	Snapshots() ([]time.Time, error)
	// Snapshot reads the stored snapshot of time t (one of Snapshots).
	Snapshot(t time.Time) (*coverage.Result, error)
	// Boundaries returns the inventory's boundaries.geojson, or nil and a
	// nil error when it has none.
	Boundaries() ([]byte, error)
	// HasBoundaries tells whether the inventory has a boundaries.geojson,
	// without reading it.
	HasBoundaries() bool
	// Sites returns the inventory's sites, in file order.
	Sites() []inventory.Site
	// Devices returns every device's state, without document or history.
	Devices() []Device
	// DeviceCounts counts the devices by state (what Devices would give,
	// without building the list).
	DeviceCounts() map[string]int
	// Device returns one device with its latest document and history
	// (false when there is no such device).
	Device(id string) (Device, bool)
	// Gateways returns every gateway's state.
	Gateways() []ingest.GatewayState
	// SiteStates returns the sites' doors, passages and tags present, as
	// the gateways' events tell them.
	SiteStates() []ingest.SiteState
	// Alerts returns the open alerts (recent false), or the recent ones
	// (open and resolved), newest first.
	Alerts(recent bool) []telemetry.Alert
	// Acknowledge acknowledges the alert id in the name of by; an unknown
	// alert is an error wrapping ErrNotFound.
	Acknowledge(id, by, note string) (telemetry.Alert, error)
	// Maintenance returns the maintenance windows, from the configuration
	// and added at run time.
	Maintenance() []Window
	// AddMaintenance adds a run-time window (ID and Source are set by the
	// source); a refused window is an error wrapping ErrInvalid.
	AddMaintenance(w Window) (Window, error)
	// RemoveMaintenance removes a run-time window: ErrNotFound when there
	// is none of that id, ErrConflict for a window of the configuration.
	RemoveMaintenance(id string) error
	// Reload reads the configuration and inventory again and applies
	// them; on failure (an error wrapping ErrInvalid with the loader's
	// message, or ErrConflict when a reload is running) the running
	// inventory is kept.
	Reload() error
}

// Errors a Source wraps so that the API answers with the right status.
var (
	// ErrNotFound answers 404.
	ErrNotFound = errors.New("not found")
	// ErrInvalid answers 400.
	ErrInvalid = errors.New("invalid")
	// ErrConflict answers 409.
	ErrConflict = errors.New("conflict")
)

// Device is a device's state with the class of its latest document.
type Device struct {
	poller.DeviceState
	// Class is the latest document's device class ("" before one).
	Class string `json:"class"`
}

// Window is a maintenance window: alerts of its subject raised while it is
// open are silenced.
type Window struct {
	// ID identifies the window; Source is "config" or "api" (only those
	// may be removed).
	ID     string `json:"id"`
	Source string `json:"source"`
	// Subject is "device:ID", "gateway:NAME" or "site:ID".
	Subject string    `json:"subject"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Reason  string    `json:"reason,omitempty"`
}

// Sources of a Window.
const (
	WindowConfig = "config"
	WindowAPI    = "api"
)
