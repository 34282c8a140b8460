package api

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A client that stops reading an answer is cut once a part of it has
// waited writeTimeout: the handler's write fails instead of blocking for
// ever.
func TestStalledReaderCut(t *testing.T) {
	prev := writeTimeout
	writeTimeout = 200 * time.Millisecond
	defer func() { writeTimeout = prev }()
	s, err := New(&fakeConvergence{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	ts := httptest.NewServer(s.guard(open, func(w http.ResponseWriter, r *http.Request) {
		_, err := w.Write(make([]byte, 64<<20)) // far more than the sockets buffer
		wrote <- err
	}))
	defer ts.Close()

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	select { // never reading
	case err := <-wrote:
		if err == nil {
			t.Fatal("64 MiB written to a client that reads nothing")
		}
	case <-time.After(time.Minute):
		t.Fatal("the handler is still writing to a client that stopped reading a minute ago")
	}
}
