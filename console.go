package slogwf

import (
	"context"
	"encoding"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lmittmann/tint"
)

// newConsole returns the console handler of New.
func newConsole(o *Options) slog.Handler {
	ho := &slog.HandlerOptions{AddSource: o.AddSource, Level: o.Level, ReplaceAttr: chain(o.ReplaceAttr, ReplaceLevel)}
	switch o.Format {
	case FormatJSON:
		return slog.NewJSONHandler(o.Console, ho)
	case FormatText:
		return slog.NewTextHandler(o.Console, ho)
	}
	c := &console{
		color: o.Color == ColorAlways || o.Color == ColorAuto && isTerminal(o.Console) && os.Getenv("NO_COLOR") == "",
	}
	user := o.ReplaceAttr
	c.next = tint.NewTextHandler(o.Console, &tint.Options{
		AddSource:  o.AddSource,
		Level:      o.Level,
		TimeFormat: o.TimeFormat,
		NoColor:    !c.color,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if user != nil {
				a = user(groups, a)
			}
			return c.replace(groups, a)
		},
	})
	return c
}

func chain(first, then func([]string, slog.Attr) slog.Attr) func([]string, slog.Attr) slog.Attr {
	if first == nil {
		return then
	}
	return func(groups []string, a slog.Attr) slog.Attr { return then(groups, first(groups, a)) }
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// console wraps tint: it puts the scope path before each message, marks
// scope starts, ends and semantic warnings, and escapes untrusted text.
//
// tint writes the message as it is, and quotes keys and values with
// strconv.Quote, except that when colored it turns every `\x1b` of the
// quoted text back into a raw ESC. So the console escapes messages fully
// (consoleMessage) and keys and values just so that tint's quoting is safe
// (consoleText).
type console struct {
	next    slog.Handler // tint
	color   bool
	grouped bool // tint holds a group: no attribute shares the message's key
}

func (c *console) Enabled(ctx context.Context, l slog.Level) bool {
	return c.next.Enabled(ctx, l)
}

func (c *console) Handle(ctx context.Context, r slog.Record) error {
	sc, ev := fromContext(ctx)
	msg := consoleMessage(r.Message)
	if ev != nil {
		msg = c.eventText(ev)
	}
	var badge string
	rewrite := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == SemanticKey && a.Value.Kind() == slog.KindBool && a.Value.Bool() {
			badge = "SEMANTIC "
			if c.color {
				badge = "\x1b[1;35mSEMANTIC\x1b[0m "
			}
		}
		rewrite = rewrite || c.mustFix(a)
		return true
	})
	if sc != nil {
		on, off := "", ""
		if c.color {
			on, off = palette[sc.color], "\x1b[0m"
		}
		msg = badge + on + sc.label + off + " " + msg
	} else if badge != "" {
		msg = badge + msg
	}
	r.Message = msg
	if rewrite {
		r2 := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			r2.AddAttrs(c.fix(a, true))
			return true
		})
		r = r2
	}
	return c.next.Handle(ctx, r)
}

func (c *console) eventText(ev *event) string {
	kind := ev.scope.kind.String()
	switch {
	case !ev.end:
		return "▶ " + kind
	case ev.status == StatusCompleted && c.color:
		return "\x1b[32m✔\x1b[0m " + kind
	case ev.status == StatusCompleted:
		return "✔ " + kind
	case c.color:
		return "\x1b[91m✗\x1b[0m " + kind + " " + ev.status
	}
	return "✗ " + kind + " " + ev.status
}

// mustFix reports whether tint cannot be given a as it is: a group key
// tint would not escape, or a top-level "msg" that replace would take for
// the message.
func (c *console) mustFix(a slog.Attr) bool {
	switch a.Value.Kind() {
	case slog.KindGroup:
		if consoleText(a.Key) != a.Key {
			return true
		}
		for _, g := range a.Value.Group() {
			if c.mustFix(g) {
				return true
			}
		}
	case slog.KindString:
		return !c.grouped && a.Key == slog.MessageKey && consoleText(a.Value.String()) != a.Value.String()
	}
	return false
}

// fix escapes what mustFix finds in a.
func (c *console) fix(a slog.Attr, top bool) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindGroup:
		as := make([]slog.Attr, 0, len(a.Value.Group()))
		for _, g := range a.Value.Group() {
			as = append(as, c.fix(g, false))
		}
		return slog.Attr{Key: consoleText(a.Key), Value: slog.GroupValue(as...)}
	case slog.KindString:
		if top && !c.grouped && a.Key == slog.MessageKey {
			a.Value = slog.StringValue(consoleText(a.Value.String()))
		}
	}
	return a
}

func (c *console) WithAttrs(attrs []slog.Attr) slog.Handler {
	if slices.ContainsFunc(attrs, c.mustFix) {
		fixed := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			fixed[i] = c.fix(a, true)
		}
		attrs = fixed
	}
	return &console{next: c.next.WithAttrs(attrs), color: c.color, grouped: c.grouped}
}

func (c *console) WithGroup(name string) slog.Handler {
	if name == "" {
		return c
	}
	return &console{next: c.next.WithGroup(consoleText(name)), color: c.color, grouped: true}
}

// replace is tint's ReplaceAttr: it names slogwf's levels, drops the
// semantic flag (the badge shows it) and escapes keys and values.
func (c *console) replace(groups []string, a slog.Attr) slog.Attr {
	if a.Equal(slog.Attr{}) {
		return a // dropped by the user's ReplaceAttr
	}
	if len(groups) == 0 {
		switch v := a.Value; a.Key {
		case slog.TimeKey:
			if v.Kind() == slog.KindTime {
				return a
			}
		case slog.MessageKey:
			if v.Kind() == slog.KindString {
				return a // escaped by Handle, as is an attribute with this key
			}
		case slog.LevelKey:
			if l, ok := v.Any().(slog.Level); ok {
				return levelAttr(a, l)
			}
		case slog.SourceKey:
			if _, ok := v.Any().(*slog.Source); ok {
				return a
			}
		}
	}
	if a.Key == SemanticKey && a.Value.Kind() == slog.KindBool {
		return slog.Attr{}
	}
	a.Key = consoleText(a.Key)
	switch a.Value.Kind() {
	case slog.KindString:
		if s := consoleText(a.Value.String()); s != a.Value.String() {
			a.Value = slog.StringValue(s)
		}
	case slog.KindAny:
		a.Value = slog.StringValue(consoleText(anyText(a.Value.Any())))
	}
	return a
}

// levelAttr names the levels tint does not know; tint colors the others.
func levelAttr(a slog.Attr, l slog.Level) slog.Attr {
	switch {
	case l < slog.LevelDebug:
		return tint.Attr(8, slog.String(a.Key, shortLevelName(l)))
	case l >= LevelNotice && l < slog.LevelWarn:
		return tint.Attr(14, slog.String(a.Key, shortLevelName(l)))
	}
	return a
}

// anyText formats x as tint does, but survives a panic.
func anyText(x any) (s string) {
	defer func() {
		if p := recover(); p != nil {
			s = fmt.Sprintf("!PANIC: %v", p)
		}
	}()
	switch v := x.(type) {
	case encoding.TextMarshaler:
		if t, err := v.MarshalText(); err == nil {
			return string(t)
		}
	case []byte:
		return string(v)
	}
	if rv := reflect.ValueOf(x); rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		return string(rv.Bytes())
	}
	return fmt.Sprintf("%+v", x)
}

// consoleMessage escapes s for a terminal: control characters, bidi
// overrides, line separators and invalid UTF-8 become Go escapes, so a
// message is one line that can change nothing around it.
func consoleMessage(s string) string {
	return escape(s, func(rest string, r rune, size int) string {
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf(`\x%02x`, rest[0])
		case r == '\n':
			return `\n`
		case r == '\r':
			return `\r`
		case r == '\t':
			return `\t`
		case r < 0x20 || r == 0x7f:
			return fmt.Sprintf(`\x%02x`, r)
		case unsafeRune(r):
			return fmt.Sprintf(`\u%04x`, r)
		}
		return ""
	})
}

// consoleText escapes s for tint to quote: what strconv.Quote escapes well
// it leaves; ESC and the text `\x1b` (which tint would turn into ESC), DEL
// (which tint does not quote), and invalid UTF-8 and U+FFFD (at which tint
// without color cuts the text) it replaces with visible stand-ins.
func consoleText(s string) string {
	return escape(s, func(rest string, r rune, size int) string {
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf(`\x%02x`, rest[0])
		case r == utf8.RuneError:
			return `\ufffd`
		case r == 0x1b:
			return "␛"
		case r == 0x7f:
			return "␡"
		case r == '\\' && strings.HasPrefix(rest, `\x1b`):
			return "⧵"
		}
		return ""
	})
}

// escape returns s with the runes for which esc returns a replacement
// replaced; esc gets the rest of s from the rune on. s comes back as it is
// when nothing changes.
func escape(s string, esc func(rest string, r rune, size int) string) string {
	var b []byte
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '\\' {
			i++ // printable ASCII: the fast path
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if rep := esc(s[i:], r, size); rep != "" {
			b = append(b, s[done:i]...)
			b = append(b, rep...)
			done = i + size
		}
		i += size
	}
	if b == nil {
		return s
	}
	return string(append(b, s[done:]...))
}

// palette holds the colors of scope paths on the console: 256-color codes
// readable on dark and light backgrounds.
var palette = [...]string{
	"\x1b[38;5;39m", "\x1b[38;5;208m", "\x1b[38;5;141m", "\x1b[38;5;78m",
	"\x1b[38;5;203m", "\x1b[38;5;220m", "\x1b[38;5;45m", "\x1b[38;5;171m",
	"\x1b[38;5;114m", "\x1b[38;5;215m", "\x1b[38;5;75m", "\x1b[38;5;179m",
}

// agentColor returns the palette index of name: the same for the same
// name in every run.
func agentColor(name string) uint8 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return uint8(h.Sum32() % uint32(len(palette)))
}
