package slogwf

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"

	"github.com/slogwf/slogwf/internal/buffer"
	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/jsonenc"
	"github.com/slogwf/slogwf/internal/tree"
)

// defaultMaxValue is the default of Options.MaxValue.
const defaultMaxValue = 64 << 10

// cleaner makes a record fit for every output before any sees it: it
// hides secrets, cuts long text, and replaces values that would crash or
// hang a handler (a panicking method, a map that holds itself, a LogValuer
// without end) with placeholders. Every output gets the same record, so
// the console, the journal and the tree agree.
type cleaner struct {
	redactor *redactor
	max      int  // bytes of a message or string value; negative: no limit
	all      bool // hide every attribute: they are in a group with a secret key
	// notable holds the shapes (see keyShape) of the keys that are secret
	// or reserved; every shape when the shapes do not tell (see
	// redactor.ascii), or all is set.
	notable [keyShapes / 64]uint64
}

// everyShape holds every shape of key: each key is looked at in full.
var everyShape = func() (shapes [keyShapes / 64]uint64) {
	for i := range shapes {
		shapes[i] = ^uint64(0)
	}
	return shapes
}()

// hidingAll returns c for the attributes of a group named by a secret key,
// opened with WithGroup: it hides every one.
func (c *cleaner) hidingAll() *cleaner {
	c2 := *c
	c2.all = true
	c2.notable = everyShape
	return &c2
}

func newCleaner(o *Options) *cleaner {
	c := &cleaner{redactor: newRedactor(o.Redact), max: o.MaxValue}
	if c.max == 0 {
		c.max = defaultMaxValue
	}
	c.notable = everyShape
	if c.redactor.ascii || len(c.redactor.keys) == 0 {
		c.notable = c.redactor.shapes
		for _, r := range reservedKeys {
			v := keyShape(r.key)
			c.notable[v/64] |= 1 << (v % 64)
		}
	}
	return c
}

// record cleans r in place, and reads into m what its attributes, as
// cleaned, say to slogwf (see meta.read): one pass over them for both, and
// for con, if any, whose Plain it reports of them all. It adds to l what
// cleaning lost. A record that needs no change is left as it is, which
// costs no allocation.
func (c *cleaner) record(r *slog.Record, m *meta, l *tree.Loss, con *console.Handler) (plain bool) {
	lk := look{c: c, m: m, con: con, plain: con != nil}
	// A closure this small is inlined into Attrs: each attribute goes to
	// attr in a direct call, not through a function value.
	r.Attrs(func(a slog.Attr) bool { return lk.attr(&a) })
	if !lk.dirty && c.fits(r.Message) && !c.redactor.mayHold(r.Message) {
		return lk.plain
	}
	changed := c.rewrite(r, m, l, lk.dirty)
	return lk.plain && !changed
}

// rewrite is record for a record that may change, dirty if an attribute
// may: it reports whether it changed r.
func (c *cleaner) rewrite(r *slog.Record, m *meta, l *tree.Loss, dirty bool) (changed bool) {
	msg, changed := c.text(r.Message, l)
	if !changed && !dirty {
		return false
	}
	out := make([]slog.Attr, 0, r.NumAttrs())
	*m = meta{}
	r.Attrs(func(a slog.Attr) bool {
		if dirty && c.mayChange(a) {
			a, _ = c.attr(a, 0, l)
		}
		m.read(a)
		out = append(out, a)
		return true
	})
	*r = slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.AddAttrs(out...)
	return true
}

// look is what record's first pass over the attributes of a record
// learns.
type look struct {
	c     *cleaner
	m     *meta
	con   *console.Handler
	dirty bool // an attribute may change
	plain bool // con shows every attribute as tint does
}

// attr looks at a and reports whether to look on. It takes a by pointer:
// record's closure holds a copy already, and one register spills where
// five would.
func (lk *look) attr(a *slog.Attr) bool {
	if !lk.c.quietAttr(a) {
		if lk.c.mayChange(*a) {
			lk.dirty = true
			return false
		}
		lk.m.read(*a)
	}
	lk.plain = lk.plain && lk.con.Plain(*a)
	return true
}

// quiet reports whether cleaning leaves r as it is, and slogwf reads
// nothing from its attributes: what record finds of most records, with no
// more work than it takes to tell.
func (c *cleaner) quiet(r *slog.Record) bool {
	if !c.fits(r.Message) || c.redactor.mayHold(r.Message) {
		return false
	}
	quiet := true
	r.Attrs(func(a slog.Attr) bool {
		quiet = c.quietAttr(&a)
		return quiet
	})
	return quiet
}

// quietAttr reports whether cleaning leaves a as it is, and slogwf reads
// nothing from it: it has a key neither secret, reserved nor too long, and
// a value of a kind that cannot change, or a string that fits and holds
// no secret. Of a string, fits and mayHold tell what mayChange would.
func (c *cleaner) quietAttr(a *slog.Attr) bool {
	// uint(len(k)-1) < MaxName: 1 to MaxName bytes, in one comparison.
	if k := a.Key; uint(len(k)-1) >= tree.MaxName || c.notableKey(k) {
		return false
	}
	switch a.Value.Kind() {
	case slog.KindString:
		s := a.Value.String()
		return c.fits(s) && !c.redactor.mayHold(s)
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return true
	}
	return false
}

// fits reports whether s is c.max bytes long at most: one comparison, as
// a negative max, no limit, is past every length as a uint.
func (c *cleaner) fits(s string) bool { return uint(len(s)) <= uint(c.max) }

// notableKey reports whether k, not empty, has the shape of a key that is
// secret or reserved.
func (c *cleaner) notableKey(k string) bool {
	v := keyShape(k)
	return c.notable[v/64]&(1<<(v%64)) != 0
}

// mayChange reports whether attr may change a, cheaply: false only for a
// plain value or a group of them under keys that are no secrets, and
// strings, not too long, in which no secret can start.
func (c *cleaner) mayChange(a slog.Attr) bool { return c.mayChangeAt(a, 0) }

func (c *cleaner) mayChangeAt(a slog.Attr, depth int) bool {
	return c.all || c.mayChangeValue(a.Value, depth) || len(a.Key) > tree.MaxName || c.redactor.secretKey(a.Key)
}

// mayChangeValue is mayChange of an attribute's value, depth groups deep.
func (c *cleaner) mayChangeValue(v slog.Value, depth int) bool {
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		return !c.fits(s) || c.redactor.mayHold(s)
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return false
	case slog.KindGroup:
		if depth >= jsonenc.MaxDepth {
			return true
		}
		for _, g := range v.Group() {
			if c.mayChangeAt(g, depth+1) {
				return true
			}
		}
		return false
	}
	return true
}

// attrs returns attrs cleaned: a new slice if anything changes.
func (c *cleaner) attrs(attrs []slog.Attr, l *tree.Loss) []slog.Attr {
	var out []slog.Attr
	for i, a := range attrs {
		a2, ok := c.attr(a, 0, l)
		if ok && out == nil {
			out = slices.Clone(attrs)
		}
		if out != nil {
			out[i] = a2
		}
	}
	if out == nil {
		return attrs
	}
	return out
}

// attr returns a cleaned, at depth groups deep, and whether it changed.
// Its key, or group name, is cut at tree.MaxName.
func (c *cleaner) attr(a slog.Attr, depth int, l *tree.Loss) (slog.Attr, bool) {
	changed := false
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value, changed = resolve(a.Value), true
	}
	secret := c.all || c.redactor.secretKey(a.Key)
	if key, cut := tree.CutName(a.Key); cut {
		a.Key, changed = key, true
		l.Truncated++
	}
	if secret {
		l.Redacted++
		return slog.String(a.Key, Redacted), true
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if s, ok := c.text(a.Value.String(), l); ok {
			return slog.String(a.Key, s), true
		}
	case slog.KindGroup:
		if depth >= jsonenc.MaxDepth {
			return slog.String(a.Key, "!ERROR: groups nested too deep"), true
		}
		as := a.Value.Group()
		var out []slog.Attr
		for i, g := range as {
			g2, ok := c.attr(g, depth+1, l)
			if ok && out == nil {
				out = slices.Clone(as)
			}
			if out != nil {
				out[i] = g2
			}
		}
		if out != nil {
			return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}, true
		}
	case slog.KindAny:
		if v, ok := c.anyValue(a.Value.Any(), l); ok {
			return slog.Attr{Key: a.Key, Value: v}, true
		}
	}
	return a, changed
}

// text returns s with its secrets hidden and cut at c.max bytes, and
// whether that changed it. Of text that is cut, only the start is searched
// for secrets: up to a margin past the cut, so that a secret across the
// cut is hidden whole.
func (c *cleaner) text(s string, l *tree.Loss) (string, bool) {
	const margin = 4 << 10
	long := c.max >= 0 && len(s) > c.max
	if !long {
		t, n := c.redactor.redact(s)
		l.Redacted += int64(n)
		return t, n > 0
	}
	rest := ""
	if long && len(s) > c.max+margin {
		s, rest = s[:c.max+margin], s[c.max+margin:]
	}
	t, n := c.redactor.redact(s)
	if n > 0 && rest != "" {
		// A secret may run past the margin, and the text after one
		// may come within the cut: search it all.
		t, n = c.redactor.redact(s + rest)
		rest = ""
	}
	l.Redacted += int64(n)
	if len(t)+len(rest) <= c.max {
		return t + rest, n > 0
	}
	l.Truncated++
	return truncate(t, c.max, len(t)+len(rest)), true
}

// truncate cuts s at max bytes or the rune boundary before, and marks the
// cut with how many bytes of the whole text, of size bytes, it dropped:
// "…[truncated 123 bytes]".
func truncate(s string, max, size int) string {
	s, _ = cut(s, max)
	return s + "…[truncated " + strconv.Itoa(size-len(s)) + " bytes]"
}

// anyValue returns the value that stands for x, and whether it is not x: a
// placeholder when x cannot be shown safely, its text when that holds a
// secret or is too long.
func (c *cleaner) anyValue(x any, l *tree.Loss) (slog.Value, bool) {
	var text string
	switch x := x.(type) {
	case nil:
		return slog.Value{}, false
	case error:
		s, err := errorText(x)
		if err != nil {
			return slog.StringValue(jsonenc.Placeholder(err)), true
		}
		text = s
	case []byte:
		if !c.changes(x) {
			return slog.Value{}, false
		}
		text = string(x)
	default:
		// Encoding x finds what would crash the console's fmt (a map that
		// holds itself) or slog's JSON handler (a panicking MarshalJSON).
		buf := buffer.New()
		defer buf.Free()
		j, err := jsonenc.AnyJSON((*buf)[:0], x)
		*buf = j
		var unsupported *json.UnsupportedValueError
		if errors.As(err, &jsonenc.Panicked{}) || errors.As(err, &unsupported) {
			return slog.StringValue(jsonenc.Placeholder(err)), true
		}
		text = string(j)
		if !c.changes(j) {
			// The console prints x as fmt does, which shows what JSON
			// may not: the text of a String method, unexported fields.
			text = console.AnyText(x)
		}
	}
	if s, ok := c.text(text, l); ok {
		return slog.StringValue(s), true
	}
	return slog.Value{}, false
}

// resolve resolves v as slog.Value.Resolve does, but a LogValuer that
// panics becomes a placeholder without slog's stack trace, which would
// write the program's absolute source paths.
func resolve(v slog.Value) (out slog.Value) {
	defer func() {
		if p := recover(); p != nil {
			out = slog.StringValue(jsonenc.Placeholder(jsonenc.Panicked{Value: p}))
		}
	}()
	for i := 0; v.Kind() == slog.KindLogValuer; i++ {
		if i == 100 {
			return slog.StringValue("!ERROR: LogValue returns LogValuers without end")
		}
		v = v.LogValuer().LogValue()
	}
	return v
}

// errorText returns err.Error(), or an error if it panics.
func errorText(err error) (s string, perr error) {
	defer func() {
		if p := recover(); p != nil {
			perr = jsonenc.Panicked{Value: p}
		}
	}()
	return err.Error(), nil
}

// changes reports whether c.text may change b: b is too long, or it
// may hold a secret.
func (c *cleaner) changes(b []byte) bool {
	return c.max >= 0 && len(b) > c.max || c.redactor.mayMatch(b)
}

// mayMatch reports whether b holds the literal of a pattern, or a pattern
// has none: only then can the patterns find a secret in b.
func (red *redactor) mayMatch(b []byte) bool {
	for _, p := range red.patterns {
		if p.literal == "" || bytes.Contains(b, []byte(p.literal)) {
			return true
		}
	}
	return false
}
