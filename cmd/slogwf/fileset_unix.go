//go:build unix

package main

import (
	"os"
	"syscall"
)

// fileKey is a file's device and inode: what os.SameFile compares.
type fileKey struct{ dev, ino uint64 }

func keyOf(st os.FileInfo) fileKey {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return fileKey{uint64(s.Dev), uint64(s.Ino)} // their types differ between systems
	}
	return fileKey{}
}
