package config

import (
	"os"
	"time"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/internal/bundle"
	"github.com/ngic/ngic/internal/yamlconf"
)

// Rollout is the rollout section: where the signed update bundles are,
// the keys they must be signed with, and the URL gateways download them
// from (controller/rollout). Without it, rollouts are refused.
type Rollout struct {
	// Bundles is the folder of the bundle files (a rollout names one of
	// them); the controller serves them at /api/v1/bundles/<sha256>.
	Bundles string `yaml:"bundles"`
	// Keys is the file of the trusted public keys (ngic-fwtool keygen):
	// a bundle signed by no key of it is refused when a rollout is made.
	Keys string `yaml:"keys"`
	// BaseURL is the controller as gateways reach it: https://host:port,
	// or http to a loopback address; a command's URL is it followed by
	// /api/v1/bundles/<sha256>.
	BaseURL string `yaml:"base_url"`
	// Timeout is how long a gateway has, from its command, to report a
	// final step, when a rollout gives none (default rollout.DefaultTimeout).
	Timeout time.Duration `yaml:"timeout"`
}

// RolloutsDir is the folder, in the state folder, of the rollouts' state
// files.
const RolloutsDir = "rollouts"

func (c *Config) validateRollout(doc *yamlconf.Doc) error {
	r := c.Rollout
	if r == nil {
		return nil
	}
	if r.Timeout == 0 {
		r.Timeout = rollout.DefaultTimeout
	}
	switch {
	case r.Bundles == "":
		return doc.Errorf("rollout.bundles", "missing: the folder of the signed bundles")
	case r.Keys == "":
		return doc.Errorf("rollout.keys", "missing: the file of the public keys bundles must be signed with")
	case r.BaseURL == "":
		return doc.Errorf("rollout.base_url", "missing: the controller's URL as gateways reach it (https://host:port)")
	case r.Timeout < rollout.MinTimeout || r.Timeout > rollout.MaxTimeout:
		return doc.Errorf("rollout.timeout", "%v is not within %v..%v", r.Timeout, rollout.MinTimeout, rollout.MaxTimeout)
	}
	if err := rollout.CheckBaseURL(r.BaseURL); err != nil {
		return doc.Errorf("rollout.base_url", "%v", err)
	}
	return nil
}

// checkRolloutHost reads the rollout section's keys and checks its
// bundles folder, as run will.
func (c *Config) checkRolloutHost(doc *yamlconf.Doc) error {
	r := c.Rollout
	if r == nil {
		return nil
	}
	if _, err := bundle.ReadPublicKeys(r.Keys); err != nil {
		return doc.Errorf("rollout.keys", "%v", err)
	}
	if st, err := os.Stat(r.Bundles); err != nil {
		return doc.Errorf("rollout.bundles", "%v", err)
	} else if !st.IsDir() {
		return doc.Errorf("rollout.bundles", "%s is not a folder", r.Bundles)
	}
	return nil
}
