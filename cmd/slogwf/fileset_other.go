//go:build !unix

package main

import "os"

// fileKey is empty here: a file's identity is not in its os.FileInfo, and
// its size or mod time may change between two looks at a live journal.
// All files share one key, and os.SameFile compares them all.
type fileKey struct{}

func keyOf(os.FileInfo) fileKey { return fileKey{} }
