package tree

import (
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failing is a writer that fails every write, as a snapshot's writer does
// once its workflow has ended (slogwf's giveWay).
type failing struct{ writes int }

func (f *failing) Write([]byte) (int, error) {
	f.writes++
	return 0, errors.New("over")
}

// A snapshot gives way to the final tree by failing its writes: the
// writer stops at the first failed write, rather than go on through the
// tree building in memory what it can no longer write.
func TestWriteJSONStopsAtTheFirstFailedWrite(t *testing.T) {
	const n = 1 << 15 // about 3 MB of tree file
	tr := recordsTree(t, n, "a message of some length, as agents log")
	out := &failing{}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := tr.WriteJSON(out, false)
	runtime.ReadMemStats(&after)
	require.EqualError(t, err, "over")
	assert.Equal(t, 1, out.writes)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<10), "bytes WriteJSON allocated for a tree of %d records", n)
}
