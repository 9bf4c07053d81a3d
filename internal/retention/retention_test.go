package retention

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// dir is a directory of workflows whose files tests write, with the
// times they set.
type dir struct {
	t    *testing.T
	path string
	now  time.Time
}

func newDir(t *testing.T) *dir {
	return &dir{t: t, path: t.TempDir(), now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
}

// id returns the ID of workflow n.
func id(n int) string { return fmt.Sprintf("01a2255d-71e3-7c75-9eef-%012x", n) }

// write writes the file name, last written age before now.
func (d *dir) write(name, data string, age time.Duration) string {
	p := filepath.Join(d.path, name)
	require.NoError(d.t, os.MkdirAll(filepath.Dir(p), 0o700))
	require.NoError(d.t, os.WriteFile(p, []byte(data), 0o600))
	at := d.now.Add(-age)
	require.NoError(d.t, os.Chtimes(p, at, at))
	return name
}

// tree writes the tree file of workflow n, with status.
func (d *dir) tree(n int, status string, age time.Duration) string {
	return d.write(tree.TreeFileName("w", id(n)), fmt.Sprintf(`{"schema":"slogwf.tree/v1","kind":"workflow","id":%q,"name":"w","status":%q,"records":[]}`, id(n), status), age)
}

// segment writes a journal segment with a line of each workflow of ns.
func (d *dir) segment(name string, age time.Duration, ns ...int) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, `{"ev":"record","wf":%q,"scope":%q,"seq":1,"time":"2026-11-29T00:00:00.000000000Z","level":"INFO","msg":"m"}`+"\n", id(n), id(n))
	}
	return d.write(filepath.Join(tree.JournalDir, name), b.String(), age)
}

func (d *dir) prune(p *Pruner, pol Policy) Result {
	root, err := os.OpenRoot(d.path)
	require.NoError(d.t, err)
	defer root.Close()
	res, err := p.Prune(root, pol, d.now)
	require.NoError(d.t, err)
	return res
}

func (d *dir) exists(name string) bool {
	_, err := os.Stat(filepath.Join(d.path, name))
	return err == nil
}

// Files older than MaxAge go, but never a running workflow's tree, nor a
// segment that holds a line of one, nor one a process writes; a workflow
// without a tree file ended long ago.
func TestMaxAgeRemovesTheOldFilesOfEndedWorkflowsOnly(t *testing.T) {
	d := newDir(t)
	const day = 24 * time.Hour
	gone := []string{
		d.tree(1, tree.StatusCompleted, 2*day),
		d.tree(2, tree.StatusIncomplete, 2*day),
		d.segment("20261127T120000.000Z-1-aaaaaa.jsonl", 2*day, 1, 2),
		d.segment("20261127T120000.000Z-1-bbbbbb.jsonl", 2*day, 1, 9), // 9 has no tree: it ended long ago
		d.write("w-"+id(1)+".json.x1.tmp", "{", 2*day),                // a crash's leftover
		d.write("w-00000001.4242.jsonl", "", 2*day),                   // an earlier layout's journal
	}
	kept := []string{
		d.tree(3, tree.StatusRunning, 2*day),                          // idle for long, still running
		d.tree(4, tree.StatusCompleted, day/2),                        // young
		d.write(tree.TreeFileName("w", id(5)), "{\"schema\":", 2*day), // unreadable: kept
		d.segment("20261127T120000.000Z-1-cccccc.jsonl", 2*day, 1, 3), // a line of a running workflow
		d.segment("20261127T120000.000Z-1-dddddd.jsonl", 2*day, 6),    // 6 runs in the pruning process
		d.segment("20261127T120000.000Z-2-eeeeee.jsonl", 2*day, 1),    // another process writes it
		d.segment("20261129T120000.000Z-1-ffffff.jsonl", 0, 1),        // young
		d.write("notes.txt", "mine", 2*day),                           // not slogwf's
	}
	locked, err := os.Open(filepath.Join(d.path, kept[5]))
	require.NoError(t, err)
	defer locked.Close()
	ok, err := flock.TryLock(locked)
	require.NoError(t, err)
	require.True(t, ok)

	p := &Pruner{Running: func(wf string) bool { return wf == id(6) }}
	res := d.prune(p, Policy{MaxAge: day})
	assert.ElementsMatch(t, gone, res.Removed)
	for _, name := range gone {
		assert.False(t, d.exists(name), name)
	}
	for _, name := range kept {
		assert.True(t, d.exists(name), name)
	}
}

// While the directory holds more than MaxBytes, the oldest files of ended
// workflows go, and only as many as it takes; files written in the last
// Grace stay whatever the size.
func TestMaxBytesRemovesTheOldestFirst(t *testing.T) {
	d := newDir(t)
	var names []string
	for n := range 10 { // 10 trees of about 150 bytes, a minute apart
		names = append(names, d.tree(n, tree.StatusCompleted, time.Duration(20-n)*time.Minute))
	}
	running := d.tree(10, tree.StatusRunning, time.Hour) // the oldest, but running
	young := d.tree(11, tree.StatusCompleted, time.Second)
	var total int64
	for _, name := range append(names, running, young) {
		st, err := os.Stat(filepath.Join(d.path, name))
		require.NoError(t, err)
		total += st.Size()
	}
	size := total / 12

	res := d.prune(&Pruner{}, Policy{MaxBytes: total - 3*size})
	assert.Equal(t, names[:3], res.Removed, "the three oldest ended")
	assert.LessOrEqual(t, res.Left, total-3*size)
	assert.True(t, d.exists(running))

	res = d.prune(&Pruner{}, Policy{MaxBytes: 1})
	assert.Equal(t, names[3:], res.Removed)
	assert.True(t, d.exists(running), "never a running workflow's")
	assert.True(t, d.exists(young), "nor a file younger than Grace")
}

// A segment is read once for the workflows it holds; a segment that grew
// since is read again.
func TestSegmentsAreReadOnce(t *testing.T) {
	d := newDir(t)
	seg := d.segment("20261127T120000.000Z-1-aaaaaa.jsonl", 48*time.Hour, 1)
	d.tree(1, tree.StatusRunning, time.Hour)
	p := &Pruner{}
	assert.Empty(t, d.prune(p, Policy{MaxAge: time.Hour}).Removed)
	assert.Equal(t, []string{id(1)}, p.segments[seg].workflows)
	d.tree(1, tree.StatusCompleted, 2*time.Hour)
	assert.Equal(t, []string{seg, tree.TreeFileName("w", id(1))}, d.prune(p, Policy{MaxAge: time.Hour}).Removed)
}

// A dry run removes nothing, and says what a run would remove.
func TestDryRunRemovesNothing(t *testing.T) {
	d := newDir(t)
	const day = 24 * time.Hour
	names := []string{
		d.tree(1, tree.StatusCompleted, 2*day),
		d.segment("20261127T120000.000Z-1-aaaaaa.jsonl", 2*day, 1),
		d.write("w-"+id(1)+".json.x1.tmp", "{", 2*day),
	}
	d.tree(2, tree.StatusRunning, 2*day)
	dry := d.prune(&Pruner{DryRun: true}, Policy{MaxAge: day})
	for _, name := range names {
		assert.True(t, d.exists(name), name)
	}
	assert.Equal(t, dry, d.prune(&Pruner{}, Policy{MaxAge: day}))
	assert.ElementsMatch(t, names, dry.Removed)
}
