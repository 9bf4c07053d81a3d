package slogwf_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// More pollers than keep the trees of their late records log late records
// at once, among the lines of other workflows, while the rebuilds run:
// every late record reaches its tree file, which is the one build makes of
// the journal, and no more than 8 workflows keep a tree meanwhile.
func TestTheLateRecordsOfManyPollersAllReachTheirTrees(t *testing.T) {
	for _, pollers := range []int{4, 12} {
		t.Run(strconv.Itoa(pollers)+" pollers", func(t *testing.T) { lateRecordsOfPollers(t, pollers) })
	}
}

// endedPollers starts n workflows, "poller", that log a record on time
// and end: their late records come after.
func endedPollers(s *setup, n int) ([]context.Context, []*slogwf.Scope) {
	ctxs := make([]context.Context, n)
	wfs := make([]*slogwf.Scope, n)
	for i := range n {
		ctxs[i], wfs[i] = slogwf.StartWorkflow(s.ctx, "poller")
		s.log.InfoContext(ctxs[i], "on time")
		wfs[i].End()
	}
	return ctxs, wfs
}

func lateRecordsOfPollers(t *testing.T, pollers int) {
	s := newSetup(t, &slogwf.Options{Console: io.Discard, SnapshotInterval: time.Millisecond})
	const n = 120
	ctxs, wfs := endedPollers(s, pollers)
	var wg sync.WaitGroup
	var logging atomic.Int32
	logging.Store(int32(pollers))
	for _, ctx := range ctxs {
		wg.Go(func() {
			defer logging.Add(-1)
			for j := range n {
				s.log.InfoContext(ctx, "late poll", "j", j)
				time.Sleep(100 * time.Microsecond)
			}
		})
	}
	pad := strings.Repeat("x", 200)
	kept := 0
	for logging.Load() > 0 {
		ctx, wf := slogwf.StartWorkflow(s.ctx, "request")
		s.log.InfoContext(ctx, "r", "pad", pad)
		wf.End()
		kept = max(kept, s.h.KeptTrees(wfs...))
	}
	wg.Wait()
	require.NoError(t, s.h.Close())

	t.Logf("at most %d workflows kept a tree", kept)
	assert.Positive(t, kept, "the pollers keep their trees")
	assert.LessOrEqual(t, kept, 8)
	for _, wf := range wfs {
		require.Len(t, s.tree(t, wf).Records, n+1)
		live, err := os.ReadFile(s.h.TreeFile(wf))
		require.NoError(t, err)
		assert.Equal(t, string(buildTree(t, s.dir, wf.ID())), string(live))
	}
}
