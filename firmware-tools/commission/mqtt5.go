package commission

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
)

// conn5 is one MQTT 5 connection of the rights probe: it keeps what it
// receives, and tells when the broker closed it.
type conn5 struct {
	*paho.Client
	// id is the client ID it asked for.
	id string
	// msgs receives every message delivered to it.
	msgs chan *paho.Publish
	// lost is closed when the connection ended for another reason than
	// close.
	lost chan struct{}
}

// errTLS marks a failed TLS handshake, so that a report can tell the
// certificate from the credentials.
var errTLS = errors.New("TLS handshake")

// dialBroker connects to addr, over TLS when tc is not nil, within
// timeout; the connection refuses packets longer than MaxPacket.
func dialBroker(ctx context.Context, addr string, tc *tls.Config, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("commission: %s: %w", addr, err)
	}
	if tc != nil {
		tconn := tls.Client(nc, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("commission: %s: %w: %w", addr, errTLS, err)
		}
		nc = tconn
	}
	return limit(nc), nil
}

// dial5 opens an MQTT 5 connection to addr (over TLS when tc is not nil)
// with a clean start, as user with client ID id. On a refused CONNECT the
// CONNACK comes back with the error, so that its reason code can be told.
func dial5(ctx context.Context, addr string, tc *tls.Config, id, user, password string, timeout time.Duration) (*conn5, *paho.Connack, error) {
	nc, err := dialBroker(ctx, addr, tc, timeout)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &conn5{id: id, msgs: make(chan *paho.Publish, 64), lost: make(chan struct{})}
	var once sync.Once
	gone := func() { once.Do(func() { close(c.lost) }) }
	c.Client = paho.NewClient(paho.ClientConfig{
		Conn:          packets.NewThreadSafeConn(nc),
		PacketTimeout: timeout,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(p paho.PublishReceived) (bool, error) {
			select {
			case c.msgs <- p.Packet:
			default: // a probe's topics carry a few messages: a broker flooding them fails the probe, memory stays bounded
			}
			return true, nil
		}},
		OnClientError:      func(error) { gone() },
		OnServerDisconnect: func(*paho.Disconnect) { gone() },
	})
	maxPacket := uint32(MaxPacket)
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: id, Username: user, UsernameFlag: user != "",
		Password: []byte(password), PasswordFlag: password != "", CleanStart: true, KeepAlive: 30,
		Properties: &paho.ConnectProperties{MaximumPacketSize: &maxPacket}})
	if err != nil {
		nc.Close()
		return nil, ca, fmt.Errorf("commission: %s: MQTT 5 connect as %s: %w", addr, user, err)
	}
	return c, ca, nil
}

// close ends the connection with a DISCONNECT.
func (c *conn5) close() { c.Disconnect(&paho.Disconnect{ReasonCode: 0}) }

// subscribe subscribes to filter at QoS 1 and returns the SUBACK's reason
// code: the granted QoS, or 0x80 and above when refused.
func (c *conn5) subscribe(ctx context.Context, filter string) (byte, error) {
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if sa != nil && len(sa.Reasons) == 1 {
		return sa.Reasons[0], nil
	}
	if err == nil {
		err = errors.New("SUBACK without one reason code")
	}
	return 0, fmt.Errorf("commission: subscribe %s: %w", filter, err)
}

// publish publishes payload on topic at QoS 1 and returns the PUBACK's
// reason code (0x80 and above when refused).
func (c *conn5) publish(ctx context.Context, topic, payload string) (byte, error) {
	pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)})
	if pr != nil {
		return pr.ReasonCode, nil
	}
	return 0, fmt.Errorf("commission: publish %s: %w", topic, err)
}

// await reads what c receives until a message has payload want, and
// returns the messages received before it; ok is false when none had it
// within timeout or the connection ended.
func (c *conn5) await(want string, timeout time.Duration) (before []*paho.Publish, ok bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case p := <-c.msgs:
			if string(p.Payload) == want {
				return before, true
			}
			before = append(before, p)
		case <-deadline.C:
			return before, false
		case <-c.lost:
			return before, false
		}
	}
}

// reasons names the MQTT 5 reason codes a broker answers a probe with.
var reasons = map[byte]string{
	0x00: "Success", 0x01: "Granted QoS 1", 0x02: "Granted QoS 2", 0x10: "No matching subscribers",
	0x80: "Unspecified error", 0x83: "Implementation specific error", 0x84: "Unsupported protocol version",
	0x85: "Client identifier not valid", 0x86: "Bad user name or password", 0x87: "Not authorized",
	0x88: "Server unavailable", 0x89: "Server busy", 0x8A: "Banned", 0x8C: "Bad authentication method",
	0x8F: "Topic filter invalid", 0x90: "Topic name invalid", 0x97: "Quota exceeded",
	0x99: "Payload format invalid", 0xA2: "Wildcard subscriptions not supported",
}

// reason is a reason code as a report shows it: "0x87 Not authorized".
func reason(code byte) string {
	if r, ok := reasons[code]; ok {
		return fmt.Sprintf("0x%02x %s", code, r)
	}
	return fmt.Sprintf("0x%02x", code)
}
