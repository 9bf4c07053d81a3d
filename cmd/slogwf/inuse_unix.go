//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// journalInUse reports whether a process holds the journal path locked:
// the handler locks a journal with flock while it writes it.
func journalInUse(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
