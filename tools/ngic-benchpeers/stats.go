package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Spread is the median, least and greatest of a series of figures, one per
// round.
type Spread struct{ Median, Min, Max float64 }

// Summarize returns the spread of xs; NaN figures (a round that gave none)
// are left out, and an empty series gives NaN throughout.
func Summarize(xs []float64) Spread {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Spread{math.NaN(), math.NaN(), math.NaN()}
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Spread{Median: m, Min: v[0], Max: v[len(v)-1]}
}

// Ratios divides a by b round by round: the ratio of two interleaved runs
// is taken within each round, so that a load that changes between rounds
// weighs on both.
func Ratios(a, b []float64) []float64 {
	r := make([]float64, min(len(a), len(b)))
	for i := range r {
		r[i] = a[i] / b[i]
		if b[i] == 0 {
			r[i] = math.NaN()
		}
	}
	return r
}

// Row is one line of the table: a figure per round and, when Ratio is set,
// its ratio to another row per round.
type Row struct {
	// Name says what ran; Unit what the figure is.
	Name, Unit string
	// Values holds one figure per round.
	Values []float64
	// Ratio holds one ratio per round, and RatioTo what it divides by;
	// both empty when the row has no ratio.
	Ratio   []float64
	RatioTo string
}

// Table renders rows as a Markdown table of medians and min-max over the
// rounds.
func Table(rows []Row) string {
	var b strings.Builder
	b.WriteString("| what | unit | median | min-max | ratio (median, min-max) |\n")
	b.WriteString("| --- | --- | ---: | ---: | --- |\n")
	for _, r := range rows {
		s := Summarize(r.Values)
		ratio := ""
		if r.RatioTo != "" {
			q := Summarize(r.Ratio)
			ratio = fmt.Sprintf("%s (%s-%s) of %s", num(q.Median), num(q.Min), num(q.Max), r.RatioTo)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s-%s | %s |\n", r.Name, r.Unit, num(s.Median), num(s.Min), num(s.Max), ratio)
	}
	return b.String()
}

// num formats a figure with three significant digits, or "n/a".
func num(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "n/a"
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}
