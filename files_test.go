package slogwf

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/google/uuid"

	"github.com/slogwf/slogwf/internal/tree"
)

// No two workflows share a file, however alike their IDs and names: IDs
// that differ only in their first characters, as UUIDv7s of one
// millisecond do not, but as the IDs of other programs may.
func TestWorkflowsWhoseIDsEndAlikeShareNoFile(t *testing.T) {
	var n atomic.Int64
	newID = func() uuid.UUID { return uuid.MustParse(fmt.Sprintf("%08x-71e3-7c75-9eef-715af7eb4be4", n.Add(1))) }
	t.Cleanup(func() { newID = defaultNewID })
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	l := slog.New(h)
	const workflows = 200
	var wfs []*Scope
	for i := range workflows {
		ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "svc")
		l.InfoContext(ctx, "mine", "i", i)
		wf.End()
		wfs = append(wfs, wf)
	}
	require.NoError(t, h.Close())

	trees, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	assert.Len(t, trees, workflows, "a tree file each")
	seen := map[string]bool{}
	for i, wf := range wfs {
		path := h.TreeFile(wf)
		assert.False(t, seen[path], "shared: %s", path)
		seen[path] = true
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Contains(t, string(data), `"id":"`+wf.ID()+`"`)
		assert.Contains(t, string(data), fmt.Sprintf(`"attrs":{"i":%d}`, i))
	}
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	assert.Len(t, journals, 1, "one journal for all")
}
