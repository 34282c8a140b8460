// Package influx is ngic's InfluxDB writer: line-protocol points go to a
// bounded buffer on disk first (internal/spool, the edge's spool) and from
// there to InfluxDB in order, oldest first, deleted only once InfluxDB
// accepted them.
//
// A Writer works with InfluxDB 1.8 (its /api/v2/write compatibility API:
// bucket "db/rp", token "user:password") and 2.x (org, bucket, token),
// through the HTTP service of github.com/influxdata/influxdb-client-go/v2
// (its authorization, user agent and error decoding; nanosecond precision).
// Lines are gzipped once, when they are written, and a request is the
// buffered records' bytes end to end (see encodeRecord).
//
//	w, err := influx.New(influx.Options{URL: "http://127.0.0.1:8086", Bucket: "ngic/autogen",
//		BufferPath: "/var/lib/ngic-controller/influx.spool"})
//	go w.Run(ctx)
//	buf, _ = point.AppendLine(buf[:0])
//	err = w.Write(buf) // on disk when it returns
//
// Delivery is at least once: a batch InfluxDB accepted but whose answer
// was lost, or that the writer sent again after a crash, is written
// again. The measurements of telemetry/ give every point an explicit time
// derived from what it measures, so a point written twice lands once.
//
// The package never logs: errors are returned by New and Write, and those
// of the sending loop are counted in Stats with the last one.
package influx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/ngic/ngic/internal/spool"
)

// Defaults applied to Options fields left at zero.
const (
	DefaultMaxBytes      int64 = 64 << 20
	DefaultMaxRecords          = 100_000
	DefaultBatchLines          = 5000
	DefaultFlushInterval       = time.Second
	DefaultTimeout             = 10 * time.Second
)

// Bounds on Options.
const (
	maxMaxBytes   = 1 << 30
	maxMaxRecords = 10_000_000
	maxBatchLines = 1_000_000
)

// Options configures a Writer. Zero numeric fields take the defaults above;
// gzip is on unless NoGzip is set, so the zero value of the optional fields
// is the recommended configuration.
type Options struct {
	// URL is InfluxDB's base URL, http:// or https://, without
	// credentials, query or fragment (credentials go in Token).
	URL string
	// Token is "user:password" for InfluxDB 1.8 with authentication (empty
	// without), or a 2.x API token. It is sent as "Authorization: Token ...".
	Token string
	// Org is the 2.x organisation; InfluxDB 1.8 ignores it.
	Org string
	// Bucket is the 2.x bucket, or "db/rp" (or "db" for the default
	// retention policy) for InfluxDB 1.8.
	Bucket string
	// BufferPath is the spool file holding the lines not yet accepted. Its
	// folder must exist.
	BufferPath string
	// MaxBytes bounds the buffered bytes (at most 1 GiB; lines are
	// stored gzipped, some 40 times smaller, unless NoGzip) and
	// MaxRecords the buffered batches (at most 10,000,000; one Write makes
	// one batch per BatchLines lines). Past a bound the oldest batches not
	// being sent are dropped and counted lost (spool.ReasonDropOldest).
	MaxBytes   int64
	MaxRecords int
	// BatchLines is the most lines sent in one request (at most 1,000,000).
	BatchLines int
	// FlushInterval is the longest a line waits for a batch to fill before
	// it is sent.
	FlushInterval time.Duration
	// Timeout bounds one HTTP request.
	Timeout time.Duration
	// NoGzip sends requests uncompressed (gzip is on by default).
	NoGzip bool
}

// withDefaults returns o with the zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxRecords == 0 {
		o.MaxRecords = DefaultMaxRecords
	}
	if o.BatchLines == 0 {
		o.BatchLines = DefaultBatchLines
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// Validate checks the options (zero numeric fields meaning the defaults)
// and returns an error naming the first field that is wrong.
func (o Options) Validate() error {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		return errors.New("influx: URL is empty")
	case err != nil:
		return fmt.Errorf("influx: URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("influx: URL %q: scheme must be http or https", o.URL)
	case u.Host == "":
		return fmt.Errorf("influx: URL %q has no host", o.URL)
	case u.User != nil:
		return errors.New("influx: URL carries credentials; put them in Token")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("influx: URL %q: no query or fragment allowed", o.URL)
	case strings.ContainsAny(o.Token, "\r\n\x00"):
		return errors.New("influx: Token contains a line break or NUL")
	case o.Bucket == "":
		return errors.New("influx: Bucket is empty (\"db/rp\" for InfluxDB 1.8)")
	case o.BufferPath == "":
		return errors.New("influx: BufferPath is empty")
	case o.MaxBytes < 0 || o.MaxBytes > maxMaxBytes:
		return fmt.Errorf("influx: MaxBytes %d is outside 0..%d", o.MaxBytes, maxMaxBytes)
	case o.MaxRecords < 0 || o.MaxRecords > maxMaxRecords:
		return fmt.Errorf("influx: MaxRecords %d is outside 0..%d", o.MaxRecords, maxMaxRecords)
	case o.BatchLines < 0 || o.BatchLines > maxBatchLines:
		return fmt.Errorf("influx: BatchLines %d is outside 0..%d", o.BatchLines, maxBatchLines)
	case o.FlushInterval < 0:
		return fmt.Errorf("influx: FlushInterval %v is negative", o.FlushInterval)
	case o.Timeout < 0:
		return fmt.Errorf("influx: Timeout %v is negative", o.Timeout)
	}
	return nil
}

// Stats are the writer's gauges and counters. Buffered and Lost come from
// the spool file and so survive restarts; the others count since New.
type Stats struct {
	// BufferedRecords and BufferedBytes are the batches and their bytes
	// (gzipped unless NoGzip) on disk: waiting, or accepted and not yet
	// deleted (see Run).
	BufferedRecords int
	BufferedBytes   int64
	// Written counts the lines (points) InfluxDB accepted.
	Written uint64
	// Requests counts the write requests sent, WriteErrors those that
	// failed (InfluxDB down, 5xx, 429, 401, 404...; each is retried, or
	// for a request InfluxDB will never accept, the batch is set aside).
	Requests    uint64
	WriteErrors uint64
	// Lost counts the batches lost, per spool reason: ReasonRefused for
	// batches InfluxDB refused for good (400, 413, 422), ReasonDropOldest
	// and ReasonTooLarge for the bounds, ReasonDiskFull and ReasonCrash for
	// a full disk. RefusedLines counts the lines of the refused batches
	// (with InfluxDB 1.8 the valid lines of a batch with a bad one are
	// stored anyway: a partial write).
	Lost         [spool.NumReasons]uint64
	RefusedLines uint64
	// LastError is the last failure of the sending loop or the spool, and
	// LastErrorTime when it happened; empty and zero if none.
	LastError     string
	LastErrorTime time.Time
}

// Writer buffers line-protocol lines on disk and sends them to InfluxDB.
// Write may be called from any goroutine; Run runs in one.
type Writer struct {
	opts   Options
	spool  *spool.Spool
	client influxdb2.Client
	http   http2.Service
	// writeURL is the write endpoint with org, bucket and precision.
	writeURL string
	// body is the request body, reused (only Run sends).
	body []byte
	// acked is the sequence numbers of a request's records, reused
	// (only Run touches it).
	acked []uint64
	// wake is signalled when a batch's worth of lines is waiting.
	wake    chan struct{}
	pending atomic.Int64 // lines written since the last drain began

	requests, writeErrors, written, refusedLines atomic.Uint64

	mu        sync.Mutex
	lastErr   string
	lastErrAt time.Time

	// Retry backoff: from backoffMin doubling up to backoffMax, jittered.
	backoffMin, backoffMax time.Duration
}

// Backoff bounds of the sending loop, and the most a Retry-After header
// is honoured.
const (
	backoffMin    = 500 * time.Millisecond
	backoffMax    = 30 * time.Second
	retryAfterMax = 5 * time.Minute
	// nextChunk is the number of records read from the spool at a time
	// while a batch is gathered.
	nextChunk = 64
)

// New validates o, opens (or creates) the buffer and prepares the client.
// It does not contact InfluxDB.
func New(o Options) (*Writer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	sp, err := spool.Open(o.BufferPath, spool.Options{MaxBytes: o.MaxBytes, MaxRecords: o.MaxRecords})
	if err != nil {
		return nil, fmt.Errorf("influx: buffer: %w", err)
	}
	copts := influxdb2.DefaultOptions().
		SetApplicationName("ngic").
		SetHTTPClient(&http.Client{Timeout: o.Timeout, Transport: http.DefaultTransport.(*http.Transport).Clone()})
	client := influxdb2.NewClientWithOptions(o.URL, o.Token, copts)
	svc := client.HTTPService()
	u, err := url.Parse(svc.ServerAPIURL())
	if err == nil {
		u, err = u.Parse("write")
	}
	if err != nil {
		client.Close()
		_ = sp.Close()
		return nil, fmt.Errorf("influx: URL %q: %w", o.URL, err)
	}
	u.RawQuery = url.Values{"org": {o.Org}, "bucket": {o.Bucket}, "precision": {"ns"}}.Encode()
	return &Writer{
		opts:       o,
		spool:      sp,
		client:     client,
		http:       svc,
		writeURL:   u.String(),
		wake:       make(chan struct{}, 1),
		backoffMin: backoffMin,
		backoffMax: backoffMax,
	}, nil
}

// Write stores complete line-protocol lines (each ending in '\n', as
// telemetry's AppendLine writes them) in the buffer, one record per
// BatchLines lines, gzipped (unless NoGzip) and fsync'd before it returns.
// It does not keep lines.
// On a full disk the error wraps spool.ErrDiskFull: the lines are held in
// memory (bounded) and stored when the disk has room, or counted lost.
func (w *Writer) Write(lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	if lines[len(lines)-1] != '\n' {
		return errors.New("influx: write: lines must end with a newline")
	}
	n := bytes.Count(lines, []byte{'\n'})
	// Each record is a new slice: the spool keeps it while the disk is full.
	var recs [][]byte
	if n <= w.opts.BatchLines {
		recs = [][]byte{encodeRecord(lines, n, !w.opts.NoGzip)}
	} else {
		for data := lines; len(data) > 0; {
			end, k := 0, 0
			for k < w.opts.BatchLines && end < len(data) {
				end += bytes.IndexByte(data[end:], '\n') + 1
				k++
			}
			recs = append(recs, encodeRecord(data[:end], k, !w.opts.NoGzip))
			data = data[end:]
		}
	}
	_, err := w.spool.Append(recs...)
	if err != nil {
		w.setErr(err)
		err = fmt.Errorf("influx: write: %w", err)
		if !errors.Is(err, spool.ErrDiskFull) {
			return err // nothing stored
		}
	}
	w.signal(n)
	return err
}

// signal counts n lines waiting and wakes Run when a batch is full.
func (w *Writer) signal(n int) {
	if w.pending.Add(int64(n)) >= int64(w.opts.BatchLines) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Run sends the buffered lines, oldest first, until ctx is done: a batch
// as soon as BatchLines lines wait, and whatever waits every
// FlushInterval. A batch is deleted from the buffer only when InfluxDB
// accepted it, and then without a commit of its own: it is acknowledged
// to the buffer (spool.Acknowledge), never read again, and deleted by the
// transaction of the next Write (within spool.AckDelay if none comes, and
// at Close). After a crash the batches accepted in that last moment are
// sent again (at least once, as ever). When InfluxDB is unreachable or
// answers 5xx, 429 or any other status that may change (401, 403,
// 404...), the same batch is retried with jittered exponential backoff
// (and Retry-After). A request InfluxDB will never accept (400: a line it
// cannot parse or a partial write; 413; 422) is retried batch by batch,
// and a batch refused on its own is set aside as lost
// (spool.ReasonRefused) so that it never blocks the others. Run returns
// nil when ctx is done. Only one Run at a time.
func (w *Writer) Run(ctx context.Context) error {
	tick := time.NewTicker(w.opts.FlushInterval)
	defer tick.Stop()
	for {
		w.pending.Store(0)
		w.drain(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-tick.C:
		}
	}
}

// drain sends batches until a batch finds the buffer empty behind it,
// backing off and retrying while InfluxDB fails, until ctx is done.
func (w *Writer) drain(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		if st := w.spool.Stats(); st.Held > 0 {
			if err := w.spool.Flush(); err != nil {
				w.setErr(err)
			}
		}
		recs, more, err := w.gather()
		if err != nil {
			w.setErr(err)
			if !w.sleep(ctx, w.backoff(attempt, 0)) {
				return
			}
			attempt++
			continue
		}
		if len(recs) == 0 {
			return
		}
		retryAfter, err := w.send(ctx, recs)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !w.sleep(ctx, w.backoff(attempt, retryAfter)) {
				return
			}
			attempt++
			continue
		}
		attempt = 0
		if !more {
			return
		}
	}
}

// batch is one buffered record, decoded.
type batch struct {
	seq uint64
	record
}

// gather reads the oldest records not yet accepted, up to BatchLines
// lines (at least one record); more tells that a full batch was gathered
// and records may be left. It reads as many records at a time as the
// lines still wanted suggest, so that records are not copied out of the
// spool for nothing.
func (w *Writer) gather() (out []batch, more bool, err error) {
	lines := 0
	after := uint64(0) // the spool skips the records acknowledged
	for {
		k := 1
		if lines > 0 {
			k = min(nextChunk, max(1, (w.opts.BatchLines-lines)*len(out)/lines))
		}
		recs, err := w.spool.Next(after, k)
		if err != nil {
			return nil, false, fmt.Errorf("influx: buffer: %w", err)
		}
		for _, r := range recs {
			rec, err := decodeRecord(r.Data)
			if err != nil {
				// Unreadable on disk: set aside, counted lost.
				if err := w.spool.Discard(spool.ReasonUnreadable, r.Seq); err != nil {
					return nil, false, fmt.Errorf("influx: buffer: %w", err)
				}
				w.setErr(fmt.Errorf("influx: buffer record %d: %w", r.Seq, err))
				after = r.Seq
				continue
			}
			if len(out) > 0 && lines+rec.lines > w.opts.BatchLines {
				return out, true, nil
			}
			out = append(out, batch{seq: r.Seq, record: rec})
			lines += rec.lines
			after = r.Seq
		}
		if len(recs) < k {
			return out, false, nil
		}
		if lines >= w.opts.BatchLines {
			return out, true, nil
		}
	}
}

// send writes the records in one request and acknowledges them to the
// buffer when InfluxDB accepted them (see accept). On a request InfluxDB will never accept it retries the
// records one by one, setting aside those refused on their own. It
// returns the error that calls for a retry, with the server's
// Retry-After, or nil when every record was written or set aside.
func (w *Writer) send(ctx context.Context, recs []batch) (time.Duration, error) {
	retryAfter, permanent, err := w.post(ctx, recs)
	if err == nil {
		w.accept(recs)
		return 0, nil
	}
	if !permanent {
		return retryAfter, err
	}
	if len(recs) == 1 {
		return 0, w.refuse(recs[0])
	}
	for _, r := range recs {
		one := []batch{r}
		retryAfter, permanent, err := w.post(ctx, one)
		switch {
		case err == nil:
			w.accept(one)
		case permanent:
			err = w.refuse(r)
		}
		if err != nil {
			return retryAfter, err
		}
	}
	return 0, nil
}

// post sends the records' lines in one request: gzipped unless NoGzip
// (and no record is gzipped, as after NoGzip was set on a buffer written
// without it). permanent says that the same request will never be
// accepted.
func (w *Writer) post(ctx context.Context, recs []batch) (retryAfter time.Duration, permanent bool, err error) {
	gz, lines := !w.opts.NoGzip, 0
	for _, r := range recs {
		lines += r.lines
		gz = gz || r.gzip
	}
	w.body = appendBody(w.body[:0], recs, gz)
	w.requests.Add(1)
	var herr *http2.Error
	if herr = w.http.DoPostRequest(ctx, w.writeURL, bytes.NewReader(w.body), func(req *http.Request) {
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
	}, discardBody); herr == nil {
		w.written.Add(uint64(lines))
		return 0, false, nil
	}
	if ctx.Err() != nil {
		return 0, false, ctx.Err()
	}
	w.writeErrors.Add(1)
	err = fmt.Errorf("influx: write of %d lines to %s: %w", lines, w.opts.URL, herr)
	w.setErr(err)
	retryAfter = min(time.Duration(herr.RetryAfter)*time.Second, retryAfterMax)
	switch herr.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		permanent = true
	}
	return retryAfter, permanent, err
}

// discardBody reads the rest of an accepted request's answer, so that the
// connection is used again.
func discardBody(r *http.Response) error {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	return r.Body.Close()
}

// accept acknowledges the records InfluxDB accepted to the buffer: Next
// never returns them again, and the next Write's transaction deletes
// them, rather than a transaction with its fsyncs of their own per
// request (at a steady rate of small writes, as many commits again as the
// writes'). Until deleted they count as buffered and are never dropped
// for the bounds (the spool keeps what Next returned); after a crash they
// are sent again (at least once, as ever). A failure to delete them is
// the buffer's (spool.Stats.AckError) and retried there.
func (w *Writer) accept(recs []batch) {
	w.acked = w.acked[:0]
	for _, r := range recs {
		w.acked = append(w.acked, r.seq)
	}
	w.spool.Acknowledge(w.acked...)
}

// refuse sets a record InfluxDB refused for good aside as lost.
func (w *Writer) refuse(r batch) error {
	if err := w.spool.Discard(spool.ReasonRefused, r.seq); err != nil {
		err = fmt.Errorf("influx: buffer: %w", err)
		w.setErr(err)
		return err
	}
	w.refusedLines.Add(uint64(r.lines))
	return nil
}

// backoff returns the wait before retry number attempt: between half and
// all of backoffMin doubled attempt times (at most backoffMax), and at
// least retryAfter.
func (w *Writer) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := w.backoffMin << min(attempt, 20)
	if d <= 0 || d > w.backoffMax {
		d = w.backoffMax
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// sleep waits d or until ctx is done; it reports whether ctx is still live.
func (w *Writer) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (w *Writer) setErr(err error) {
	w.mu.Lock()
	w.lastErr, w.lastErrAt = err.Error(), time.Now()
	w.mu.Unlock()
}

// Stats returns the writer's gauges and counters without touching the disk.
func (w *Writer) Stats() Stats {
	ss := w.spool.Stats()
	st := Stats{
		BufferedRecords: ss.Records,
		BufferedBytes:   ss.Bytes,
		Written:         w.written.Load(),
		Requests:        w.requests.Load(),
		WriteErrors:     w.writeErrors.Load(),
		Lost:            ss.Lost,
		RefusedLines:    w.refusedLines.Load(),
	}
	w.mu.Lock()
	st.LastError, st.LastErrorTime = w.lastErr, w.lastErrAt
	w.mu.Unlock()
	return st
}

// Close closes the client and the buffer; call it after Run returned.
// What was not sent stays in the buffer for the next New.
func (w *Writer) Close() error {
	w.client.Close()
	if err := w.spool.Close(); err != nil {
		return fmt.Errorf("influx: %w", err)
	}
	return nil
}
