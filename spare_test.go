package slogwf

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// A workflow's tree is given the spare slab it wants by the record that
// found it wanted, once the record's line is written, with no lock held:
// after each record, the tree wants none.
func TestAfterEachRecordAWorkflowsTreeHoldsTheSpareSlabItWants(t *testing.T) {
	h, err := New(&Options{Dir: t.TempDir(), Console: io.Discard, ErrorOutput: io.Discard})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "spare")
	f := h.sink.flow(wf.ID())
	for i := range 2000 { // bodies of some 200 bytes: several 64 KiB slabs
		l.InfoContext(ctx, "record", "i", i)
		f.mu.Lock()
		want := f.tree.SpareWanted()
		f.mu.Unlock()
		require.Zero(t, want, "record %d", i)
	}
}
