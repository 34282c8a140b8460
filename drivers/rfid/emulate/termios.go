package emulate

import (
	"os"

	"golang.org/x/sys/unix"
)

// speeds maps serial speeds to their termios CBAUD codes.
var speeds = map[int]uint32{
	1200: unix.B1200, 2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600,
	19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200,
	230400: unix.B230400, 460800: unix.B460800, 921600: unix.B921600,
}

// lineSpeed returns the output speed of the terminal f's line settings, or
// 0 when they cannot be read or name no speed of speeds.
func lineSpeed(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	var t *unix.Termios
	if err := rc.Control(func(fd uintptr) { t, err = unix.IoctlGetTermios(int(fd), unix.TCGETS) }); err != nil || t == nil {
		return 0
	}
	code := t.Cflag & unix.CBAUD
	for b, c := range speeds {
		if c == code {
			return b
		}
	}
	return 0
}

// garbage is what a UART reads from a line at another speed: mostly
// framing errors, read as runs of zero and high bits. No reader protocol's
// frame can be made of it.
var garbage = [...]byte{0x00, 0x80, 0xF8, 0x00, 0xE0, 0xFE}

// garble returns what a host at the wrong speed reads for b: a byte of
// garbage for each byte sent.
func garble(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range out {
		out[i] = garbage[i%len(garbage)]
	}
	return out
}
