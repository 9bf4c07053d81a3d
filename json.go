package slogwf

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The JSON appenders shared by the journal and the tree. They write the
// same bytes for the same input, so that a tree rebuilt from a journal is
// byte for byte the live one.

// timeLayout is RFC 3339 with nanoseconds, fixed width and UTC, so that
// times sort as strings and records sort by their leading bytes.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, timeLayout)
		return append(b, '"')
	}
	// As AppendFormat with timeLayout would, in a fifth of the time.
	hh, mm, ss := t.Clock()
	b = append(b, '"')
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, hh, 2)
	b = append(b, ':')
	b = appendDigits(b, mm, 2)
	b = append(b, ':')
	b = appendDigits(b, ss, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z', '"')
}

// appendDigits appends the n last decimal digits of v, v >= 0.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, make([]byte, n)...)
	for i := len(b) - 1; i >= len(b)-n; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string. Beyond what JSON requires it
// escapes DEL, C1 controls, U+2028/2029 and bidi overrides, so that a
// journal line shown raw on a terminal or in an editor cannot rewrite what
// is around it. Invalid UTF-8 becomes \ufffd, and so does U+FFFD itself:
// decoding and appending again gives back the same bytes.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unsafeRune(r) {
			b = append(b, s[start:i]...)
			b = appendRuneEscape(b, r)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// unsafeRune reports whether r is a non-ASCII rune that changes how a
// terminal or editor shows the text around it, or hides text.
func unsafeRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || // C1 controls
		r == 0x061c || r == 0x200e || r == 0x200f || // bidi marks
		r == 0x200b || r == 0xfeff || // zero width space, byte order mark
		r >= 0x2028 && r <= 0x202e || // line/paragraph separators, bidi embeddings
		r >= 0x2060 && r <= 0x206f // word joiner, invisible operators, bidi isolates, deprecated formats
}

func appendRuneEscape(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// appendValue appends v, resolved, as JSON. A group becomes an object;
// values that cannot be encoded become a string that says why.
func appendValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendString(b, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	case slog.KindGroup:
		e := attrEncoder{b: append(b, '{')}
		for _, a := range v.Group() {
			e.attr(a)
		}
		return append(e.b, '}')
	case slog.KindLogValuer:
		return appendValue(b, v.Resolve())
	}
	return appendAny(b, v.Any())
}

func appendAny(b []byte, x any) []byte {
	out, err := anyJSON(b, x)
	if err != nil {
		return appendString(b, placeholder(err))
	}
	return out
}

// anyJSON appends x as JSON, or returns an error, never a panic, when x
// cannot be encoded.
func anyJSON(b []byte, x any) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = b, panicked{p}
		}
	}()
	switch x := x.(type) {
	case nil:
		return append(b, "null"...), nil
	case json.Marshaler:
		j, err := x.MarshalJSON()
		if err != nil {
			return b, err
		}
		return appendJSON(b, j)
	case error:
		return appendString(b, x.Error()), nil
	case encoding.TextMarshaler:
		t, err := x.MarshalText()
		if err != nil {
			return b, err
		}
		return appendString(b, string(t)), nil
	}
	j, err := json.Marshal(x)
	if err != nil {
		return b, err
	}
	return appendJSON(b, j)
}

// appendJSON appends j, JSON from elsewhere, compacted and with its strings
// escaped as appendString escapes them.
func appendJSON(b, j []byte) ([]byte, error) {
	var c bytes.Buffer
	if err := json.Compact(&c, j); err != nil {
		return b, fmt.Errorf("invalid JSON: %w", err)
	}
	j = c.Bytes()
	for i := 0; i < len(j); {
		r, size := utf8.DecodeRune(j[i:])
		if unsafeRune(r) {
			b = appendRuneEscape(b, r)
		} else {
			b = append(b, j[i:i+size]...)
		}
		i += size
	}
	return b, nil
}

// attrEncoder appends attributes as members of a JSON object, opening
// groups only when a member is written into them, as log/slog's JSON handler
// does: an empty group leaves no trace.
type attrEncoder struct {
	b      []byte
	groups []string // names of the groups the next member goes into
	open   int      // how many of groups are written out
	sep    bool     // a member precedes at the current level
}

// maxDepth bounds the nesting of groups: a LogValuer may hold itself, and
// JSON readers give up at 10,000 levels.
const maxDepth = 100

// attr appends a, after resolving it, with slog's rules: an empty Attr is
// skipped, a group with an empty key is inlined, an empty group is dropped.
func (e *attrEncoder) attr(a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup && len(e.groups) >= maxDepth {
		a.Value = slog.StringValue("!ERROR: groups nested too deep")
	}
	if a.Value.Kind() == slog.KindGroup {
		as := a.Value.Group()
		if len(as) == 0 {
			return
		}
		if a.Key != "" {
			e.groups = append(e.groups, a.Key)
		}
		for _, g := range as {
			e.attr(g)
		}
		if a.Key != "" {
			e.closeGroup()
		}
		return
	}
	e.openGroups()
	if e.sep {
		e.b = append(e.b, ',')
	}
	e.b = appendString(e.b, a.Key)
	e.b = append(e.b, ':')
	e.b = appendValue(e.b, a.Value)
	e.sep = true
}

func (e *attrEncoder) openGroups() {
	for _, g := range e.groups[e.open:] {
		if e.sep {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, g)
		e.b = append(e.b, ':', '{')
		e.sep = false
	}
	e.open = len(e.groups)
}

func (e *attrEncoder) closeGroup() {
	if e.open == len(e.groups) {
		e.b = append(e.b, '}')
		e.open--
		e.sep = true
	}
	e.groups = e.groups[:len(e.groups)-1]
}

// closeAll closes every group written out.
func (e *attrEncoder) closeAll() {
	for ; e.open > 0; e.open-- {
		e.b = append(e.b, '}')
	}
}
