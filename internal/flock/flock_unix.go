//go:build unix

package flock

import (
	"errors"
	"os"
	"syscall"
)

// Supported reports whether files are locked here: they are.
const Supported = true

// TryLock takes an exclusive lock on f without waiting, and reports false
// when another open file of the same file holds one, in this process or
// another. The lock goes with f's Close.
func TryLock(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		for {
			lerr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if !errors.Is(lerr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return false, err
	}
	if errors.Is(lerr, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return lerr == nil, lerr
}
