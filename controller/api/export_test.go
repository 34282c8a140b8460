package api

// CountCompares makes the token comparison count its calls into n, until
// the returned function restores it.
func CountCompares(n *int) (restore func()) {
	prev := constantTimeEqual
	constantTimeEqual = func(a, b []byte) int {
		*n++
		return prev(a, b)
	}
	return func() { constantTimeEqual = prev }
}

// DecodeCursor and EncodeCursor are the cursor's codec.
var (
	DecodeCursor = decodeCursor
	EncodeCursor = encodeCursor
)

// SetConvergenceLimits lowers MaxConvergenceRegions and MaxFineFigures
// until the returned function restores them.
func SetConvergenceLimits(regions, fine int) (restore func()) {
	r, f := maxConvergenceRegions, maxFineFigures
	maxConvergenceRegions, maxFineFigures = regions, fine
	return func() { maxConvergenceRegions, maxFineFigures = r, f }
}
