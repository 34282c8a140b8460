// Command farmsim serves a farm of simulated SNMP devices for the scale
// benchmarks, in its own process so that the simulator's CPU time is not
// counted as the poller's: n communities (scale.Community) spread over the
// named recordings. It prints the address it listens on, then serves until
// its standard input closes or it is signalled.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ngic/ngic/controller/scale"
)

func main() {
	dir := flag.String("recordings", "", "folder of .snmprec files")
	names := flag.String("names", strings.Join(scale.IFMIBRecordings, ","), "recordings to serve, comma-separated")
	n := flag.Int("n", 1000, "number of devices")
	listen := flag.String("listen", "127.0.0.1:0", "UDP address")
	flag.Parse()
	views, err := scale.LoadViews(*dir, strings.Split(*names, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, devs := scale.Farm(views, *n)
	addr, stop, err := scale.Serve(*listen, devs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(addr)
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	stop()
}
