package console

import (
	"bytes"
	"io"
	"os"
	"sync"
	"unicode/utf8"

	"github.com/slogwf/slogwf/internal/buffer"
)

// lineWriter writes the lines of the two tints of a console, which each
// lock only their own writes, one at a time; a line wider than width
// columns it cuts (see cutLine), ending it with "…" and, when colored, with
// a color reset, so that the terminal is not left colored.
type lineWriter struct {
	mu    *sync.Mutex // nil when w writes one Write at a time itself
	w     io.Writer
	width int // 0 or less: no limit
	color bool
}

// newLineWriter returns a lineWriter of lines to w. An *os.File writes
// each Write whole under a lock of its own (internal/poll's write lock),
// and io.Discard keeps nothing: lineWriter takes no lock of its own for
// them, which saves every line a lock.
func newLineWriter(w io.Writer, width int, color bool) *lineWriter {
	l := &lineWriter{w: w, width: width, color: color}
	if _, ok := w.(*os.File); !ok && w != io.Discard {
		l.mu = new(sync.Mutex)
	}
	return l
}

// Write writes p, one line of tint's, cut to the width.
func (l *lineWriter) Write(p []byte) (int, error) {
	line, nl := bytes.CutSuffix(p, []byte("\n"))
	// Every column takes a byte at least, and every color sequence, which
	// takes none, four bytes at least (ESC [ 0 m): most lines need no
	// closer look, and most of the others only a count of their color
	// sequences' bytes, not cutLine's look at every rune.
	if l.width > 0 && len(line)-4*bytes.Count(line, []byte("\x1b")) > l.width && len(line)-colorBytes(line) > l.width {
		if n, cut := cutLine(line, l.width); cut {
			buf := buffer.New()
			defer buf.Free()
			*buf = append(append(*buf, line[:n]...), "…"...)
			if l.color {
				*buf = append(*buf, "\x1b[0m"...)
			}
			if nl {
				*buf = append(*buf, '\n')
			}
			if _, err := l.write(*buf); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return l.write(p)
}

func (l *lineWriter) write(p []byte) (int, error) {
	if l.mu == nil {
		return l.w.Write(p)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// colorBytes returns the bytes of the color sequences that cutLine finds
// in line, up to an ESC after a backslash: every other unit of cutLine
// takes a byte at least for each column it shows in, so a line of no more
// bytes than width besides them is not cut. Of a colored line of tint,
// the sequences are a third of the bytes.
func colorBytes(line []byte) int {
	n := 0
	for i := 0; i < len(line); i++ {
		if line[i] != 0x1b {
			continue
		}
		if i > 0 && line[i-1] == '\\' {
			// An escape's, or a sequence's that cutLine may see
			// elsewhere: the rest counts as columns.
			return n
		}
		size := 4 // tint's ESC [ digit m, most of a line's, without unit's loop
		if i+3 >= len(line) || line[i+1] != '[' || line[i+3] != 'm' || line[i+2] < '0' || line[i+2] > '9' {
			size, _ = unit(line[i:])
		}
		n += size
		i += size - 1
	}
	return n
}

// cutLine returns how many bytes of line to keep so that they show in
// width-1 columns, to be followed by "…", and whether line is wider than
// width columns, which it must be to be cut. A rune takes a column; an
// escape (`\n`, `\x1b`, `\u202e`, …) takes its runes and is never split;
// a color sequence, which only slogwf and tint write (untrusted ESC bytes
// are escaped before), takes none and is never split.
func cutLine(line []byte, width int) (n int, cut bool) {
	cols := 0
	for i := 0; i < len(line); {
		size, w := 1, 1
		switch c := line[i]; {
		case c >= utf8.RuneSelf:
			_, size = utf8.DecodeRune(line[i:])
		case c == 0x1b || c == '\\':
			size, w = unit(line[i:])
		}
		if cols += w; cols > width {
			return n, true
		}
		i += size
		if cols < width {
			n = i
		}
	}
	return len(line), false
}

// unit returns the size in bytes of the color sequence or the escape that
// s starts with, at an ESC or a backslash, and the columns it shows in.
func unit(s []byte) (size, cols int) {
	if s[0] == 0x1b { // CSI: ESC [, parameters, a final byte in @ to ~
		size = 1
		if len(s) > 1 && s[1] == '[' {
			size = 2
			for size < len(s) && (s[size] < 0x40 || s[size] > 0x7e) {
				size++
			}
			size = min(size+1, len(s))
		}
		return size, 0
	}
	if len(s) == 1 {
		return 1, 1
	}
	n := 0
	switch s[1] {
	case 'x':
		n = 4
	case 'u':
		n = 6
	case 'U':
		n = 10
	}
	if n > 0 && len(s) >= n && isHex(s[2:n]) {
		return n, n
	}
	_, size = utf8.DecodeRune(s[1:])
	return 1 + size, 2
}

// isHex reports whether s is all hexadecimal digits.
func isHex(s []byte) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
