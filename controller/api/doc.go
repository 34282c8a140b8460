// Package api is the controller's HTTP API under /api/v1: coverage and
// convergence of the inventory's regions and villages, the sites, devices
// and gateways, alerts and maintenance windows, and live changes as
// Server-Sent Events. It authenticates bearer tokens and browser sessions,
// limits region-bound tokens to their subtree, and is described by
// openapi.yaml. It reads everything through a Source and never logs.
package api
