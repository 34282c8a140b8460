package snmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/gosnmp/gosnmp"
)

// Errors a Session's requests wrap; test them with errors.Is. A request's
// error reads "snmp: OP: WHAT: DETAIL" and does not name the target: the
// caller, which knows which device it asked, names it once.
var (
	// ErrTimeout: the device did not answer in time. For v1 and v2c this is
	// also what a wrong community looks like, since agents drop such
	// requests silently. A context deadline reached during a request wraps
	// both ErrTimeout and context.DeadlineExceeded.
	ErrTimeout = errors.New("snmp: no answer (timeout or unknown community)")
	// ErrRefused: the device's host refused the UDP port (ICMP port
	// unreachable): no agent listens there. Errors wrapping it also wrap
	// ErrTimeout, since the device did not answer either.
	ErrRefused = errors.New("snmp: port refused (ICMP port unreachable): no agent listening")
	// ErrAuth: SNMPv3 authentication failed (wrong authentication password:
	// usmStatsWrongDigests; security level not supported; unknown user).
	// Privacy failures (ErrPriv) wrap it too.
	ErrAuth = errors.New("snmp: v3 authentication failed")
	// ErrPriv: SNMPv3 privacy failed: wrong privacy password or protocol
	// (usmStatsDecryptionErrors, an undecryptable answer, or an agent that
	// answers discovery but drops the encrypted request). Errors wrapping it
	// also wrap ErrAuth.
	ErrPriv = errors.New("snmp: v3 privacy failed")
	// ErrUnknownUser: the agent does not know the v3 user
	// (usmStatsUnknownUserNames). Errors wrapping it also wrap ErrAuth.
	ErrUnknownUser = errors.New("snmp: v3 user unknown to the agent")
	// ErrBadAnswer: a request failed other than by silence or security,
	// after the transport's retries: the answer could not be decoded (a
	// garbage datagram, a malformed value), the agent reported an SNMP
	// engine error, or the request could not be built from what the agent
	// returned before. A Walk does not fail with it: it cuts the root
	// behind it with a warning and goes on.
	ErrBadAnswer = errors.New("snmp: answer could not be used")
)

// kindError is a classified request failure: one line of text and the
// sentinels (and cause) errors.Is finds behind it.
type kindError struct {
	msg   string
	kinds []error
}

func (e *kindError) Error() string   { return e.msg }
func (e *kindError) Unwrap() []error { return e.kinds }

// failure builds "snmp: OP: KIND: DETAIL" for the first sentinel of kinds
// (its "snmp: " prefix dropped so it appears once), wrapping all of kinds.
func failure(op, detail string, kinds ...error) error {
	msg := "snmp: " + op + ": " + strings.TrimPrefix(kinds[0].Error(), "snmp: ")
	if detail != "" {
		msg += ": " + detail
	}
	return &kindError{msg: msg, kinds: kinds}
}

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
	// Truncated is set when the walk stopped before the agent ended the
	// root (the row bound, the call cap, the deadline, an answer that
	// could not be used, an agent that stopped answering, or an error
	// status such as genErr): the table may hold more rows than were kept.
	// It is unset when the agent itself ended the root badly (a
	// non-increasing OID, the same OID again): what it returned is all it
	// tells.
	Truncated bool
}

// Error implements error.
func (w *WalkWarning) Error() string {
	return fmt.Sprintf("snmp: walk %s root %s: %s (at %s)", w.Target, w.Root, w.Reason, w.OID)
}

// Truncated reports whether any of warnings is a *WalkWarning whose root
// was cut short (WalkWarning.Truncated): a document built from that walk
// holds a prefix of some table, not the whole of it.
func Truncated(warnings []error) bool {
	for _, w := range warnings {
		var ww *WalkWarning
		if errors.As(w, &ww) && ww.Truncated {
			return true
		}
	}
	return false
}

// classify wraps a gosnmp error with the package's sentinels and names the
// operation.
func classify(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return failure(op, "deadline reached", ErrTimeout, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("snmp: %s: %w", op, context.Canceled)
	case errors.Is(err, gosnmp.ErrUnknownUsername):
		return failure(op, "usmStatsUnknownUserNames", ErrUnknownUser, ErrAuth)
	case errors.Is(err, gosnmp.ErrWrongDigest):
		return failure(op, "wrong authentication password or protocol (usmStatsWrongDigests)", ErrAuth)
	case errors.Is(err, gosnmp.ErrDecryption):
		return failure(op, "wrong privacy password or protocol (usmStatsDecryptionErrors)", ErrPriv, ErrAuth)
	case errors.Is(err, gosnmp.ErrUnknownSecurityLevel):
		return failure(op, "security level not supported for this user (usmStatsUnsupportedSecLevels)", ErrAuth)
	case isAuthText(err) && strings.Contains(err.Error(), "decrypt"):
		return failure(op, "wrong privacy password or protocol: "+err.Error(), ErrPriv, ErrAuth)
	case isAuthText(err):
		return failure(op, err.Error(), ErrAuth)
	case errors.Is(err, syscall.ECONNREFUSED):
		return failure(op, "", ErrRefused, ErrTimeout)
	case isTimeout(err):
		return failure(op, err.Error(), ErrTimeout)
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return fmt.Errorf("snmp: %s: %w", op, err) // the socket failed, not the answer
	}
	// What remains is about the answer (gosnmp tells decoding and encoding
	// failures only as text).
	return failure(op, err.Error(), ErrBadAnswer, err)
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
