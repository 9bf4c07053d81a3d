package slogwf

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Levels slogwf adds beside slog's four. They keep slog's spacing: TRACE sits
// below DEBUG as DEBUG sits below INFO, NOTICE between INFO and WARN.
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

// LevelName returns the name of l: TRACE, DEBUG, INFO, NOTICE, WARN or ERROR,
// with an offset from the nearest named level below when l has no name of
// its own ("NOTICE+1"; "TRACE-2" below TRACE). [ParseLevel] reverses it.
func LevelName(l slog.Level) string {
	base, name, _ := nearestLevel(l)
	return offsetName(name, l-base)
}

func shortLevelName(l slog.Level) string {
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

// ParseLevel parses a level name as [LevelName] writes it, in any case
// ("notice", "Info+2", "warning"), or a plain number ("-8", "3").
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

// ReplaceLevel is a [slog.HandlerOptions] ReplaceAttr function that writes
// [LevelTrace] and [LevelNotice] by their names, so a plain JSON or text
// handler says "TRACE" where it would say "DEBUG-4".
func ReplaceLevel(groups []string, a slog.Attr) slog.Attr {
	if l, ok := a.Value.Any().(slog.Level); ok && len(groups) == 0 && a.Key == slog.LevelKey {
		a.Value = slog.StringValue(LevelName(l))
	}
	return a
}

// Semantic logs a semantic warning: a note about meaning rather than
// mechanics, such as "the answer contradicts the plan". It is logged at WARN
// through the context's logger ([ContextWithLogger], else [slog.Default]),
// flagged "semantic": true in the tree, counted in counts.semantic, and shown
// with its own badge on the console.
func Semantic(ctx context.Context, msg string, args ...any) {
	semantic(ctx, slog.LevelWarn, msg, args, caller())
}

// SemanticLog is [Semantic] at another level.
func SemanticLog(ctx context.Context, level slog.Level, msg string, args ...any) {
	semantic(ctx, level, msg, args, caller())
}

func semantic(ctx context.Context, level slog.Level, msg string, args []any, pc uintptr) {
	if ctx == nil {
		ctx = context.Background()
	}
	l := loggerFrom(ctx)
	if !l.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, pc)
	r.AddAttrs(slog.Bool(SemanticKey, true))
	r.Add(args...)
	_ = l.Handler().Handle(ctx, r)
}
