package demo

import (
	"fmt"
	"net"
)

// freeTCP returns a loopback address with a TCP port free now.
func freeTCP() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo: a free TCP port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// freeUDP returns a UDP port free now on the loopback address.
func freeUDP() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("demo: a free UDP port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// httpAddr returns want when its port is free, else a free port's
// address on loopback. want must be a loopback address: the demo's
// dashboard is for this machine only.
func httpAddr(want string) (string, error) {
	host, _, err := net.SplitHostPort(want)
	if err != nil {
		return "", fmt.Errorf("demo: dashboard address %q: %w", want, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("demo: dashboard address %q is not a loopback address: the demo serves this machine only", want)
	}
	l, err := net.Listen("tcp", want)
	if err != nil {
		return freeTCP()
	}
	l.Close()
	return want, nil
}
