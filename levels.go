package slogwf

import (
	"context"
	"log/slog"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
)

// Levels slogwf adds beside slog's four. They keep slog's spacing: TRACE sits
// below DEBUG as DEBUG sits below INFO, NOTICE between INFO and WARN.
const (
	LevelTrace  slog.Level = -8
	LevelNotice slog.Level = 2
)

// LevelName returns the name of l: TRACE, DEBUG, INFO, NOTICE, WARN or ERROR,
// with an offset from the nearest named level below when l has no name of
// its own ("NOTICE+1"; "TRACE-2" below TRACE). [ParseLevel] reverses it.
func LevelName(l slog.Level) string { return tree.LevelName(l) }

// ParseLevel parses a level name as [LevelName] writes it, in any case
// ("notice", "Info+2", "warning"), or a plain number ("-8", "3").
func ParseLevel(s string) (slog.Level, error) { return tree.ParseLevel(s) }

// ReplaceLevel is a [slog.HandlerOptions] ReplaceAttr function that writes
// [LevelTrace] and [LevelNotice] by their names, so a plain JSON or text
// handler says "TRACE" where it would say "DEBUG-4".
func ReplaceLevel(groups []string, a slog.Attr) slog.Attr {
	// The key first: Any boxes the values of other attributes.
	if a.Key != slog.LevelKey || len(groups) > 0 {
		return a
	}
	if l, ok := a.Value.Any().(slog.Level); ok {
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
