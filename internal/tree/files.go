package tree

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The files of a directory of workflows (Options.Dir):
//
//	<name>-<id>.json                      the tree of one workflow
//	journal/<time>-<pid>-<random>.jsonl   a journal segment of one process
//
// <id> is the whole workflow ID, so no two workflows share a tree file;
// journal segments are created exclusively by the one process that
// writes them.

// JournalDir is the directory of the journal segments, in Dir.
const JournalDir = "journal"

// idLen is the length of the ID part of a tree file's name: a UUID's.
const idLen = 36

// FileBase returns a tree file's name without ".json": the workflow name,
// made safe as a file name, and its whole ID (see FileID).
func FileBase(name, id string) string {
	return safeName(name, 32, "workflow") + "-" + FileID(id)
}

// TreeFileName returns the name of the tree file of workflow id.
func TreeFileName(name, id string) string { return FileBase(name, id) + ".json" }

// FileID returns the part of a tree file's name that stands for workflow
// id: the ID itself when it is a UUID, as the handler makes them, and
// otherwise "x" and the start of its SHA-256, as long, so that any two IDs
// give two names.
func FileID(id string) string {
	if isUUID(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "x" + hex.EncodeToString(sum[:])[:idLen-1]
}

// isUUID reports whether id is a UUID in its 36-character text form.
func isUUID(id string) bool { return len(id) == idLen && uuid.Validate(id) == nil }

// ParseTreeFile returns the workflow name and the FileID part of the name
// of a tree file, or ok false when file is not named as one.
func ParseTreeFile(file string) (name, fileID string, ok bool) {
	base, found := strings.CutSuffix(filepath.Base(file), ".json")
	if !found || len(base) < idLen+2 || base[len(base)-idLen-1] != '-' {
		return "", "", false
	}
	name, fileID = base[:len(base)-idLen-1], base[len(base)-idLen:]
	if !isUUID(fileID) && (fileID[0] != 'x' || strings.Trim(fileID[1:], "0123456789abcdef") != "") {
		return "", "", false
	}
	return name, fileID, true
}

// NameIn returns the workflow name in file, the name of a tree file of
// workflow id or of a journal of an earlier layout
// (<name>-<last 8 characters of the ID>.<pid>.jsonl), or "" when file is
// neither.
func NameIn(file, id string) string {
	if name, fid, ok := ParseTreeFile(file); ok && fid == FileID(id) {
		return name
	}
	id8 := safeName(id[max(0, len(id)-8):], 8, "id")
	base := filepath.Base(file)
	if i := strings.LastIndex(base, "-"+id8+"."); i > 0 && strings.HasSuffix(base, ".jsonl") {
		return base[:i]
	}
	return ""
}

// journalTime is the layout of the time in the name of a journal segment.
const journalTime = "20060102T150405.000Z"

// JournalName returns the name, in JournalDir, of a journal segment that
// process pid creates at time t: its time, in UTC to the millisecond,
// sorts the segments of a directory by their start, and token, drawn once
// per process, tells the process from another of the same pid (see
// JournalProcess).
func JournalName(t time.Time, pid int, token uint32) string {
	b := t.UTC().AppendFormat(nil, journalTime)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, '-')
	b = hex.AppendEncode(b, []byte{byte(token >> 16), byte(token >> 8), byte(token)})
	return string(append(b, ".jsonl"...))
}

// JournalTime returns the time in the name of a journal segment, and
// false when the name holds none.
func JournalTime(file string) (time.Time, bool) {
	base := filepath.Base(file)
	if len(base) < len(journalTime) {
		return time.Time{}, false
	}
	t, err := time.Parse(journalTime, base[:len(journalTime)])
	return t, err == nil
}

// JournalProcess returns which process wrote a journal segment, as its
// name says: its pid and token ("4242-3f9a1c"), the same in all the
// segments of one process, and false when the name holds none.
func JournalProcess(file string) (string, bool) {
	base := filepath.Base(file)
	if _, ok := JournalTime(base); !ok || len(base) == len(journalTime) || base[len(journalTime)] != '-' {
		return "", false
	}
	process, ok := strings.CutSuffix(base[len(journalTime)+1:], ".jsonl")
	pid, token, dash := strings.Cut(process, "-")
	return process, ok && dash && isDigits(pid) && token != "" && !strings.Contains(token, "-")
}

// IsJournal reports whether file is named as slogwf names a journal: a
// segment (see JournalName), or a journal of the earlier layout (see
// isEarlierJournal). Another *.jsonl file in a directory of workflows is
// not one.
func IsJournal(file string) bool {
	if _, ok := JournalProcess(file); ok {
		return true
	}
	base, ok := strings.CutSuffix(filepath.Base(file), ".jsonl")
	return ok && isEarlierJournal(base)
}

// isEarlierJournal reports whether base, a file name without ".jsonl",
// is named as the earlier layout named a journal:
// <name>-<id suffix>.<pid>.jsonl, or <name>-<id suffix>.<pid>-<n>.jsonl
// when another process of the same pid had the first. Its name is made
// safe (see safeName) and at most 64 bytes; its id suffix is the last 8
// characters of the workflow ID, which are those of a UUID or of an ID a
// caller gave ([0-9A-Za-z-]).
func isEarlierJournal(base string) bool {
	const idSuffix = 8
	i := strings.LastIndexByte(base, '.')
	if i < 0 {
		return false
	}
	pid, n, reused := strings.Cut(base[i+1:], "-")
	if !isDigits(pid) || reused && !isDigits(n) {
		return false
	}
	named := base[:i]
	cut := len(named) - idSuffix - 1
	if cut < 1 || cut > 64 || named[cut] != '-' || named[0] == '.' {
		return false
	}
	return strings.Trim(named[cut+1:], idChars) == "" && strings.Trim(named[:cut], idChars+"_.") == ""
}

// idChars are the bytes of a workflow ID.
const idChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"

// tempRandom is the length of the random part of a TempName: a uint64 in
// base 36, zero-padded, so that a name someone else chose (notes.json.bak.tmp)
// is not taken for one.
const tempRandom = 13

// TempName returns a new name for a temporary file that becomes the file
// name when renamed: name, a random part and ".tmp" (see TempOf).
func TempName(name string) string {
	r := strconv.FormatUint(rand.Uint64(), 36)
	return name + "." + strings.Repeat("0", tempRandom-len(r)) + r + ".tmp"
}

// TempOf returns the name of the file that tmp, named by TempName,
// becomes, and false when tmp is not named so.
func TempOf(tmp string) (string, bool) {
	base, ok := strings.CutSuffix(tmp, ".tmp")
	i := len(base) - tempRandom - 1
	if !ok || i <= 0 || base[i] != '.' || strings.Trim(base[i+1:], "0123456789abcdefghijklmnopqrstuvwxyz") != "" {
		return "", false
	}
	return base[:i], true
}

// isDigits reports whether s is one or more decimal digits.
func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

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
