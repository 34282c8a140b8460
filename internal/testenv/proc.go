package testenv

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPUTime returns the CPU time this process has used so far, user and
// system (getrusage), for benchmarks that report CPU rather than wall
// time.
func CPUTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// StatusKB returns a field of this process's /proc/self/status given in
// kB, such as VmHWM (the peak resident set), VmRSS or RssAnon.
func StatusKB(field string) (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("testenv: /proc/self/status %s: %w", field, err)
			}
			return kb, nil
		}
	}
	return 0, fmt.Errorf("testenv: no %s in /proc/self/status", field)
}
