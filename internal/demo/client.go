package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// client calls one HTTP server of the demo: the controller's API (with
// the token), the simulator's lab control, or a gateway's lab control on a
// unix socket.
type client struct {
	base  string
	token string
	http  *http.Client
}

// newClient calls base (http://host:port) with token (empty: none).
func newClient(base, token string) *client {
	return &client{base: base, token: token, http: &http.Client{Timeout: 10 * time.Second}}
}

// newUnixClient calls the server listening on the unix socket path.
func newUnixClient(path string) *client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &client{base: "http://lab", http: &http.Client{Timeout: 10 * time.Second, Transport: tr}}
}

// do sends method path and decodes a 200 answer's JSON into v (nil:
// ignore the body).
func (c *client) do(ctx context.Context, method, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if v == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// gatewayState is the part of the API's gateway the demo reads.
type gatewayState struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// gatewaysOnline returns how many of names the controller has online.
func (c *client) gatewaysOnline(ctx context.Context, names []string) (int, error) {
	var page struct {
		Items []gatewayState `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/gateways?limit=1000", &page); err != nil {
		return 0, err
	}
	n := 0
	for _, g := range page.Items {
		for _, name := range names {
			if g.Name == name && g.State == "online" {
				n++
			}
		}
	}
	return n, nil
}

// openAlert returns the controller's open alert of rule on the subject id,
// or nil.
func (c *client) openAlert(ctx context.Context, rule, id string) (*telemetry.Alert, error) {
	var page struct {
		Items []telemetry.Alert `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/alerts?state=open&limit=1000", &page); err != nil {
		return nil, err
	}
	for i, a := range page.Items {
		if a.Rule == rule && a.Subject.ID == id {
			return &page.Items[i], nil
		}
	}
	return nil, nil
}

// setPin drives a gateway's lab pin to level ("low" or "high").
func (c *client) setPin(ctx context.Context, pin, level string) error {
	return c.do(ctx, http.MethodPost, "/pins/"+url.PathEscape(pin)+"?level="+level, nil)
}

// setAgent takes the simulator's agent of a device down, or brings it up.
func (c *client) setAgent(ctx context.Context, community string, down bool) error {
	state := "up"
	if down {
		state = "down"
	}
	return c.do(ctx, http.MethodPost, "/agents/"+url.PathEscape(community)+"/"+state, nil)
}
