package alerts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/ngic/ngic/internal/retry"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/telemetry"
)

// publishTimeout bounds one MQTT publish.
const publishTimeout = 30 * time.Second

// sink is one receiver of alerts with its queue on disk: alerts are sent
// one at a time, oldest first, each retried with backoff until the
// receiver takes it or refuses it for good.
type sink struct {
	name string // "mqtt" or WebhookName
	sp   *spool.Spool
	send func(ctx context.Context, data []byte) error
	wake chan struct{}
	// webhook says whether the sink takes only alerts webhooks are told of.
	webhook bool

	delivered, errors, refused atomic.Uint64
}

// refusal is an error of a receiver that will never take the alert.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }

// openSinks opens one queue for MQTT (if there is a Publisher) and one per
// webhook.
func (e *Engine) openSinks() error {
	if e.o.Publisher == nil && len(e.cfg.Webhooks) == 0 {
		return nil
	}
	if e.o.QueueDir == "" {
		return errors.New("alerts: Options.QueueDir is required for webhooks and MQTT")
	}
	if err := os.MkdirAll(e.o.QueueDir, 0o750); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	open := func(file string, maxRecords int) (*spool.Spool, error) {
		sp, err := spool.Open(filepath.Join(e.o.QueueDir, file), spool.Options{MaxRecords: maxRecords})
		if err != nil {
			e.closeSinks()
			return nil, fmt.Errorf("alerts: queue: %w", err)
		}
		return sp, nil
	}
	if p := e.o.Publisher; p != nil {
		sp, err := open("mqtt.spool", DefaultWebhookQueue)
		if err != nil {
			return err
		}
		e.sinks = append(e.sinks, &sink{name: "mqtt", sp: sp, wake: make(chan struct{}, 1), send: func(ctx context.Context, data []byte) error {
			return publishAlert(ctx, p, data)
		}})
	}
	for i, w := range e.cfg.Webhooks {
		sum := sha256.Sum256([]byte(w.URL))
		sp, err := open("webhook-"+hex.EncodeToString(sum[:6])+".spool", w.MaxQueue)
		if err != nil {
			return err
		}
		name := WebhookName(i, w.URL)
		e.sinks = append(e.sinks, &sink{name: name, sp: sp, webhook: true, wake: make(chan struct{}, 1),
			send: func(ctx context.Context, data []byte) error {
				return postAlert(ctx, e.o.HTTPClient, name, w, data)
			}})
	}
	return nil
}

func (e *Engine) closeSinks() error {
	var errs []error
	for _, s := range e.sinks {
		errs = append(errs, s.sp.Close())
	}
	return errors.Join(errs...)
}

// enqueue appends the alert changes to the queues: every one to MQTT,
// those webhooks are told of to the webhooks.
func (e *Engine) enqueue(out []transition) {
	all := make([][]byte, 0, len(out))
	var hooks [][]byte
	for _, t := range out {
		b, err := telemetry.EncodeAlert(&t.alert)
		if err != nil {
			e.countQueueError()
			continue
		}
		all = append(all, b)
		if t.webhook {
			hooks = append(hooks, b)
		}
	}
	for _, s := range e.sinks {
		batch := all
		if s.webhook {
			batch = hooks
		}
		if len(batch) == 0 {
			continue
		}
		if _, err := s.sp.Append(batch...); err != nil {
			e.countQueueError()
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (e *Engine) countQueueError() {
	e.mu.Lock()
	e.stats.queueErrors++
	e.mu.Unlock()
}

// run sends the queued alerts until ctx ends.
func (s *sink) run(ctx context.Context, minWait, maxWait time.Duration) {
	retry.Loop(ctx, minWait, maxWait, func(ctx context.Context, healthy func()) error {
		for {
			if s.sp.Stats().Held > 0 {
				// The disk was full when alerts were queued: store them
				// first, so that they are sent in order.
				if err := s.sp.Flush(); err != nil {
					return err
				}
			}
			recs, err := s.sp.Next(0, 1)
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-s.wake:
					continue
				}
			}
			rec := recs[0]
			err = s.send(ctx, rec.Data)
			var ref refusal
			switch {
			case err == nil:
				if err := s.sp.Delete(rec.Seq); err != nil {
					return err
				}
				s.delivered.Add(1)
				healthy()
			case errors.As(err, &ref):
				if err := s.sp.Discard(spool.ReasonRefused, rec.Seq); err != nil {
					return err
				}
				s.refused.Add(1)
			default:
				return err
			}
		}
	}, func(err error) {
		if err != nil {
			s.errors.Add(1)
		}
	})
}

// publishAlert publishes an alert on its topic: retained while open; once
// resolved, not retained, followed by an empty retained message clearing
// the topic.
func publishAlert(ctx context.Context, p Publisher, data []byte) error {
	a, err := telemetry.DecodeAlert(data)
	if err != nil {
		return refusal{fmt.Errorf("alerts: queued alert: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	topic := telemetry.AlertTopic(a.ID)
	if a.State != telemetry.AlertResolved {
		if err := p.Publish(ctx, topic, data, true); err != nil {
			return fmt.Errorf("alerts: publish %s: %w", topic, err)
		}
		return nil
	}
	if err := p.Publish(ctx, topic, data, false); err != nil {
		return fmt.Errorf("alerts: publish %s: %w", topic, err)
	}
	if err := p.Publish(ctx, topic, []byte{}, true); err != nil {
		return fmt.Errorf("alerts: clear %s: %w", topic, err)
	}
	return nil
}

// WebhookName is how metrics and errors name the webhook at index i of
// the configuration: "webhook[i] host:port". The URL's path is left out,
// since some receivers (chat services) hold a secret there.
func WebhookName(i int, rawURL string) string {
	host := "?"
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Host
	}
	return fmt.Sprintf("webhook[%d] %s", i, host)
}

// postAlert POSTs an alert to a webhook (called name in errors). A 2xx is
// success; a 4xx other than 408 and 429 is a refusal; anything else is
// retried.
func postAlert(ctx context.Context, c *http.Client, name string, w Webhook, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(data))
	if err != nil {
		return refusal{fmt.Errorf("alerts: %s: %w", name, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	if w.token != "" {
		req.Header.Set("Authorization", "Bearer "+w.token)
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL
		}
		return fmt.Errorf("alerts: %s: %w", name, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return refusal{fmt.Errorf("alerts: %s: %s", name, resp.Status)}
	default:
		return fmt.Errorf("alerts: %s: %s", name, resp.Status)
	}
}
