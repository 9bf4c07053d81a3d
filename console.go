package slogwf

import (
	"context"
	"crypto/rand"
	"encoding"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
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
		nonce: rand.Text(),
	}
	user := o.ReplaceAttr
	w := o.Console
	to := tint.Options{Level: o.Level, TimeFormat: o.TimeFormat, NoColor: !c.color}
	if user == nil && !o.AddSource {
		w = &lockedWriter{w: w} // each tint locks its own writes only
		c.fast = tint.NewTextHandler(w, &to)
	}
	to.AddSource = o.AddSource
	to.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		return c.replace(groups, a, user)
	}
	c.next = tint.NewTextHandler(w, &to)
	return c
}

// lockedWriter serializes the writes of the two tints of a console.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
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
// (consoleText); group names, which tint never passes to ReplaceAttr, it
// escapes before tint sees them.
type console struct {
	next slog.Handler // tint
	// fast is tint without ReplaceAttr, for the records that need nothing
	// of replace (see plain); nil when there is a user's ReplaceAttr or
	// source, or an attribute of WithAttrs needed replace.
	fast  slog.Handler
	color bool
	// nonce starts every message the console built: replace passes it
	// on, escaped and colored already, and escapes any other "msg". It is
	// random and never written, so logged text cannot pass for it.
	nonce string
}

func (c *console) Enabled(ctx context.Context, l slog.Level) bool {
	return c.next.Enabled(ctx, l)
}

// Handle prints r without a scope path.
func (c *console) Handle(ctx context.Context, r slog.Record) error {
	return c.handle(ctx, r, path{}, nil)
}

// handle prints r, a record in the scope of path at, or the record of ev,
// a scope's start or end.
func (c *console) handle(ctx context.Context, r slog.Record, at path, ev *event) error {
	semantic, rewrite := false, false
	fast := c.fast != nil && (r.Level < LevelNotice || r.Level >= slog.LevelWarn) && r.Level >= slog.LevelDebug
	r.Attrs(func(a slog.Attr) bool {
		semantic = semantic || a.Key == SemanticKey && a.Value.Kind() == slog.KindBool && a.Value.Bool()
		fast = fast && plain(a, 0)
		rewrite = rewrite || !fast && mustFix(a)
		return true
	})
	var badge, open, text, shut, mark string
	msg := r.Message
	if ev != nil {
		mark, msg = c.eventText(ev)
	}
	if semantic {
		badge = "SEMANTIC "
		if c.color {
			badge = "\x1b[1;35mSEMANTIC\x1b[0m "
		}
	}
	if at.set {
		open, text, shut = "[", at.text, "] "
		if c.color {
			open, shut = palette[at.color], "]\x1b[0m "
		}
	}
	if fast {
		r.Message = open + text + shut + mark + consoleMessage(msg)
		return c.fast.Handle(ctx, r)
	}
	r.Message = c.nonce + badge + open + text + shut + mark + consoleMessage(msg)
	if rewrite {
		r2 := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			r2.AddAttrs(fix(a))
			return true
		})
		r = r2
	}
	return c.next.Handle(ctx, r)
}

// eventText returns the mark and the text that stand for the message of a
// scope's start or end.
func (c *console) eventText(ev *event) (mark, text string) {
	kind := ev.scope.kind.String()
	switch {
	case !ev.end:
		return "▶ ", kind
	case ev.status == StatusCompleted && c.color:
		return "\x1b[32m✔\x1b[0m ", kind
	case ev.status == StatusCompleted:
		return "✔ ", kind
	case c.color:
		return "\x1b[91m✗\x1b[0m ", kind + " " + ev.status
	}
	return "✗ ", kind + " " + ev.status
}

// plain reports whether tint writes a as replace would have it written,
// so that the record can skip replace: a key and value that consoleText
// leaves as they are, of a kind that tint formats itself, and no key that
// replace treats apart.
func plain(a slog.Attr, depth int) bool {
	switch a.Key {
	case slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey, SemanticKey:
		return false
	}
	if consoleText(a.Key) != a.Key {
		return false
	}
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		return consoleText(v.String()) == v.String()
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return true
	case slog.KindGroup:
		if depth == maxDepth {
			return false
		}
		for _, g := range v.Group() {
			if !plain(g, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// mustFix reports whether a holds a group whose name tint would write
// unescaped (tint never passes group names to ReplaceAttr), or groups
// nested deeper than maxDepth, as a LogValuer that holds itself makes them.
func mustFix(a slog.Attr) bool { return mustFixAt(a, 0) }

func mustFixAt(a slog.Attr, depth int) bool {
	v := a.Value.Resolve()
	if v.Kind() != slog.KindGroup {
		return false
	}
	if depth == maxDepth || consoleText(a.Key) != a.Key {
		return true
	}
	for _, g := range v.Group() {
		if mustFixAt(g, depth+1) {
			return true
		}
	}
	return false
}

// fix escapes the group names in a and cuts its groups at maxDepth.
func fix(a slog.Attr) slog.Attr { return fixAt(a, 0) }

func fixAt(a slog.Attr, depth int) slog.Attr {
	v := a.Value.Resolve()
	switch {
	case v.Kind() != slog.KindGroup:
		return a
	case depth == maxDepth:
		return slog.String(consoleText(a.Key), "!ERROR: groups nested too deep")
	}
	as := make([]slog.Attr, 0, len(v.Group()))
	for _, g := range v.Group() {
		as = append(as, fixAt(g, depth+1))
	}
	return slog.Attr{Key: consoleText(a.Key), Value: slog.GroupValue(as...)}
}

func (c *console) WithAttrs(attrs []slog.Attr) slog.Handler {
	if slices.ContainsFunc(attrs, mustFix) {
		fixed := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			fixed[i] = fix(a)
		}
		attrs = fixed
	}
	c2 := &console{next: c.next.WithAttrs(attrs), color: c.color, nonce: c.nonce}
	if c.fast != nil && !slices.ContainsFunc(attrs, func(a slog.Attr) bool { return !plain(a, 0) }) {
		c2.fast = c.fast.WithAttrs(attrs)
	}
	return c2
}

func (c *console) WithGroup(name string) slog.Handler {
	if name == "" {
		return c
	}
	c2 := &console{next: c.next.WithGroup(consoleText(name)), color: c.color, nonce: c.nonce}
	if c.fast != nil {
		c2.fast = c.fast.WithGroup(consoleText(name))
	}
	return c2
}

// replace is tint's ReplaceAttr: it passes on the message the console
// built, runs the user's ReplaceAttr on everything else, names slogwf's
// levels, drops the semantic flag (the badge shows it) and escapes text.
func (c *console) replace(groups []string, a slog.Attr, user func([]string, slog.Attr) slog.Attr) slog.Attr {
	top := len(groups) == 0
	if top && a.Key == slog.MessageKey && a.Value.Kind() == slog.KindString {
		if s, ok := strings.CutPrefix(a.Value.String(), c.nonce); ok {
			return slog.String(a.Key, s)
		}
	}
	if user != nil {
		a = user(groups, a)
	}
	if a.Equal(slog.Attr{}) {
		return a // dropped by the user's ReplaceAttr
	}
	v := a.Value
	if top {
		switch a.Key {
		case slog.TimeKey:
			if v.Kind() == slog.KindTime {
				return a
			}
		case slog.MessageKey:
			if v.Kind() == slog.KindString {
				// An attribute that tint cannot tell from the message.
				return slog.String(a.Key, consoleMessage(v.String()))
			}
		case slog.LevelKey:
			if l, ok := v.Any().(slog.Level); ok {
				return levelAttr(a, l)
			}
		case slog.SourceKey:
			if src, ok := v.Any().(*slog.Source); ok && src != nil {
				dir, file := filepath.Split(src.File)
				return slog.String(a.Key, consoleMessage(filepath.Join(filepath.Base(dir), file)+":"+strconv.Itoa(src.Line)))
			}
		case SemanticKey:
			if v.Kind() == slog.KindBool {
				return slog.Attr{}
			}
		}
	}
	a.Key = consoleText(a.Key)
	switch v.Kind() {
	case slog.KindString:
		if s := consoleText(v.String()); s != v.String() {
			a.Value = slog.StringValue(s)
		}
	case slog.KindAny:
		a.Value = slog.StringValue(consoleText(anyText(v.Any())))
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

// anyText formats x as tint does, but an error by its message, and
// survives a panic.
func anyText(x any) (s string) {
	defer func() {
		if p := recover(); p != nil {
			s = fmt.Sprintf("!PANIC: %v", p)
		}
	}()
	switch v := x.(type) {
	case error:
		return v.Error()
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
// overrides, line separators and invalid UTF-8 become escapes, so that a
// message is one line that can change nothing around it. It never writes
// `\x1b` (see console), so what it returns is safe for tint to quote too,
// and escaping again changes nothing.
func consoleMessage(s string) string {
	return escape(s, func(rest string, r rune, size int) string {
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf(`\x%02x`, rest[0])
		case r == utf8.RuneError:
			return `\ufffd` // tint without color cuts quoted text at it
		case r == '\n':
			return `\n`
		case r == '\r':
			return `\r`
		case r == '\t':
			return `\t`
		case r < 0x20 || r == 0x7f || unsafeRune(r):
			return fmt.Sprintf(`\u%04x`, r)
		case r == '\\' && strings.HasPrefix(rest, `\x1b`):
			return "⧵"
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

// path is the path of a scope on the console, escaped, and the color it is
// drawn in; the zero path is none.
type path struct {
	text  string
	color uint8
	set   bool
}

// child returns the path of a scope of kind k, named name or numbered
// number, under a scope of kind parent whose path is p; of a workflow when
// p is the zero path.
func (p path) child(parent, k Kind, name string, number int64) path {
	if !p.set {
		return path{text: consoleMessage(name), color: agentColor(name), set: true}
	}
	switch {
	case k == KindIteration:
		p.text += " it" + strconv.FormatInt(number, 10)
	case parent >= KindInteraction:
		p.text += ">" + consoleMessage(name)
	default:
		p.text += " " + consoleMessage(name)
	}
	if k == KindInteraction {
		p.color = agentColor(name)
	}
	return p
}

// palette holds the colors of scope paths on the console, each with the
// path's opening bracket: 256-color codes readable on dark and light
// backgrounds.
var palette = [...]string{
	"\x1b[38;5;39m[", "\x1b[38;5;208m[", "\x1b[38;5;141m[", "\x1b[38;5;78m[",
	"\x1b[38;5;203m[", "\x1b[38;5;220m[", "\x1b[38;5;45m[", "\x1b[38;5;171m[",
	"\x1b[38;5;114m[", "\x1b[38;5;215m[", "\x1b[38;5;75m[", "\x1b[38;5;179m[",
}

// agentColor returns the palette index of name: the same for the same
// name in every run.
func agentColor(name string) uint8 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return uint8(h.Sum32() % uint32(len(palette)))
}
