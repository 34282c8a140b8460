package broker

import (
	"bufio"
	"net"
	"net/url"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// readBufferSize is the read buffer of a plain TCP connection: a few dozen
// events per read system call.
const readBufferSize = 64 << 10

// bufferedConn is a net.Conn whose reads go through a buffer. paho reads a
// packet's fixed header and body straight from the connection, two or
// three read system calls per message; on TLS the record layer buffers
// already, but on plain TCP each message would cost them.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// openBuffered dials a plain TCP broker (tcp:// or mqtt://) and buffers
// its reads; paho takes it through SetCustomOpenConnectionFn.
func openBuffered(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	d := net.Dialer{Timeout: o.ConnectTimeout}
	conn, err := d.Dial("tcp", uri.Host)
	if err != nil {
		return nil, err
	}
	return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, readBufferSize)}, nil
}

// plainTCP tells whether a broker URL is plain TCP (the only kind whose
// reads openBuffered buffers).
func plainTCP(broker string) bool {
	u, err := url.Parse(broker)
	return err == nil && (u.Scheme == "tcp" || u.Scheme == "mqtt")
}
