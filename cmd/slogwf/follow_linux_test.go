package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A line copied into a live journal's mapping raises no event: a follower
// that watches the journal's directory still takes it, as it polls the
// journals that end in padding.
func TestFollowerTakesALineCopiedIntoAMappingThatRaisesNoEvent(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, segment(0))
	tailWrite(t, name, "a\n"+strings.Repeat("\x00", 1<<20))
	lines, _, rounds := followed(t, dir, nil)
	waitRounds(t, rounds, 2)
	require.Equal(t, liveLines("a"), lines())

	f, err := os.OpenFile(name, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	require.NoError(t, err)
	defer syscall.Munmap(m)
	copy(m[2:], "b1")
	waitRounds(t, rounds, 3)
	assert.Equal(t, liveLines("a"), lines(), "a line half copied waits")
	copy(m[4:], "2\n")
	require.Eventually(t, func() bool { return len(lines()) >= 2 }, tailWait, tailTick)
	waitRounds(t, rounds, 2)
	assert.Equal(t, liveLines("a", "b12"), lines())
}

// A follower of a journal whose lines are being copied into its mapping
// (a copy writes a line's first bytes last, and a read sees what is
// copied so far) hands on each line once and whole, in order, reading it
// as often as it can meanwhile.
func TestFollowerHandsOnEachLineOfAMappingBeingCopiedIntoWhole(t *testing.T) {
	for _, lineLen := range []int{300, 1000, 5000} {
		t.Run(fmt.Sprint(lineLen), func(t *testing.T) {
			n := min(20000, (16<<20)/lineLen)
			name := filepath.Join(t.TempDir(), "live.jsonl")
			f, err := os.Create(name)
			require.NoError(t, err)
			defer f.Close()
			size := (n + 1) * lineLen
			require.NoError(t, f.Truncate(int64(size)))
			m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
			require.NoError(t, err)
			line := func(i int) string {
				line := fmt.Sprintf(`{"n":%08d,"p":"`, i)
				return line + strings.Repeat("x", lineLen-len(line)-3) + "\"}\n"
			}
			var got, bad []string
			fl := newFollower(os.Open, func(_ *followedFile, l []byte, _ bool) {
				if string(l) != line(len(got)) && len(bad) < 3 {
					bad = append(bad, fmt.Sprintf("line %d: %d bytes %.40q…", len(got), len(l), l))
				}
				got = append(got, "")
			}, func(err error) { t.Errorf("fault: %v", err) })
			require.NoError(t, fl.add(name))
			var stop, done atomic.Bool
			finished := make(chan struct{})
			go func() {
				defer close(finished)
				off := 0
				for i := 0; i < n && !stop.Load(); i++ {
					off += copy(m[off:], line(i))
				}
				done.Store(true)
			}()
			defer func() {
				stop.Store(true) // unmapped under no copy
				<-finished
				require.NoError(t, syscall.Munmap(m))
			}()
			for !done.Load() {
				require.NoError(t, fl.readAll())
			}
			require.NoError(t, fl.readAll())
			assert.Empty(t, bad, "lines not handed on whole")
			assert.Len(t, got, n, "lines handed on")
		})
	}
}

// readBytes returns how many bytes this process has read from files so
// far (rchar of /proc/self/io).
func readBytes(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/io")
	require.NoError(t, err)
	var n int64
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			_, err := fmt.Sscan(v, &n)
			require.NoError(t, err)
		}
	}
	return n
}

// A follower looks at the journals of crashed writers, which end in NUL
// padding, at every tick (a line copied into a mapping raises no event),
// but reads a byte of each, not a chunk of its padding.
func TestAFollowerReadsAByteOfEachPaddedJournalATick(t *testing.T) {
	const segments, ticks = 100, 10
	dir := t.TempDir()
	for i := range segments {
		data := `{"ev":"record"}` + "\n" + strings.Repeat("\x00", 1<<20)
		require.NoError(t, os.WriteFile(filepath.Join(dir, segment(i)), []byte(data), 0o600))
	}
	fl, got := lineFollower(t)
	require.NoError(t, fl.add(dir))
	require.NoError(t, fl.readAll())
	require.Len(t, *got, segments)
	before := readBytes(t)
	for range ticks {
		for _, f := range fl.files {
			require.True(t, f.padded, "looked at every tick")
			fl.readFollowed(f, 0)
		}
	}
	read := readBytes(t) - before
	assert.LessOrEqual(t, read, int64(segments*ticks*16), "bytes read in %d ticks of %d padded journals", ticks, segments)
	assert.Len(t, *got, segments)
}
