package commission

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// ErrHeld is returned when another process holds a port: the probe does
// not take a port from whoever has it open.
var ErrHeld = errors.New("commission: port held by another process")

// ErrNoUART is returned for a ttyS device without a UART behind it.
var ErrNoUART = errors.New("commission: no UART behind the device")

// ErrNotSerial is returned for a device that is not a terminal.
var ErrNotSerial = errors.New("commission: not a serial port")

// Holder is a process that has a port open.
type Holder struct {
	// PID is the process id.
	PID int `json:"pid"`
	// Command is the process's command name.
	Command string `json:"command"`
}

// String is "name (pid N)".
func (h Holder) String() string { return fmt.Sprintf("%s (pid %d)", h.Command, h.PID) }

// speeds maps serial speeds to their termios CBAUD codes.
var speeds = map[int]uint32{
	1200: unix.B1200, 2400: unix.B2400, 4800: unix.B4800, 9600: unix.B9600,
	19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200,
	230400: unix.B230400, 460800: unix.B460800, 921600: unix.B921600,
}

// port is a serial port opened exclusively for probing.
type port struct {
	f *os.File
}

// openPort opens path for probing, refusing a port another process holds:
// one with TIOCEXCL set (open fails with EBUSY), one locked with flock (as
// lockdev-style tools do), or one any other process has open (found in
// /proc: the edge's serial driver takes no lock). While open, the port is
// flocked and TIOCEXCL is set, so that a second prober is refused too.
func openPort(path, procDir string) (*port, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.EBUSY):
		return nil, fmt.Errorf("%w: %s is opened exclusively", ErrHeld, path)
	case errors.Is(err, unix.EIO) || errors.Is(err, unix.ENXIO):
		return nil, fmt.Errorf("%w: %s: %v", ErrNoUART, path, err)
	case err != nil:
		return nil, fmt.Errorf("commission: open %s: %w", path, err)
	}
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s: %v", ErrNotSerial, path, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s is locked (flock)", ErrHeld, path)
	}
	if hs := holders(procDir, fd); len(hs) > 0 {
		unix.Close(fd)
		names := make([]string, len(hs))
		for i, h := range hs {
			names[i] = h.String()
		}
		return nil, fmt.Errorf("%w: %s is open in %s", ErrHeld, path, strings.Join(names, ", "))
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("commission: %s: exclusive mode: %w", path, err)
	}
	return &port{f: os.NewFile(uintptr(fd), path)}, nil
}

// holders returns the other processes that have the terminal open on fd
// open, leaving out this process and the owner of a pseudo-terminal's
// master side (an emulator or a terminal window, not a user of the port).
func holders(procDir string, fd int) []Holder {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return nil
	}
	ptyIndex := -1
	if unix.Major(st.Rdev) >= 136 && unix.Major(st.Rdev) <= 143 { // Unix98 pty slaves
		ptyIndex = int(unix.Major(st.Rdev)-136)<<8 | int(unix.Minor(st.Rdev))
	}
	procs, _ := os.ReadDir(procDir)
	var out []Holder
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		fdDir := filepath.Join(procDir, p.Name(), "fd")
		fds, _ := os.ReadDir(fdDir)
		has, master := false, false
		for _, e := range fds {
			var s unix.Stat_t
			if unix.Stat(filepath.Join(fdDir, e.Name()), &s) != nil {
				continue
			}
			if s.Mode&unix.S_IFMT == unix.S_IFCHR && s.Rdev == st.Rdev {
				has = true
			}
			if ptyIndex >= 0 && masterOf(procDir, p.Name(), e.Name()) == ptyIndex {
				master = true
			}
		}
		if has && !master {
			comm, _ := os.ReadFile(filepath.Join(procDir, p.Name(), "comm"))
			out = append(out, Holder{PID: pid, Command: strings.TrimSpace(string(comm))})
		}
	}
	return out
}

// masterOf returns the index of the pseudo-terminal whose master side the
// process's fd is, or -1.
func masterOf(procDir, pid, fd string) int {
	b, err := os.ReadFile(filepath.Join(procDir, pid, "fdinfo", fd))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "tty-index:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return -1
}

// setSpeed puts the port in raw 8N1 mode at baud and discards what it had
// received.
func (p *port) setSpeed(baud int) error {
	code, ok := speeds[baud]
	if !ok {
		return fmt.Errorf("commission: baud %d is not a terminal speed", baud)
	}
	rc, err := p.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("commission: %s: %w", p.f.Name(), err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		var t *unix.Termios
		if t, serr = unix.IoctlGetTermios(int(fd), unix.TCGETS); serr != nil {
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD
		t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL | code
		t.Ispeed, t.Ospeed = uint32(baud), uint32(baud)
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		if serr = unix.IoctlSetTermios(int(fd), unix.TCSETSF, t); serr != nil {
			return
		}
		serr = unix.IoctlSetInt(int(fd), unix.TCFLSH, unix.TCIOFLUSH)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("commission: %s at %d baud: %w", p.f.Name(), baud, err)
	}
	return nil
}

// exchange sends the prober's question and feeds it what arrives until it
// recognises an answer or wait passes without one.
func (p *port) exchange(pr prober, wait time.Duration, r *Reader) (bool, error) {
	send := pr.query()
	buf := make([]byte, 512)
	deadline := time.Now().Add(wait)
	for {
		if len(send) > 0 {
			if _, err := p.f.Write(send); err != nil {
				return false, fmt.Errorf("commission: write %s: %w", p.f.Name(), err)
			}
			send = nil
		}
		if err := p.f.SetReadDeadline(deadline); err != nil {
			return false, fmt.Errorf("commission: %s: %w", p.f.Name(), err)
		}
		n, err := p.f.Read(buf)
		if n > 0 && pr.feed(buf[:n], r) {
			return true, nil
		}
		if f, ok := pr.(interface{ followUp() []byte }); ok {
			send = f.followUp()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("commission: read %s: %w", p.f.Name(), err)
		}
	}
}

// close releases the port (and its lock).
func (p *port) close() error { return p.f.Close() }
