package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// command returns the command of body served at url.
func command(url string, body []byte) *telemetry.UpdateCommand {
	sum := sha256.Sum256(body)
	return &telemetry.UpdateCommand{V: telemetry.SchemaVersion, ID: "t", URL: url, SHA256: hex.EncodeToString(sum[:]),
		Size: int64(len(body)), Version: "1.0.0", Time: time.Now()}
}

// TestDownloadResumes: a partial file continues with a Range request for
// the rest only; a server that ignores the range restarts it whole.
func TestDownloadResumes(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	var ranges []string
	ignoreRange := false
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Header.Get("Range"))
		if ignoreRange {
			w.Write(body)
			return
		}
		http.ServeContent(w, r, "b", time.Time{}, bytes.NewReader(body))
	}))
	defer srv.Close()
	l := Layout{Root: t.TempDir()}
	c := command(srv.URL+"/b", body)
	for _, tc := range []struct {
		name      string
		have      []byte
		ignore    bool
		wantRange string
	}{
		{"fresh", nil, false, ""},
		{"half", body[:len(body)/2], false, "bytes=80000-"},
		{"all but one", body[:len(body)-1], false, "bytes=159999-"},
		{"range ignored", body[:1000], true, "bytes=1000-"},
	} {
		ranges, ignoreRange = nil, tc.ignore
		part := l.PartPath(c.SHA256)
		os.MkdirAll(l.DownloadDir(), 0o755)
		if tc.have != nil {
			os.WriteFile(part, tc.have, 0o644)
		} else {
			os.Remove(part)
		}
		var last int64
		p, err := l.download(context.Background(), srv.Client(), c, func(n int64) { last = n })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, body) || last != c.Size {
			t.Errorf("%s: %d bytes, progress %d", tc.name, len(got), last)
		}
		if len(ranges) != 1 || ranges[0] != tc.wantRange {
			t.Errorf("%s: requests with Range %q, want %q", tc.name, ranges, tc.wantRange)
		}
	}
	// A file complete already is only checked.
	ranges = nil
	if _, err := l.download(context.Background(), srv.Client(), c, func(int64) {}); err != nil || len(ranges) != 0 {
		t.Errorf("complete file: %v, requests %q", err, ranges)
	}
}

// TestDownloadMismatch: bytes other than the command's are refused and
// not kept, a longer body too; a shorter one is kept to resume.
func TestDownloadMismatch(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 5000)
	serve := body
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "b", time.Time{}, bytes.NewReader(serve))
	}))
	defer srv.Close()
	l := Layout{Root: t.TempDir()}
	c := command(srv.URL+"/b", body)
	for name, s := range map[string][]byte{
		"other bytes": bytes.Repeat([]byte("y"), 5000),
		"longer":      bytes.Repeat([]byte("x"), 6000),
		"shorter":     bytes.Repeat([]byte("x"), 4000),
	} {
		serve = s
		_, err := l.download(context.Background(), srv.Client(), c, func(int64) {})
		if name == "shorter" {
			if err == nil || !strings.Contains(err.Error(), "ended after 4000 of 5000 bytes") {
				t.Errorf("%s: %v", name, err)
			}
			os.Remove(l.PartPath(c.SHA256))
			continue
		}
		if !errors.Is(err, errMismatch) || !refused(err) {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
		if _, serr := os.Stat(l.PartPath(c.SHA256)); serr == nil {
			t.Errorf("%s: the mismatching download is kept", name)
		}
	}
}

// FuzzRangeStart: the start of a server's Content-Range is read only when
// the header says so, and never negative.
func FuzzRangeStart(f *testing.F) {
	for _, h := range []string{"bytes 80000-159999/160000", "bytes 0-0/1", "bytes */160000", "bytes -5-7/9", "items 1-2/3", ""} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		n, ok := rangeStart(h)
		if !ok {
			return
		}
		if !strings.HasPrefix(h, "bytes ") || !strings.Contains(h, "-") {
			t.Fatalf("%q read as starting at %d", h, n)
		}
		if n < 0 {
			t.Fatalf("%q: negative start %d", h, n)
		}
	})
}

// TestDownloadStalled: a server that stops sending is given up after the
// stall timeout, and the next attempt resumes after what had come.
func TestDownloadStalled(t *testing.T) {
	old := stallTimeout
	stallTimeout = 300 * time.Millisecond
	defer func() { stallTimeout = old }()
	body := bytes.Repeat([]byte("z"), 100000)
	release := make(chan struct{})
	var stalled atomic.Bool
	stalled.Store(true)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !stalled.Load() {
			http.ServeContent(w, r, "b", time.Time{}, bytes.NewReader(body))
			return
		}
		w.Header().Set("Content-Length", "100000")
		w.Write(body[:40000])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	l := Layout{Root: t.TempDir()}
	c := command(srv.URL+"/b", body)
	_, err := l.download(context.Background(), srv.Client(), c, func(int64) {})
	if !errors.Is(err, errStalled) || refused(err) {
		t.Fatalf("stalled download: %v", err)
	}
	if fi, err := os.Stat(l.PartPath(c.SHA256)); err != nil || fi.Size() != 40000 {
		t.Fatalf("partial download: %v, %v", fi, err)
	}
	stalled.Store(false)
	if _, err := l.download(context.Background(), srv.Client(), c, func(int64) {}); err != nil {
		t.Fatalf("resumed download: %v", err)
	}
}
