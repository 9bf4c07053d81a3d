package main

import (
	"os"
	"slices"
)

// fileSet is a set of files by what they are, not by their names: a file
// named twice (by two paths, or through a link) is one. It is indexed by
// a key of the file (see keyOf), so that adding n files costs O(n), not
// O(n²); os.SameFile tells the files of one key apart.
type fileSet map[fileKey][]os.FileInfo

// add adds the file st, and reports whether it was not in the set.
func (s fileSet) add(st os.FileInfo) bool {
	if s.has(st) {
		return false
	}
	k := keyOf(st)
	s[k] = append(s[k], st)
	return true
}

// has reports whether the file st is in the set.
func (s fileSet) has(st os.FileInfo) bool {
	return slices.ContainsFunc(s[keyOf(st)], func(f os.FileInfo) bool { return os.SameFile(f, st) })
}
