package tree

import (
	"bufio"
	"bytes"
	"io"
	"iter"
)

// Padding: on Linux a journal segment is grown a MiB at a time and its
// lines are copied into a mapping of it, so the segment of a process that
// is writing it ends in NUL bytes after its last line (later lines
// overwrite them), and that of a process that died keeps them; a power
// loss can leave NUL holes inside a segment. A journal line never holds a
// NUL byte (JSON escapes it). There are two rules, one for each kind of
// reader.
//
// A batch reader reads a finished segment (build, ls, retention's scan, a
// segment whose writer closed it or died):
//
//   - NUL bytes where a line would start are padding: skipped, never a
//     line, never counted as lost; the lines after them are read.
//   - A last line that padding follows to the segment's end (cut by a
//     crash) is an incomplete line, without the padding: torn, as a last
//     line without its newline is.
//   - NUL bytes inside a line that goes on after them (a power loss's hole
//     in the middle of a line) are part of it: a line that is no event,
//     skipped as any such line, with whatever of the next line the hole
//     left.
//
// A live reader reads a segment that may be live, while its writer copies
// lines into it (tail -f, serve, export -f, a parent reading its
// children's journals). A copy does not write a line's bytes in order (a
// memmove writes its first bytes last) and a read is not atomic against
// it, so a line being copied may show NUL bytes at its start or in its
// middle with its bytes after them. But each byte goes from NUL to its
// final value once, so:
//
//   - The first NUL byte of what is unread ends what can be read now: the
//     whole lines before it are read, and the reader reads again later
//     from the start of the first incomplete line (or the NUL).
//   - The bytes before that NUL are exact.
//
// A live reader of a segment whose writer died stops at its first NUL
// for good: at its padding, or at a power loss's hole, the lines after
// which a batch reader reads.
//
// NUL bytes are looked for only where a line starts and in the tail of a
// read that holds no newline (batch), or with the newline (live), so a
// line is read about as fast as without padding, and the lines are the
// same whatever the size of the reads.

// LineReader reads the lines of a journal segment by one of the padding
// rules.
type LineReader struct {
	br   *bufio.Reader
	long []byte // the line being returned, when it spans reads
	off  int64
	live bool
	err  error // a read error, kept: a bufio.Reader reports it once
}

// NewLineReader returns a LineReader of r, a finished segment, that
// reads size bytes at a time and skips its padding.
func NewLineReader(r io.Reader, size int) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, size)}
}

// NewLiveLineReader returns a LineReader of r, a segment that may be
// live, that reads size bytes at a time and stops at its first NUL.
func NewLiveLineReader(r io.Reader, size int) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, size), live: true}
}

// Reset makes l read r from its start, with the buffer it has.
func (l *LineReader) Reset(r io.Reader) {
	l.br.Reset(r)
	l.off, l.err = 0, nil
}

// Next returns the next line, with its newline. The line is valid until
// the next call.
//
// Of a finished segment, it skips the padding where a line starts, and at
// the end of r returns an incomplete line, without its newline and the
// padding after it; then io.EOF, or the error reading r.
//
// Of a live segment, at its first NUL or the end of r, it returns the
// incomplete line before them, if any (exact, but for its end), with
// io.EOF, or the error reading r.
func (l *LineReader) Next() ([]byte, error) {
	if cap(l.long) > l.br.Size() {
		l.long = nil // a long line is rare: do not keep its room
	}
	l.long = l.long[:0]
	if l.live {
		return l.nextLive()
	}
	for {
		buf, err := l.peek()
		if len(buf) == 0 {
			if err == io.EOF && len(l.long) > 0 {
				return l.long, nil
			}
			return nil, err
		}
		if buf[0] == 0 {
			n, err := l.skip()
			if len(l.long) > 0 {
				if err == io.EOF {
					return l.long, nil // cut short: the padding runs to the end
				}
				// More of the line after the NULs: all of it is the line.
				l.long = append(l.long, make([]byte, n)...)
			}
			continue
		}
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			l.discard(i + 1) // buf stays as it is until the next read
			if len(l.long) == 0 {
				return buf[:i+1], nil
			}
			l.long = append(l.long, buf[:i+1]...)
			return l.long, nil
		}
		// The tail of what is read: up to the padding, if any.
		i := bytes.IndexByte(buf, 0)
		if i < 0 {
			i = len(buf)
		}
		l.long = append(l.long, buf[:i]...)
		l.discard(i)
	}
}

// nextLive is Next of a live segment.
func (l *LineReader) nextLive() ([]byte, error) {
	for {
		buf, err := l.peek()
		if len(buf) == 0 {
			l.off -= int64(len(l.long)) // read again from its start
			return l.long, err
		}
		i := bytes.IndexByte(buf, '\n')
		end := i + 1
		if i < 0 {
			end = len(buf)
		}
		if z := bytes.IndexByte(buf[:end], 0); z >= 0 {
			l.long = append(l.long, buf[:z]...)
			l.discard(z)
			l.off -= int64(len(l.long)) // read again from its start
			return l.long, io.EOF
		}
		l.discard(end)
		if i >= 0 && len(l.long) == 0 {
			return buf[:end], nil
		}
		l.long = append(l.long, buf[:end]...)
		if i >= 0 {
			return l.long, nil
		}
	}
}

// Lines returns the lines of data, the start of a journal segment read
// whole, as a LineReader reads them.
func Lines(data []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for len(data) > 0 {
			if data[0] == 0 {
				data = data[nuls(data):]
				continue
			}
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				yield(bytes.TrimRight(data, "\x00"))
				return
			}
			if !yield(data[:i+1]) {
				return
			}
			data = data[i+1:]
		}
	}
}

// Offset returns how many bytes of r l took: the lines it returned and
// the padding it skipped; of a live segment, but for the incomplete line
// it returned last, which is read again.
func (l *LineReader) Offset() int64 { return l.off }

func (l *LineReader) discard(n int) {
	_, _ = l.br.Discard(n) // buffered: cannot fail
	l.off += int64(n)
}

// Copied reports whether r holds a byte other than NUL at off: whether a
// live reader that stopped there has more to read. A reader of many
// padded segments asks it before it reads a chunk of each again.
func Copied(r io.ReaderAt, off int64) bool {
	var b [1]byte
	n, _ := r.ReadAt(b[:], off)
	return n == 1 && b[0] != 0
}

// peek returns what is buffered, or reads more: none with the error that
// ended r, which it keeps.
func (l *LineReader) peek() ([]byte, error) {
	if l.err != nil {
		return nil, l.err
	}
	buf, err := l.br.Peek(max(1, l.br.Buffered()))
	if len(buf) == 0 {
		l.err = err
	}
	return buf, err
}

// skip discards the padding at the read position; see SkipPadding.
func (l *LineReader) skip() (int64, error) {
	var n int64
	for {
		buf, err := l.peek()
		if len(buf) == 0 {
			return n, err
		}
		z := nuls(buf)
		l.discard(z)
		n += int64(z)
		if z < len(buf) {
			return n, nil
		}
	}
}

// SkipPadding discards the padding at br's read position, for a reader
// that reads a finished segment's lines with br itself. It returns how
// many bytes it discarded, and the error that ended br (io.EOF) if it did.
func SkipPadding(br *bufio.Reader) (int64, error) {
	l := LineReader{br: br}
	return l.skip()
}

// nuls returns how many NUL bytes b starts with.
func nuls(b []byte) int { return len(b) - len(bytes.TrimLeft(b, "\x00")) }
