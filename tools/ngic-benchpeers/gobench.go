package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// ParseBench returns the metrics of the first result line of benchmark
// name in go test -bench output (a -N GOMAXPROCS suffix and sub-benchmark
// names aside): unit to value, ns/op included.
func ParseBench(out []byte, name string) (map[string]float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || (f[0] != name && !strings.HasPrefix(f[0], name+"-")) {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // a log line that starts with the name
		}
		m := make(map[string]float64)
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchpeers: %s: figure %q is not a number", name, f[i])
			}
			m[f[i+1]] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("benchpeers: no result line for %s in the output", name)
}

// GoBench runs one benchmark of a compiled test binary (go test -c) in
// dir, benchtime being a count such as "3x", with env (KEY=value) added
// to its environment, and returns its metrics.
func GoBench(bin, dir, name, benchtime string, env ...string) (map[string]float64, error) {
	cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", "^"+name+"$", "-test.benchtime", benchtime, "-test.count", "1")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NGIC_REQUIRE_PEERS=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("benchpeers: %s %s: %w\n%s", bin, name, err, out)
	}
	return ParseBench(out, name)
}

// metric returns m[unit], or an error naming the benchmark when absent.
func metric(m map[string]float64, name, unit string) (float64, error) {
	v, ok := m[unit]
	if !ok {
		return 0, fmt.Errorf("benchpeers: %s reported no %s", name, unit)
	}
	return v, nil
}
