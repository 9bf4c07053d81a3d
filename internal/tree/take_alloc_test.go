package tree

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Take runs under the lock that a workflow's agents share, at each
// scope's end and over the whole tree at the workflow's: what it passes
// shares the tree's records, copying none of them.
func TestTakeCopiesNoneOfTheRecordsItPasses(t *testing.T) {
	const n = 1 << 16
	tr := recordsTree(t, n, "m")
	apply(t, tr, `{"ev":"end","wf":"w","id":"w","seq":99999999,"time":"2026-01-01T00:00:02.000000000Z","status":"completed"}`)
	var taken *Ended
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr.Take("w", true, func(e *Ended) { taken = e })
	runtime.ReadMemStats(&after)
	require.NotNil(t, taken)
	require.Len(t, taken.SortedRecords(), n)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "bytes Take allocated for a scope of %d records", n)
}

// recordsTree returns the tree of workflow w, which holds n records of
// the message msg.
func recordsTree(t *testing.T, n int, msg string) *Tree {
	tr := NewTree("w")
	apply(t, tr, `{"ev":"start","wf":"w","id":"w","kind":"workflow","seq":1,"time":"2026-01-01T00:00:00.000000000Z","name":"x"}`)
	for i := range n {
		apply(t, tr, fmt.Sprintf(`{"ev":"record","wf":"w","scope":"w","seq":%d,"time":"2026-01-01T00:00:01.%09dZ","level":"INFO","msg":%q}`, i+2, i, msg))
	}
	return tr
}

// apply applies the event of line to tr.
func apply(t *testing.T, tr *Tree, line string) {
	e, err := Decode([]byte(line))
	require.NoError(t, err, line)
	tr.Apply(e)
}
