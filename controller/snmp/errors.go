package snmp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/gosnmp/gosnmp"
)

// Errors a Session's requests wrap; test them with errors.Is.
var (
	// ErrTimeout: the device did not answer in time. For v1 and v2c this is
	// also what a wrong community looks like, since agents drop such
	// requests silently. A context deadline reached during a request wraps
	// both ErrTimeout and context.DeadlineExceeded.
	ErrTimeout = errors.New("snmp: no answer (timeout or unknown community)")
	// ErrAuth: SNMPv3 authentication or privacy failed (wrong
	// authentication password: usmStatsWrongDigests; wrong privacy password:
	// usmStatsDecryptionErrors or an undecryptable answer; security level
	// not supported; unknown user).
	ErrAuth = errors.New("snmp: v3 authentication failed")
	// ErrUnknownUser: the agent does not know the v3 user
	// (usmStatsUnknownUserNames). Errors wrapping it also wrap ErrAuth.
	ErrUnknownUser = errors.New("snmp: v3 user unknown to the agent")
)

// WalkWarning says why one root of a Walk ended early: the agent misbehaved
// (a non-increasing OID, the same OID again, an empty answer, an error
// status) or the per-walk call cap was reached. What was fetched before
// stays in the result.
type WalkWarning struct {
	// Target is the device ("host:port").
	Target string
	// Root is the walk root as the caller gave it.
	Root string
	// OID is the offending OID, or the last one fetched for a cap.
	OID string
	// Reason says what went wrong.
	Reason string
}

// Error implements error.
func (w *WalkWarning) Error() string {
	return fmt.Sprintf("snmp: walk %s root %s: %s (at %s)", w.Target, w.Root, w.Reason, w.OID)
}

// classify wraps a gosnmp error with the package's sentinels and names the
// target and the operation.
func classify(ctx context.Context, target, op string, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("snmp: %s: %s: %w (%w)", target, op, ErrTimeout, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("snmp: %s: %s: %w", target, op, context.Canceled)
	case errors.Is(err, gosnmp.ErrUnknownUsername):
		return fmt.Errorf("snmp: %s: %s: %w: %w", target, op, ErrAuth, ErrUnknownUser)
	case errors.Is(err, gosnmp.ErrWrongDigest):
		return fmt.Errorf("snmp: %s: %s: %w: wrong authentication password or protocol (usmStatsWrongDigests)", target, op, ErrAuth)
	case errors.Is(err, gosnmp.ErrDecryption):
		return fmt.Errorf("snmp: %s: %s: %w: wrong privacy password or protocol (usmStatsDecryptionErrors)", target, op, ErrAuth)
	case errors.Is(err, gosnmp.ErrUnknownSecurityLevel):
		return fmt.Errorf("snmp: %s: %s: %w: security level not supported for this user (usmStatsUnsupportedSecLevels)", target, op, ErrAuth)
	case isAuthText(err):
		return fmt.Errorf("snmp: %s: %s: %w: %v", target, op, ErrAuth, err)
	case isTimeout(err):
		return fmt.Errorf("snmp: %s: %s: %w: %v", target, op, ErrTimeout, err)
	}
	return fmt.Errorf("snmp: %s: %s: %w", target, op, err)
}

// isTimeout recognises gosnmp's timeouts, which it reports as text.
func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || errors.Is(err, syscall.ECONNREFUSED) {
		return true // a refused UDP port (ICMP unreachable) is no answer too
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return strings.Contains(err.Error(), "timeout")
}

// isAuthText recognises the v3 failures gosnmp reports only as text: an
// answer whose digest or encryption does not match our keys.
func isAuthText(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "not authentic") || strings.Contains(s, "decrypt")
}

// engineStale reports whether a v3 failure may come from a rebooted agent
// (new engine ID, boots or time) so that re-discovery could cure it.
func engineStale(err error) bool {
	return errors.Is(err, gosnmp.ErrNotInTimeWindow) || errors.Is(err, gosnmp.ErrUnknownEngineID) ||
		errors.Is(err, gosnmp.ErrWrongDigest) || errors.Is(err, gosnmp.ErrDecryption) ||
		isAuthText(err) || isTimeout(err)
}
