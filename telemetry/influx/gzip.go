package influx

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"sync"
)

// gzipTransport compresses request bodies with gzip at BestSpeed, reusing
// its compressors, and sets Content-Encoding. The client library's own
// gzip (UseGZip) makes a new compressor at the default level for every
// request, through a pipe and a goroutine: about 0.86 µs of CPU per
// ~270-byte line against 0.36 µs here, for a ratio of 39 instead of 48 on
// ngic's lines. That difference is what keeps the writer under the
// issue's 3 µs per point.
type gzipTransport struct {
	next http.RoundTripper
	pool sync.Pool // *gzip.Writer
}

// RoundTrip implements http.RoundTripper.
func (t *gzipTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return t.next.RoundTrip(req)
	}
	var buf bytes.Buffer
	if req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength/8) + 512)
	}
	zw, _ := t.pool.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a valid level: no error
	} else {
		zw.Reset(&buf)
	}
	_, err := io.Copy(zw, req.Body)
	_ = req.Body.Close()
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	t.pool.Put(zw)
	if err != nil {
		return nil, err
	}
	body := buf.Bytes()
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Encoding", "gzip")
	return t.next.RoundTrip(r)
}
