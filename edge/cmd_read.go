package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/link"
	"github.com/ngic/ngic/edge/reading"
)

func init() { commands = append(commands, newReadCmd) }

func newReadCmd() *cobra.Command {
	var (
		device, protocol string
		baud, count      int
		timeout          time.Duration
		opts             rfid.Options
	)
	c := &cobra.Command{
		Use:   "read --device PATH --protocol P",
		Short: "Print each tag read from a reader as one JSON object per line",
		Long: "Opens the reader once (no reconnects) and prints every decoded read as JSON, for field engineers " +
			"checking a reader's wiring. Exits 0 after --count reads, non-zero on a bad device or when --timeout passes first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			proto, err := rfid.Lookup(protocol)
			if err != nil {
				return err
			}
			if baud == 0 {
				baud = proto.DefaultBaud
			}
			port, err := openSerial(device, baud)
			if err != nil {
				return err
			}
			defer port.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			n := 0
			st, err := reading.Run(ctx, port, proto, opts, func(r reading.Line) bool {
				enc.Encode(r)
				n++
				return count <= 0 || n < count
			})
			switch {
			case errors.Is(err, reading.ErrStopped), errors.Is(err, context.Canceled):
				return nil
			case errors.Is(err, context.DeadlineExceeded) && count <= 0:
				return nil // no --count: reading until --timeout is the request
			case errors.Is(err, context.DeadlineExceeded):
				msg := fmt.Sprintf("read %s: %d of %d reads before the %v timeout", device, n, count, timeout)
				if st.BadFrames > 0 || st.SkippedBytes > 0 {
					msg += fmt.Sprintf(" (%d bad frames, %d bytes that were not %s frames: wrong --protocol or --baud?)",
						st.BadFrames, st.SkippedBytes, proto.Name)
				} else if st.Frames == 0 && st.Errors == 0 {
					msg += " (the reader sent nothing: wiring, power, or a reader that waits for another protocol's polls?)"
				}
				return errors.New(msg)
			}
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&device, "device", "", "serial device path (required)")
	f.StringVar(&protocol, "protocol", "", fmt.Sprintf("reader protocol: %v (required)", rfid.Names()))
	f.IntVar(&baud, "baud", 0, "serial speed (default: the protocol's)")
	f.IntVar(&count, "count", 0, "exit 0 after this many reads (0: run until interrupted)")
	f.DurationVar(&timeout, "timeout", 0, "fail when the reads have not come within this time (0: no limit)")
	f.Float64Var(&opts.Power, "power", 0, "UHF transmit power in dBm (0: keep the reader's)")
	f.StringVar(&opts.Region, "region", "", "UHF regulatory region (empty: keep the reader's)")
	c.MarkFlagRequired("device")
	c.MarkFlagRequired("protocol")
	return c
}

// openSerial opens device as a serial port, saying plainly when it is not
// one (a regular file, a directory, /dev/null) instead of the driver's
// "inappropriate ioctl for device".
func openSerial(device string, baud int) (link.Port, error) {
	notTTY := func(what string) error {
		return fmt.Errorf("read: %s is not a serial port (tty): it is %s", device, what)
	}
	fi, err := os.Stat(device)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	switch t := fi.Mode().Type(); {
	case t.IsRegular():
		return nil, notTTY("a regular file")
	case t&fs.ModeDir != 0:
		return nil, notTTY("a directory")
	case t&fs.ModeCharDevice == 0:
		return nil, notTTY(fmt.Sprintf("not a character device (%v)", t))
	}
	port, err := link.OpenSerial(device, baud, 100*time.Millisecond)
	if errors.Is(err, unix.ENOTTY) {
		return nil, notTTY("a character device that is not a terminal")
	}
	return port, err
}
