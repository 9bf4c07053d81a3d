//go:build !linux

package slogwf

// mapSegment returns f: outside Linux, segments are written with write(2).
func mapSegment(f journalFile, _ int64, _ bool) journalFile { return f }

// unmapSegment has no mapping to end outside Linux.
func unmapSegment(journalFile) error { return nil }
