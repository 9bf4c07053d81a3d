// Package jsonenc holds the JSON appenders that the journal and the tree
// files share. They write the same bytes for the same input, so that a
// tree rebuilt from a journal is byte for byte the live one, and they
// escape what could change how a terminal or an editor shows a line.
package jsonenc

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// TimeLayout is RFC 3339 with nanoseconds, fixed width and UTC, so that
// times sort as strings and records sort by their leading bytes.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// AppendTime appends t as a JSON string in TimeLayout.
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, TimeLayout)
		return append(b, '"')
	}
	// As AppendFormat with TimeLayout would, two digits at a time.
	hh, mm, ss := t.Clock()
	ns := t.Nanosecond()
	return append(b, '"',
		pairs[y/100*2], pairs[y/100*2+1], pairs[y%100*2], pairs[y%100*2+1], '-',
		pairs[mo*2], pairs[mo*2+1], '-', pairs[d*2], pairs[d*2+1], 'T',
		pairs[hh*2], pairs[hh*2+1], ':', pairs[mm*2], pairs[mm*2+1], ':', pairs[ss*2], pairs[ss*2+1], '.',
		byte('0'+ns/1e8), pairs[ns/1e6%100*2], pairs[ns/1e6%100*2+1], pairs[ns/1e4%100*2], pairs[ns/1e4%100*2+1],
		pairs[ns/100%100*2], pairs[ns/100%100*2+1], pairs[ns%100*2], pairs[ns%100*2+1], 'Z', '"')
}

// pairs holds the numbers from 00 to 99, two digits each.
const pairs = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" + "30313233343536373839" +
	"40414243444546474849" + "50515253545556575859" + "60616263646566676869" + "70717273747576777879" +
	"80818283848586878889" + "90919293949596979899"

const hex = "0123456789abcdef"

// verbatim holds the bytes that AppendString copies as they are: printable
// ASCII but the quote and the backslash.
var verbatim = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Verbatim reports whether s is printable ASCII without a quote or a
// backslash, which AppendString writes as it is between its quotes. It
// looks at eight bytes at once, of a short s too: the keys and values of
// logs are mostly short.
func Verbatim(s string) bool {
	n := len(s)
	switch {
	case n >= 8: // verbatimPrefix's loop, inlined: Verbatim is called for most keys and values
		for i := 0; i+8 < n; i += 8 {
			if !verbatimWord(Load64(s[i : i+8])) {
				return false
			}
		}
		return verbatimWord(Load64(s[n-8:]))
	case n >= 4: // two words of four, which may overlap
		return verbatimWord(uint64(load32(s[:4])) | uint64(load32(s[n-4:]))<<32)
	case n > 0: // the first, the middle and the last byte, and verbatim ones
		return verbatimWord(uint64(s[0]) | uint64(s[n/2])<<8 | uint64(s[n-1])<<16 | 'a'*0x0101010101<<24)
	}
	return true
}

// verbatimPrefix returns the length of the longest start of s that is
// verbatim: eight bytes at a time, and the last eight at once too.
func verbatimPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !verbatimWord(Load64(s[i : i+8])) {
			return i + bytePrefix(s[i:i+8])
		}
	}
	if i < len(s) && i >= 8 && verbatimWord(Load64(s[len(s)-8:])) {
		return len(s)
	}
	return i + bytePrefix(s[i:])
}

// Load64 returns the first eight bytes of w as one word, the first byte
// lowest: a uint64 on every platform, where a uint has 32 bits on some.
func Load64(w string) uint64 {
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// load32 returns the four bytes of w as one word.
func load32(w string) uint32 {
	return uint32(w[0]) | uint32(w[1])<<8 | uint32(w[2])<<16 | uint32(w[3])<<24
}

// verbatimWord reports whether the eight bytes of x are all verbatim: a
// high bit is set where a byte is under 0x20 (x-0x20) or from 0x7f on
// (x+1, x), or below where one equals the quote or the backslash; and
// only when one is. A borrow or a carry across bytes comes only from a
// byte that sets a high bit itself.
func verbatimWord(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	quote, backslash := x^'"'*lo, x^'\\'*lo
	return ((x-0x20*lo)|(x+lo)|x|(quote-lo)&^quote|(backslash-lo)&^backslash)&hi == 0
}

// bytePrefix is verbatimPrefix, a byte at a time.
func bytePrefix(s string) int {
	i := 0
	for i < len(s) && verbatim[s[i]] {
		i++
	}
	return i
}

// AppendString appends s as a JSON string. Beyond what JSON requires it
// escapes DEL, C1 controls, U+2028/2029 and bidi overrides, so that a
// journal line shown raw on a terminal or in an editor cannot rewrite what
// is around it. Invalid UTF-8 becomes \ufffd, and so does U+FFFD itself:
// decoding and appending again gives back the same bytes.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	if Verbatim(s) { // the most common
		return append(append(b, s...), '"')
	}
	return appendEscaped(b, s)
}

// appendEscaped is AppendString after the opening quote, rune by rune
// where s is not verbatim.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if n := verbatimPrefix(s[i:]); n > 0 {
			i += n
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
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
		if r == utf8.RuneError || UnsafeRune(r) {
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

// UnsafeRune reports whether r is a non-ASCII rune that changes how a
// terminal or editor shows the text around it, or hides text.
func UnsafeRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || // C1 controls
		r == 0x061c || r == 0x200e || r == 0x200f || // bidi marks
		r == 0x200b || r == 0xfeff || // zero width space, byte order mark
		r >= 0x2028 && r <= 0x202e || // line/paragraph separators, bidi embeddings
		r >= 0x2060 && r <= 0x206f // word joiner, invisible operators, bidi isolates, deprecated formats
}

func appendRuneEscape(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// AppendValue appends v, resolved, as JSON. A group becomes an object;
// values that cannot be encoded become a string that says why.
func AppendValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return AppendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return AppendString(b, strconv.FormatFloat(f, 'g', -1, 64))
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
		e := AttrEncoder{B: append(b, '{')}
		for _, a := range v.Group() {
			e.Attr(a)
		}
		return append(e.B, '}')
	case slog.KindLogValuer:
		return AppendValue(b, v.Resolve())
	}
	return AppendAny(b, v.Any())
}

// AppendAny appends x as JSON, or as a placeholder string that says why x
// cannot be encoded.
func AppendAny(b []byte, x any) []byte {
	out, err := AnyJSON(b, x)
	if err != nil {
		return AppendString(b, Placeholder(err))
	}
	return out
}

// AnyJSON appends x as JSON, or returns an error, never a panic, when x
// cannot be encoded.
func AnyJSON(b []byte, x any) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = b, Panicked{p}
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
		return AppendString(b, x.Error()), nil
	case encoding.TextMarshaler:
		t, err := x.MarshalText()
		if err != nil {
			return b, err
		}
		return AppendString(b, string(t)), nil
	}
	j, err := json.Marshal(x)
	if err != nil {
		return b, err
	}
	return appendJSON(b, j)
}

// appendJSON appends j, JSON from elsewhere, compacted and with its strings
// escaped as AppendString escapes them.
func appendJSON(b, j []byte) ([]byte, error) {
	var c bytes.Buffer
	if err := json.Compact(&c, j); err != nil {
		return b, fmt.Errorf("invalid JSON: %w", err)
	}
	j = c.Bytes()
	for i := 0; i < len(j); {
		r, size := utf8.DecodeRune(j[i:])
		if UnsafeRune(r) {
			b = appendRuneEscape(b, r)
		} else {
			b = append(b, j[i:i+size]...)
		}
		i += size
	}
	return b, nil
}

// AttrEncoder appends attributes as members of a JSON object, opening
// groups only when a member is written into them, as log/slog's JSON handler
// does: an empty group leaves no trace.
type AttrEncoder struct {
	B      []byte
	Groups []string // names of the groups the next member goes into
	Open   int      // how many of Groups are written out
	Sep    bool     // a member precedes at the current level
}

// MaxDepth bounds the nesting of groups: a LogValuer may hold itself, and
// JSON readers give up at 10,000 levels.
const MaxDepth = 100

// Attr appends a, after resolving it, with slog's rules: an empty Attr is
// skipped, a group with an empty key is inlined, an empty group is dropped.
func (e *AttrEncoder) Attr(a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup && len(e.Groups) >= MaxDepth {
		a.Value = slog.StringValue("!ERROR: groups nested too deep")
	}
	if a.Value.Kind() == slog.KindGroup {
		as := a.Value.Group()
		if len(as) == 0 {
			return
		}
		if a.Key != "" {
			e.Groups = append(e.Groups, a.Key)
		}
		for _, g := range as {
			e.Attr(g)
		}
		if a.Key != "" {
			e.closeGroup()
		}
		return
	}
	e.openGroups()
	if e.Sep {
		e.B = append(e.B, ',')
	}
	e.B = AppendString(e.B, a.Key)
	e.B = append(e.B, ':')
	e.B = AppendValue(e.B, a.Value)
	e.Sep = true
}

func (e *AttrEncoder) openGroups() {
	for _, g := range e.Groups[e.Open:] {
		if e.Sep {
			e.B = append(e.B, ',')
		}
		e.B = AppendString(e.B, g)
		e.B = append(e.B, ':', '{')
		e.Sep = false
	}
	e.Open = len(e.Groups)
}

func (e *AttrEncoder) closeGroup() {
	if e.Open == len(e.Groups) {
		e.B = append(e.B, '}')
		e.Open--
		e.Sep = true
	}
	e.Groups = e.Groups[:len(e.Groups)-1]
}

// CloseAll closes every group written out.
func (e *AttrEncoder) CloseAll() {
	for ; e.Open > 0; e.Open-- {
		e.B = append(e.B, '}')
	}
}

// Panicked is the error of a method that panicked with Value.
type Panicked struct{ Value any }

// Error returns the value of the panic as text, as fmt prints it.
func (p Panicked) Error() string { return fmt.Sprintf("%v", p.Value) }

// Placeholder returns the text that stands for a value that could not
// be formatted because of err.
func Placeholder(err error) string {
	if errors.As(err, &Panicked{}) {
		return "!PANIC: " + err.Error()
	}
	return "!ERROR: " + err.Error()
}
