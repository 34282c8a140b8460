package commission

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

// ntpEpoch is 1900-01-01, where NTP time starts.
var ntpEpoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// ntpOffset asks an NTP server (SNTP, RFC 4330) for the time and returns
// how far now is from it (positive: now is ahead).
func ntpOffset(ctx context.Context, server string, timeout time.Duration, now func() time.Time) (time.Duration, error) {
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "123")
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "udp", server)
	if err != nil {
		return 0, fmt.Errorf("commission: ntp %s: %w", server, err)
	}
	defer conn.Close()
	req := make([]byte, 48)
	req[0] = 0x23 // LI 0, version 4, mode 3 (client)
	// A random transmit time, which the answer must echo as its originate
	// time (RFC 4330 §5): an answer to another request, or forged by one
	// who did not see this one, is refused.
	rand.Read(req[40:48])
	t0 := now()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, fmt.Errorf("commission: ntp %s: %w", server, err)
	}
	if _, err := conn.Write(req); err != nil {
		return 0, fmt.Errorf("commission: ntp %s: %w", server, err)
	}
	resp := make([]byte, 128)
	n, err := conn.Read(resp)
	if err != nil {
		return 0, fmt.Errorf("commission: ntp %s: no answer: %w", server, err)
	}
	t3 := now()
	server1, server2, err := parseNTP(resp[:n])
	if err != nil {
		return 0, fmt.Errorf("commission: ntp %s: %w", server, err)
	}
	if !bytes.Equal(resp[24:32], req[40:48]) {
		return 0, fmt.Errorf("commission: ntp %s: not an answer to this request (its originate time is not the request's)", server)
	}
	// offset of the server from us, as RFC 4330 §5: ((T2-T1)+(T3-T4))/2
	off := (server1.Sub(t0) + server2.Sub(t3)) / 2
	return -off, nil
}

// parseNTP returns the receive and transmit times of an NTP server answer
// of a synchronised server.
func parseNTP(b []byte) (recv, xmit time.Time, err error) {
	if len(b) < 48 {
		return time.Time{}, time.Time{}, fmt.Errorf("answer of %d bytes, want 48", len(b))
	}
	if mode := b[0] & 7; mode != 4 {
		return time.Time{}, time.Time{}, fmt.Errorf("answer in mode %d, want 4 (server)", mode)
	}
	switch {
	case b[1] == 0:
		return time.Time{}, time.Time{}, errors.New("kiss-of-death answer (stratum 0)")
	case b[0]>>6 == 3 || b[1] > 15:
		return time.Time{}, time.Time{}, fmt.Errorf("the server's clock is not synchronised (leap indicator %d, stratum %d)", b[0]>>6, b[1])
	case binary.BigEndian.Uint64(b[40:48]) == 0:
		return time.Time{}, time.Time{}, errors.New("answer without a transmit time")
	}
	return ntpTime(b[32:40]), ntpTime(b[40:48]), nil
}

// ntpTime decodes a 64-bit NTP timestamp. Seconds with the top bit clear
// are in the era that starts in 2036 (RFC 4330 §3), so times until 2104
// decode right.
func ntpTime(b []byte) time.Time {
	sec := uint64(binary.BigEndian.Uint32(b[:4]))
	if sec < 1<<31 {
		sec += 1 << 32
	}
	frac := binary.BigEndian.Uint32(b[4:8])
	return ntpEpoch.Add(time.Duration(sec)*time.Second + time.Duration(uint64(frac)*uint64(time.Second)>>32))
}
