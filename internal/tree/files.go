package tree

import (
	"bytes"
	"path/filepath"
	"strings"
)

// FileBase returns the start of the file names of a workflow: its name,
// made safe as a file name, and the random end of its ID. Its tree file is
// <base>.json, its journals <base>.<pid>.jsonl.
func FileBase(name, id string) string {
	return safeName(name, 64, "workflow") + "-" + ID8(id)
}

// ID8 returns the end of the ID of a workflow that its file names hold.
func ID8(id string) string {
	return safeName(id[max(0, len(id)-8):], 8, "id")
}

// NameIn returns the workflow name in file, a file name of workflow id,
// or "" when file is not one.
func NameIn(file, id string) string {
	base := filepath.Base(file)
	if i := strings.LastIndex(base, "-"+ID8(id)+"."); i > 0 {
		return base[:i]
	}
	return ""
}

// safeName keeps the bytes of s that are safe in a file name anywhere,
// replaces the others with '_' and cuts the result at n bytes. The result
// never starts with a dot, so it is never "..", nor hidden.
func safeName(s string, n int, empty string) string {
	b := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(b) < n; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.' && len(b) > 0:
		default:
			c = '_'
		}
		b = append(b, c)
	}
	if len(bytes.Trim(b, "_")) == 0 {
		return empty
	}
	return string(b)
}
