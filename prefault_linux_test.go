package slogwf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// newMappedSegment returns a new mapped segment of limit bytes in a
// temporary directory.
func newMappedSegment(t *testing.T, limit int64) *mappedFile {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "segment"), os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	require.NoError(t, err)
	seg := mapSegment(f, limit, true)
	require.IsType(t, &mappedFile{}, seg)
	t.Cleanup(func() { _ = seg.Close() })
	return seg.(*mappedFile)
}

// writeTillPopulating writes line to m until the lines are past half its
// first step, where the next is grown ahead and populated, and returns
// what it wrote.
func writeTillPopulating(t *testing.T, m *mappedFile, line []byte) []byte {
	t.Helper()
	var written []byte
	for m.pre.done == nil {
		_, err := m.Write(line)
		require.NoError(t, err)
		written = append(written, line...)
	}
	return written
}

// A segment's first step is neither grown ahead nor populated: a handler
// that logs a few lines and closes pays for no page it does not write.
// Past half of it, the next step is grown ahead and populated.
func TestASegmentsFirstStepIsNotPopulated(t *testing.T) {
	m := newMappedSegment(t, 8<<20)
	var chunks [][]byte
	m.pre.populate = func(b []byte) error {
		chunks = append(chunks, b)
		return nil
	}
	line := append(bytes.Repeat([]byte{'f'}, 1023), '\n')
	for m.size+int64(len(line)) <= growStep/2 {
		_, err := m.Write(line)
		require.NoError(t, err)
	}
	fi, err := m.f.Stat()
	require.NoError(t, err)
	assert.Equal(t, int64(growStep), fi.Size(), "the first step, no step ahead")
	assert.Nil(t, m.pre.done, "nothing populated")

	_, err = m.Write(line)
	require.NoError(t, err)
	<-m.pre.done
	fi, err = m.f.Stat()
	require.NoError(t, err)
	assert.Equal(t, int64(2*growStep), fi.Size(), "the next step, ahead")
	require.Len(t, chunks, growStep/populateChunk, "the next step populated whole")
	assert.Same(t, &m.m[growStep], &chunks[0][0], "from its start, not the first step's")
}

// However a mapping ends (the segment closed, as at a rotation or the
// handler's Close; taken back by Truncate; a line past the mapping; a
// fault of a file cut from outside), it waits for the populate under way,
// stops the populates after it, and only then unmaps: no populate touches
// a range that may be mapped again by something else.
func TestAPopulateNeverTouchesTheMappingAfterItIsUnmapped(t *testing.T) {
	const limit = 4 << 20
	line, past := []byte("{\"msg\":\"first\"}\n"), bytes.Repeat([]byte{'x'}, limit)
	tests := []struct {
		name string
		end  func(m *mappedFile) error
	}{
		{"closed", func(m *mappedFile) error { return m.Close() }},
		{"taken back", func(m *mappedFile) error { return m.Truncate(0) }},
		{"a line past the mapping", func(m *mappedFile) error {
			_, err := m.Write(past)
			return err
		}},
		{"a fault", func(m *mappedFile) error {
			if err := m.f.Truncate(0); err != nil {
				return err
			}
			if _, err := m.Write(line); !errors.Is(err, errMappingFault) {
				return errors.New("no fault")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMappedSegment(t, limit)
			var log lockedWriter // of what happened, in order
			var calls atomic.Int32
			entered, release := make(chan struct{}), make(chan struct{})
			m.pre.populate = func([]byte) error {
				io.WriteString(&log, "populate ")
				if calls.Add(1) == 1 {
					close(entered)
					<-release
				}
				io.WriteString(&log, "populated ")
				return nil
			}
			cut := m.cut
			m.cut = func(size int64) error {
				io.WriteString(&log, "unmapped")
				return cut(size)
			}
			writeTillPopulating(t, m, line)
			<-entered

			ended := make(chan error, 1)
			go func() { ended <- tt.end(m) }()
			require.Eventually(t, m.pre.stop.Load, 10*time.Second, time.Millisecond, "populating is stopped")
			assert.Never(t, func() bool { return len(ended) > 0 }, 20*time.Millisecond, time.Millisecond, "the mapping ends while a populate runs")
			close(release)
			require.NoError(t, <-ended)
			assert.Equal(t, "populate populated unmapped", log.String(), "one chunk populated, then none")
		})
	}
}

// A populate that fails stops populating the segment for good, whatever
// the error: EINVAL where the kernel has no MADV_POPULATE_WRITE, EFAULT or
// ENOMEM where the file was cut from outside. The file then grows as
// without a prefaulter, to the step that holds the lines, no step ahead,
// and the lines read back byte for byte.
func TestPopulatingStopsAtTheFirstErrorAndTheLinesGoOn(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EINVAL, syscall.EFAULT, syscall.ENOMEM} {
		t.Run(errno.Error(), func(t *testing.T) {
			m := newMappedSegment(t, 8<<20)
			var calls atomic.Int32
			m.pre.populate = func([]byte) error {
				calls.Add(1)
				return errno
			}
			line := append(bytes.Repeat([]byte{'e'}, 3000), '\n')
			var want []byte
			write := func() {
				t.Helper()
				n, err := m.Write(line)
				require.NoError(t, err)
				require.Equal(t, len(line), n)
				want = append(want, line...)
			}
			for m.pre.done == nil {
				write()
			}
			<-m.pre.done // the first window's populate failed
			for m.size < 5<<20 {
				write()
				fi, err := m.f.Stat()
				require.NoError(t, err)
				size := max(2*growStep, (m.size+growStep-1)/growStep*growStep) // as grown by the first line, then no step ahead
				require.Equal(t, size, fi.Size(), "%d bytes of lines", m.size)
			}
			name := m.f.Name()
			require.NoError(t, m.Close())
			assert.Equal(t, int32(1), calls.Load(), "populated once")
			got, err := os.ReadFile(name)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got), "%d bytes written, %d read back", len(want), len(got))
		})
	}
}

// Records logged across many windows and segments are in the journal
// whole and in order, each with its own bytes: the prefaulter, running
// ahead of the lines, never writes into a segment.
func TestRecordsReadBackWholeAcrossWindowsAndSegments(t *testing.T) {
	dir := t.TempDir()
	h, l, ctx, wf := mappedWorkflow(t, Options{Dir: dir, SegmentSize: 3 << 20})
	j := h.sink.journal
	const records = 4000 // 12 MiB: 4 segments, each of 3 windows
	for i := range records {
		l.InfoContext(ctx, "record", "i", i, "pad", strings.Repeat(string(rune('a'+i%26)), 3000))
	}
	wf.End()
	h.WaitTrees()
	segments := append([]string(nil), j.segments...)
	require.NoError(t, h.Close())
	require.GreaterOrEqual(t, len(segments), 4)

	next := 0
	for _, name := range segments {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		wholeLines(t, data)
		for line := range bytes.Lines(data) {
			var r struct {
				Ev, Msg string
				Attrs   struct {
					I   *int
					Pad string
				}
			}
			require.NoError(t, json.Unmarshal(line, &r))
			if r.Msg != "record" {
				continue
			}
			require.NotNil(t, r.Attrs.I, "%s", line)
			require.Equal(t, next, *r.Attrs.I, "in order")
			require.Equal(t, strings.Repeat(string(rune('a'+next%26)), 3000), r.Attrs.Pad, "record %d", next)
			next++
		}
	}
	assert.Equal(t, records, next, "every record")
}

// A handler's Close waits for the populate under way: it leaves no
// goroutine running.
func TestAHandlersCloseLeavesNoPopulateRunning(t *testing.T) {
	before := goleak.IgnoreCurrent()
	h, l, ctx, _ := mappedWorkflow(t, Options{})
	j := h.sink.journal
	m, _ := mapped(j)
	var running atomic.Int32
	var enter sync.Once
	entered, release := make(chan struct{}), make(chan struct{})
	j.mu.Lock()
	m.pre.populate = func(b []byte) error {
		running.Add(1)
		defer running.Add(-1)
		enter.Do(func() { close(entered) })
		<-release
		return populateWrite(b)
	}
	j.mu.Unlock()
	for j.at().off <= growStep { // into the second step: the third is grown and populated
		l.InfoContext(ctx, "record", "pad", strings.Repeat("p", 3000))
	}
	<-entered
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(release)
	}()
	require.NoError(t, h.Close())
	assert.Zero(t, running.Load(), "a populate runs after Close")
	goleak.VerifyNone(t, before)
}

// Unmapping waits for the populate of every window started, not only the
// last one's: an earlier window whose populate is slow holds the unmap.
func TestUnmappingWaitsForThePopulateOfEveryWindow(t *testing.T) {
	m := newMappedSegment(t, 8<<20)
	var calls, running atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	m.pre.populate = func([]byte) error {
		running.Add(1)
		defer running.Add(-1)
		if calls.Add(1) == 1 { // the first window's first chunk
			close(entered)
			<-release
		}
		return nil
	}
	line := append(bytes.Repeat([]byte{'x'}, 4095), '\n')
	for m.size <= growStep { // into the second step: a second window is started
		_, err := m.Write(line)
		require.NoError(t, err)
	}
	<-entered
	time.Sleep(10 * time.Millisecond) // a later window, unchained, would be done by now
	ended := make(chan error, 1)
	go func() { ended <- m.Close() }()
	assert.Never(t, func() bool { return len(ended) > 0 }, 50*time.Millisecond, time.Millisecond, "unmapped while the first window's populate runs")
	close(release)
	require.NoError(t, <-ended)
	assert.Zero(t, running.Load(), "a populate runs after the unmap")
}

// Where every line or every workflow's end is synced, a segment is not
// populated ahead: fsync would write the zeros ahead and make the pages
// clean, to be faulted again by the copies.
func TestOnlyASegmentThatIsNotSyncedIsPopulatedAhead(t *testing.T) {
	for _, tt := range []struct {
		sync      SyncMode
		populated bool
	}{{SyncNone, true}, {SyncEnd, false}, {SyncAlways, false}} {
		t.Run(fmt.Sprint(tt.sync), func(t *testing.T) {
			h, l, ctx, _ := mappedWorkflow(t, Options{Sync: tt.sync})
			j := h.sink.journal
			for j.at().off <= growStep {
				l.InfoContext(ctx, "record", "pad", strings.Repeat("s", 3000))
			}
			m, ok := mapped(j)
			require.True(t, ok)
			j.mu.Lock()
			defer j.mu.Unlock()
			assert.Equal(t, tt.populated, m.pre.done != nil, "populated")
			ahead := int64(0)
			if tt.populated {
				ahead = growStep
			}
			assert.Equal(t, step(m.size+ahead), m.grown, "grown ahead or not")
		})
	}
}

// A disk that holds the step the lines need, but not the one ahead, keeps
// the segment mapped: it grows to the lines' step, with no step ahead.
func TestASegmentThatCannotGrowAheadGrowsToItsLines(t *testing.T) {
	m := newMappedSegment(t, 8<<20)
	line := append(bytes.Repeat([]byte{'n'}, 3000), '\n')
	m.allocate = func(fd int, mode uint32, off, n int64) error {
		if off+n > step(m.size+int64(len(line))) { // ahead of the lines
			return syscall.ENOSPC
		}
		return syscall.Fallocate(fd, mode, off, n)
	}
	m.pre.populate = func([]byte) error { panic("populated") }
	var want []byte
	for m.size < 3<<20 {
		_, err := m.Write(line)
		require.NoError(t, err)
		want = append(want, line...)
		require.NotNil(t, m.m, "still mapped at %d bytes of lines", m.size)
		fi, err := m.f.Stat()
		require.NoError(t, err)
		require.Equal(t, step(m.size), fi.Size(), "%d bytes of lines", m.size)
	}
	name := m.f.Name()
	require.NoError(t, m.Close())
	got, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "%d bytes written, %d read back", len(want), len(got))
}

// step returns the size of a segment's file that holds size bytes of
// lines, and no step ahead.
func step(size int64) int64 { return (size + growStep - 1) / growStep * growStep }
