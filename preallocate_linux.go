package slogwf

import (
	"os"
	"syscall"
)

// preallocate reserves size bytes of disk for f, an *os.File, and reports
// whether it did: the file is then size bytes long.
func preallocate(f journalFile, size int64) bool {
	file, ok := f.(*os.File)
	if !ok || size <= 0 {
		return false
	}
	return syscall.Fallocate(int(file.Fd()), 0, 0, size) == nil
}
