package tree

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pad is the NUL padding a mapped segment holds past its last line.
func pad(n int) string { return strings.Repeat("\x00", n) }

// A journal segment's NUL padding (a live or crashed writer's tail, a
// power loss's hole) is no line: the journal replays to the tree it would
// without it, with nothing lost, but a line the padding cut short, which
// is torn as a last line without its newline is.
func TestReplaySkipsTheNULPaddingOfASegment(t *testing.T) {
	start := `{"ev":"start","wf":"a","id":"a","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"n"}` + "\n"
	rec := `{"ev":"record","wf":"a","scope":"a","time":"2026-01-01T00:00:00.5Z","level":"INFO","msg":"m"}` + "\n"
	end := `{"ev":"end","wf":"a","id":"a","time":"2026-01-01T00:00:01Z","status":"completed"}` + "\n"
	half := end[:30]
	tests := []struct {
		name, journal, without string
		torn                   int64
	}{
		{"a NUL tail after the last line", start + rec + end + pad(1<<20), start + rec + end, 0},
		{"a NUL tail after a line of another size than a read", start + rec + end + pad(65<<10+3), start + rec + end, 0},
		{"a half line, then NULs", start + rec + half + pad(1<<20), start + rec + half, 1},
		{"a NUL hole between lines", start + pad(4096) + rec + end, start + rec + end, 0},
		{"NULs before the first line", pad(100) + start + rec + end, start + rec + end, 0},
		{"a half line, a NUL hole, then lines: one broken line", start + half + pad(100) + rec + end, start + half + "\n" + end, 1},
		{"only NULs: a process that crashed before its first line", pad(1 << 20), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := func(r io.Reader) (*Builder, []string) {
				b := NewBuilder()
				var warned []string
				require.NoError(t, b.ReadJournal(r, "j.jsonl", func(err error) { warned = append(warned, err.Error()) }))
				return b, warned
			}
			want, _ := read(strings.NewReader(tt.without))
			// One byte at a time too: padding and lines fall across reads.
			for _, r := range []io.Reader{strings.NewReader(tt.journal), iotest.OneByteReader(strings.NewReader(tt.journal))} {
				got, warned := read(r)
				require.Equal(t, want.Workflows(), got.Workflows())
				for _, wf := range got.Workflows() {
					assert.Equal(t, string(want.JSON(wf)), string(got.JSON(wf)))
					assert.Equal(t, tt.torn, got.Tree(wf).loss.Dropped, "lines counted as lost")
				}
				assert.Len(t, warned, int(tt.torn), "lines skipped: %q", warned)
			}
		})
	}
}

// LineReader hands on the same lines whatever the size of its reads: each
// line whole, padding skipped where a line starts, and the incomplete last
// line without the padding after it.
func TestSegmentLinesAreTheSameWhateverTheReads(t *testing.T) {
	long := strings.Repeat("x", 100)
	data := "a\n" + long + "\n" + pad(50) + "b\n" + long + pad(7) + "c\n" + pad(9) + "d" + pad(70)
	want := []string{"a\n", long + "\n", "b\n", long + pad(7) + "c\n", "d"}
	for _, size := range []int{16, 64, 4096} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			lr := NewLineReader(iotest.HalfReader(strings.NewReader(data)), size)
			var got []string
			for {
				line, err := lr.Next()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				got = append(got, string(line))
			}
			assert.Equal(t, want, got)
			assert.Equal(t, int64(len(data)), lr.Offset())
		})
	}
	var whole []string
	for line := range Lines([]byte(data)) {
		whole = append(whole, string(line))
	}
	assert.Equal(t, want, whole, "Lines of the data read whole")
}

// A live reader of a segment takes the whole lines before its first NUL,
// wherever it is (a line being copied may show NULs at its start or in
// its middle, its bytes after them), and stops there: it returns the
// exact bytes before the NUL, and its offset is where to read again.
func TestALiveReaderTakesTheWholeLinesBeforeTheFirstNUL(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name, data string
		lines      []string
		rest       string // the incomplete line before the first NUL
	}{
		{"padding after the last line", "a\n" + long + "\n" + pad(70), []string{"a\n", long + "\n"}, ""},
		{"NULs at a line's start, its bytes after", "a\n" + pad(32) + long + "\nb\n", []string{"a\n"}, ""},
		{"NULs in a line's middle", "a\n" + long + pad(7) + "c\nb\n", []string{"a\n"}, long},
		{"a NUL hole between lines: a crashed writer's, read no further", "a\n" + pad(50) + "b\n", []string{"a\n"}, ""},
		{"no newline yet, no NUL", "a\n" + long, []string{"a\n"}, long},
	}
	for _, tt := range tests {
		for _, size := range []int{16, 64, 4096} {
			t.Run(fmt.Sprint(tt.name, "/", size), func(t *testing.T) {
				lr := NewLiveLineReader(iotest.HalfReader(strings.NewReader(tt.data)), size)
				var got []string
				for {
					line, err := lr.Next()
					if err != nil {
						require.ErrorIs(t, err, io.EOF)
						assert.Equal(t, tt.rest, string(line), "the bytes before the NUL")
						break
					}
					got = append(got, string(line))
				}
				assert.Equal(t, tt.lines, got)
				assert.Equal(t, int64(len(strings.Join(tt.lines, ""))), lr.Offset(), "where to read again")
			})
		}
	}
}

// steps is a reader that hands on its steps one a read: a string, or an
// error.
type steps []any

func (s *steps) Read(p []byte) (int, error) {
	if len(*s) == 0 {
		return 0, io.EOF
	}
	step := (*s)[0]
	*s = (*s)[1:]
	if err, ok := step.(error); ok {
		return 0, err
	}
	return copy(p, step.(string)), nil
}

// An error reading a journal ends it, and is reported, even where a read
// after it would go on: in the middle of a line, in padding; but a live
// reader stops at the NUL before it.
func TestAReadErrorEndsAJournal(t *testing.T) {
	errEIO := errors.New("input/output error")
	tests := []struct {
		name    string
		steps   steps
		liveErr error
	}{
		{"in the middle of a line", steps{"{\"a\":1}\nabc", errEIO, "def\n"}, errEIO},
		{"in padding", steps{"{\"a\":1}\n\x00\x00", errEIO, "def\n"}, io.EOF},
		{"in padding after half a line", steps{"{\"a\":1}\nab\x00\x00", errEIO, "def\n"}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, live := range []bool{false, true} {
				r := slices.Clone(tt.steps)
				lr, want := NewLineReader(&r, 16), errEIO
				if live {
					lr, want = NewLiveLineReader(&r, 16), tt.liveErr
				}
				line, err := lr.Next()
				require.NoError(t, err)
				assert.Equal(t, "{\"a\":1}\n", string(line))
				_, err = lr.Next()
				require.ErrorIs(t, err, want, "live: %v", live)
				_, err = lr.Next()
				require.ErrorIs(t, err, want, "live: %v: and it stays", live)
			}
			r := slices.Clone(tt.steps)
			require.ErrorIs(t, NewBuilder().ReadJournal(&r, "j.jsonl", func(error) {}), errEIO)
		})
	}
}

// A LineReader, which a parent keeps to read its children's journals,
// does not keep the room of the longest line it read.
func TestALineReaderKeepsNoRoomOfALongLine(t *testing.T) {
	for _, live := range []bool{false, true} {
		data := strings.Repeat("x", 1<<20) + "\nshort\n"
		lr := NewLineReader(strings.NewReader(data), 4096)
		if live {
			lr = NewLiveLineReader(strings.NewReader(data), 4096)
		}
		for _, want := range []int{1<<20 + 1, 6} {
			line, err := lr.Next()
			require.NoError(t, err)
			require.Len(t, line, want)
		}
		assert.LessOrEqual(t, cap(lr.long), 4096, "live: %v", live)
	}
}
