// Command misbehave stands in for a broken new version in the update tests:
// built with -ldflags "-X main.mode=crash|hang|unhealthy".
package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

var mode = "crash"

func main() {
	switch mode {
	case "hang": // ignores SIGTERM, never healthy
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		for {
			time.Sleep(time.Hour)
		}
	case "unhealthy": // runs and stops on SIGTERM, never healthy
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		<-c
	default:
		os.Exit(3)
	}
}
