package console

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slogwf/slogwf/internal/jsonenc"
)

// Message escapes s for a terminal: control characters, bidi
// overrides, line separators and invalid UTF-8 become escapes, so that a
// message is one line that can change nothing around it. It never writes
// `\x1b` (see console), so what it returns is safe for tint to quote too,
// and escaping again changes nothing.
func Message(s string) string {
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
		case r < 0x20 || r == 0x7f || jsonenc.UnsafeRune(r):
			return fmt.Sprintf(`\u%04x`, r)
		case r == '\\' && strings.HasPrefix(rest, `\x1b`):
			return "⧵"
		}
		return ""
	})
}

// Text escapes s for tint to quote: what strconv.Quote escapes well
// it leaves; ESC and the text `\x1b` (which tint would turn into ESC), DEL
// (which tint does not quote), and invalid UTF-8 and U+FFFD (at which tint
// without color cuts the text) it replaces with visible stand-ins.
func Text(s string) string { return escape(s, textRune) }

// textRune returns what Text puts for the rune r, of size bytes, that
// starts rest, or "" to keep it.
func textRune(rest string, r rune, size int) string {
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
}

// cut returns s cut so that, escaped by Text and quoted by tint, it shows
// in at most width characters besides its quotes: the runes that fit in
// width-1, then "…". It cuts s before Text escapes it, and between runes,
// so that no escape is ever split. A width of 0 or less is no limit.
func cut(s string, width int) string {
	if width <= 0 {
		return s
	}
	shown, end := 0, 0 // s[:end] shows in width-1
	for i := 0; i < len(s); {
		w, size := 1, 1
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			w = shownWidth(s[i:], r, size)
		}
		if shown += w; shown > width {
			return s[:end] + "…"
		}
		if shown < width {
			end = i + size
		}
		i += size
	}
	return s
}

// shownWidth returns how many characters the rune r, of size bytes, that
// starts rest shows in, escaped by Text and quoted. A backslash counts 2,
// as quoted, even where Text puts ⧵ for it.
func shownWidth(rest string, r rune, size int) int {
	rep := textRune(rest, r, size)
	if rep == "" || r == '\\' {
		return quotedWidth(r)
	}
	n := 0
	for _, r := range rep {
		n += quotedWidth(r)
	}
	return n
}

// quotedWidth returns how many characters strconv.Quote writes for r.
func quotedWidth(r rune) int {
	switch {
	case r == '"' || r == '\\':
		return 2
	case strconv.IsPrint(r):
		return 1
	case r == '\a' || r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t' || r == '\v':
		return 2
	case r < ' ' || r == 0x7f:
		return 4 // \xff
	case r < 0x10000:
		return 6 // \uffff
	}
	return 10 // \U0010ffff
}

// escape returns s with the runes for which esc returns a replacement
// replaced; esc gets the rest of s from the rune on. s comes back as it is
// when nothing changes.
func escape(s string, esc func(rest string, r rune, size int) string) string {
	if jsonenc.Verbatim(s) {
		return s // the common case, told a word at a time
	}
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

// AnyText formats x as tint does, but an error by its message, and
// survives a panic.
func AnyText(x any) (s string) {
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
