package spool

import "syscall"

// dropResident drops the resident pages of the size bytes of a read-only
// shared file map at addr (madvise MADV_DONTNEED); their contents stay in
// the page cache.
func dropResident(addr uintptr, size int64) error {
	if size <= 0 {
		return nil
	}
	if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED); e != 0 {
		return e
	}
	return nil
}
