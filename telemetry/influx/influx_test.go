package influx

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// base is the time of point 0; point i is base + i ms.
var base = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// pollLines appends the poll points n0..n0+n-1 to dst: point i has
// varbinds=i at base + i ms, so its value tells its place.
func pollLines(t testing.TB, dst []byte, n0, n int) []byte {
	t.Helper()
	for i := n0; i < n0+n; i++ {
		p := telemetry.PollPoint{DeviceTags: telemetry.DeviceTags{Site: "village-07", Device: "olt-1", Class: "olt"},
			Status: telemetry.PollUp, Duration: 1500 * time.Millisecond, Varbinds: i, Time: base.Add(time.Duration(i) * time.Millisecond)}
		var err error
		if dst, err = p.AppendLine(dst); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// waitFor waits until cond holds, failing t after the deadline with what.
func waitFor(t testing.TB, d time.Duration, what func() string, cond func() bool) {
	t.Helper()
	waitEvery(t, d, 20*time.Millisecond, what, cond)
}

// waitEvery is waitFor checking cond every poll.
func waitEvery(t testing.TB, d, poll time.Duration, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what())
		}
		time.Sleep(poll)
	}
}

// start makes a writer with fast test backoff and runs it until the test
// ends.
func start(t testing.TB, o Options) *Writer {
	t.Helper()
	w := open(t, o)
	run(t, w)
	return w
}

func open(t testing.TB, o Options) *Writer {
	t.Helper()
	if o.BufferPath == "" {
		o.BufferPath = filepath.Join(t.TempDir(), "influx.spool")
	}
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	w.backoffMin, w.backoffMax = 20*time.Millisecond, time.Second
	return w
}

// run runs w until the test ends, then closes it.
func run(t testing.TB, w *Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			if err := w.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func write(t testing.TB, w *Writer, lines []byte) {
	t.Helper()
	if err := w.Write(lines); err != nil {
		t.Fatal(err)
	}
}

// drained waits until the buffer is empty.
func drained(t testing.TB, w *Writer, d time.Duration) {
	t.Helper()
	waitFor(t, d, func() string { return fmt.Sprintf("buffer not drained: %+v", w.Stats()) },
		func() bool { return w.Stats().BufferedRecords == 0 })
}

// checkPoints checks that influxd holds exactly the poll points 0..n-1, in
// time order, each once.
func checkPoints(t *testing.T, d *testenv.Influxd, db string, n int) {
	t.Helper()
	rows := d.Query(t, db, "SELECT varbinds FROM "+telemetry.MeasPoll+" ORDER BY time")
	if len(rows) != n {
		t.Fatalf("%d points in influxd, want %d", len(rows), n)
	}
	for i, r := range rows {
		if v := fmt.Sprint(r.Values[telemetry.FieldVarbinds]); v != fmt.Sprint(i) || !r.Time.Equal(base.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("point %d is varbinds=%s at %v, want %d at %v", i, v, r.Time, i, base.Add(time.Duration(i)*time.Millisecond))
		}
	}
}

func TestValidate(t *testing.T) {
	good := Options{URL: "http://127.0.0.1:8086", Bucket: "ngic/autogen", BufferPath: "/tmp/x"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field string
		edit  func(*Options)
	}{
		{"URL", func(o *Options) { o.URL = "" }},
		{"URL", func(o *Options) { o.URL = "udp://h:1" }},
		{"URL", func(o *Options) { o.URL = "http://" }},
		{"Token", func(o *Options) { o.URL = "http://u:p@h:8086" }},
		{"URL", func(o *Options) { o.URL = "http://h:8086/?db=x" }},
		{"Token", func(o *Options) { o.Token = "a\nb" }},
		{"Bucket", func(o *Options) { o.Bucket = "" }},
		{"BufferPath", func(o *Options) { o.BufferPath = "" }},
		{"MaxBytes", func(o *Options) { o.MaxBytes = -1 }},
		{"MaxBytes", func(o *Options) { o.MaxBytes = 2 << 30 }},
		{"MaxRecords", func(o *Options) { o.MaxRecords = -1 }},
		{"BatchLines", func(o *Options) { o.BatchLines = 2_000_000 }},
		{"FlushInterval", func(o *Options) { o.FlushInterval = -time.Second }},
		{"Timeout", func(o *Options) { o.Timeout = -time.Second }},
	} {
		o := good
		c.edit(&o)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field) || !strings.HasPrefix(err.Error(), "influx: ") {
			t.Errorf("%+v: error %v, want one naming %s", o, err, c.field)
		}
		if _, nerr := New(o); nerr == nil {
			t.Errorf("%+v: New accepted it", o)
		}
	}
}

func TestWriteRefusesPartialLines(t *testing.T) {
	w := open(t, Options{URL: "http://127.0.0.1:1", Bucket: "b"})
	defer w.Close()
	if err := w.Write([]byte("poll v=1i 1")); err == nil {
		t.Fatal("a line without its newline was accepted")
	}
	if err := w.Write(nil); err != nil {
		t.Fatal(err)
	}
	// A Write of more than BatchLines lines is stored as several records.
	w.opts.BatchLines = 3
	write(t, w, pollLines(t, nil, 0, 7))
	if st := w.Stats(); st.BufferedRecords != 3 {
		t.Fatalf("7 lines with BatchLines 3 stored as %d records, want 3", st.BufferedRecords)
	}
}

// TestInfluxd18 writes to the real influxd 1.8: the points land, in order,
// and writing them again changes nothing.
func TestInfluxd18(t *testing.T) {
	d := testenv.StartInfluxd(t)
	d.CreateDatabase(t, "ngic")
	w := start(t, Options{URL: d.URL, Bucket: "ngic/autogen", BatchLines: 100, FlushInterval: 50 * time.Millisecond})
	var buf []byte
	for i := 0; i < 1000; i += 100 {
		buf = pollLines(t, buf[:0], i, 100)
		write(t, w, buf)
	}
	drained(t, w, 30*time.Second)
	checkPoints(t, d, "ngic", 1000)
	st := w.Stats()
	if st.Written != 1000 || st.WriteErrors != 0 || st.LastError != "" {
		t.Fatalf("stats %+v: want 1000 written, no error", st)
	}
	// The same points again: same series and times, so they land once.
	write(t, w, pollLines(t, nil, 0, 1000))
	drained(t, w, 30*time.Second)
	checkPoints(t, d, "ngic", 1000)
	if st := w.Stats(); st.Written != 2000 {
		t.Fatalf("stats %+v: want 2000 written", st)
	}
}

// TestInfluxd18Auth: with authentication, a wrong password keeps the points
// buffered (401 is retried, never set aside); the right one, in a new
// writer on the same buffer, sends them.
func TestInfluxd18Auth(t *testing.T) {
	d := testenv.StartInfluxdAuth(t)
	d.CreateDatabase(t, "ngic")
	path := filepath.Join(t.TempDir(), "influx.spool")
	o := Options{URL: d.URL, Token: d.User + ":wrong", Bucket: "ngic", BufferPath: path, FlushInterval: 20 * time.Millisecond}
	w := open(t, o)
	stop := run(t, w)
	write(t, w, pollLines(t, nil, 0, 10))
	waitFor(t, 10*time.Second, func() string { return fmt.Sprintf("no retried errors: %+v", w.Stats()) },
		func() bool { return w.Stats().WriteErrors >= 3 })
	stop()
	st := w.Stats()
	if st.BufferedRecords != 1 || st.Lost[spool.ReasonRefused] != 0 || !strings.Contains(st.LastError, "401") ||
		strings.Contains(st.LastError, "wrong") {
		t.Fatalf("stats %+v: want the record kept, a 401 error without the password", st)
	}
	o.Token = d.Token
	w = start(t, o)
	drained(t, w, 10*time.Second)
	checkPoints(t, d, "ngic", 10)
}

// TestInfluxd18Refused: a batch influxd will never take (a field type
// conflict, a line it cannot parse) is set aside as lost and counted; the
// batches around it are written.
func TestInfluxd18Refused(t *testing.T) {
	d := testenv.StartInfluxd(t)
	d.CreateDatabase(t, "ngic")
	w := open(t, Options{URL: d.URL, Bucket: "ngic/autogen", FlushInterval: 20 * time.Millisecond})
	write(t, w, pollLines(t, nil, 0, 5))
	var e telemetry.LineEncoder
	e.Reset(nil)
	e.Start(telemetry.MeasPoll)
	e.Tag(telemetry.TagDevice, "olt-1")
	e.String(telemetry.FieldVarbinds, "many") // varbinds is an integer field
	if err := e.End(base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	write(t, w, e.Bytes())
	write(t, w, []byte(telemetry.MeasPoll+",device=olt-1 varbinds=\n")) // unparseable
	write(t, w, pollLines(t, nil, 5, 5))
	run(t, w) // after the Writes, so that the first request carries all four
	drained(t, w, 10*time.Second)
	checkPoints(t, d, "ngic", 10)
	st := w.Stats()
	if st.Lost[spool.ReasonRefused] != 2 || st.RefusedLines != 2 || !strings.Contains(st.LastError, "400") {
		t.Fatalf("stats %+v: want 2 records (2 lines) refused, a 400 error", st)
	}
}

// outage is how long influxd stays down in TestInfluxd18Outage (the issue
// asks for 60 s); -short makes it 5 s.
const outage = 60 * time.Second

// TestInfluxd18Outage stops influxd during steady writes, then restarts
// it: every point is there, once, in order.
func TestInfluxd18Outage(t *testing.T) {
	down := outage
	if testing.Short() {
		down = 5 * time.Second
	}
	d := testenv.StartInfluxd(t)
	d.CreateDatabase(t, "ngic")
	w := start(t, Options{URL: d.URL, Bucket: "ngic/autogen", BatchLines: 500, FlushInterval: 100 * time.Millisecond,
		Timeout: 2 * time.Second})
	// 10 points every 20 ms, 500 points/s.
	var n int
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var buf []byte
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			buf = pollLines(t, buf[:0], n, 10)
			if err := w.Write(buf); err != nil {
				t.Error(err)
				return
			}
			n += 10
		}
	}()
	defer cancel()
	waitFor(t, 10*time.Second, func() string { return fmt.Sprintf("nothing written: %+v", w.Stats()) },
		func() bool { return w.Stats().Written >= 500 })
	d.Stop()
	time.Sleep(down) // the outage itself, during which the writes go on
	st := w.Stats()
	if st.WriteErrors == 0 || st.BufferedRecords == 0 {
		t.Fatalf("after %v of outage: %+v; want write errors and records buffered", down, st)
	}
	d.Restart(t)
	waitFor(t, 60*time.Second, func() string { return fmt.Sprintf("backlog not sent: %+v", w.Stats()) },
		func() bool { return w.Stats().BufferedRecords < 5 })
	cancel()
	<-done
	drained(t, w, 30*time.Second)
	t.Logf("%d points, %v down; stats %+v", n, down, w.Stats())
	checkPoints(t, d, "ngic", n)
}

// request is what the recording server saw.
type request struct {
	method, path, auth, encoding string
	query                        map[string]string
	body                         string
}

// TestInflux2Recording checks the requests of a 2.x configuration against
// a recording server: /api/v2/write with org, bucket and ns precision, the
// token, gzip; a 503 is retried with the same body, a 400 is set aside.
func TestInflux2Recording(t *testing.T) {
	var mu sync.Mutex
	var reqs []request
	statuses := []int{http.StatusServiceUnavailable, http.StatusNoContent, http.StatusBadRequest}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		q := map[string]string{}
		for k := range r.URL.Query() {
			q[k] = r.URL.Query().Get(k)
		}
		mu.Lock()
		reqs = append(reqs, request{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Encoding"), q, string(b)})
		status := http.StatusNoContent
		if len(statuses) > 0 {
			status, statuses = statuses[0], statuses[1:]
		}
		mu.Unlock()
		if status != http.StatusNoContent {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(status)
			_ = json.NewEncoder(rw).Encode(map[string]string{"code": "invalid", "message": "recorded refusal"})
			return
		}
		rw.WriteHeader(status)
	}))
	defer srv.Close()
	w := start(t, Options{URL: srv.URL, Token: "tok-123", Org: "ngic-org", Bucket: "ngic-bucket", FlushInterval: 20 * time.Millisecond})
	lines := pollLines(t, nil, 0, 3)
	write(t, w, lines)
	drained(t, w, 10*time.Second)
	bad := pollLines(t, nil, 3, 1)
	write(t, w, bad)
	drained(t, w, 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (503, its retry, the 400): %+v", len(reqs), reqs)
	}
	for i, r := range reqs {
		want := string(lines)
		if i == 2 {
			want = string(bad)
		}
		if r.method != http.MethodPost || r.path != "/api/v2/write" || r.auth != "Token tok-123" || r.encoding != "gzip" ||
			r.query["org"] != "ngic-org" || r.query["bucket"] != "ngic-bucket" || r.query["precision"] != "ns" ||
			strings.TrimSuffix(r.body, "\n") != strings.TrimSuffix(want, "\n") {
			t.Errorf("request %d: %+v; want POST /api/v2/write?org=ngic-org&bucket=ngic-bucket&precision=ns, Token tok-123, gzip, body %q", i, r, want)
		}
	}
	st := w.Stats()
	if st.Written != 3 || st.WriteErrors != 2 || st.Lost[spool.ReasonRefused] != 1 || st.RefusedLines != 1 {
		t.Fatalf("stats %+v: want 3 written, 2 errors, 1 record refused", st)
	}
}

// TestNoGzip: NoGzip sends the lines as they are.
func TestNoGzip(t *testing.T) {
	var mu sync.Mutex
	var enc, body string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		enc, body = r.Header.Get("Content-Encoding"), string(b)
		mu.Unlock()
		rw.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w := start(t, Options{URL: srv.URL, Bucket: "b", NoGzip: true, FlushInterval: 20 * time.Millisecond})
	lines := pollLines(t, nil, 0, 2)
	write(t, w, lines)
	drained(t, w, 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if enc != "" || !bytes.Equal(bytes.TrimSuffix([]byte(body), []byte("\n")), bytes.TrimSuffix(lines, []byte("\n"))) {
		t.Fatalf("Content-Encoding %q, body %q; want none and the lines", enc, body)
	}
}

// TestRecordingOutageOrder: a server that answers 503 for a while during
// steady writes then accepts; the accepted requests carry every line once,
// oldest first.
func TestRecordingOutageOrder(t *testing.T) {
	var mu sync.Mutex
	var accepted bytes.Buffer
	failing := true
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		b, _ := io.ReadAll(zr)
		mu.Lock()
		defer mu.Unlock()
		if failing {
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		accepted.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			accepted.WriteByte('\n')
		}
		rw.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w := start(t, Options{URL: srv.URL, Bucket: "b", BatchLines: 50, FlushInterval: 10 * time.Millisecond})
	var all []byte
	for i := 0; i < 1000; i += 10 {
		if i == 600 {
			mu.Lock()
			failing = false
			mu.Unlock()
		}
		all = pollLines(t, all, i, 10)
		write(t, w, all[len(all)-len(pollLines(t, nil, i, 10)):])
		time.Sleep(2 * time.Millisecond) // steady writes, not a wait for a condition
	}
	drained(t, w, 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(accepted.Bytes(), all) {
		t.Fatalf("accepted %d bytes, want the %d bytes written, in order, once", accepted.Len(), len(all))
	}
	if st := w.Stats(); st.Written != 1000 || st.WriteErrors == 0 {
		t.Fatalf("stats %+v: want 1000 written after errors", st)
	}
}

// TestAcceptedDeletedBeforeWaiting: records accepted during a backlog
// are deleted while the server fails and nothing is written (the
// buffer's own AckDelay, no Write's transaction to ride with), and none
// is sent twice.
func TestAcceptedDeletedBeforeWaiting(t *testing.T) {
	var mu sync.Mutex
	var accepted bytes.Buffer
	requests, accept := 0, 5
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if requests++; requests > accept {
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		accepted.Write(b)
		rw.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w := open(t, Options{URL: srv.URL, Bucket: "b", NoGzip: true, BatchLines: 10, FlushInterval: 10 * time.Millisecond})
	var all []byte
	for i := 0; i < 200; i += 10 {
		lines := pollLines(t, nil, i, 10)
		write(t, w, lines) // one record, one request each
		all = append(all, lines...)
	}
	run(t, w)
	waitFor(t, 10*time.Second, func() string { return fmt.Sprintf("no failed request: %+v", w.Stats()) },
		func() bool { return w.Stats().WriteErrors > 0 })
	// Deleted by the buffer within its AckDelay, while the writer backs off.
	waitFor(t, 10*time.Second, func() string { return fmt.Sprintf("accepted records kept: %+v", w.Stats()) },
		func() bool { return w.Stats().BufferedRecords == 20-accept })
	mu.Lock()
	accept = 1 << 30
	mu.Unlock()
	drained(t, w, 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(accepted.Bytes(), all) {
		t.Fatalf("accepted %d bytes, want the %d bytes written, in order, once", accepted.Len(), len(all))
	}
	if st := w.Stats(); st.Written != 200 {
		t.Fatalf("stats %+v: want 200 written", st)
	}
}

// TestBounded: while the server refuses (503), the buffer stays within
// MaxRecords plus the batch being retried, dropping the oldest others and
// counting them lost.
func TestBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rw.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	w := start(t, Options{URL: srv.URL, Bucket: "b", MaxRecords: 5, BatchLines: 2, FlushInterval: 10 * time.Millisecond})
	write(t, w, pollLines(t, nil, 0, 2))
	waitFor(t, 10*time.Second, func() string { return fmt.Sprintf("no error: %+v", w.Stats()) },
		func() bool { return w.Stats().WriteErrors > 0 })
	for i := 2; i < 40; i += 2 {
		write(t, w, pollLines(t, nil, i, 2))
	}
	st := w.Stats()
	if st.BufferedRecords > 6 || st.Lost[spool.ReasonDropOldest] != uint64(20-st.BufferedRecords) {
		t.Fatalf("stats %+v: want at most 5 records and the one in flight, the others counted drop-oldest", st)
	}
}

func TestBackoff(t *testing.T) {
	w := &Writer{backoffMin: 100 * time.Millisecond, backoffMax: time.Second}
	for attempt := 0; attempt < 40; attempt++ {
		want := min(100*time.Millisecond<<min(attempt, 20), time.Second)
		for range 20 {
			if d := w.backoff(attempt, 0); d < want/2 || d > want {
				t.Fatalf("attempt %d: backoff %v outside %v..%v", attempt, d, want/2, want)
			}
		}
	}
	if d := w.backoff(0, 3*time.Second); d != 3*time.Second {
		t.Fatalf("Retry-After 3s: backoff %v", d)
	}
}
