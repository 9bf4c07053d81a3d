package slogwf_test

import (
	"bytes"
	"fmt"
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

// readBytes returns how many bytes this process has read from files so
// far (rchar of /proc/self/io).
func readBytes(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/io")
	require.NoError(t, err)
	var n int64
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			_, err := fmt.Sscan(v, &n)
			require.NoError(t, err)
		}
	}
	return n
}

// A parent looks at the journal of a child that crashed, which ends in
// NUL padding, at each snapshot, but reads a byte of it, not a chunk of
// its padding.
func TestAParentReadsAByteOfAPaddedChildJournalALook(t *testing.T) {
	parent := newSetup(t, &slogwf.Options{SnapshotInterval: time.Hour})
	ctx, wf := slogwf.StartWorkflow(parent.ctx, "padded")
	t.Setenv(slogwf.EnvParent, strings.TrimPrefix(slogwf.Environ(ctx)[0], slogwf.EnvParent+"="))
	child := newSetup(t, &slogwf.Options{Dir: parent.dir})
	child.log.InfoContext(slogwf.ContextFromEnv(child.ctx), "first")
	require.NoError(t, child.h.Close())
	journals, err := filepath.Glob(filepath.Join(parent.dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	for _, j := range journals {
		data, err := os.ReadFile(j)
		require.NoError(t, err)
		if bytes.Contains(data, []byte(`"first"`)) {
			require.NoError(t, os.Truncate(j, int64(len(data)+1<<20)))
		}
	}
	parent.h.Snapshot(wf)
	require.Equal(t, []string{"first"}, parent.tree(t, wf).msgs())

	const looks = 10
	before := readBytes(t)
	for range looks {
		parent.h.Snapshot(wf)
	}
	read := readBytes(t) - before
	assert.Less(t, read, int64(looks*(4<<10)), "bytes read by %d looks", looks)
}
