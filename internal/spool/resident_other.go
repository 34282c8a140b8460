//go:build !linux

package spool

import "errors"

// dropResident is not done on this system: the pages stay resident.
func dropResident(uintptr, int64) error {
	return errors.New("spool: dropping resident pages is not supported on this system")
}
