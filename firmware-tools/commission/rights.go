package commission

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/ngic/ngic/internal/tlsconf"
	"github.com/ngic/ngic/internal/yamlconf"
	"github.com/ngic/ngic/telemetry"
)

// GatewayAuth are the gateway's own broker credentials, with which the
// rights probe checks what the gateway may publish and read. The probe
// uses a client ID of its own, never the gateway's.
type GatewayAuth struct {
	// Username is the gateway's broker user; "" means the gateway name.
	Username string
	// PasswordFile holds the gateway's broker password.
	PasswordFile string
	// CertFile and KeyFile are the gateway's client certificate, for a TLS
	// broker; the CA is BrokerOpts.TLS's.
	CertFile, KeyFile string
}

// IsZero tells whether no credential is given.
func (a GatewayAuth) IsZero() bool {
	return a.PasswordFile == "" && a.CertFile == "" && a.KeyFile == ""
}

// ProbeGateway is the gateway name whose topics the rights probe tries as
// "another gateway's": a name no gateway is meant to have, so a probe that
// an ACL wrongly let through reaches nobody's data.
const ProbeGateway = "ngic-commissioning-probe"

// ACL lines the fixes name, as deploy/mosquitto/ngic.acl spells them.
const (
	aclOwnCommissioning = "pattern write " + telemetry.Root + "/gw/%u/commissioning"
	aclOwnCommands      = "pattern read " + telemetry.Root + "/cmd/%u/#"
	aclProbeCommands    = "topic write " + telemetry.Root + "/cmd/+/" + telemetry.CommandCommissioning
)

// rights is one run of the rights probe.
type rights struct {
	o      BrokerOpts
	addr   string
	secure bool
	host   string
	add    func(Check) bool
	// user is the gateway's broker user; other the gateway it must not
	// pass for.
	user, other string
	// nonce makes this run's probes and client IDs its own; conns counts
	// the commissioning identity's connections.
	nonce string
	conns int
	// comm is the commissioning identity's TLS configuration (nil on a
	// plain broker) and commPassword its password.
	comm         *tls.Config
	commPassword string
	// reader is the commissioning identity's connection that reads the
	// probes back.
	reader *conn5
	// binds tells whether the broker ties client IDs to users.
	binds bool
}

// checkRights checks, under the gateway's credentials and MQTT 5 reason
// codes, that the gateway may read its own commands and publish on its
// own commissioning topic, and may do neither on another gateway's; the
// commissioning identity publishes the probe commands and reads the
// probes back. comm is the commissioning identity's TLS configuration
// (nil on a plain broker) and status the gateway's retained status the
// commissioning identity read ("" when none).
//
// When the gateway is online and the broker ties client IDs to users (as
// the shipped mosquitto does, with use_username_as_clientid), connecting
// with the gateway's credentials would knock it offline whatever client ID
// is asked for: the probe is then skipped and says so.
func checkRights(ctx context.Context, o BrokerOpts, host, addr string, comm *tls.Config, status string, add func(Check) bool) {
	if o.Gateway == "" {
		return
	}
	r := &rights{o: o, addr: addr, secure: comm != nil, host: host, add: add, comm: comm,
		user: or(o.GatewayAuth.Username, o.Gateway), other: ProbeGateway, nonce: nonce()}
	if r.other == o.Gateway {
		r.other += "-2"
	}
	if o.GatewayAuth.IsZero() {
		add(Check{Name: "gateway " + o.Gateway + " rights", Status: Skip,
			Detail: "not checked: no gateway credentials given",
			Fix:    "give the gateway's --password-file (and --cert, --key on a TLS broker) to check what it may publish and read"})
		return
	}
	var ok bool
	if r.binds, ok = r.commissioningReader(ctx); !ok {
		return
	}
	defer func() { r.reader.close() }()
	if r.binds && (online(status) || r.readerSeesOnline()) {
		add(Check{Name: "gateway " + o.Gateway + " rights", Status: Skip,
			Detail: "not checked: " + o.Gateway + " is connected and the broker ties client IDs to users " +
				"(use_username_as_clientid), so a connection with its credentials would knock it offline",
			Fix: "to check its rights, stop ngic-edge (systemctl stop ngic-edge), run commission again, then start ngic-edge"})
		return
	}
	gw, ok := r.connectGateway(ctx)
	if !ok {
		return
	}
	defer func() { gw.close() }()
	if !r.checkReads(ctx, gw) || !r.checkOwnPublish(ctx, gw) {
		return
	}
	r.checkOtherPublish(ctx, gw)
}

// nonce is a random token that makes a run's probes and client IDs its
// own.
func nonce() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// readerSeesOnline tells whether the reader received the gateway's
// retained status saying it is online. A broker sends the retained
// messages of a subscription before it answers the next SUBSCRIBE on the
// same connection, so the status, when there is one, was read before
// dialReader's last SUBACK; the wait only lets the client hand it over.
func (r *rights) readerSeesOnline() bool {
	wait := time.NewTimer(r.o.Timeout / 5)
	defer wait.Stop()
	for {
		select {
		case p := <-r.reader.msgs:
			if p.Topic == telemetry.StatusTopic(r.o.Gateway) {
				return online(string(p.Payload))
			}
		case <-wait.C:
			return false
		}
	}
}

// online tells whether a retained status says the gateway is online.
func online(status string) bool {
	s, err := telemetry.DecodeStatus([]byte(status))
	return err == nil && s.State == telemetry.StateOnline
}

// commissioningReader connects the commissioning identity twice under two
// client IDs of its own: when the second connection closes the first, the
// broker ties client IDs to users. The second connection stays as the
// reader.
func (r *rights) commissioningReader(ctx context.Context) (binds, ok bool) {
	c := Check{Name: "commissioning identity over MQTT 5"}
	password, err := yamlconf.Secret(r.o.PasswordFile, "")
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "give the commissioning password's file with --commission-password-file"
		return false, r.add(c)
	}
	r.commPassword = password
	first, _, err := dial5(ctx, r.addr, r.comm, r.commID(), r.o.Username, password, r.o.Timeout)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), fixMQTT5
		return false, r.add(c)
	}
	if r.reader, c = r.dialReader(ctx); r.reader == nil {
		first.close()
		return false, r.add(c)
	}
	// The first connection's round trip tells whether it survived the
	// second's CONNECT: a broker closes an old connection before it
	// acknowledges the new one.
	_, err = first.subscribe(ctx, telemetry.StatusTopic(r.o.Gateway))
	first.close()
	if binds = err != nil; binds {
		c.Detail += "; the broker ties client IDs to users"
	}
	return binds, r.add(c)
}

// fixMQTT5 is the fix of a broker that refused the commissioning identity
// over MQTT 5.
const fixMQTT5 = "the broker must speak MQTT 5 (mosquitto 1.6 or later) to the commissioning identity, which it accepted over MQTT 3.1.1"

// commID is a new client ID of the commissioning identity's own.
func (r *rights) commID() string {
	r.conns++
	return fmt.Sprintf("%s-%s-%d", r.o.Username, r.nonce, r.conns)
}

// dialReader connects the commissioning identity, subscribed to the
// gateway's status, its commissioning topic and the probe gateway's, to
// read the probes back.
func (r *rights) dialReader(ctx context.Context) (*conn5, Check) {
	c := Check{Name: "commissioning identity over MQTT 5"}
	reader, _, err := dial5(ctx, r.addr, r.comm, r.commID(), r.o.Username, r.commPassword, r.o.Timeout)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), fixMQTT5
		return nil, c
	}
	for _, f := range []string{telemetry.StatusTopic(r.o.Gateway), telemetry.CommissioningTopic(r.o.Gateway), telemetry.CommissioningTopic(r.other)} {
		code, err := reader.subscribe(ctx, f)
		if err != nil || code >= 0x80 {
			reader.close()
			c.Status, c.Detail = Fail, fmt.Sprintf("subscribing to %s: %s", f, errOrReason(err, code))
			c.Fix = "the broker's ACL must let the commissioning user read " + telemetry.Root + "/gw/+/# (deploy/mosquitto/ngic.acl)"
			return nil, c
		}
	}
	c.Status, c.Detail = OK, "connected"
	return reader, c
}

// errOrReason is err's text, or the reason code when err is nil.
func errOrReason(err error, code byte) string {
	if err != nil {
		return err.Error()
	}
	return reason(code)
}

// connectGateway connects with the gateway's credentials under a client
// ID of the probe's own, and reports it.
func (r *rights) connectGateway(ctx context.Context) (*conn5, bool) {
	gw, c := r.dialGateway(ctx)
	return gw, r.add(c) && gw != nil
}

// dialGateway connects with the gateway's credentials under a client ID of
// the probe's own; the check says how it went.
func (r *rights) dialGateway(ctx context.Context) (*conn5, Check) {
	c := Check{Name: "gateway credentials " + r.user}
	a := r.o.GatewayAuth
	password, err := yamlconf.Secret(a.PasswordFile, "")
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "give the file holding the gateway's broker password with --password-file"
		return nil, c
	}
	var tc *tls.Config
	if r.secure {
		tc, _, err = tlsconf.Client{CAFile: r.o.TLS.CAFile, CertFile: a.CertFile, KeyFile: a.KeyFile, ServerName: r.o.TLS.ServerName}.Config()
		if err != nil {
			c.Name = "gateway certificate"
			c.Status, c.Detail, c.Fix = Fail, err.Error(), "check --ca, --cert and --key: the files must exist and hold the gateway's PEM certificate and key"
			return nil, c
		}
		if tc.ServerName == "" {
			tc.ServerName = r.host
		}
		tc.Time = r.o.Now
		if len(tc.Certificates) > 0 {
			leaf, err := x509.ParseCertificate(tc.Certificates[0].Certificate[0])
			if err == nil && leaf.NotAfter.Sub(r.o.Now()) < r.o.MinValidity {
				c.Name, c.Status = "gateway certificate", Fail
				c.Detail = fmt.Sprintf("%s expires %s", leaf.Subject.CommonName, leaf.NotAfter.UTC().Format(time.RFC3339))
				c.Fix = "renew the gateway's certificate (--cert) before it expires: the broker will refuse the gateway then"
				return nil, c
			}
		}
	}
	id := "ngic-fwtool-" + r.nonce
	gw, ca, err := dial5(ctx, r.addr, tc, id, r.user, password, r.o.Timeout)
	switch {
	case err == nil:
	case errors.Is(err, errTLS), errors.As(err, new(tls.AlertError)): // with TLS 1.3 the refusal comes after the handshake
		c.Name = "gateway certificate"
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = "the broker refused the gateway's certificate: --cert and --key must be the gateway's, issued by the broker's CA and not expired"
		return nil, c
	case ca != nil:
		c.Status, c.Detail = Fail, "refused: "+reason(ca.ReasonCode)
		c.Fix = "check the gateway's user (--username; the gateway's name) and its password (--password-file): " +
			"the broker's password file must hold them (mosquitto_passwd /etc/mosquitto/ngic.passwd " + r.user + ")"
		return nil, c
	case r.secure && !errors.Is(err, context.DeadlineExceeded):
		// A TLS 1.3 broker judges the client certificate after the
		// handshake and closes without a CONNACK; a wrong password gets
		// a CONNACK.
		c.Name = "gateway certificate"
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = "the broker closed the connection without a CONNACK: --cert and --key must be the gateway's, issued by the broker's CA and not expired"
		return nil, c
	default:
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = "the broker gave no CONNACK: check that the broker is up and the gateway's user and password are known to it"
		return nil, c
	}
	c.Status, c.Detail = OK, "accepted over MQTT 5 under client ID "+id+" (the probe's own, not the gateway's)"
	if r.binds {
		c.Detail = "accepted over MQTT 5; the broker made the probe's client ID the user name, " + r.user +
			", which the gateway's status did not say was connected"
	}
	return gw, c
}

// checkReads checks that the gateway may read its own commands and not
// the probe gateway's. A broker may refuse a subscription (SUBACK 0x87) or
// grant any and filter each message on delivery, as mosquitto's ACL file
// does: what a granted subscription delivers is then told by probe
// commands (see probeCommands).
//
// It returns false when the reader was lost and could not be replaced.
func (r *rights) checkReads(ctx context.Context, gw *conn5) bool {
	own, other := telemetry.CommandFilter(r.o.Gateway), telemetry.CommandFilter(r.other)
	cOwn := Check{Name: "subscribe " + own + " as " + r.user}
	cOther := Check{Name: "subscribe " + other + " as " + r.user}
	ownFix := "the ACL must let each gateway read its own commands: " + aclOwnCommands + " (deploy/mosquitto/ngic.acl); else no update command reaches it"
	if code, err := gw.subscribe(ctx, own); err != nil || code >= 0x80 {
		cOwn.Status, cOwn.Detail, cOwn.Fix = Fail, "refused: "+errOrReason(err, code), ownFix
	}
	if code, err := gw.subscribe(ctx, other); err == nil && code >= 0x80 {
		cOther.Status, cOther.Detail = OK, "refused ("+reason(code)+"), as the ACL says"
	}
	if cOwn.Status == "" || cOther.Status == "" {
		p, ok := r.probeCommands(ctx, gw)
		if !ok {
			return false
		}
		if cOwn.Status == "" {
			switch {
			case p.refused != "":
				cOwn.Status, cOwn.Detail, cOwn.Fix = Fail, p.refused, p.fix
			case p.delivered:
				cOwn.Status, cOwn.Detail = OK, "allowed: the probe command was delivered"
			default:
				cOwn.Status, cOwn.Detail, cOwn.Fix = Fail, "granted, but the probe command to "+r.o.Gateway+" was never delivered", ownFix
			}
		}
		if cOther.Status == "" {
			switch {
			case p.refused != "":
				cOther.Status, cOther.Detail, cOther.Fix = Fail, p.refused, p.fix
			case p.leaked:
				cOther.Status, cOther.Detail = Fail, "granted, and the broker delivered the probe command to "+r.other
				cOther.Fix = "the ACL lets " + r.user + " read another gateway's commands: each gateway must read only its own, with " +
					aclOwnCommands + " and no wider read line (deploy/mosquitto/ngic.acl)"
			case p.delivered:
				cOther.Status, cOther.Detail = OK, "granted, but the broker delivered nothing of it: it filters reads per message, as the ACL says"
			default:
				cOther.Status, cOther.Detail = Fail, "granted, and the probe that would tell what it delivers never came"
				cOther.Fix = "check the broker's log for the commissioning user's probe commands"
			}
		}
	}
	r.add(cOwn)
	r.add(cOther)
	return true
}

// probed is what the probe commands told.
type probed struct {
	// refused, when not empty, says why no probe command could be sent,
	// and fix what to do.
	refused, fix string
	// delivered tells whether the gateway received its own probe command,
	// and leaked whether it received the probe gateway's before it.
	delivered, leaked bool
}

// probeCommands has the commissioning identity publish a probe command to
// the probe gateway and, after it, one to the gateway, which must receive
// the second and not the first (one publisher, QoS 1: in order). It
// returns false when the reader was lost and could not be replaced.
func (r *rights) probeCommands(ctx context.Context, gw *conn5) (probed, bool) {
	otherTopic := telemetry.CommandTopic(r.other, telemetry.CommandCommissioning)
	want := "probe " + r.nonce + " for " + r.o.Gateway
	code, err := r.reader.publish(ctx, otherTopic, "probe "+r.nonce+" for "+r.other)
	if err == nil && code < 0x80 {
		code, err = r.reader.publish(ctx, telemetry.CommandTopic(r.o.Gateway, telemetry.CommandCommissioning), want)
	}
	if err != nil || code >= 0x80 {
		// mosquitto may close a connection after a denied publish.
		r.reader.close()
		var c Check
		if r.reader, c = r.dialReader(ctx); r.reader == nil {
			r.add(c)
			return probed{}, false
		}
		return probed{
			refused: "granted, and the commissioning identity may not publish the probe command that would tell what it delivers: " + errOrReason(err, code),
			fix:     "let the commissioning user publish probe commands: " + aclProbeCommands + " under user " + r.o.Username + " (deploy/mosquitto/ngic.acl)",
		}, true
	}
	var p probed
	var before []*paho.Publish
	before, p.delivered = gw.await(want, r.o.Timeout)
	p.leaked = slices.ContainsFunc(before, func(m *paho.Publish) bool { return m.Topic == otherTopic })
	return p, true
}

// checkOwnPublish checks that the gateway may publish on its own
// commissioning topic: the broker acknowledges the probe and the
// commissioning identity reads it back.
func (r *rights) checkOwnPublish(ctx context.Context, gw *conn5) bool {
	topic := telemetry.CommissioningTopic(r.o.Gateway)
	c := Check{Name: "publish " + topic + " as " + r.user}
	fix := "the ACL must let each gateway publish its own topics: " + aclOwnCommissioning + " (deploy/mosquitto/ngic.acl)"
	want := "probe " + r.nonce + " from " + r.user
	code, err := gw.publish(ctx, topic, want)
	switch {
	case err != nil:
		c.Status, c.Detail, c.Fix = Fail, err.Error(), fix
	case code >= 0x80:
		c.Status, c.Detail, c.Fix = Fail, "refused: "+reason(code), fix
	default:
		if _, ok := r.reader.await(want, r.o.Timeout); !ok {
			c.Status, c.Detail, c.Fix = Fail, "acknowledged ("+reason(code)+") but never delivered: the broker dropped it", fix
		} else {
			c.Status, c.Detail = OK, "accepted ("+reason(code)+") and read back by the commissioning identity"
		}
	}
	return r.add(c)
}

// checkOtherPublish checks that the gateway may not publish on the probe
// gateway's commissioning topic: the broker answers the PUBACK with a
// reason code of 0x80 or above, or, when it gives none, the commissioning
// identity reads a later probe of the gateway's own and nothing of the
// first before it. mosquitto may close the connection after a denied
// publish; the later probe then goes on a new connection.
func (r *rights) checkOtherPublish(ctx context.Context, gw *conn5) {
	topic := telemetry.CommissioningTopic(r.other)
	c := Check{Name: "publish " + topic + " as " + r.user}
	code, err := gw.publish(ctx, topic, "probe "+r.nonce+" from "+r.user+" for "+r.other)
	if err == nil && code >= 0x80 {
		c.Status, c.Detail = OK, "refused ("+reason(code)+"), as the ACL says"
		r.add(c)
		return
	}
	mark := "probe " + r.nonce + " from " + r.user + " after " + r.other
	if code, err := r.publishAfter(ctx, gw, mark); err != nil || code >= 0x80 {
		c.Status, c.Detail = Fail, "the probe after it was not accepted either: "+errOrReason(err, code)
		c.Fix = "check the broker's log: the gateway may no longer publish on its own topics"
		r.add(c)
		return
	}
	before, ok := r.reader.await(mark, r.o.Timeout)
	for _, p := range before {
		if p.Topic == topic {
			c.Status, c.Detail = Fail, "accepted, and the broker delivered it"
			c.Fix = "the ACL lets " + r.user + " publish on another gateway's topics: grant each gateway only its own, with " +
				"pattern write " + telemetry.Root + "/gw/%u/... lines, and no topic or pattern write line on " +
				telemetry.Root + "/gw/+/... or " + telemetry.Root + "/gw/# (deploy/mosquitto/ngic.acl)"
			r.add(c)
			return
		}
	}
	if !ok {
		c.Status, c.Detail = Fail, "the probe after it was never delivered, so what the broker did with it cannot be told"
		c.Fix = "check the broker's log for the probes of " + r.user
		r.add(c)
		return
	}
	c.Status, c.Detail = OK, "acknowledged without a reason code ("+errOrReason(err, code)+") but dropped: a later probe came and nothing of it before"
	r.add(c)
}

// publishAfter publishes payload on the gateway's commissioning topic on
// gw, or, when the broker closed gw, on a new connection, which then
// replaces gw.
func (r *rights) publishAfter(ctx context.Context, gw *conn5, payload string) (byte, error) {
	code, err := gw.publish(ctx, telemetry.CommissioningTopic(r.o.Gateway), payload)
	if err == nil {
		return code, nil
	}
	lost := time.NewTimer(r.o.Timeout)
	defer lost.Stop()
	select {
	case <-gw.lost:
	case <-lost.C:
		return 0, err
	}
	next, c := r.dialGateway(ctx)
	if next == nil {
		return 0, fmt.Errorf("%w; then, on a new connection: %s", err, c.Detail)
	}
	gw.close()
	*gw = *next
	return gw.publish(ctx, telemetry.CommissioningTopic(r.o.Gateway), payload)
}
