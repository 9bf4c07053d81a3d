package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// A workflow that a live process runs (it holds its journal locked) is
// left to that process, which snapshots it and writes it final at its
// end: build writes no tree file of it, says so in one line, and leaves
// the running snapshot as it is, so that ls shows it running and prune
// keeps its files, as before build; also while the process writes other
// workflows' lines in newer segments. Once it ended, build writes it.
func TestBuildLeavesTheTreeOfAWorkflowThatALiveProcessRunsToIt(t *testing.T) {
	for _, tt := range []struct {
		name     string
		snapshot bool // the process wrote a running snapshot
		other    bool // then it wrote another workflow, in newer segments
	}{
		{"beside its running snapshot", true, false},
		{"before its first snapshot", false, false},
		{"while its process writes another workflow", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			every := time.Hour
			if tt.snapshot {
				every = time.Millisecond
			}
			const size = 1 << 20 // the least segment
			h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, SegmentSize: size, MaxValue: -1, SnapshotInterval: every})
			require.NoError(t, err)
			defer h.Close()
			l := slog.New(h)
			base := slogwf.ContextWithLogger(context.Background(), l)
			ctx, wf := slogwf.StartWorkflow(base, "idle")
			const records = 20
			for range records {
				l.InfoContext(ctx, "calling", "pad", strings.Repeat("x", size/16)) // over several segments
			}
			path := h.TreeFile(wf)
			var before []byte
			if tt.snapshot {
				require.Eventually(t, func() bool {
					head, err := readTreeHead(path, make([]byte, 16<<10))
					return err == nil && head.Counts.Records == records
				}, tailWait, tailTick, "the snapshot of every record")
				before, err = os.ReadFile(path)
				require.NoError(t, err)
			}
			own, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl")) // the segments with its lines
			require.NoError(t, err)
			require.Greater(t, len(own), 1)
			var built string // the tree file build writes
			if tt.other {
				octx, other := slogwf.StartWorkflow(base, "other")
				for range records {
					l.InfoContext(octx, "calling", "pad", strings.Repeat("y", size/16))
				}
				other.End()
				built = "tree: " + h.TreeFile(other) + "\n"
			}

			code, stdout, stderr := runCLI(t, "build", dir)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, built, stdout)
			assert.Equal(t, "slogwf build: left "+path+" to the live process that runs workflow "+wf.ID()+"\n", stderr)
			if tt.snapshot {
				after, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, string(before), string(after), "the running snapshot as its process wrote it")
			} else {
				assert.NoFileExists(t, path)
			}
			assert.Equal(t, []string{wf.ID(), "running"}, lsRow(t, dir, "idle"))

			// As if it had run for a while: all its files are past -max-age.
			files, err := filepath.Glob(filepath.Join(dir, "*"))
			require.NoError(t, err)
			segments, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
			require.NoError(t, err)
			long := time.Now().Add(-time.Hour)
			for _, name := range append(files, segments...) {
				require.NoError(t, os.Chtimes(name, long, long))
			}
			code, stdout, stderr = runCLI(t, "prune", "-max-age", "1m", dir)
			require.Equal(t, 0, code, stderr)
			for _, name := range own {
				assert.FileExists(t, name, "a segment with a line of a running workflow")
			}
			if tt.snapshot {
				assert.FileExists(t, path, "the tree file of a running workflow")
			}

			wf.End()
			require.NoError(t, h.Close())
			code, stdout, stderr = runCLI(t, "build", dir)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stdout, "tree: "+path+"\n")
			assert.Equal(t, []string{wf.ID(), "completed"}, lsRow(t, dir, "idle"))
		})
	}
}

// build makes final the tree of a workflow without an end whose process
// holds none of its journals locked: it crashed, lately or long ago. Only
// a lock tells a live process, not a journal written in the last minute,
// as for ls: build is run right after a crash.
func TestBuildMakesFinalTheWorkflowOfAProcessThatHoldsNoJournalLocked(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		writer     func(t *testing.T, journal string)
	}{
		{"its process holds its journal locked", "", liveWriter},
		{"its process wrote its journal lately", "incomplete", recentWriter},
		{"its process died long ago", "incomplete", deadWriter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, id, journal := unendedJournal(t)
			tt.writer(t, journal)
			code, stdout, stderr := runCLI(t, "build", dir)
			require.Equal(t, 0, code, stderr)
			path := filepath.Join(dir, tree.TreeFileName("w", id))
			if tt.want == "" {
				assert.Empty(t, stdout)
				assert.Contains(t, stderr, "left "+path+" to the live process")
				assert.NoFileExists(t, path)
				return
			}
			assert.Equal(t, "tree: "+path+"\n", stdout)
			assert.Empty(t, stderr)
			head, err := readTreeHead(path, make([]byte, 16<<10))
			require.NoError(t, err)
			assert.Equal(t, tt.want, head.Status)
		})
	}
}

// lsRow returns the ID and status that ls shows of the one workflow named
// name in dir.
func lsRow(t *testing.T, dir, name string) []string {
	t.Helper()
	var rows [][]string
	for _, row := range lsRows(t, dir)[1:] {
		if row[0] == name {
			rows = append(rows, row[1:3])
		}
	}
	require.Len(t, rows, 1)
	return rows[0]
}

// A workflow that a live process runs is left to it also when build is
// named only the journal segments that hold the workflow's lines, not the
// newer one the process holds locked now: the process is live all the
// same, and a tree made final now would say incomplete while it runs.
func TestBuildLeavesALiveWorkflowToItsProcessWhenNamedOnlyItsOlderSegments(t *testing.T) {
	dir := t.TempDir()
	const size = 1 << 20 // the least segment
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, SegmentSize: size, MaxValue: -1, SnapshotInterval: time.Hour})
	require.NoError(t, err)
	defer h.Close()
	l := slog.New(h)
	base := slogwf.ContextWithLogger(context.Background(), l)
	ctx, wf := slogwf.StartWorkflow(base, "idle")
	for range 20 {
		l.InfoContext(ctx, "calling", "pad", strings.Repeat("x", size/16))
	}
	own, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl")) // the segments with its lines
	require.NoError(t, err)
	octx, other := slogwf.StartWorkflow(base, "other") // into newer segments
	for range 20 {
		l.InfoContext(octx, "calling", "pad", strings.Repeat("y", size/16))
	}
	other.End()
	all, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Greater(t, len(all), len(own), "the process writes a newer segment")

	code, stdout, stderr := runCLI(t, append([]string{"build"}, own...)...)
	require.Equal(t, 0, code, stderr)
	path := h.TreeFile(wf)
	assert.NotContains(t, stdout, path)
	assert.Contains(t, stderr, "left "+path+" to the live process that runs workflow "+wf.ID())
	assert.Equal(t, []string{wf.ID(), "running"}, lsRow(t, dir, "idle"))
	wf.End()
}
