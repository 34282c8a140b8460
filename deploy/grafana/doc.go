// Package grafana generates ngic's Grafana dashboards (access network,
// convergence, edge) and their provisioning files from the InfluxDB
// measurements of package telemetry, with the Grafana Foundation SDK.
// Panels are specified once, in panels.go, with telemetry's constants;
// `go generate ./deploy/grafana` writes dashboards/*.json and
// provisioning/*/ngic.yaml, and a test fails when the committed files
// differ from what the generator writes.
package grafana

//go:generate go run ./gen
