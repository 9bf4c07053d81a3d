package slogwf

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/tree"
)

// blockedOpen is a directory whose first open (a rebuild reading the
// journal) waits for release.
type blockedOpen struct {
	dirFS
	once             sync.Once
	opening, release chan struct{}
}

func (b *blockedOpen) open(name string) (*os.File, error) {
	b.once.Do(func() {
		close(b.opening)
		<-b.release
	})
	return b.dirFS.open(name)
}

// blockOpen makes the next open in h's directory wait until the function
// it returns is called; opening is closed when it waits.
func blockOpen(h *Handler) (opening <-chan struct{}, release func()) {
	b := &blockedOpen{dirFS: h.sink.dir.current(), opening: make(chan struct{}), release: make(chan struct{})}
	h.sink.dir.mu.Lock()
	h.sink.dir.fs = b
	h.sink.dir.mu.Unlock()
	return b.opening, func() { close(b.release) }
}

// A late line the journal missed is counted once: by the next late line,
// which says so in the journal. When that line is written while the
// rebuild that keeps the tree reads the journal, the kept tree counts it
// once too, as build does.
func TestALateLineTheJournalMissedIsCountedOnceByTheKeptTree(t *testing.T) {
	h, _, l, ctx, wf := lateWorkflow(t)
	l.InfoContext(ctx, "on time")
	wf.End()
	h.WaitTrees()
	full := fillDisk(h)
	for i := range maxLates + 2 {
		full.Store(i == maxLates+1) // more late lines than read one by one, the last missed
		l.InfoContext(ctx, "late", "i", i)
	}
	full.Store(false)

	opening, release := blockOpen(h)
	done := make(chan struct{})
	go func() { defer close(done); h.WaitTrees() }()
	<-opening
	l.InfoContext(ctx, "during the rebuild") // carries the line missed
	release()
	<-done
	h.WaitTrees()
	require.Equal(t, 1, h.KeptTrees(wf), "the workflow keeps its tree")
	require.Error(t, h.Close(), "the journal fault")

	live, err := os.ReadFile(h.TreeFile(wf))
	require.NoError(t, err)
	built := string(replay(t, h.sink.dir.given))
	assert.Contains(t, built, `"unwritten":1`)
	assert.Equal(t, built, string(live))
}

// The trees kept for late records hold keptBytes at most in all, also as
// late records come between two rebuilds.
func TestTheTreesKeptForLateRecordsStayWithinTheirBoundAsTheyGrow(t *testing.T) {
	h, _, l, ctx, wf := lateWorkflow(t)
	l.InfoContext(ctx, "on time")
	wf.End()
	h.WaitTrees()
	for i := range maxLates + 1 {
		l.InfoContext(ctx, "late", "i", i)
	}
	h.WaitTrees()
	require.Equal(t, 1, h.KeptTrees(wf), "the workflow keeps its tree")

	pad := strings.Repeat("x", 32<<10)
	for i := range keptBytes / len(pad) * 5 / 4 {
		l.InfoContext(ctx, "late poll", "i", i, "pad", pad)
	}
	f := wf.flow
	f.mu.Lock()
	size := 0
	if f.kept != nil {
		size = f.kept.Size()
	}
	f.mu.Unlock()
	assert.LessOrEqual(t, size, keptBytes, "the kept tree takes no more late records than its bound")
	require.NoError(t, h.Close())
}

// A workflow whose first segment stays (a workflow still running has a
// line in it) but whose later segments retention removed keeps the tree
// file it had: a late record then stays in the journal alone, as it does
// for a workflow that keeps no tree, rather than make a tree that holds
// records the journals no longer do.
func TestAKeptTreeIsNotWrittenOnceRetentionRemovedASegmentOfItsLateLines(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, MaxAge: time.Hour, SegmentSize: 1 << 20, MaxValue: -1, SnapshotInterval: time.Hour})
	require.NoError(t, err)
	h.sink.retain.stop() // pruned below, when the files are old
	l := slog.New(h)
	base := ContextWithLogger(context.Background(), l)
	runCtx, running := StartWorkflow(base, "running") // its line keeps the first segment
	l.InfoContext(runCtx, "pin")
	ctx, wf := StartWorkflow(base, "poller")
	l.InfoContext(ctx, "on time")
	wf.End()
	h.TreeFile(wf) // its final tree; WaitTrees would wait for running too
	pad := strings.Repeat("x", 256<<10)
	for i := range maxLates + 4 { // over several segments
		l.InfoContext(ctx, "late", "i", i, "pad", pad)
	}
	h.sink.rebuilds.drain(false)
	require.Equal(t, 1, h.KeptTrees(wf), "the workflow keeps its tree")
	segments, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Greater(t, len(segments), 3)

	ageFiles(t, filepath.Join(dir, tree.JournalDir), 2*time.Hour)
	h.sink.retain.prune()
	left, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Contains(t, left, segments[0], "the first segment stays")
	require.Less(t, len(left), len(segments), "segments with late lines went")
	before, err := os.ReadFile(h.TreeFile(wf))
	require.NoError(t, err)

	l.InfoContext(ctx, "after retention")
	h.sink.rebuilds.drain(false)
	after, err := os.ReadFile(h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "the tree file keeps what it held")
	running.End()
	require.NoError(t, h.Close())
}

// A kept tree that outgrew the bound is let go (its flow's kept is set to
// nil by lateLocked): its size no longer counts against the others.
func TestATreeLetGoForOutgrowingTheBoundNoLongerCountsAgainstTheOthers(t *testing.T) {
	r := &rebuilds{delay: time.Hour}
	big, small := &flow{}, &flow{}
	require.True(t, r.keep(big, keptBytes/2))
	require.True(t, r.keep(small, keptBytes/4))

	require.False(t, r.grew(big, keptBytes), "big outgrew the bound: let go")
	assert.True(t, r.grew(small, keptBytes/4+1), "small, alone kept, is within the bound")
}

// keep(f, 0) lets f's tree go: for a flow that keeps none, it makes no
// room, so it takes no idle tree's place.
func TestLettingGoATreeNotKeptTakesNoIdleTreesPlace(t *testing.T) {
	r := &rebuilds{} // every kept tree is idle at once
	for range keptMax {
		require.True(t, r.keep(&flow{}, 1))
	}
	time.Sleep(time.Millisecond) // the clock moves past their rebuilds
	r.keep(&flow{}, 0)
	assert.Len(t, r.kept, keptMax)
}
