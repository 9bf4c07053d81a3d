//go:build !linux

package slogwf

// preallocate reserves nothing outside Linux.
func preallocate(journalFile, int64) bool { return false }
