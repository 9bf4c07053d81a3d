package slogwf_test

// A service: a workflow per request, thousands an hour, many open at once,
// for weeks. Memory, descriptors and files stay bounded, no two workflows
// share a file, and old files go.

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/slogwf/slogwf"
)

// heapAfterGC returns the bytes of heap in use after a collection.
func heapAfterGC() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// A tree grows with what it holds: an open workflow of one small record
// takes a few KiB, with no block of a fixed size.
func TestAnOpenWorkflowOfOneSmallRecordTakesUnder4KiB(t *testing.T) {
	s := newSetup(t, nil)
	const n = 2000
	wfs := make([]*slogwf.Scope, n)
	before := heapAfterGC()
	for i := range wfs {
		ctx, wf := slogwf.StartWorkflow(s.ctx, "request")
		s.log.InfoContext(ctx, "hello", "user", "ana")
		wfs[i] = wf
	}
	per := float64(heapAfterGC()-before) / n
	assert.Less(t, per, 4096.0, "bytes per open workflow")
	t.Logf("%.0f bytes per open workflow of one record", per)
	runtime.KeepAlive(wfs)
}
