package slogwf_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// The journal of a child process that writes it through a mapping ends
// in NUL padding: its parent takes in its lines, reads a chunk of the
// padding at a time and no further, counts nothing lost, and takes in the
// line copied over the padding at its next look.
func TestAParentReadsAChildJournalUpToItsPadding(t *testing.T) {
	parent := newSetup(t, &slogwf.Options{SnapshotInterval: time.Hour})
	ctx, wf := slogwf.StartWorkflow(parent.ctx, "padded")
	t.Setenv(slogwf.EnvParent, strings.TrimPrefix(slogwf.Environ(ctx)[0], slogwf.EnvParent+"="))
	child := newSetup(t, &slogwf.Options{Dir: parent.dir})
	child.log.InfoContext(slogwf.ContextFromEnv(child.ctx), "first")
	require.NoError(t, child.h.Close())

	journals, err := filepath.Glob(filepath.Join(parent.dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	var name string
	var lines []byte
	for _, j := range journals {
		data, err := os.ReadFile(j)
		require.NoError(t, err)
		if bytes.Contains(data, []byte(`"first"`)) {
			name, lines = j, data
		}
	}
	require.NotEmpty(t, name, "the child's journal")
	const padding = 8 << 20
	require.NoError(t, os.Truncate(name, int64(len(lines)+padding)))
	// Locked, as by a child that writes it still.
	lock, err := os.Open(name)
	require.NoError(t, err)
	defer lock.Close()
	locked, err := flock.TryLock(lock)
	require.NoError(t, err)
	require.True(t, locked)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 3 {
		parent.h.Snapshot(wf)
	}
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(padding/4), "bytes allocated by 3 looks at the journal")
	got := parent.tree(t, wf)
	assert.Equal(t, []string{"first"}, got.msgs())
	assert.Zero(t, got.Loss.Dropped)

	// The child's next line, copied over the padding.
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(bytes.Replace(lines[bytes.LastIndex(lines[:len(lines)-1], []byte("\n"))+1:], []byte(`"first"`), []byte(`"again"`), 1), int64(len(lines)))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	parent.h.Snapshot(wf)
	got = parent.tree(t, wf)
	assert.ElementsMatch(t, []string{"first", "again"}, got.msgs())
	assert.Zero(t, got.Loss.Dropped)

	wf.End()
	require.NoError(t, parent.h.Close())
	live, err := os.ReadFile(parent.h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(buildTree(t, parent.dir, wf.ID())), string(live), "the tree as build makes it")
}
