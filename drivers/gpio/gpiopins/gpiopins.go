// Package gpiopins opens a GPIO pin by name on a real gateway.
//
// It initialises periph's host drivers (periph.io/x/host/v3) once per
// process, then looks the pin up in periph's registry (gpioreg). On Linux the
// pins come from the GPIO character-device driver, so names are the ones the
// kernel gives ("GPIO17") or the board's aliases ("P1_11") where periph
// knows the board.
package gpiopins

import (
	"fmt"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

var (
	initOnce sync.Once
	initErr  error
)

// Init loads periph's host drivers. It runs host.Init once per process and
// returns the same result on every call; calling it is optional because Open
// calls it.
func Init() error {
	initOnce.Do(func() {
		if _, err := host.Init(); err != nil {
			initErr = fmt.Errorf("gpiopins: host drivers: %w", err)
		}
	})
	return initErr
}

// Open returns the pin registered under name after loading the host drivers.
//
// The name is matched as periph matches it: exact pin name, alias, or pin
// number. When no pin has that name the error names it and says how many pins
// the host drivers registered (zero on a machine without a GPIO chip).
func Open(name string) (gpio.PinIO, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("gpiopins: empty pin name")
	}
	if err := Init(); err != nil {
		return nil, err
	}
	p := gpioreg.ByName(name)
	if p == nil {
		n := len(gpioreg.All())
		return nil, fmt.Errorf("gpiopins: pin %q not found among the %d GPIO pins registered on this host", name, n)
	}
	return p, nil
}
