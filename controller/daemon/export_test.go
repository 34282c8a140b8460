package daemon

// HoldCoverage makes each coverage computation of d, once started, tell
// started and wait until release is closed. Call it before Run.
func HoldCoverage(d *Daemon, started chan<- struct{}, release <-chan struct{}) {
	d.cov.computing = func() {
		started <- struct{}{}
		<-release
	}
}
