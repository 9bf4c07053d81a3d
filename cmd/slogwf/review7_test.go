package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// A workflow that a live process runs is left to it also when build is
// named only the journal segments that hold the workflow's lines, not the
// newer one the process holds locked now: the process is live all the
// same, and a tree made final now would say incomplete while it runs.
func TestBuildLeavesALiveWorkflowToItsProcessWhenNamedOnlyItsOlderSegments(t *testing.T) {
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, SegmentSize: 4096, SnapshotInterval: time.Hour})
	require.NoError(t, err)
	defer h.Close()
	l := slog.New(h)
	base := slogwf.ContextWithLogger(context.Background(), l)
	ctx, wf := slogwf.StartWorkflow(base, "idle")
	for range 20 {
		l.InfoContext(ctx, "calling", "pad", strings.Repeat("x", 500))
	}
	own, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl")) // the segments with its lines
	require.NoError(t, err)
	octx, other := slogwf.StartWorkflow(base, "other") // into newer segments
	for range 20 {
		l.InfoContext(octx, "calling", "pad", strings.Repeat("y", 500))
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

// "slogwf help version" is "slogwf version -h", as for every command the
// usage names.
func TestHelpVersionIsVersionH(t *testing.T) {
	code, stdout, stderr := runCLI(t, "help", "version")
	assert.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "usage: slogwf version\n"), stdout)
}
