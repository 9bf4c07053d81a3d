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
// NUL byte (JSON escapes it), so the rule every reader of segments keeps
// is:
//
//   - NUL bytes where a line would start are padding: skipped, never a
//     line, never counted as lost; the lines after them are read.
//   - A last line that padding follows to the segment's end (the copy of
//     a line under way, or cut by a crash) is an incomplete line, without
//     the padding: torn, as a last line without its newline is.
//   - NUL bytes inside a line that goes on after them (a power loss's hole
//     in the middle of a line) are part of it: a line that is no event,
//     skipped as any such line, with whatever of the next line the hole
//     left.
//   - A follower of a live segment stops at its first NUL and reads on
//     from there: later lines are copied over the padding, and the writer
//     cuts the segment to its lines when it closes it.
//
// NUL bytes are looked for only where a line starts and in the tail of a
// read that holds no newline, so a line is read as fast as without
// padding, and the lines are the same whatever the size of the reads.

// LineReader reads the lines of a journal segment, skipping its padding.
type LineReader struct {
	br   *bufio.Reader
	long []byte // the line being returned, when it spans reads
	off  int64
}

// NewLineReader returns a LineReader of r that reads size bytes at a time.
func NewLineReader(r io.Reader, size int) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, size)}
}

// Reset makes l read r from its start, with the buffer it has.
func (l *LineReader) Reset(r io.Reader) {
	l.br.Reset(r)
	l.off = 0
}

// Next returns the next line, with its newline; or, at the end of r, an
// incomplete line, without its newline and the padding after it. It skips
// the padding where a line starts. At the end of r it returns io.EOF, or
// the error reading r. The line is valid until the next call.
func (l *LineReader) Next() ([]byte, error) {
	l.long = l.long[:0]
	for {
		buf, err := l.br.Peek(max(1, l.br.Buffered()))
		if len(buf) == 0 {
			if len(l.long) > 0 {
				return l.long, nil
			}
			return nil, err
		}
		if buf[0] == 0 {
			n, err := l.skip()
			if len(l.long) > 0 {
				if err != nil {
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

// AtPadding reports whether l stands at padding: for a reader that stops
// there, since a live segment's next lines are copied over it.
func (l *LineReader) AtPadding() bool {
	b, err := l.br.Peek(1)
	return err == nil && b[0] == 0
}

// Offset returns how many bytes of r l took: the lines it returned and
// the padding it skipped.
func (l *LineReader) Offset() int64 { return l.off }

func (l *LineReader) discard(n int) {
	_, _ = l.br.Discard(n) // buffered: cannot fail
	l.off += int64(n)
}

// skip discards the padding at the read position; see SkipPadding.
func (l *LineReader) skip() (int64, error) {
	n, err := SkipPadding(l.br)
	l.off += n
	return n, err
}

// SkipPadding discards the padding at br's read position, for a reader
// that reads a segment's lines with br itself. It returns how many bytes
// it discarded, and the error that ended br (io.EOF) if it did.
func SkipPadding(br *bufio.Reader) (int64, error) {
	var n int64
	for {
		buf, err := br.Peek(max(1, br.Buffered()))
		if len(buf) == 0 {
			return n, err
		}
		z := nuls(buf)
		_, _ = br.Discard(z)
		n += int64(z)
		if z < len(buf) {
			return n, nil
		}
	}
}

// nuls returns how many NUL bytes b starts with.
func nuls(b []byte) int { return len(b) - len(bytes.TrimLeft(b, "\x00")) }
