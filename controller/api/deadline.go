package api

import (
	"net/http"
	"time"
)

// writeTimeout is how long a client may take to read each part of an
// answer (writeChunk bytes, or an event) before its connection is cut: a
// client that stops reading holds no goroutine or buffer for long, while
// a national report streams for as long as the client keeps reading (a
// variable so that a test can shorten it).
var writeTimeout = 10 * time.Second

// writeChunk is the most written under one deadline.
const writeChunk = 64 << 10

// deadlineWriter gives each chunk of an answer its own write deadline
// (the server lifts the last once the answer is finished).
type deadlineWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func newDeadlineWriter(w http.ResponseWriter) *deadlineWriter {
	return &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w)}
}

// Write writes p in chunks, each within writeTimeout.
func (d *deadlineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		c := p[:min(len(p), writeChunk)]
		d.rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // unsupported (a test's recorder): no deadline
		m, err := d.ResponseWriter.Write(c)
		n += m
		if err != nil {
			return n, err
		}
		p = p[len(c):]
	}
	return n, nil
}

// Unwrap gives http.ResponseController the writer underneath.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
