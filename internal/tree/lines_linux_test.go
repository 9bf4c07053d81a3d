package tree

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyLines copies n lines of lineLen bytes into a shared mapping of a new
// file, one copy a line, as a journal writer does, while read reads the
// file over and over until the copies are done, and once more after.
func copyLines(t *testing.T, n, lineLen int, read func(name string)) {
	name := filepath.Join(t.TempDir(), "live.jsonl")
	f, err := os.Create(name)
	require.NoError(t, err)
	defer f.Close()
	size := (n + 1) * lineLen
	require.NoError(t, f.Truncate(int64(size)))
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	require.NoError(t, err)
	var stop, done atomic.Bool
	finished := make(chan struct{})
	defer func() {
		stop.Store(true) // t failed: unmapped under no copy
		<-finished
		require.NoError(t, syscall.Munmap(m))
	}()
	go func() {
		defer close(finished)
		off := 0
		for i := 0; i < n && !stop.Load(); i++ {
			off += copy(m[off:], mappedLine(i, lineLen))
		}
		done.Store(true)
	}()
	for !done.Load() {
		read(name)
	}
	read(name)
}

// mappedLine is the line i of lineLen bytes that copyLines copies.
func mappedLine(i, lineLen int) string {
	line := fmt.Sprintf(`{"n":%08d,"p":"`, i)
	return line + strings.Repeat("x", lineLen-len(line)-3) + "\"}\n"
}

// A live reader of a segment whose lines are being copied into its
// mapping (a copy writes a line's first bytes last, and a read sees what
// is copied so far) takes each line once and whole, in order, reading
// again from where it stopped.
func TestALiveReaderTakesEachLineOfAMappingBeingCopiedIntoWhole(t *testing.T) {
	for _, lineLen := range []int{300, 1000, 5000} {
		t.Run(fmt.Sprint(lineLen), func(t *testing.T) {
			n := min(20000, (16<<20)/lineLen)
			lr := NewLiveLineReader(nil, 64<<10)
			var off int64
			var got int
			copyLines(t, n, lineLen, func(name string) {
				f, err := os.Open(name)
				require.NoError(t, err)
				defer f.Close()
				lr.Reset(io.NewSectionReader(f, off, 1<<62))
				base := off
				for {
					line, err := lr.Next()
					if err != nil {
						require.ErrorIs(t, err, io.EOF)
						require.NotContains(t, string(line), "\x00", "the incomplete line before the first NUL")
						return
					}
					off = base + lr.Offset()
					if string(line) != mappedLine(got, lineLen) {
						t.Fatalf("line %d taken as %d bytes: %.40q…", got, len(line), line)
					}
					got++
				}
			})
			assert.Equal(t, n, got, "lines taken")
		})
	}
}
