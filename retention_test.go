package slogwf

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/retention"
)

// Retention goes on while the handler runs: files that grow old go at the
// next pruning, but never those of a workflow that runs here, nor the
// journal this process writes.
func TestMaxAgeIsAppliedPeriodically(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, MaxAge: time.Hour, SegmentSize: minSegmentSize, MaxValue: -1})
	require.NoError(t, err)
	r := h.sink.retain
	r.stop()
	r.stopped, r.period = false, 10*time.Millisecond
	l := slog.New(h)
	ctx := ContextWithLogger(context.Background(), l)
	rctx, running := StartWorkflow(ctx, "running")
	l.InfoContext(rctx, "r")
	_, ended := StartWorkflow(ctx, "ended")
	ended.End()
	h.TreeFile(ended)
	for i := range 3 {
		l.InfoContext(rctx, "more", "i", i, "pad", strings.Repeat("x", minSegmentSize)) // rotates segments
	}
	ageFiles(t, dir, 2*time.Hour)
	segments, err := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
	require.NoError(t, err)
	require.Greater(t, len(segments), 2)
	r.arm()
	require.Eventually(t, func() bool { _, err := os.Stat(h.TreeFile(ended)); return os.IsNotExist(err) }, 10*time.Second, time.Millisecond)
	after, err := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, segments, after, "the segments with the running workflow's lines stay")

	running.End()
	require.NoError(t, h.Close())
	assert.Len(t, readTreeFile(t, h.TreeFile(running)), 1+3)
}

// readTreeFile returns the records of the tree file path.
func readTreeFile(t *testing.T, path string) []any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var tree struct{ Records []any }
	require.NoError(t, json.Unmarshal(data, &tree))
	return tree.Records
}

// Another process's retention (here another handler's MaxAge in the same
// Dir) keeps the segments of a workflow that runs here and has no tree
// file yet, though this process no longer writes them.
func TestAnotherProcesssRetentionKeepsTheSegmentsOfAWorkflowRunningHere(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, SegmentSize: minSegmentSize, MaxValue: -1, SnapshotInterval: time.Hour})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "long")
	for i := range 3 {
		l.InfoContext(ctx, "r", "i", i, "pad", strings.Repeat("x", minSegmentSize)) // fills a segment
	}
	_, err = os.Stat(h.TreeFile(wf))
	require.ErrorIs(t, err, fs.ErrNotExist, "no snapshot yet")
	ageFiles(t, dir, 2*time.Hour)
	segments, err := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
	require.NoError(t, err)
	require.Greater(t, len(segments), 2)

	other, err := New(&Options{Dir: dir, Console: io.Discard, MaxAge: time.Hour})
	require.NoError(t, err)
	require.NoError(t, other.Close())
	for _, s := range segments {
		assert.FileExists(t, s)
	}

	wf.End()
	require.NoError(t, h.Close())
	assert.Len(t, readTreeFile(t, h.TreeFile(wf)), 3)
}

// ageFiles sets the time of every file in dir to age ago.
func ageFiles(t *testing.T, dir string, age time.Duration) {
	t.Helper()
	at := time.Now().Add(-age)
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, at, at)
		}
		return err
	}))
}

// A late record of a workflow whose files retention removed, here or in
// another process, stays in the journal alone: it is no fault, makes no
// tree file again, and leaves the tree file that stayed as it was.
func TestALateRecordAfterRetentionStaysInTheJournalAlone(t *testing.T) {
	tests := []struct {
		name        string
		segmentSize int64
		journalOnly bool // the tree file is young, the segments old
		here        bool // this handler's MaxAge prunes, or another process
		treeStays   bool
	}{
		{"its tree and segments went here", minSegmentSize, false, true, false},
		{"another process removed its segments, not its newer tree", minSegmentSize, true, false, true},
		{"another process removed its tree, not the segment still written", 0, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var errs lockedWriter
			h, err := New(&Options{Dir: dir, Console: io.Discard, ErrorOutput: &errs, MaxAge: time.Hour, SegmentSize: tt.segmentSize, MaxValue: -1})
			require.NoError(t, err)
			h.sink.retain.stop() // pruned below, when the files are old
			l := slog.New(h)
			base := ContextWithLogger(context.Background(), l)
			ctx, wf := StartWorkflow(base, "old")
			l.InfoContext(ctx, "on time")
			wf.End()
			for range 10 { // others' lines fill the segment old wrote in
				c, o := StartWorkflow(base, "other")
				l.InfoContext(c, "r", "pad", strings.Repeat("y", minSegmentSize/4))
				o.End()
			}
			h.WaitTrees()
			path := h.TreeFile(wf)
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			first, err := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
			require.NoError(t, err)
			if tt.journalOnly {
				ageFiles(t, filepath.Join(dir, "journal"), 2*time.Hour)
			} else {
				ageFiles(t, dir, 2*time.Hour)
			}
			if tt.here {
				h.sink.retain.prune()
			} else {
				root, err := os.OpenRoot(dir)
				require.NoError(t, err)
				_, err = (&retention.Pruner{}).Prune(root, retention.Policy{MaxAge: time.Hour}, time.Now())
				require.NoError(t, err)
				require.NoError(t, root.Close())
			}
			if tt.treeStays {
				require.NoFileExists(t, first[0], "old's first segment went")
			} else {
				require.NoFileExists(t, path)
			}

			l.InfoContext(ctx, "late")
			require.NoError(t, h.Close())
			assert.Empty(t, errs.String())
			if tt.treeStays {
				after, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, string(before), string(after))
			} else {
				assert.NoFileExists(t, path)
			}
			journal, err := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
			require.NoError(t, err)
			var late []string
			for _, name := range journal {
				data, err := os.ReadFile(name)
				require.NoError(t, err)
				for line := range strings.Lines(string(data)) {
					if strings.Contains(line, `"msg":"late"`) {
						late = append(late, line)
					}
				}
			}
			assert.Len(t, late, 1, "the late record is in the journal")
		})
	}
}

// Retention at New removes only slogwf's own files: another program's
// files in Dir stay, however old, whatever their names end in.
func TestRetentionLeavesTheFilesItDidNotWrite(t *testing.T) {
	dir := t.TempDir()
	foreign := []string{"eval-set.jsonl", "session.tmp", "notes.json.tmp", filepath.Join("journal", "data.jsonl")}
	for _, name := range foreign {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(`{"a":1}`+"\n"), 0o600))
	}
	ageFiles(t, dir, 10*24*time.Hour)
	h, err := New(&Options{Dir: dir, Console: io.Discard, MaxAge: 24 * time.Hour})
	require.NoError(t, err)
	require.NoError(t, h.Close())
	for _, name := range foreign {
		assert.FileExists(t, filepath.Join(dir, name))
	}
}
