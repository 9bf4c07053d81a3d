package slogwf

import (
	"bytes"
	"encoding/json"
	"errors"
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
	seg := mapSegment(f, limit)
	require.IsType(t, &mappedFile{}, seg)
	t.Cleanup(func() { _ = seg.Close() })
	return seg.(*mappedFile)
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
			_, err := m.Write(line)
			require.NoError(t, err)
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
			write()
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
