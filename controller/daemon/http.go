package daemon

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/dashboard"
	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/internal/buildinfo"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/telemetry/influx"
)

// Health is the /healthz document.
type Health struct {
	// Status is "ok", or "degraded" with Problems saying why.
	Status   string   `json:"status"`
	Problems []string `json:"problems,omitempty"`
	Version  string   `json:"version"`
	Uptime   float64  `json:"uptime_seconds"`
	// Devices counts the inventory's devices by state.
	Devices map[string]int `json:"devices"`
	// Snapshot is the last state snapshot's error, if it failed.
	SnapshotError string `json:"snapshot_error,omitempty"`
	// InfluxDB is absent without InfluxDB.
	InfluxDB *InfluxHealth `json:"influxdb,omitempty"`
	// MQTT is the broker side.
	MQTT MQTTHealth `json:"mqtt"`
	// Gateways counts the gateways by state (online, offline, unknown).
	Gateways map[string]int `json:"gateways"`
	// Ingest sums the ingest's counters over every gateway.
	Ingest IngestHealth `json:"ingest"`
	// Alerts counts the open alerts.
	Alerts int `json:"alerts_open"`
	// Coverage tells when coverage was last computed and stored.
	Coverage *CoverageHealth `json:"coverage"`
}

// MQTTHealth is the broker side in /healthz.
type MQTTHealth struct {
	// Embedded is set with the embedded broker (always up while the
	// controller runs).
	Embedded  bool   `json:"embedded"`
	Connected bool   `json:"connected"`
	LastError string `json:"last_error,omitempty"`
}

// IngestHealth is the ingest in /healthz.
type IngestHealth struct {
	Events     uint64            `json:"events"`
	Duplicates uint64            `json:"duplicates"`
	Refused    map[string]uint64 `json:"refused,omitempty"`
	Lost       map[string]uint64 `json:"lost,omitempty"`
	Gaps       uint64            `json:"gaps"`
	Missing    uint64            `json:"missing"`
	LastError  string            `json:"last_error,omitempty"`
}

// InfluxHealth is the InfluxDB writer in /healthz.
type InfluxHealth struct {
	BufferedBatches int               `json:"buffered_batches"`
	BufferedBytes   int64             `json:"buffered_bytes"`
	Written         uint64            `json:"written"`
	WriteErrors     uint64            `json:"write_errors"`
	Lost            map[string]uint64 `json:"lost,omitempty"`
	LastError       string            `json:"last_error,omitempty"`
	LastErrorTime   *time.Time        `json:"last_error_time,omitempty"`
}

// listen opens the HTTP server's socket (with TLS when http.tls is set),
// so that a busy port fails the start rather than the run, and mounts
// /healthz, /metrics, the API under /api/ and the dashboard at /.
func (d *Daemon) listen(addr string, profiles bool) error {
	h := &d.cfg.HTTP
	if profiles && !config.IsLoopback(addr) {
		return fmt.Errorf("--pprof: http.listen %s is reachable beyond this machine, and Go's profiles are served "+
			"without a token: use --pprof only with a loopback http.listen", addr)
	}
	tlsCfg, err := serverTLS(h, addr)
	if err != nil {
		return err
	}
	apiSrv, err := d.newAPI(h)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w", addr, err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	d.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", d.serveHealth)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))
	if profiles {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	}
	mux.Handle("/api/", apiSrv.Handler())
	mux.Handle("/", dashboard.Handler())
	hosts := api.HostFilter{Hosts: h.Hosts, LoopbackOnly: config.IsLoopback(addr)}
	d.srv = &http.Server{Handler: api.SecurityHeaders(hosts.Wrap(mux)), TLSConfig: tlsCfg,
		ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout,
		IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
	d.logTokens(h)
	if !hosts.LoopbackOnly && len(h.Hosts) == 0 {
		d.log.Warn("http.hosts is empty: a request naming this controller by a DNS name is refused (421), "+
			"only its addresses and localhost are answered; list its names in http.hosts", "listen", addr)
	}
	if n, err := apiSrv.RestoreSessions(); err != nil {
		d.log.Warn("browser sessions of the last run not restored: browsers sign in again", "err", err)
	} else if n > 0 {
		d.log.Info("browser sessions restored", "sessions", n)
	}
	return nil
}

// Bounds of the HTTP server against slow and abusive clients. A request
// (headers and body) must arrive within readTimeout, and an answer leave
// within writeTimeout; the API's answers instead give each part its own
// deadline (a national report streams for minutes, an event stream for
// hours, as long as the client reads).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// serverTLS returns the HTTP server's TLS configuration (nil without
// http.tls), refusing to listen beyond loopback without one unless
// http.allow_remote.
func serverTLS(h *config.HTTP, addr string) (*tls.Config, error) {
	if h.TLS.CertFile == "" {
		if !h.AllowRemote && !config.IsLoopback(addr) {
			return nil, fmt.Errorf("http.listen %s: reachable beyond this machine without TLS: set http.tls, or http.allow_remote", addr)
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(h.TLS.CertFile, h.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("http.tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// logTokens names the API's tokens (never their secrets), or warns once
// that there is none.
func (d *Daemon) logTokens(h *config.HTTP) {
	names := make([]string, 0, len(h.Tokens))
	for _, t := range h.Tokens {
		names = append(names, t.Name+" ("+t.Role+")")
	}
	if len(names) == 0 {
		d.log.Warn("no API tokens configured (http.tokens): the API answers 401 to everything but /healthz, " +
			"/metrics, the dashboard's files and the sign-in page")
		return
	}
	d.log.Info("API tokens", "tokens", strings.Join(names, ", "), "tls", h.TLS.CertFile != "")
}

// Addr is the HTTP server's address.
func (d *Daemon) Addr() string { return d.ln.Addr().String() }

// serveHTTP serves until ctx ends, and feeds the API's event streams.
func (d *Daemon) serveHTTP(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	fed := make(chan error, 1)
	go func() { fed <- d.runAPI(ctx) }()
	defer func() { cancel(); <-fed }()
	d.srv.BaseContext = func(net.Listener) context.Context { return ctx } // event streams end with ctx
	done := make(chan error, 1)
	go func() { done <- d.srv.Serve(d.ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancelShutdown := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShutdown()
	if err := d.srv.Shutdown(sctx); errors.Is(err, context.DeadlineExceeded) {
		d.srv.Close() // event streams left open
	}
	d.web.srv.FlushSessions() // the sign-ins of the last second too
	if e := d.web.srv.Stats().SessionSaveError; e != "" {
		d.log.Warn("browser sessions not kept for the next start: browsers sign in again", "err", e)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Health gathers the /healthz document.
func (d *Daemon) Health() Health {
	h := Health{Status: "ok", Version: buildinfo.Version, Uptime: time.Since(d.started).Seconds(),
		Devices: map[string]int{}}
	for s, n := range d.poller.Counts() {
		h.Devices[string(s)] = n
	}
	if e := d.poller.SnapshotError(); e != "" {
		h.SnapshotError = e
		h.Problems = append(h.Problems, "device state snapshot failing: "+e)
	}
	if d.influx != nil {
		st := d.influx.Stats()
		ih := &InfluxHealth{BufferedBatches: st.BufferedRecords, BufferedBytes: st.BufferedBytes, Written: st.Written,
			WriteErrors: st.WriteErrors, LastError: st.LastError}
		if !st.LastErrorTime.IsZero() {
			t := st.LastErrorTime
			ih.LastErrorTime = &t
		}
		for r, n := range st.Lost {
			if n > 0 {
				if ih.Lost == nil {
					ih.Lost = map[string]uint64{}
				}
				ih.Lost[spool.Reason(r).String()] = n
			}
		}
		if st.BufferedRecords > 0 && st.LastError != "" {
			h.Problems = append(h.Problems, "InfluxDB writes failing, points buffered on disk: "+st.LastError)
		}
		h.InfluxDB = ih
	}
	h.MQTT.Embedded = d.embedded != nil
	h.MQTT.Connected = d.embedded != nil
	if d.sub != nil {
		st := d.sub.Stats()
		h.MQTT.Connected, h.MQTT.LastError = st.Connected, st.LastError
		if !st.Connected {
			h.Problems = append(h.Problems, "not connected to the broker: gateways' events wait there")
		}
	}
	h.Gateways = map[string]int{ingest.StateOnline: 0, ingest.StateOffline: 0, ingest.StateUnknown: 0}
	for _, g := range d.ingest.Gateways() {
		h.Gateways[g.State]++
		h.Ingest.Missing += g.Missing
	}
	ist := d.ingest.Stats()
	h.Ingest.Events, h.Ingest.Duplicates = ist.Total.Events, ist.Total.Duplicates
	h.Ingest.Refused, h.Ingest.Lost, h.Ingest.Gaps = ist.Total.Refused, ist.Total.Lost, ist.Total.Gaps
	h.Ingest.LastError = ist.LastError
	h.Alerts = len(d.alerts.Open())
	h.Coverage = d.coverageHealth()
	if h.Coverage.SnapshotError != "" {
		h.Problems = append(h.Problems, "coverage snapshots failing: "+h.Coverage.SnapshotError)
	}
	if n := h.Devices[string(poller.StateAuthFailed)]; n > 0 {
		h.Problems = append(h.Problems, fmt.Sprintf("%d devices refuse the SNMP credentials", n))
	}
	if len(h.Problems) > 0 {
		h.Status = "degraded"
	}
	return h
}

func (d *Daemon) serveHealth(w http.ResponseWriter, _ *http.Request) {
	h := d.Health()
	w.Header().Set("Content-Type", "application/json")
	if h.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(h)
}

// influxCollector exports the InfluxDB writer's figures.
type influxCollector struct{ w *influx.Writer }

var (
	influxBuffered = prometheus.NewDesc("ngic_controller_influx_buffered_bytes",
		"Line bytes waiting on disk for InfluxDB.", nil, nil)
	influxBatches = prometheus.NewDesc("ngic_controller_influx_buffered_batches",
		"Batches waiting on disk for InfluxDB.", nil, nil)
	influxWritten = prometheus.NewDesc("ngic_controller_influx_points_written_total",
		"Points InfluxDB accepted.", nil, nil)
	influxRequests = prometheus.NewDesc("ngic_controller_influx_requests_total",
		"Write requests sent to InfluxDB.", nil, nil)
	influxErrors = prometheus.NewDesc("ngic_controller_influx_write_errors_total",
		"Write requests that failed (each is retried, or set aside when InfluxDB refuses it for good).", nil, nil)
	influxLost = prometheus.NewDesc("ngic_controller_influx_batches_lost_total",
		"Batches lost, by reason.", []string{"reason"}, nil)
)

// Describe implements prometheus.Collector.
func (c influxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{influxBuffered, influxBatches, influxWritten, influxRequests, influxErrors, influxLost} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c influxCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.w.Stats()
	ch <- prometheus.MustNewConstMetric(influxBuffered, prometheus.GaugeValue, float64(st.BufferedBytes))
	ch <- prometheus.MustNewConstMetric(influxBatches, prometheus.GaugeValue, float64(st.BufferedRecords))
	ch <- prometheus.MustNewConstMetric(influxWritten, prometheus.CounterValue, float64(st.Written))
	ch <- prometheus.MustNewConstMetric(influxRequests, prometheus.CounterValue, float64(st.Requests))
	ch <- prometheus.MustNewConstMetric(influxErrors, prometheus.CounterValue, float64(st.WriteErrors))
	for r, n := range st.Lost {
		ch <- prometheus.MustNewConstMetric(influxLost, prometheus.CounterValue, float64(n), spool.Reason(r).String())
	}
}
