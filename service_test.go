package slogwf_test

// A service: a workflow per request, thousands an hour, many open at once,
// for weeks. Memory, descriptors and files stay bounded, no two workflows
// share a file, and old files go.

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// heapAfterGC returns the bytes of heap in use after a collection.
func heapAfterGC() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// A tree grows with what it holds: an open workflow of one small record
// takes a few KiB, with no block of a fixed size.
func TestAnOpenWorkflowOfOneSmallRecordTakesUnder4KiB(t *testing.T) {
	s := newSetup(t, nil)
	const n = 2000
	wfs := make([]*slogwf.Scope, n)
	before := heapAfterGC()
	for i := range wfs {
		ctx, wf := slogwf.StartWorkflow(s.ctx, "request")
		s.log.InfoContext(ctx, "hello", "user", "ana")
		wfs[i] = wf
	}
	per := float64(heapAfterGC()-before) / n
	assert.Less(t, per, 4096.0, "bytes per open workflow")
	t.Logf("%.0f bytes per open workflow of one record", per)
	runtime.KeepAlive(wfs)
}

// A workflow never ended grows memory and disk without another sign, so
// the handler says how many run at once when they first reach 1,024 (and
// each doubling); Close does not return it, as it is no fault. Workflows
// that end do not add up.
func TestManyRunningWorkflowsAreSaidOnErrorOutput(t *testing.T) {
	var out lockedBuffer
	s := newSetup(t, &slogwf.Options{Console: io.Discard, ErrorOutput: &out})
	for range 3000 {
		_, wf := slogwf.StartWorkflow(s.ctx, "request")
		wf.End()
	}
	assert.Empty(t, out.String(), "workflows that ended")
	forgotten := make([]*slogwf.Scope, 1100)
	for i := range forgotten {
		_, forgotten[i] = slogwf.StartWorkflow(s.ctx, "forgotten")
	}
	for _, wf := range forgotten[1000:] {
		wf.End()
	}
	for range 100 {
		slogwf.StartWorkflow(s.ctx, "again")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 1, out.String())
	assert.True(t, strings.HasPrefix(lines[0], "slogwf: 1024 workflows are running at once: "), lines[0])
	assert.Contains(t, lines[0], "defer wf.End()")
	require.NoError(t, s.h.Close(), "no fault")
}

// openFiles returns the number of files this process has open.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(fds)
}

type requestKey struct{}

// 20,000 workflows started and ended, two records each, each started from
// a context that holds 256 KiB: the heap after them is where it was.
func TestEndedWorkflowsLeaveNothingInMemory(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Console: io.Discard})
	const n = 20000
	before := heapAfterGC()
	for range n {
		ctx := context.WithValue(s.ctx, requestKey{}, make([]byte, 256<<10))
		ctx, wf := slogwf.StartWorkflow(ctx, "request")
		s.log.InfoContext(ctx, "one", "i", 1)
		s.log.InfoContext(ctx, "two", "i", 2)
		wf.End()
	}
	s.h.WaitTrees()
	grown := heapAfterGC() - before
	assert.Less(t, grown, int64(2<<20), "bytes of heap after %d workflows", n)
	t.Logf("heap after %d workflows: %+d bytes (%.1f per workflow)", n, grown, float64(grown)/n)
	require.NoError(t, s.h.Close())
	assert.Len(t, files(t, s.dir), n+1, "a tree file each, and one journal")
}

// A record logged after its workflow ended goes to the journal at once,
// and to the tree file later, rebuilt from the journal: the ended
// workflow's tree and files are not held meanwhile.
func TestLateRecordsPinNeitherTreesNorFiles(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Console: io.Discard, SnapshotInterval: time.Hour})
	const n, records = 300, 100
	ctxs := make([]context.Context, n)
	wfs := make([]*slogwf.Scope, n)
	for i := range n {
		ctx, wf := slogwf.StartWorkflow(s.ctx, "request")
		for j := range records {
			s.log.InfoContext(ctx, "record", "j", j, "pad", strings.Repeat("x", 100))
		}
		wf.End()
		ctxs[i], wfs[i] = ctx, wf
	}
	s.h.WaitTrees()
	fds, before := openFiles(t), heapAfterGC()
	for _, ctx := range ctxs {
		s.log.InfoContext(ctx, "late")
	}
	grown := heapAfterGC() - before
	assert.Less(t, grown, int64(n*1024), "a late record holds no tree")
	assert.LessOrEqual(t, openFiles(t), fds, "nor a file")
	t.Logf("%d late records: %+d bytes of heap, %+d open files", n, grown, openFiles(t)-fds)

	require.NoError(t, s.h.Close())
	for _, wf := range wfs {
		tree := s.tree(t, wf)
		require.Len(t, tree.Records, records+1)
		assert.True(t, tree.Records[records].Late)
	}
}

// Late records reach the tree whenever they come: before the final tree
// is written, after, and more than the rebuild reads one by one; the tree
// is the one build makes of the journal.
func TestLateRecordsReachTheTreeWheneverTheyCome(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Console: io.Discard})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "late")
	_, other := slogwf.StartWorkflow(s.ctx, "other") // its lines come between
	s.log.InfoContext(ctx, "on time")
	wf.End()
	s.log.InfoContext(ctx, "late 0") // most likely before the final tree
	s.h.TreeFile(wf)
	for i := range 100 {
		s.log.InfoContext(ctx, "late "+strconv.Itoa(i+1), "i", i)
		other.End()
	}
	require.NoError(t, s.h.Close())

	tree := s.tree(t, wf)
	require.Len(t, tree.Records, 102)
	assert.Equal(t, "late 100", tree.Records[101].Msg)
	live, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(buildTree(t, s.dir, wf.ID())), string(live))
}

// setAge sets the times of every file under dir to age ago.
func setAge(t *testing.T, dir string, age time.Duration) {
	t.Helper()
	at := time.Now().Add(-age)
	for _, f := range files(t, dir) {
		require.NoError(t, os.Chtimes(filepath.Join(dir, f), at, at))
	}
}

// MaxAge, applied at New: the files of workflows that ended before it go;
// the tree of a workflow that runs in another process stays, and so does
// the journal that process writes.
func TestMaxAgeAtNewRemovesTheFilesOfWorkflowsThatEndedLongAgo(t *testing.T) {
	other := newSetup(t, &slogwf.Options{Console: io.Discard, SnapshotInterval: time.Millisecond})
	var ended []*slogwf.Scope
	for range 3 {
		ctx, wf := slogwf.StartWorkflow(other.ctx, "ended")
		other.log.InfoContext(ctx, "r")
		wf.End()
		ended = append(ended, wf)
	}
	ctx, running := slogwf.StartWorkflow(other.ctx, "running")
	other.log.InfoContext(ctx, "r")
	require.Eventually(t, func() bool { _, err := os.Stat(other.h.TreeFile(running)); return err == nil }, 10*time.Second, time.Millisecond)
	for _, wf := range ended {
		other.h.TreeFile(wf)
	}
	setAge(t, other.dir, 48*time.Hour)

	s := newSetup(t, &slogwf.Options{Dir: other.dir, MaxAge: 24 * time.Hour})
	for _, wf := range ended {
		assert.NoFileExists(t, s.h.TreeFile(wf))
	}
	assert.FileExists(t, other.h.TreeFile(running), "a running workflow's tree stays")
	journals, err := filepath.Glob(filepath.Join(s.dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	assert.Len(t, journals, 2, "the journal the other process writes stays, with the new one")
	require.NoError(t, s.h.Close())

	running.End()
	require.NoError(t, other.h.Close())
	assert.Equal(t, slogwf.StatusCompleted, other.tree(t, running).Status)
}

// MaxBytes, applied at New: the oldest files go until Dir holds no more.
func TestMaxBytesAtNewRemovesTheOldestFiles(t *testing.T) {
	old := newSetup(t, &slogwf.Options{Console: io.Discard})
	var wfs []*slogwf.Scope
	for i := range 20 {
		ctx, wf := slogwf.StartWorkflow(old.ctx, "request")
		old.log.InfoContext(ctx, "r", "pad", strings.Repeat("x", 1000))
		wf.End()
		old.h.TreeFile(wf)
		at := time.Now().Add(-time.Hour + time.Duration(i)*time.Minute)
		require.NoError(t, os.Chtimes(old.h.TreeFile(wf), at, at))
		wfs = append(wfs, wf)
	}
	require.NoError(t, old.h.Close())
	setAgeOf := func(glob string, age time.Duration) {
		paths, err := filepath.Glob(filepath.Join(old.dir, glob))
		require.NoError(t, err)
		for _, p := range paths {
			at := time.Now().Add(-age)
			require.NoError(t, os.Chtimes(p, at, at))
		}
	}
	setAgeOf(filepath.Join(tree.JournalDir, "*"), 2*time.Hour) // the oldest of all
	var total int64
	for _, f := range files(t, old.dir) {
		st, err := os.Stat(filepath.Join(old.dir, f))
		require.NoError(t, err)
		total += st.Size()
	}
	tree0, err := os.Stat(old.h.TreeFile(wfs[0]))
	require.NoError(t, err)

	s := newSetup(t, &slogwf.Options{Dir: old.dir, Console: io.Discard, MaxBytes: total / 2})
	var left int64
	for _, f := range files(t, s.dir) {
		st, err := os.Stat(filepath.Join(s.dir, f))
		require.NoError(t, err)
		left += st.Size()
	}
	assert.LessOrEqual(t, left, total/2)
	assert.Greater(t, left, total/2-tree0.Size(), "no more than it takes")
	assert.NoFileExists(t, s.h.TreeFile(wfs[0]), "the oldest went")
	assert.FileExists(t, s.h.TreeFile(wfs[19]), "the newest stayed")
}

// The journal gives way to a new segment at SegmentSize; a workflow's
// lines across segments build its tree.
func TestJournalSegmentsRotateAtTheirSize(t *testing.T) {
	const size, pad = 1 << 20, 60 << 10 // the least segment; lines within MaxValue
	s := newSetup(t, &slogwf.Options{Console: io.Discard, SegmentSize: size})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "long")
	for i := range 50 {
		s.log.InfoContext(ctx, "r", "i", i, "pad", strings.Repeat("x", pad))
	}
	wf.End()
	require.NoError(t, s.h.Close())
	segments, err := filepath.Glob(filepath.Join(s.dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	assert.Greater(t, len(segments), 50*pad/size-1)
	for _, seg := range segments {
		st, err := os.Stat(seg)
		require.NoError(t, err)
		assert.Less(t, st.Size(), int64(size+pad+1024), "a segment ends after the line that fills it")
	}
	live, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(live), string(buildTree(t, s.dir, wf.ID())))
}
