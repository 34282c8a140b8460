package commission

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/tlsconf"
	"github.com/ngic/ngic/telemetry"
)

// BrokerOpts configures the broker checks.
type BrokerOpts struct {
	// Broker is the broker URL the gateway will use: ssl://host:port or
	// tcp://host:port.
	Broker string
	// Gateway is the gateway's name: its status topic is read.
	Gateway string
	// Username and PasswordFile are the commissioning identity's
	// credentials (ngic-commissioning in the shipped ACL), not the
	// gateway's: with the broker's use_username_as_clientid, connecting as
	// the gateway would knock the gateway itself offline.
	Username, PasswordFile string
	// TLS holds the CA and the commissioning identity's client certificate.
	TLS tlsconf.Client
	// GatewayAuth are the gateway's own credentials, for the check of its
	// rights; zero skips that check.
	GatewayAuth GatewayAuth
	// MinValidity is how long the broker's and the client's certificates
	// must stay valid; 0 means DefaultBrokerOpts.MinValidity.
	MinValidity time.Duration
	// Timeout bounds each step; 0 means DefaultBrokerOpts.Timeout.
	Timeout time.Duration
	// NTP is an NTP server (host or host:port) to compare the clock with;
	// empty compares it with the broker certificate's validity only.
	NTP string
	// MaxSkew is the largest clock difference from NTP accepted; 0 means
	// DefaultBrokerOpts.MaxSkew.
	MaxSkew time.Duration
	// Now is the clock checked; nil means time.Now.
	Now func() time.Time
}

// DefaultBrokerOpts are the values used for zero fields.
var DefaultBrokerOpts = BrokerOpts{MinValidity: 30 * 24 * time.Hour, Timeout: 5 * time.Second, MaxSkew: 2 * time.Second}

// CheckBroker checks, one line each, that the broker's name resolves, its
// port is reachable, its TLS certificate is valid for the name and not
// near expiry, the client certificate and credentials are accepted, the
// gateway's status may be read and a topic of another identity may not
// (the broker refuses the subscription), the gateway's own rights (see
// checkRights), and the clock. It stops at the first failure that makes
// the next checks meaningless.
func CheckBroker(ctx context.Context, o BrokerOpts) []Check {
	if o.MinValidity <= 0 {
		o.MinValidity = DefaultBrokerOpts.MinValidity
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultBrokerOpts.Timeout
	}
	if o.MaxSkew <= 0 {
		o.MaxSkew = DefaultBrokerOpts.MaxSkew
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var out []Check
	add := func(c Check) bool { out = append(out, c); return c.Status == OK }
	u, err := url.Parse(o.Broker)
	if err != nil || u.Hostname() == "" || u.Port() == "" {
		add(Check{Name: "broker", Status: Fail, Detail: fmt.Sprintf("%q is not scheme://host:port", o.Broker),
			Fix: "give the broker as ssl://host:8883 (or tcp://host:1883)"})
		return out
	}
	host, addr := u.Hostname(), u.Host
	var secure bool
	switch u.Scheme {
	case "ssl", "tls", "mqtts":
		secure = true
	case "tcp", "mqtt":
	case "ws", "wss":
		add(Check{Name: "broker", Status: Skip, Detail: "not checked: the checks speak MQTT over TCP, not over WebSocket",
			Fix: "give the broker's MQTT port (ssl://host:8883) to check it"})
		return out
	default:
		add(Check{Name: "broker", Status: Fail, Detail: fmt.Sprintf("scheme %q is not ssl, tls, mqtts, tcp or mqtt", u.Scheme),
			Fix: "give the broker as ssl://host:8883 (or tcp://host:1883)"})
		return out
	}
	if o.Gateway != "" {
		if err := telemetry.ValidateName(o.Gateway); err != nil {
			add(Check{Name: "gateway name", Status: Fail, Detail: err.Error(),
				Fix: "give --gateway as the gateway's name: one MQTT topic level, without '/', '+', '#' or spaces"})
			return out
		}
	}

	c := Check{Name: "broker name " + host}
	ips, err := lookup(ctx, host, o.Timeout)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "check the name and the gateway's DNS server (resolvectl status)"
		add(c)
		return out
	}
	c.Status, c.Detail = OK, "resolves to "+strings.Join(ips, ", ")
	add(c)

	c = Check{Name: "broker port " + addr}
	d := net.Dialer{Timeout: o.Timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "check the route and firewall to the broker (the port must be open outbound)"
		add(c)
		return out
	}
	conn.Close()
	c.Status, c.Detail = OK, "reachable"
	add(c)

	var tc *tls.Config
	if secure {
		var ok bool
		if tc, ok = checkTLS(ctx, o, host, addr, add); !ok {
			return out
		}
	}
	status, ok := checkMQTT(ctx, o, addr, tc, add)
	if !ok {
		return out
	}
	checkRights(ctx, o, host, addr, tc, status, add)
	checkClock(ctx, o, add)
	return out
}

// lookup resolves host within timeout.
func lookup(ctx context.Context, host string, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return net.DefaultResolver.LookupHost(ctx, host)
}

// checkTLS checks the broker's certificate for host and its expiry, and
// that the broker accepts the client certificate; it returns the TLS
// configuration for MQTT.
func checkTLS(ctx context.Context, o BrokerOpts, host, addr string, add func(Check) bool) (*tls.Config, bool) {
	c := Check{Name: "broker certificate"}
	tc, _, err := o.TLS.Config()
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "check --ca, --cert and --key: the files must exist and hold PEM"
		return nil, add(c)
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	now := o.Now()
	tc.Time = o.Now
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: o.Timeout}, Config: tc}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		c.Status = Fail
		c.Name, c.Detail, c.Fix = tlsFailure(err, host, now, o.Timeout)
		return nil, add(c)
	}
	defer conn.Close()
	// With TLS 1.3 the broker judges the client certificate after the
	// handshake: a read tells.
	tconn := conn.(*tls.Conn)
	leaf := tconn.ConnectionState().PeerCertificates[0]
	left := leaf.NotAfter.Sub(now)
	if left < o.MinValidity {
		c.Status = Fail
		c.Detail = fmt.Sprintf("valid for %s until %s, expires in %s", host, leaf.NotAfter.UTC().Format(time.RFC3339), left.Round(time.Hour))
		c.Fix = "renew the broker's certificate before it expires"
		return nil, add(c)
	}
	c.Status = OK
	c.Detail = fmt.Sprintf("valid for %s until %s (%d days)", host, leaf.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24))
	add(c)

	c = Check{Name: "client certificate"}
	if len(tc.Certificates) == 0 {
		c.Status, c.Detail, c.Fix = Fail, "none given", "give the commissioning certificate with --cert and --key: the broker requires one"
		return nil, add(c)
	}
	mine, err := x509.ParseCertificate(tc.Certificates[0].Certificate[0])
	if err == nil && mine.NotAfter.Sub(now) < o.MinValidity {
		c.Status = Fail
		c.Detail = fmt.Sprintf("%s expires %s", mine.Subject.CommonName, mine.NotAfter.UTC().Format(time.RFC3339))
		c.Fix = "renew the client certificate before it expires"
		return nil, add(c)
	}
	c.Status, c.Detail = OK, "accepted in the TLS handshake"
	return tc, add(c)
}

// tlsFailure tells why a TLS handshake with the broker failed: the check
// it fails ("broker certificate" or "client certificate"), what was found
// and what to do.
func tlsFailure(err error, host string, now time.Time, timeout time.Duration) (name, detail, fix string) {
	var (
		herr   x509.HostnameError
		cerr   x509.CertificateInvalidError
		uerr   x509.UnknownAuthorityError
		rerr   tls.RecordHeaderError
		alert  tls.AlertError
		neterr net.Error
	)
	name, detail = "broker certificate", err.Error()
	switch {
	case errors.As(err, &herr):
		names := append(slices.Clone(herr.Certificate.DNSNames), ipStrings(herr.Certificate.IPAddresses)...)
		detail += " (it is for " + strings.Join(names, ", ") + ")"
		fix = "the broker's certificate is not for " + host + ": give the broker by a name it was issued for (" + strings.Join(names, ", ") + ")"
		if len(names) == 0 {
			fix = "the broker's certificate names no host: issue it with the broker's name as a subject alternative name"
		}
	case errors.As(err, &cerr) && cerr.Reason == x509.Expired && now.After(cerr.Cert.NotAfter):
		detail = fmt.Sprintf("expired %s (this clock says %s)", cerr.Cert.NotAfter.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		fix = "renew the broker's certificate; if it is valid, this clock is wrong (check date)"
	case errors.As(err, &cerr) && cerr.Reason == x509.Expired:
		detail = fmt.Sprintf("not valid before %s (this clock says %s)", cerr.Cert.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		fix = "this clock is probably behind: set it (check date, timedatectl set-ntp true), then check again"
	case errors.As(err, &uerr):
		detail = "signed by an unknown authority: " + err.Error()
		fix = "the broker's certificate is not signed by --ca: give the CA that issued it"
	case errors.As(err, &rerr):
		detail = "not a TLS server: " + err.Error()
		fix = "the port answers but not with TLS (not a TLS server): give a plain port as tcp://, or the broker's TLS port (8883) as ssl://"
	case errors.As(err, &neterr) && neterr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		detail = fmt.Sprintf("no TLS answer within %s: %v", timeout, err)
		fix = "the port accepts connections but gives no TLS answer: check it is the broker's TLS port (8883) and the broker's load"
	case errors.As(err, &alert):
		name = "client certificate"
		fix = "the broker refused the TLS handshake: check that --cert is issued by the broker's CA and not expired"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		fix = "the broker closed the connection during the TLS handshake: check the broker's log; it may require another TLS version or a client certificate (--cert)"
	default:
		name = "client certificate"
		fix = "the broker refused the TLS handshake: check that --cert is issued by the broker's CA and not expired"
	}
	return name, detail, fix
}

// ipStrings are the addresses as text.
func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// checkMQTT connects under the commissioning identity over MQTT 3.1.1 and
// checks that the gateway's status may be read and another identity's
// topic may not; it returns the gateway's retained status when it came.
func checkMQTT(ctx context.Context, o BrokerOpts, addr string, tc *tls.Config, add func(Check) bool) (status string, ok bool) {
	c := Check{Name: "broker credentials " + o.Username}
	password := ""
	if o.PasswordFile != "" {
		b, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			c.Status, c.Detail, c.Fix = Fail, err.Error(), "give the commissioning password's file with --commission-password-file"
			return "", add(c)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	opts := mqtt.NewClientOptions().AddBroker(o.Broker).SetClientID(o.Username).
		SetUsername(o.Username).SetPassword(password).SetTLSConfig(tc).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(o.Timeout).SetProtocolVersion(4).
		SetCustomOpenConnectionFn(func(*url.URL, mqtt.ClientOptions) (net.Conn, error) {
			return dialBroker(ctx, addr, tc, o.Timeout)
		})
	cl := mqtt.NewClient(opts)
	tok := cl.Connect()
	if !tok.WaitTimeout(o.Timeout) || tok.Error() != nil {
		err := tok.Error()
		c.Status = Fail
		c.Fix = "check the commissioning user and password (--commission-user, --commission-password-file) and that the broker knows them"
		var neterr net.Error
		if err == nil || errors.As(err, &neterr) && neterr.Timeout() || errors.Is(err, errTooLong) {
			if err == nil {
				err = fmt.Errorf("no CONNACK within %s", o.Timeout)
			}
			c.Fix = "the port does not answer as an MQTT broker does: check the URL (ssl:// for a TLS port such as 8883, tcp:// for a plain one such as 1883) and the broker's load"
		}
		c.Detail = err.Error()
		if strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset") {
			c.Fix = "the broker closed the connection: check that the client certificate is issued by its CA, then the credentials"
		}
		return "", add(c)
	}
	defer cl.Disconnect(250)
	c.Status, c.Detail = OK, "connected"
	add(c)

	statuses := make(chan string, 1)
	own := telemetry.StatusFilter
	if o.Gateway != "" {
		own = telemetry.StatusTopic(o.Gateway)
	}
	ok = subscribe(cl, own, o.Timeout, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case statuses <- string(m.Payload()):
		default:
		}
	})
	c = Check{Name: "subscribe " + own}
	if !ok {
		c.Status, c.Detail = Fail, "refused by the broker"
		c.Fix = "the broker's ACL must let the commissioning user read ngic/v1/gw/+/# (deploy/mosquitto/ngic.acl)"
		return "", add(c)
	}
	c.Status, c.Detail = OK, "allowed"
	select {
	case status = <-statuses:
		c.Detail += "; the gateway's retained status: " + status
	case <-time.After(o.Timeout / 5):
		c.Detail += "; no status from the gateway yet (ngic-edge not started or not connected)"
	}
	add(c)

	// Another identity's topic: refused (SUBACK 0x80), or granted and
	// filtered per message as mosquitto's ACL file does; a message that
	// arrives is a leak.
	other := telemetry.ControllerTopic(0)
	leak := make(chan string, 1)
	c = Check{Name: "subscribe " + other}
	if !subscribe(cl, other, o.Timeout, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case leak <- m.Topic():
		default:
		}
	}) {
		c.Status, c.Detail = OK, "refused, as the ACL says"
		return status, add(c)
	}
	select {
	case topic := <-leak:
		c.Status, c.Detail = Fail, "the broker delivered "+topic+", which only the controller's replicas may read"
		c.Fix = "apply the shipped ACL (deploy/mosquitto/ngic.acl): the commissioning user must not read other identities' topics"
		return status, add(c)
	case <-time.After(o.Timeout / 5):
	}
	c.Status, c.Detail = OK, "granted but nothing delivered: the broker filters it per message"
	return status, add(c)
}

// subscribe reports whether the broker granted the subscription.
func subscribe(cl mqtt.Client, topic string, timeout time.Duration, h mqtt.MessageHandler) bool {
	tok := cl.Subscribe(topic, 1, h)
	if !tok.WaitTimeout(timeout) || tok.Error() != nil {
		return false
	}
	code, ok := tok.(*mqtt.SubscribeToken).Result()[topic]
	return ok && code < 0x80
}

// checkClock compares the clock with an NTP server's.
func checkClock(ctx context.Context, o BrokerOpts, add func(Check) bool) {
	if o.NTP == "" {
		return
	}
	c := Check{Name: "clock"}
	skew, err := ntpOffset(ctx, o.NTP, o.Timeout, o.Now)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "check --ntp and that UDP port 123 is open outbound"
		add(c)
		return
	}
	if skew > o.MaxSkew || skew < -o.MaxSkew {
		c.Status, c.Detail = Fail, fmt.Sprintf("%s off %s", skew.Round(time.Millisecond), o.NTP)
		c.Fix = "set the clock (timedatectl set-ntp true, or date -s): a wrong clock breaks TLS and event times"
		add(c)
		return
	}
	c.Status, c.Detail = OK, fmt.Sprintf("within %s of %s", skew.Abs().Round(time.Millisecond), o.NTP)
	add(c)
}
