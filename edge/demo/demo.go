// Package demo runs one edge gateway on embedded defaults, with no
// hardware, broker or database: an emulated reader on a pseudo-terminal
// with tags moving through its field, the embedded MQTT broker, a spool in
// a temporary folder, and a subscriber that prints every event the broker
// delivers (`ngic-edge demo`). Field and Step are the tags and their moves,
// which the whole system's demo (internal/demo, `make run`) uses too.
package demo

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/emulate"
	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/gateway"
	"github.com/ngic/ngic/telemetry"
)

// Opts configures the demo.
type Opts struct {
	// Protocol is the emulated reader's protocol (default magicrf).
	Protocol string
	// BrokerListen is the embedded broker's address (default 127.0.0.1:1883).
	BrokerListen string
	// HTTPListen is the gateway's status address (default 127.0.0.1:9470).
	HTTPListen string
	// Dir holds the spool; empty means a temporary folder removed at the end.
	Dir string
	// Period is how often a tag enters or leaves the field (default 2s).
	Period time.Duration
	// Logger receives the gateway's logs.
	Logger *slog.Logger
}

// tags are the demo's tags: GS1 SGTIN-96, SSCC-96 and GRAI-96 EPCs for UHF
// readers (their first five bytes as cards for EM4100; see Field).
var tags = []string{
	"3074257BF7194E4000001A85", // SGTIN-96 urn:epc:id:sgtin:0614141.812345.6789
	"3074257BF7194E4000001A86",
	"3114257BF75ACB0000000001",
	"3374257BF40C0E400000162E",
}

// Run runs the demo until ctx ends, printing each delivered event and status
// as a line of JSON on out.
func Run(ctx context.Context, o Opts, out io.Writer) error {
	if o.Protocol == "" {
		o.Protocol = "magicrf"
	}
	if o.BrokerListen == "" {
		o.BrokerListen = config.DefaultEmbeddedListen
	}
	if o.HTTPListen == "" {
		o.HTTPListen = config.DefaultHTTPListen
	}
	if o.Period <= 0 {
		o.Period = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "ngic-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(d)
		o.Dir = d
	}
	proto, err := rfid.Lookup(o.Protocol)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	field := Field(o.Protocol)
	runner, err := emulate.New(proto, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pty, err := runner.ServePTY(ctx, "")
	if err != nil {
		return err
	}
	y := fmt.Sprintf(`gateway: demo-gateway
spool:
  path: %s
mqtt:
  broker: embedded
  embedded_listen: %s
readers:
  - name: demo-reader
    protocol: %s
    device: %s
    depart_after: 1s
http:
  listen: %s
`, filepath.Join(o.Dir, "spool.db"), o.BrokerListen, o.Protocol, pty.Path, o.HTTPListen)
	cfg, err := config.Parse("demo", []byte(y))
	if err != nil {
		return err
	}
	g, err := gateway.New(cfg, gateway.Opts{Logger: o.Logger})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	sub, err := subscribe(ctx, o.BrokerListen, out)
	if err != nil {
		cancel()
		<-done
		return err
	}
	defer sub.Disconnect(100)
	o.Logger.Info("demo running: tags move through an emulated reader's field; events print below",
		"reader", o.Protocol, "device", pty.Path, "broker", o.BrokerListen, "status", "http://"+o.HTTPListen+"/healthz")

	// Tags enter one by one, then leave one by one, over and over.
	t := time.NewTicker(o.Period)
	defer t.Stop()
	for step := 1; ; step++ {
		runner.SetTags(Step(field, step))
		select {
		case <-ctx.Done():
			return <-done
		case err := <-done:
			return err
		case <-t.C:
		}
	}
}

// Field returns the demo's tags as a reader of protocol reads them: the
// EPCs for UHF readers, their first five bytes (a card number) for em4100.
func Field(protocol string) [][]byte {
	var field [][]byte
	for _, h := range tags {
		b, _ := hex.DecodeString(h)
		if protocol == "em4100" {
			b = b[:5]
		}
		field = append(field, b)
	}
	return field
}

// Step returns the tags of field in the reader's field at step: they
// enter one by one, then leave one by one, over and over (step 0 and every
// 2*len(field) steps: none).
func Step(field [][]byte, step int) [][]byte {
	k := step % (2 * len(field))
	if k <= len(field) {
		return field[:k]
	}
	return field[k-len(field):]
}

// subscribe connects to the embedded broker, retrying while it starts. It
// prints each message, a line an event: a batch's events one by one.
func subscribe(ctx context.Context, addr string, out io.Writer) (mqtt.Client, error) {
	print := func(_ mqtt.Client, m mqtt.Message) {
		if bytes.HasPrefix(m.Payload(), []byte("[")) {
			err := telemetry.EachEvent(m.Payload(), func(_ int, elem []byte, _ *telemetry.Event, _ error) bool {
				fmt.Fprintf(out, "%s %s\n", m.Topic(), elem)
				return true
			})
			if err == nil {
				return
			}
		}
		fmt.Fprintf(out, "%s %s\n", m.Topic(), m.Payload())
	}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("ngic-demo-viewer").
		SetAutoReconnect(true).SetOrderMatters(true)
	o.SetOnConnectHandler(func(c mqtt.Client) {
		c.SubscribeMultiple(map[string]byte{telemetry.EventFilter: 1, telemetry.StatusFilter: 1}, print)
	})
	c := mqtt.NewClient(o)
	for {
		tok := c.Connect()
		if tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
