package slogwf

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapped returns the mapping of the segment j writes, and whether it has
// one still.
func mapped(j *journal) (*mappedFile, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	m, ok := j.file.(*mappedFile)
	return m, ok && m.m != nil
}

// mappedWorkflow starts a workflow in a new handler of o (a new Dir
// unless o names one; no console, no periodic snapshot), and requires
// that its journal be written through a mapping.
func mappedWorkflow(t *testing.T, o Options) (*Handler, *slog.Logger, context.Context, *Scope) {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.ErrorOutput == nil {
		o.ErrorOutput = io.Discard
	}
	o.Console, o.SnapshotInterval = io.Discard, time.Hour
	h, err := New(&o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "mapped")
	_, ok := mapped(h.sink.journal)
	require.True(t, ok, "the segment is written through its mapping")
	return h, l, ctx, wf
}

// wholeLines requires that data be JSON lines and nothing else (no NUL
// padding), and returns how many.
func wholeLines(t *testing.T, data []byte) int {
	t.Helper()
	require.True(t, len(data) == 0 || bytes.HasSuffix(data, []byte("\n")), "ends with a whole line")
	n := 0
	for line := range bytes.Lines(data) {
		require.True(t, json.Valid(line), "a JSON line: %q", line)
		n++
	}
	return n
}

// Lines copied into a segment's mapping read back byte for byte, the file
// cut to them when it is closed, whatever their sizes: small ones, one
// across a growth step, one larger than a step, and one past the mapping's
// end, which is written with write(2).
func TestLinesCopiedIntoTheMappingReadBackByteForByte(t *testing.T) {
	const limit = 3 << 20
	tests := []struct {
		name  string
		sizes []int
	}{
		{"small lines", []int{1, 100, 4095, 4096, 4097}},
		{"a line across a growth step", []int{growStep - 10, 20, 30}},
		{"a line larger than a step", []int{10, 2*growStep + 5, 10}},
		{"a line past the mapping's end", []int{limit - 10, 20}},
		{"a line past the mapping's end from a step before", []int{10, limit}},
		{"a line ending at the mapping's end", []int{limit - 10, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := newMappedSegment(t, limit)
			var want []byte
			for i, size := range tt.sizes {
				line := append(bytes.Repeat([]byte{'a' + byte(i)}, size-1), '\n')
				n, err := seg.Write(line)
				require.NoError(t, err)
				require.Equal(t, len(line), n)
				want = append(want, line...)
			}
			require.NoError(t, seg.Close())
			got, err := os.ReadFile(seg.f.Name())
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got), "%d bytes written, %d read back", len(want), len(got))
		})
	}
}

// A synced segment's lines reach stable storage through fsync of its
// mapped file, and when it ends it is cut to its lines before the last
// fsync, which then holds its size: a crash after Close finds no padding.
func TestASyncedSegmentIsSyncedAndCutBeforeItsLastSync(t *testing.T) {
	for _, tt := range []struct {
		name string
		sync SyncMode
		want string // what the segment saw, in order: a record, the workflow's end, then Close
	}{
		{"SyncNone", SyncNone, "cut "},
		{"SyncEnd", SyncEnd, "sync cut sync "},
		{"SyncAlways", SyncAlways, "sync sync cut sync "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, l, ctx, wf := mappedWorkflow(t, Options{Sync: tt.sync})
			j := h.sink.journal
			m, ok := mapped(j)
			require.True(t, ok)
			var seen strings.Builder // under the journal's lock
			j.mu.Lock()
			cut, sync := m.cut, m.sync
			m.cut = func(size int64) error {
				seen.WriteString("cut ")
				return cut(size)
			}
			m.sync = func() error {
				seen.WriteString("sync ")
				return sync()
			}
			j.mu.Unlock()
			l.InfoContext(ctx, "record")
			wf.End()
			require.NoError(t, h.Close())
			assert.Equal(t, tt.want, seen.String())
		})
	}
}

// A segment is cut to its lines when it gives way to the next (at its
// size, or when Dir moved) and when the handler closes: no NUL padding is
// left in a segment no process writes.
func TestASegmentIsCutToItsLinesWhenItEnds(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, h *Handler, l *slog.Logger, dir string) string // returns the path of the ended segment
	}{
		{"at its size", func(t *testing.T, h *Handler, l *slog.Logger, dir string) string {
			j := h.sink.journal
			ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "filler")
			for i := 0; j.at().seg == 0; i++ {
				require.Less(t, i, 1000, "the segment gives way at its size")
				l.InfoContext(ctx, "filler", "pad", strings.Repeat("x", 1000))
			}
			wf.End()
			return filepath.Join(dir, j.segments[0])
		}},
		{"Dir moved", func(t *testing.T, h *Handler, l *slog.Logger, dir string) string {
			name := h.sink.journal.segments[0]
			require.NoError(t, os.Rename(dir, dir+".old"))
			require.NoError(t, os.Mkdir(dir, 0o700))
			_, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "after")
			wf.End() // its tree file is written: Dir moved, the journal follows
			h.WaitTrees()
			require.Equal(t, 1, h.sink.journal.at().seg, "the journal moved")
			return filepath.Join(dir+".old", name)
		}},
		{"close", func(t *testing.T, h *Handler, l *slog.Logger, dir string) string {
			name := h.sink.journal.segments[0]
			require.NoError(t, h.Close())
			return filepath.Join(dir, name)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "logs")
			h, l, ctx, wf := mappedWorkflow(t, Options{Dir: dir, SegmentSize: minSegmentSize})
			for i := range 10 {
				l.InfoContext(ctx, "record", "i", i)
			}
			wf.End()
			h.WaitTrees()

			path := tt.end(t, h, l, dir)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, wholeLines(t, data), 12, "the workflow's start, records and end")
		})
	}
}

// A segment's file grows 1 MiB at a time, from half of the first a MiB
// ahead of its lines: a process that logs a few lines reserves 1 MiB, not
// SegmentSize, and one that dies leaves less than 2 MiB of padding.
func TestASegmentGrowsAMebibyteAtATimeAMebibyteAhead(t *testing.T) {
	dir := t.TempDir()
	h, l, ctx, _ := mappedWorkflow(t, Options{Dir: dir})
	j := h.sink.journal
	path := filepath.Join(dir, j.segments[0])
	sizes := map[int64]bool{}
	for j.at().off < 3*growStep+growStep/2 {
		l.InfoContext(ctx, "record", "pad", strings.Repeat("y", 3000))
		fi, err := os.Stat(path)
		require.NoError(t, err)
		lines, want := j.at().off, int64(growStep)
		if lines > growStep/2 {
			want = (lines + 2*growStep - 1) / growStep * growStep
		}
		require.Equal(t, want, fi.Size(), "%d bytes of lines", lines)
		sizes[fi.Size()] = true
	}
	_, ok := mapped(j)
	assert.True(t, ok, "still written through its mapping")
	assert.Equal(t, map[int64]bool{1 << 20: true, 2 << 20: true, 3 << 20: true, 4 << 20: true, 5 << 20: true}, sizes)
}

// A file that cannot grow (a full disk, a file system without fallocate)
// is written with write(2) from then on, and no line is lost.
func TestASegmentThatCannotGrowIsWrittenWithWrite(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EOPNOTSUPP} {
		t.Run(errno.Error(), func(t *testing.T) {
			dir := t.TempDir()
			var errs lockedWriter
			h, l, ctx, wf := mappedWorkflow(t, Options{Dir: dir, ErrorOutput: &errs})
			j := h.sink.journal
			m, _ := mapped(j)
			j.mu.Lock()
			m.allocate = func(int, uint32, int64, int64) error { return errno }
			j.mu.Unlock()
			const records = 1000 // 3 MiB: past the first step
			for i := range records {
				l.InfoContext(ctx, "record", "i", i, "pad", strings.Repeat("z", 3000))
			}
			_, ok := mapped(j)
			assert.False(t, ok, "unmapped")
			wf.End()
			segments := slices.Clone(j.segments)
			require.NoError(t, h.Close())

			assert.Empty(t, errs.String(), "nothing lost, nothing to report")
			var all []byte
			for _, name := range segments {
				data, err := os.ReadFile(filepath.Join(dir, name))
				require.NoError(t, err)
				wholeLines(t, data)
				all = append(all, data...)
			}
			assert.Equal(t, records, bytes.Count(all, []byte(`"ev":"record"`)), "every record is in the journal")
			assert.NotContains(t, string(all), `"unwritten"`)
		})
	}
}

// A segment cut short by another process while it is mapped faults when
// a line is copied past the cut: the fault is reported once, the line
// counted as unwritten, and logging goes on with write(2).
func TestASegmentCutFromOutsideIsReportedOnceAndLoggingGoesOn(t *testing.T) {
	dir := t.TempDir()
	var errs lockedWriter
	h, l, ctx, wf := mappedWorkflow(t, Options{Dir: dir, ErrorOutput: &errs})
	l.InfoContext(ctx, "before")
	j := h.sink.journal
	segment := j.segments[0]
	require.NoError(t, os.Truncate(filepath.Join(dir, segment), 0))

	assert.NotPanics(t, func() {
		for i := range 10 {
			l.InfoContext(ctx, "after", "i", i)
		}
	})
	_, ok := mapped(j)
	assert.False(t, ok, "unmapped")
	wf.End()
	err := h.Close()
	require.ErrorIs(t, err, errMappingFault)
	assert.Contains(t, err.Error(), "slogwf: write journal "+segment)
	assert.Equal(t, 1, strings.Count(errs.String(), "write journal"), "reported once: %s", errs.String())

	data, err := os.ReadFile(filepath.Join(dir, segment))
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimRight(bytes.TrimLeft(data, "\x00"), "\n"), []byte("\n"))
	require.Len(t, lines, 10, "the lines after the cut but the one that faulted, and the end")
	assert.Contains(t, string(lines[0]), `"msg":"after"`)
	assert.Contains(t, string(lines[0]), `"unwritten":1`, "the line that faulted is counted")
	assert.Contains(t, string(lines[9]), `"ev":"end"`)
}

// A segment that cannot grow, and then cannot be cut to its lines, gives
// way to a new one: the line that found it out is counted as unwritten,
// and no line goes after its padding, where write(2) would append it and
// where the journal would not know it is.
func TestASegmentThatCannotBeCutGivesWayToANewOne(t *testing.T) {
	dir := t.TempDir()
	var errs lockedWriter
	h, l, ctx, wf := mappedWorkflow(t, Options{Dir: dir, ErrorOutput: &errs})
	j := h.sink.journal
	m, _ := mapped(j)
	j.mu.Lock()
	m.allocate = func(int, uint32, int64, int64) error { return syscall.ENOSPC }
	m.cut = func(int64) error { return syscall.EIO }
	j.mu.Unlock()
	const records = 1000 // 3 MiB: past the first step
	for i := range records {
		l.InfoContext(ctx, "record", "i", i, "pad", strings.Repeat("z", 3000))
	}
	wf.End()
	segments := slices.Clone(j.segments)
	require.ErrorIs(t, h.Close(), errNotCut)

	require.Len(t, segments, 2)
	assert.Equal(t, 1, strings.Count(errs.String(), "cannot cut the segment to its lines"), errs.String())
	var all []byte
	for i, name := range segments {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		lines := bytes.TrimRight(data, "\x00")
		assert.NotContains(t, string(lines), "\x00", "segment %d: padding at its end only", i)
		all = append(all, lines...)
	}
	assert.Equal(t, records-1, bytes.Count(all, []byte(`"ev":"record"`)))
	assert.Contains(t, string(all), `"unwritten":1`, "the line lost is counted")
}

// A segment is mapped whole on 64 bits; on 32 bits, 16 MiB of it at most,
// so that a few handlers with large segments leave the heap its address
// space.
func TestASegmentIsMappedWholeOn64BitsAnd16MiBOn32(t *testing.T) {
	for _, limit := range []int64{1 << 20, 16 << 20, 1 << 30} {
		want := limit
		if strconv.IntSize == 32 {
			want = min(limit, 16<<20)
		}
		assert.Equal(t, int(want), mappedSize(limit), "segment of %d bytes", limit)
	}
}
