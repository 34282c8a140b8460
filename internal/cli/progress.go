package cli

import (
	"fmt"
	"io"
	"time"
)

// Progress is one line of progress on a terminal: each Update rewrites it
// in place (a carriage return, then the text) and End closes it with a
// line break. A Progress is not safe for concurrent use: its caller
// serialises the updates.
type Progress struct {
	w     io.Writer // nil: silent
	every time.Duration
	now   func() time.Time
	shown bool
	last  time.Time // when the line was last written
}

// NewProgress returns a progress line written to w whatever w is,
// rewritten at most once every every (0: at each Update); see
// TerminalProgress for the line that only a terminal shows.
func NewProgress(w io.Writer, every time.Duration) *Progress {
	return &Progress{w: w, every: every, now: time.Now}
}

// TerminalProgress returns NewProgress(w, every) when w is a terminal
// (IsTerminal), else a progress line that writes nothing: a pipe or a file
// gets no carriage returns mixed into what it keeps.
func TerminalProgress(w io.Writer, every time.Duration) *Progress {
	if !IsTerminal(w) {
		w = nil
	}
	return NewProgress(w, every)
}

// Update rewrites the line with the text of format and args: the first
// update, a final one (final true: the last figures must be seen) and
// otherwise at most one every the interval given to NewProgress; the
// others are dropped, so that a slow terminal never holds up the work.
func (p *Progress) Update(final bool, format string, args ...any) {
	if p.w == nil {
		return
	}
	now := p.now()
	if p.shown && !final && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\r"+format, args...)
	p.shown = true
}

// End closes the line with a line break, if one was shown; the next
// Update starts a new line.
func (p *Progress) End() {
	if p.w != nil && p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}
