// Package console is the tint console of slogwf.New and of `slogwf
// tail`: the scope path before each message, in a stable color per agent;
// marks for the starts and ends of scopes; badges for semantic warnings;
// and escapes for untrusted text, which never reaches the terminal raw.
package console

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/lmittmann/tint"

	"github.com/slogwf/slogwf/internal/buffer"
	"github.com/slogwf/slogwf/internal/jsonenc"
	"github.com/slogwf/slogwf/internal/tree"
)

// Options configure a console, as slogwf.Options say.
type Options struct {
	Color       bool
	Level       slog.Leveler
	AddSource   bool
	TimeFormat  string
	ReplaceAttr func(groups []string, a slog.Attr) slog.Attr // the user's
	Width       int                                          // of string values; see cut
	LineWidth   int                                          // of lines; see lineWriter
}

var _ slog.Handler = (*Handler)(nil)

// New returns a console that writes to w.
func New(w io.Writer, o Options) *Handler {
	c := &Handler{color: o.Color, width: o.Width, nonce: rand.Text()}
	user := o.ReplaceAttr
	to := tint.Options{Level: o.Level, TimeFormat: o.TimeFormat, NoColor: !c.color}
	w = newLineWriter(w, o.LineWidth, c.color)
	if user == nil && !o.AddSource {
		c.fast = tint.NewTextHandler(w, &to)
	}
	to.AddSource = o.AddSource
	to.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		return c.replace(groups, a, user)
	}
	c.next = tint.NewTextHandler(w, &to)
	return c
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Handler is the tint console of slogwf.New. It wraps tint: it puts the
// scope path before each message, marks scope starts, ends and semantic
// warnings, escapes untrusted text and cuts long values and lines.
//
// tint writes the message as it is, and quotes keys and values with
// strconv.Quote, except that when colored it turns every `\x1b` of the
// quoted text back into a raw ESC. So the console escapes messages fully
// (Message) and keys and values just so that tint's quoting is safe
// (Text); group names, which tint never passes to ReplaceAttr, it escapes
// before tint sees them.
type Handler struct {
	next slog.Handler // tint
	// fast is tint without ReplaceAttr, for the records that need nothing
	// of replace (see plain); nil when there is a user's ReplaceAttr or
	// source, or an attribute of WithAttrs needed replace.
	fast  slog.Handler
	color bool
	width int // the widest string value shown; see cut
	// nonce starts every message the console built: replace passes it
	// on, escaped and colored already, and escapes any other "msg". It is
	// random and never written, so logged text cannot pass for it.
	nonce string
}

// Enabled reports whether the console prints records at level l.
func (c *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return c.next.Enabled(ctx, l)
}

// Handle prints r without a scope path.
func (c *Handler) Handle(ctx context.Context, r slog.Record) error {
	return c.HandleAt(ctx, &r, Path{}, ScopeEvent{})
}

// HandleAt prints r, a record in the scope whose path is at, or the record
// of ev, a scope's start or end. It leaves r as it is; r is a pointer only
// so that the record, hundreds of bytes, is not copied on the way to tint.
func (c *Handler) HandleAt(ctx context.Context, r *slog.Record, at Path, ev ScopeEvent) error {
	return c.handle(ctx, r, at, ev, false)
}

// HandlePlain prints r, a record in the scope whose path is at, whose
// attributes are all Plain: as HandleAt does, without looking at them.
func (c *Handler) HandlePlain(ctx context.Context, r *slog.Record, at Path) error {
	if !c.tintAlone(r.Level) {
		return c.handle(ctx, r, at, ScopeEvent{}, true)
	}
	if !at.Set && jsonenc.Verbatim(r.Message) {
		return c.fast.Handle(ctx, *r) // nothing to add to the message
	}
	// As handle does, for a record that has only its path to add: kept
	// apart from handle, as the common case of a record in a scope, it
	// costs InScope about 1.4% less (2,816 against 2,855 ns, medians of 4).
	buf := buffer.New()
	defer buf.Free()
	*buf = append(c.appendPath(*buf, at), Message(r.Message)...)
	defer func(msg string) { r.Message = msg }(r.Message)
	r.Message = unsafe.String(unsafe.SliceData(*buf), len(*buf))
	return c.fast.Handle(ctx, *r)
}

// appendPath appends the path at, if set, colored when c is, and a space.
func (c *Handler) appendPath(b []byte, at Path) []byte {
	switch {
	case !at.Set:
		return b
	case c.color:
		return append(append(append(b, palette[at.Color]...), at.Text...), "]\x1b[0m "...)
	}
	return append(append(append(b, '['), at.Text...), "] "...)
}

// tintAlone reports whether tint by itself, c.fast, shows the level l as
// replace would: slogwf's levels it names itself.
func (c *Handler) tintAlone(l slog.Level) bool {
	return c.fast != nil && (l < tree.LevelNotice || l >= slog.LevelWarn) && l >= slog.LevelDebug
}

// Plain reports whether the console shows a as tint shows it by itself.
func (c *Handler) Plain(a slog.Attr) bool { return c.fast != nil && c.plain(a, 0) }

func (c *Handler) handle(ctx context.Context, r *slog.Record, at Path, ev ScopeEvent, plain bool) error {
	semantic, rewrite := false, false
	fast := c.tintAlone(r.Level)
	if !plain {
		r.Attrs(func(a slog.Attr) bool {
			semantic = semantic || a.Key == semanticKey && a.Value.Kind() == slog.KindBool && a.Value.Bool()
			fast = fast && c.plain(a, 0)
			rewrite = rewrite || !fast && mustFix(a)
			return true
		})
	}
	var badge, mark string
	msg := r.Message
	if ev.Kind != 0 {
		mark, msg = c.eventText(ev)
	}
	if semantic {
		badge = "SEMANTIC "
		if c.color {
			badge = "\x1b[1;35mSEMANTIC\x1b[0m "
		}
	}
	// The message is built in a pooled buffer, not a new string: tint
	// copies it into its line and keeps nothing of the record (tint
	// v1.2.1's Handle: check again when tint is upgraded), nor does
	// replace, which hands the user's ReplaceAttr no message (the nonce
	// check).
	buf := buffer.New()
	defer buf.Free()
	if !fast {
		*buf = append(append(*buf, c.nonce...), badge...)
	}
	*buf = append(append(c.appendPath(*buf, at), mark...), Message(msg)...)
	defer func(msg string) { r.Message = msg }(r.Message)
	r.Message = unsafe.String(unsafe.SliceData(*buf), len(*buf))
	if fast {
		return c.fast.Handle(ctx, *r)
	}
	if rewrite {
		r2 := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			r2.AddAttrs(fix(a))
			return true
		})
		return c.next.Handle(ctx, r2)
	}
	return c.next.Handle(ctx, *r)
}

// eventText returns the mark and the text that stand for the message of a
// scope's start or end.
func (c *Handler) eventText(ev ScopeEvent) (mark, text string) {
	kind := ev.Kind.String()
	switch {
	case !ev.End:
		return "▶ ", kind
	case ev.Status == tree.StatusCompleted && c.color:
		return "\x1b[32m✔\x1b[0m ", kind
	case ev.Status == tree.StatusCompleted:
		return "✔ ", kind
	case c.color:
		return "\x1b[91m✗\x1b[0m ", kind + " " + ev.Status
	}
	return "✗ ", kind + " " + ev.Status
}

// semanticKey is slogwf.SemanticKey, whose flag the console shows as a
// badge.
const semanticKey = "semantic"

// plain reports whether tint writes a as replace would have it written,
// so that the record can skip replace: a key and value that Text and cut
// leave as they are, of a kind that tint formats itself, and no key that
// replace treats apart.
func (c *Handler) plain(a slog.Attr, depth int) bool {
	switch a.Key {
	case slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey, semanticKey:
		return false
	}
	// Printable ASCII without a quote or a backslash Text leaves as it
	// is, and quoted it shows in as many characters as it has bytes.
	if !jsonenc.Verbatim(a.Key) && Text(a.Key) != a.Key {
		return false
	}
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		s := v.String()
		if jsonenc.Verbatim(s) {
			return c.width <= 0 || len(s) <= c.width
		}
		return Text(s) == s && cut(s, c.width) == s
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return true
	case slog.KindGroup:
		if depth == jsonenc.MaxDepth {
			return false
		}
		for _, g := range v.Group() {
			if !c.plain(g, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// mustFix reports whether a holds a group whose name tint would write
// unescaped (tint never passes group names to ReplaceAttr), or groups
// nested deeper than jsonenc.MaxDepth, as a LogValuer that holds itself makes them.
func mustFix(a slog.Attr) bool { return mustFixAt(a, 0) }

func mustFixAt(a slog.Attr, depth int) bool {
	v := a.Value.Resolve()
	if v.Kind() != slog.KindGroup {
		return false
	}
	if depth == jsonenc.MaxDepth || Text(a.Key) != a.Key {
		return true
	}
	for _, g := range v.Group() {
		if mustFixAt(g, depth+1) {
			return true
		}
	}
	return false
}

// fix escapes the group names in a and cuts its groups at jsonenc.MaxDepth.
func fix(a slog.Attr) slog.Attr { return fixAt(a, 0) }

func fixAt(a slog.Attr, depth int) slog.Attr {
	v := a.Value.Resolve()
	switch {
	case v.Kind() != slog.KindGroup:
		return a
	case depth == jsonenc.MaxDepth:
		return slog.String(Text(a.Key), "!ERROR: groups nested too deep")
	}
	as := make([]slog.Attr, 0, len(v.Group()))
	for _, g := range v.Group() {
		as = append(as, fixAt(g, depth+1))
	}
	return slog.Attr{Key: Text(a.Key), Value: slog.GroupValue(as...)}
}

// WithAttrs returns a console whose records carry attrs.
func (c *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if slices.ContainsFunc(attrs, mustFix) {
		fixed := make([]slog.Attr, len(attrs))
		for i, a := range attrs {
			fixed[i] = fix(a)
		}
		attrs = fixed
	}
	c2 := &Handler{next: c.next.WithAttrs(attrs), color: c.color, width: c.width, nonce: c.nonce}
	if c.fast != nil && !slices.ContainsFunc(attrs, func(a slog.Attr) bool { return !c.plain(a, 0) }) {
		c2.fast = c.fast.WithAttrs(attrs)
	}
	return c2
}

// WithGroup returns a console that puts the attributes of its records in
// group name.
func (c *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return c
	}
	c2 := &Handler{next: c.next.WithGroup(Text(name)), color: c.color, width: c.width, nonce: c.nonce}
	if c.fast != nil {
		c2.fast = c.fast.WithGroup(Text(name))
	}
	return c2
}

// replace is tint's ReplaceAttr: it passes on the message the console
// built, runs the user's ReplaceAttr on everything else, names slogwf's
// levels, drops the semantic flag (the badge shows it), escapes text and
// cuts long values (the user's ReplaceAttr sees them whole).
func (c *Handler) replace(groups []string, a slog.Attr, user func([]string, slog.Attr) slog.Attr) slog.Attr {
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
				return slog.String(a.Key, Message(v.String()))
			}
		case slog.LevelKey:
			if l, ok := v.Any().(slog.Level); ok {
				return levelAttr(a, l)
			}
		case slog.SourceKey:
			if src, ok := v.Any().(*slog.Source); ok && src != nil {
				dir, file := filepath.Split(src.File)
				return slog.String(a.Key, Message(filepath.Join(filepath.Base(dir), file)+":"+strconv.Itoa(src.Line)))
			}
		case semanticKey:
			if v.Kind() == slog.KindBool {
				return slog.Attr{}
			}
		}
	}
	a.Key = Text(a.Key)
	switch v.Kind() {
	case slog.KindString:
		if s := Text(cut(v.String(), c.width)); s != v.String() {
			a.Value = slog.StringValue(s)
		}
	case slog.KindAny:
		a.Value = slog.StringValue(Text(cut(AnyText(v.Any()), c.width)))
	}
	return a
}

// levelAttr names the levels tint does not know; tint colors the others.
func levelAttr(a slog.Attr, l slog.Level) slog.Attr {
	switch {
	case l < slog.LevelDebug:
		return tint.Attr(8, slog.String(a.Key, tree.ShortLevelName(l)))
	case l >= tree.LevelNotice && l < slog.LevelWarn:
		return tint.Attr(14, slog.String(a.Key, tree.ShortLevelName(l)))
	}
	return a
}
