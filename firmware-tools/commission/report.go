package commission

import (
	"encoding/json"
	"fmt"
	"io"
)

// Report is the outcome of a commissioning run.
type Report struct {
	// Checks are the checks in the order they ran.
	Checks []Check `json:"checks"`
	// Failed counts the checks that failed; a skipped one is no failure.
	Failed int `json:"failed"`
	// Skipped counts the checks not made (Skip).
	Skipped int `json:"skipped"`
}

// NewReport counts the failures of checks.
func NewReport(checks []Check) Report {
	r := Report{Checks: checks}
	for _, c := range checks {
		switch c.Status {
		case Fail:
			r.Failed++
		case Skip:
			r.Skipped++
		}
	}
	return r
}

// WriteText writes a line per check, "ok", "FAIL" or "skip", its name and
// what was found, and under a failure or a skip what to do.
func (r Report) WriteText(w io.Writer) error {
	for _, c := range r.Checks {
		mark := "ok  "
		switch c.Status {
		case Fail:
			mark = "FAIL"
		case Skip:
			mark = "skip"
		}
		if _, err := fmt.Fprintf(w, "%s  %s: %s\n", mark, c.Name, c.Detail); err != nil {
			return fmt.Errorf("commission: report: %w", err)
		}
		if c.Fix != "" {
			if _, err := fmt.Fprintf(w, "      -> %s\n", c.Fix); err != nil {
				return fmt.Errorf("commission: report: %w", err)
			}
		}
	}
	skipped := ""
	if r.Skipped > 0 {
		skipped = fmt.Sprintf(", %d skipped", r.Skipped)
	}
	_, err := fmt.Fprintf(w, "%d checks, %d failed%s\n", len(r.Checks), r.Failed, skipped)
	if err != nil {
		return fmt.Errorf("commission: report: %w", err)
	}
	return nil
}

// WriteJSON writes the report as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	if err := e.Encode(r); err != nil {
		return fmt.Errorf("commission: report: %w", err)
	}
	return nil
}
