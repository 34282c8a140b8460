// Package brokerurl checks and shows MQTT broker URLs: the schemes paho
// accepts, which of them use TLS, and user information (credentials) that
// must never be in a URL nor shown.
//
// Its errors name the URL (never its user information) and are meant to be
// wrapped by the caller, which names the setting or option at fault.
package brokerurl

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Schemes of broker URLs, by whether they use TLS.
var (
	plainSchemes = []string{"tcp", "mqtt", "ws"}
	tlsSchemes   = []string{"ssl", "tls", "mqtts", "wss"}
)

// Check checks a broker URL: no credentials in it (see HasUserinfo), a
// known scheme, a host, no query or fragment, and TLS settings only for a
// TLS scheme (withTLS tells whether any are given). Its errors show the URL
// only as Redact does, so they never contain a secret put in it.
func Check(broker string, withTLS bool) error {
	if HasUserinfo(broker) {
		return fmt.Errorf("broker URL %s carries credentials (user:password@); give the username and password separately",
			Redact(broker))
	}
	shown := Redact(broker)
	u, err := url.Parse(broker)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("broker URL %q: %v", shown, err)
	}
	var isTLS bool
	switch {
	case slices.Contains(plainSchemes, u.Scheme):
	case slices.Contains(tlsSchemes, u.Scheme):
		isTLS = true
	default:
		return fmt.Errorf("broker URL %q: scheme %q is not one of %s", shown, u.Scheme,
			strings.Join(slices.Concat(plainSchemes, tlsSchemes), ", "))
	}
	if u.Host == "" {
		return fmt.Errorf("broker URL %q has no host", shown)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// A query is where tokens and passwords go (?password=...); paho
		// ignores both on TCP and TLS.
		return fmt.Errorf("broker URL %q has a query or fragment (?... or #...): remove it; credentials are given separately", shown)
	}
	if withTLS && !isTLS {
		return fmt.Errorf("broker URL %q is plaintext (%s://) but TLS settings are given: they would be ignored and everything sent in the clear; use %s",
			shown, u.Scheme, strings.Join(tlsSchemes, "://, ")+"://")
	}
	return nil
}

// IsTLS tells whether a broker URL's scheme uses TLS.
func IsTLS(broker string) bool {
	scheme, _, ok := strings.Cut(broker, "://")
	return ok && slices.Contains(tlsSchemes, strings.ToLower(scheme))
}

// HasUserinfo tells whether a URL (parsable or not) may carry user
// information (user@ or user:password@): whether it holds an '@' anywhere.
// A password holding '/', '?' or '#' ends the URL's authority early, so
// its '@' lands in what parses as the path ("tcp://u:pa/ss@h" is host "u",
// path "/ss@h"); a broker URL has no other use for an '@'.
func HasUserinfo(s string) bool {
	return strings.Contains(s, "@")
}

// Redact returns the URL s in a form fit for logs, errors and status
// pages: everything up to its last '@' after the scheme (user information,
// or what may be a password cut by a '/', '?' or '#') is replaced by
// "REDACTED@", and a query or fragment by "?REDACTED". It works on text
// that does not parse as a URL too.
func Redact(s string) string {
	prefix, rest := "", s
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		prefix, rest = prefix+"REDACTED@", rest[at+1:]
	}
	if q := strings.IndexAny(rest, "?#"); q >= 0 {
		rest = rest[:q] + "?REDACTED"
	}
	return prefix + rest
}
