package tree

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Schema names the tree file format.
const Schema = "slogwf.tree/v1"

// MaxName bounds, in bytes, the keys and group names of attributes and the
// names of scopes (workflows, agents, actions): they are printed on every
// console line of a scope, or of a record.
const MaxName = 256

// CutName returns name cut at a rune boundary and marked with how many
// bytes it lost, "…[truncated N bytes]", MaxName bytes in all as a
// journal gives it back (each byte of invalid UTF-8 a 3-byte U+FFFD); and
// whether it was longer. A name cut once is never cut again.
func CutName(name string) (string, bool) {
	if len(name) <= MaxName/3 {
		return name, false
	}
	// The marker's N has at most the digits of len(name).
	budget := MaxName - len("…[truncated  bytes]") - len(strconv.Itoa(len(name)))
	size, keep := 0, 0 // bytes as a journal gives them back; bytes of name kept
	for i := 0; i < len(name); {
		r, width := utf8.DecodeRuneInString(name[i:])
		if size += utf8.RuneLen(r); size > MaxName {
			return name[:keep] + "…[truncated " + strconv.Itoa(len(name)-keep) + " bytes]", true
		}
		if i += width; size <= budget {
			keep = i
		}
	}
	return name, false
}

// PromptIndent starts every line of a message of a prompt but its first,
// as slogwf.Transport captures prompts ("role: text", a message a line):
// so a line without it starts a message, whatever the messages say.
const PromptIndent = "  "

// Kind is the kind of a scope, as slogwf.Kind numbers them; the zero Kind
// is none.
type Kind uint8

// Scope kinds, outermost first.
const (
	Workflow Kind = iota + 1
	Iteration
	Interaction
	Action
	NKinds // one past the last kind
)

var kindNames = [NKinds]string{"none", "workflow", "iteration", "interaction", "action"}

// String returns the name of k in the journal and the tree.
func (k Kind) String() string {
	if k < NKinds {
		return kindNames[k]
	}
	return "kind" + strconv.Itoa(int(k))
}

// UnmarshalText decodes the "kind" of a journal line: a name it does not
// know is no kind.
func (k *Kind) UnmarshalText(b []byte) error {
	*k = 0
	for i := Workflow; i < NKinds; i++ {
		if string(b) == kindNames[i] {
			*k = i
		}
	}
	return nil
}

// Statuses of nodes in the tree, as slogwf.Status names them.
const (
	StatusRunning    = "running"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusIncomplete = "incomplete"
)

// The levels beside slog's four, as slogwf.LevelTrace and
// slogwf.LevelNotice name them.
const (
	LevelTrace  slog.Level = -8
	LevelNotice slog.Level = 2
)

// levels lists every named level, lowest first, with its name in JSON and
// text output and its short form on the tint console.
var levels = [...]struct {
	level       slog.Level
	name, short string
}{
	{LevelTrace, "TRACE", "TRC"},
	{slog.LevelDebug, "DEBUG", "DBG"},
	{slog.LevelInfo, "INFO", "INF"},
	{LevelNotice, "NOTICE", "NTC"},
	{slog.LevelWarn, "WARN", "WRN"},
	{slog.LevelError, "ERROR", "ERR"},
}

// LevelName returns the name of l, as slogwf.LevelName.
func LevelName(l slog.Level) string {
	base, name, _ := nearestLevel(l)
	return offsetName(name, l-base)
}

// ShortLevelName returns the name of l on the tint console: TRC, DBG, INF,
// NTC, WRN or ERR, with an offset as LevelName.
func ShortLevelName(l slog.Level) string {
	base, _, short := nearestLevel(l)
	return offsetName(short, l-base)
}

func nearestLevel(l slog.Level) (slog.Level, string, string) {
	i := len(levels) - 1
	for i > 0 && l < levels[i].level {
		i--
	}
	return levels[i].level, levels[i].name, levels[i].short
}

func offsetName(name string, off slog.Level) string {
	switch {
	case off == 0:
		return name
	case off > 0:
		return name + "+" + strconv.Itoa(int(off))
	default:
		return name + strconv.Itoa(int(off))
	}
}

// ParseLevel parses a level name, as slogwf.ParseLevel.
func ParseLevel(s string) (slog.Level, error) {
	for _, l := range levels {
		if l.name == s {
			return l.level, nil // as LevelName writes it: the journal's case
		}
	}
	t := strings.ToUpper(strings.TrimSpace(s))
	if n, err := strconv.Atoi(t); err == nil {
		return slog.Level(n), nil
	}
	name, off := t, 0
	if i := strings.IndexAny(t, "+-"); i > 0 {
		n, err := strconv.Atoi(t[i:])
		if err != nil {
			return 0, fmt.Errorf("slogwf: parse level %q: bad offset", s)
		}
		name, off = t[:i], n
	}
	if name == "WARNING" {
		name = "WARN"
	}
	for _, l := range levels {
		if l.name == name {
			return l.level + slog.Level(off), nil
		}
	}
	return 0, fmt.Errorf("slogwf: parse level %q: unknown name", s)
}
