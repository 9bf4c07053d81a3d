package slogwf_test

import (
	"bytes"
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

// threadRead returns the bytes this thread read from files so far.
func threadRead(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/thread-self/io")
	require.NoError(t, err)
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no rchar in /proc/thread-self/io")
	return 0
}

// lateRounds runs n rounds: in each, a workflow of five lines of pad runs
// and each of ctxs logs a late record; every ten rounds, it waits for the
// rebuilds. It returns the bytes they read from round first on.
func lateRounds(t *testing.T, s *setup, n, first int, pad string, ctxs ...context.Context) (read int64) {
	t.Helper()
	for i := range n {
		other, wf := slogwf.StartWorkflow(s.ctx, "request")
		for range 5 {
			s.log.InfoContext(other, "r", "pad", pad)
		}
		wf.End()
		for _, ctx := range ctxs {
			s.log.InfoContext(ctx, "late poll", "i", i)
		}
		if i%10 == 9 {
			before := threadRead(t)
			s.h.WaitTrees()
			if i >= first {
				read += threadRead(t) - before
			}
		}
	}
	return read
}

// journalBytes returns the bytes of the journals in dir: those of the
// lines of the workflows in ids, and all.
func journalBytes(t *testing.T, dir string, ids map[string]bool) (own, all int64) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		all += int64(len(data))
		for line := range bytes.Lines(data) {
			if ids[tree.WorkflowOf(line)] {
				own += int64(len(line))
			}
		}
	}
	return own, all
}

// A poller that outlives its request logs late records for as long as the
// service runs, among the lines of the workflows that run meanwhile. Once
// the rebuild has found more late lines than it reads one by one, the
// next rebuilds read no more than the workflow's own lines, rather than
// all the journal written since it ended, each time; its tree file is the
// one build makes of the journal.
func TestTheRebuildsOfAStreamOfLateRecordsReadNoMoreThanItsLines(t *testing.T) {
	runtime.LockOSThread() // the rebuilds WaitTrees runs read on this thread
	defer runtime.UnlockOSThread()
	s := newSetup(t, &slogwf.Options{Console: io.Discard, SnapshotInterval: time.Hour, SegmentSize: 1 << 20}) // the least segment
	ctx, poller := slogwf.StartWorkflow(s.ctx, "poller")
	s.log.InfoContext(ctx, "on time")
	poller.End()
	s.h.WaitTrees()

	// Rebuilds after 10, 20, 30 late records, then each 10 more; others'
	// lines fill several segments.
	const first, n = 30, 200
	read := lateRounds(t, s, n, first, strings.Repeat("x", 6<<10), ctx)
	require.NoError(t, s.h.Close())

	own, all := journalBytes(t, s.dir, map[string]bool{poller.ID(): true})
	t.Logf("the last %d rebuilds read %d bytes; the poller's lines are %d bytes, the journal %d", (n-first)/10, read, own, all)
	assert.LessOrEqual(t, read, own, "the rebuilds read no more than the workflow's lines")

	require.Len(t, s.tree(t, poller).Records, n+1)
	live, err := os.ReadFile(s.h.TreeFile(poller))
	require.NoError(t, err)
	assert.Equal(t, string(buildTree(t, s.dir, poller.ID())), string(live))
}

// More pollers than keep their trees (keptMax) log late records, round
// after round: the trees kept go to some of them, not from one to the
// next, so that the rebuilds still read no more than the pollers' lines
// but for those of the pollers left without a tree.
func TestTheRebuildsOfOnePollerMoreThanKeepTheirTreesReadLittleOfTheJournal(t *testing.T) {
	runtime.LockOSThread() // the rebuilds WaitTrees runs read on this thread
	defer runtime.UnlockOSThread()
	s := newSetup(t, &slogwf.Options{Console: io.Discard, SnapshotInterval: time.Hour, SegmentSize: 1 << 20})
	const pollers = 9 // one more than keep their trees
	ctxs, wfs := endedPollers(s, pollers)
	s.h.WaitTrees()

	const first, n = 30, 100
	read := lateRounds(t, s, n, first, strings.Repeat("x", 400), ctxs...)
	require.NoError(t, s.h.Close())

	ids := map[string]bool{}
	for _, wf := range wfs {
		ids[wf.ID()] = true
	}
	own, all := journalBytes(t, s.dir, ids)
	// One poller left without a tree reads all the journal since its end
	// at each rebuild: the journal, (n-first)/10 times, at most.
	bound := own + all*(n-first)/10
	t.Logf("the last %d rounds of rebuilds read %d bytes; the pollers' lines are %d bytes, the journal %d", (n-first)/10, read, own, all)
	assert.LessOrEqual(t, read, bound, "the rebuilds read the journal since its end for one poller only")
}
