package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/config"
)

// Bounds of a coverage request forwarded to the lease holder.
const (
	// forwardDial bounds the name's lookup, the connection and the TLS
	// handshake; forwardTimeout the wait for the answer's headers (the
	// body streams for as long as the client reads, a national report
	// being hundreds of megabytes).
	forwardDial    = 5 * time.Second
	forwardTimeout = 30 * time.Second
	// forwardRetry is the Retry-After, in seconds, of a 503 when no
	// holder answers or it has no result yet.
	forwardRetry = 5
	// forwardedBy marks a forwarded request with the ordinal of the
	// replica that forwarded it: it is answered where it arrives, never
	// forwarded again.
	forwardedBy = "X-Ngic-Forwarded-By"
	// forwardedTo tells the caller which replica answered a forwarded
	// request.
	forwardedTo = "X-Ngic-Forwarded-To"
)

// coverageForwarder is the API's api.Forwarder in a cluster: only the
// replica holding the coverage lease computes coverage and runs
// rollouts, and the others forward the coverage's and the rollouts'
// requests to the API it advertises in its heartbeat, with the caller's
// token.
type coverageForwarder struct {
	self int
	// holder returns the lease holder's ordinal and advertised URL;
	// computed tells whether this replica has a coverage result to serve
	// (or, without regions.csv, will never have one).
	holder   func() (int, string)
	computed func() bool
	secrets  map[string]string // token name → secret, as the API was started with
	roots    *x509.CertPool    // for https holders: the system's and http.tls.cert_file's certificates
	log      *log.Logger

	mu      sync.Mutex
	proxies map[string]*httputil.ReverseProxy // by the holder's base URL
}

var _ api.Forwarder = (*coverageForwarder)(nil)

// forwarder returns the API's Forwarder: nil without a cluster.
func (d *Daemon) forwarder(h *config.HTTP) (api.Forwarder, error) {
	if d.cluster == nil {
		return nil, nil
	}
	c := d.cluster
	f := &coverageForwarder{self: c.shard.Ordinal, secrets: map[string]string{}, proxies: map[string]*httputil.ReverseProxy{},
		log:      slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
		holder:   func() (int, string) { h := c.node.LeaseHolder(); return h, c.node.API(h) },
		computed: func() bool { return d.hasCoverage() || !d.config().LoadedInventory().HasRegions() }}
	for _, t := range h.LoadedTokens() {
		f.secrets[t.Name] = t.Secret
	}
	if h.TLS.CertFile != "" {
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		b, err := os.ReadFile(h.TLS.CertFile)
		if err != nil {
			return nil, fmt.Errorf("http.tls.cert_file: %w", err)
		}
		for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil && blk.Type == "CERTIFICATE" {
				roots.AddCert(c) // the replicas share their certificate: each trusts the others'
			}
		}
		f.roots = roots
	}
	return f, nil
}

// forwardTarget is where one request goes: the holder's base URL with
// its name resolved, and what to present there.
type forwardTarget struct {
	url    *url.URL
	secret string
	holder int
}

type forwardKey struct{}

// Forward implements api.Forwarder.
func (f *coverageForwarder) Forward(w http.ResponseWriter, r *http.Request, token string, coverage bool) bool {
	holder, base := f.holder()
	if holder == f.self {
		if coverage && !f.computed() {
			unavailable(w, "this replica (%d) holds the coverage lease and has not computed the coverage yet", holder)
			return true
		}
		return false
	}
	if by := r.Header.Get(forwardedBy); by != "" {
		unavailable(w, "replica %.8s forwarded this request to replica %d, which sees replica %d holding the coverage lease: the replicas are changing",
			by, f.self, holder)
		return true
	}
	if base == "" {
		unavailable(w, "replica %d holds the coverage lease but has advertised no API (cluster.advertise) yet", holder)
		return true
	}
	secret, ok := f.secrets[token]
	if !ok {
		unavailable(w, "token %s is not one this replica can present to replica %d, which holds the coverage lease", token, holder)
		return true
	}
	target, err := resolveBase(r.Context(), base)
	if err != nil {
		unavailable(w, "replica %d holds the coverage lease, and its API %s cannot be reached: %v", holder, base, err)
		return true
	}
	p := f.proxy(base)
	r = r.WithContext(context.WithValue(r.Context(), forwardKey{}, forwardTarget{url: target, secret: secret, holder: holder}))
	p.ServeHTTP(w, r)
	return true
}

// resolveBase parses base and replaces its host name by an address it
// resolves to: the holder is then named by its address (which its host
// filter accepts, whatever http.hosts lists), while TLS checks its
// certificate against the name (the proxy's ServerName).
func resolveBase(ctx context.Context, base string) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) == nil {
		ctx, cancel := context.WithTimeout(ctx, forwardDial)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("%s resolves to no address", host)
		}
		u.Host = net.JoinHostPort(addrs[0].IP.String(), port)
	}
	u.Path = ""
	return u, nil
}

// proxy returns the reverse proxy to the holder at base.
func (f *coverageForwarder) proxy(base string) *httputil.ReverseProxy {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.proxies[base]; ok {
		return p
	}
	tr := &http.Transport{DialContext: (&net.Dialer{Timeout: forwardDial}).DialContext, TLSHandshakeTimeout: forwardDial,
		ResponseHeaderTimeout: forwardTimeout, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}
	if u, err := url.Parse(base); err == nil && u.Scheme == "https" {
		tr.TLSClientConfig = &tls.Config{RootCAs: f.roots, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	}
	self := strconv.Itoa(f.self)
	p := &httputil.ReverseProxy{
		Transport: tr,
		ErrorLog:  f.log,
		Rewrite: func(pr *httputil.ProxyRequest) {
			t := pr.In.Context().Value(forwardKey{}).(forwardTarget)
			pr.SetURL(t.url)
			h := pr.Out.Header
			h.Set("Authorization", "Bearer "+t.secret) // the caller's token, also when it came with a session
			h.Del("Cookie")                            // a session is this replica's own
			h.Del(api.CSRFHeader)
			h.Set(forwardedBy, self)
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set(forwardedTo, strconv.Itoa(resp.Request.Context().Value(forwardKey{}).(forwardTarget).holder))
			for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
				"X-Frame-Options", "Strict-Transport-Security", "Cache-Control"} {
				resp.Header.Del(k) // this replica's own are set already
			}
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				resp.Header.Set("Retry-After", strconv.Itoa(forwardRetry))
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			t := r.Context().Value(forwardKey{}).(forwardTarget)
			unavailable(w, "replica %d, which holds the coverage lease, did not answer at %s: %v", t.holder, base, err)
		},
	}
	f.proxies[base] = p
	return p
}

// unavailable answers 503 with Retry-After and {"error": ...}.
func unavailable(w http.ResponseWriter, format string, args ...any) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{fmt.Sprintf(format, args...) + "; retry later"})
	w.Header().Set("Retry-After", strconv.Itoa(forwardRetry))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write(append(b, '\n'))
}
