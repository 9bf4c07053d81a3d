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

// prune removes the files of workflows that ended long ago, and says which;
// a running workflow's tree, and the journal its process writes, stay.
func TestPruneRemovesTheOldFilesOfEndedWorkflows(t *testing.T) {
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, SnapshotInterval: time.Millisecond})
	require.NoError(t, err)
	ctx := slogwf.ContextWithLogger(context.Background(), slog.New(h))
	_, ended := slogwf.StartWorkflow(ctx, "ended")
	ended.End()
	rctx, running := slogwf.StartWorkflow(ctx, "running")
	slog.New(h).InfoContext(rctx, "r")
	require.Eventually(t, func() bool { _, err := os.Stat(h.TreeFile(running)); return err == nil }, 10*time.Second, time.Millisecond)
	endedTree := h.TreeFile(ended)
	ageFiles(t, dir, 30*24*time.Hour)

	code, stdout, stderr := runCLI(t, "prune", "-n", "-max-age", "7d", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "would be removed "+filepath.Base(endedTree)+"\n", stdout[:strings.Index(stdout, "\n")+1])
	assert.Contains(t, stdout, "1 files, ")
	assert.Contains(t, stdout, " bytes would be removed; ")
	assert.FileExists(t, endedTree, "-n removes nothing")

	code, stdout, stderr = runCLI(t, "prune", "-max-age", "7d", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "removed "+filepath.Base(endedTree)+"\n", stdout[:strings.Index(stdout, "\n")+1])
	assert.Contains(t, stdout, "1 files, ")
	assert.NoFileExists(t, endedTree)
	assert.FileExists(t, h.TreeFile(running))
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	assert.Len(t, journals, 1, "the journal being written stays")

	running.End()
	require.NoError(t, h.Close())
}

func TestPruneFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{dir}, 2, "-max-age or -max-bytes"},
		{[]string{"-max-age", "soon", dir}, 2, `-max-age: "soon"`},
		{[]string{"-max-bytes", "-1", dir}, 2, `-max-bytes: "-1"`},
		{[]string{"-max-age", "NaNd", dir}, 2, `-max-age: "NaNd": want a positive number of days`},
		{[]string{"-max-age", "Infd", dir}, 2, `-max-age: "Infd"`},
		{[]string{"-max-age", "-Infd", dir}, 2, `-max-age: "-Infd"`},
		{[]string{"-max-age", "99999999d", dir}, 2, `-max-age: "99999999d": want a positive number of days, at most 106751`},
		{[]string{"-max-age", "106752d", dir}, 2, `-max-age: "106752d"`},
		{[]string{"-max-age", "9999999h", dir}, 2, `-max-age: "9999999h"`},
		{[]string{"-max-bytes", "10G"}, 2, "one DIR"},
		{[]string{"-max-bytes", "10G", filepath.Join(dir, "missing")}, 1, "missing"},
		{[]string{"-max-age", "36h", "-max-bytes", "1K", dir}, 0, ""},
	} {
		code, _, stderr := runCLI(t, append([]string{"prune"}, tt.args...)...)
		assert.Equal(t, tt.code, code, "%v: %s", tt.args, stderr)
		if tt.err != "" {
			assert.Contains(t, stderr, tt.err, "%v", tt.args)
		}
		if tt.code == 2 {
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %s", stderr)
		}
	}
}

// ageFiles makes every file in dir last written age ago.
func ageFiles(t *testing.T, dir string, age time.Duration) {
	t.Helper()
	past := time.Now().Add(-age)
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, past, past)
		}
		return err
	}))
}
