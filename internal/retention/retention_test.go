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

// segment writes a journal segment with a record of each workflow of ns.
func (d *dir) segment(name string, age time.Duration, ns ...int) string {
	var lines []string
	for _, n := range ns {
		lines = append(lines, record(n))
	}
	return d.journal(name, age, lines...)
}

// journal writes a journal segment of lines.
func (d *dir) journal(name string, age time.Duration, lines ...string) string {
	return d.write(filepath.Join(tree.JournalDir, name), strings.Join(lines, "\n")+"\n", age)
}

// record is a journal line of a record of workflow n.
func record(n int) string {
	return fmt.Sprintf(`{"ev":"record","wf":%q,"scope":%q,"seq":1,"time":"2026-11-29T00:00:00.000000000Z","level":"INFO","msg":"m"}`, id(n), id(n))
}

// start is the journal line of the start of workflow n.
func start(n int) string {
	return fmt.Sprintf(`{"ev":"start","wf":%q,"id":%q,"kind":"workflow","seq":0,"time":"2026-11-29T00:00:00.000000000Z","name":"w"}`, id(n), id(n))
}

// end is the journal line of the end of scope of workflow n.
func end(n int, scope string) string {
	return fmt.Sprintf(`{"ev":"end","wf":%q,"id":%q,"seq":2,"time":"2026-11-29T00:00:00.000000000Z","status":"completed"}`, id(n), scope)
}

// lock locks the segment name as the process that writes it does, until
// the test ends or it closes the file returned.
func (d *dir) lock(name string) *os.File {
	f, err := os.Open(filepath.Join(d.path, name))
	require.NoError(d.t, err)
	d.t.Cleanup(func() { f.Close() })
	ok, err := flock.TryLock(f)
	require.NoError(d.t, err)
	require.True(d.t, ok)
	return f
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
		d.segment("20261127T120000.000Z-1-bbbbbb.jsonl", 2*day, 1, 9), // 9 has no tree, and process 1 is gone
		d.write(tree.TempName("w-"+id(1)+".json"), "{", 2*day),        // a crash's leftover
		d.write("w-00000001.4242.jsonl", "", 2*day),                   // an earlier layout's journal
	}
	kept := []string{
		d.tree(3, tree.StatusRunning, 2*day),                          // idle for long, still running
		d.tree(4, tree.StatusCompleted, day/2),                        // young
		d.write(tree.TreeFileName("w", id(5)), "{\"schema\":", 2*day), // unreadable: kept
		d.segment("20261127T120000.000Z-1-cccccc.jsonl", 2*day, 1, 3), // a line of a running workflow
		d.segment("20261127T120000.000Z-1-dddddd.jsonl", 2*day, 6),    // 6 runs in the pruning process
		d.segment("20261127T120000.000Z-2-eeeeee.jsonl", 2*day, 1),    // another process writes it
		d.segment("20261129T120000.000Z-3-ffffff.jsonl", 0, 1),        // young
		d.write("notes.txt", "mine", 2*day),                           // not slogwf's
	}
	d.lock(kept[5])

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

// Retention removes only the files named as slogwf names its own: a
// directory of workflows may hold another program's files, however old,
// and whatever their names end in.
func TestOnlyTheFilesSlogwfNamesGo(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name string
		gone bool
	}{
		{tree.TempName(tree.TreeFileName("w", id(1))), true}, // the handler's or build's leftover
		{"w-00000001.4242.jsonl", true},                      // an earlier layout's journal
		{filepath.Join(tree.JournalDir, "20261127T120000.000Z-1-aaaaaa.jsonl"), true},
		{"data.jsonl", false},
		{"eval-set.jsonl", false},
		{"session.tmp", false},
		{"notes.json.tmp", false},
		{tree.TreeFileName("w", id(2)) + ".tmp", false},
		{filepath.Join(tree.JournalDir, "data.jsonl"), false},
		{filepath.Join(tree.JournalDir, tree.TempName(tree.TreeFileName("w", id(1)))), false},
		{tree.TreeFileName("w", id(1)) + ".bak.tmp", false}, // a user's copy
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDir(t)
			d.write(tt.name, `{"a":1}`+"\n", 10*day)
			res := d.prune(&Pruner{}, Policy{MaxAge: day})
			if tt.gone {
				assert.Equal(t, []string{filepath.ToSlash(tt.name)}, res.Removed)
			} else {
				assert.Empty(t, res.Removed)
				assert.True(t, d.exists(tt.name))
			}
		})
	}
}

// A workflow that has no tree file yet (its first snapshot is to come)
// runs while the process that writes its lines lives, from its start in
// the journal until its end is there too: the segments with its lines
// stay, whatever the policy, though that process no longer writes them;
// and so do the tree files of the workflows whose start is in a segment
// that stays. A process lives while it holds the lock on its newest segment, or
// wrote one in the last Grace; the segments of one that crashed go.
func TestALiveProcesssWorkflowWithoutATreeFileKeepsItsSegments(t *testing.T) {
	d := newDir(t)
	const day = 24 * time.Hour
	d.tree(4, tree.StatusCompleted, 2*day)
	gone := []string{
		d.journal("20261126T120000.000Z-7-777777.jsonl", 3*day, start(2), end(2, id(2))),        // 2 ended; its tree went
		d.journal("20261127T090000.000Z-7-777777.jsonl", 2*day+3*time.Hour, start(4)),           // 4's tree says it ended
		d.journal("20261127T095000.000Z-7-777777.jsonl", 2*day+3*time.Hour, record(8)),          // a late record of 8, whose start went
		d.journal("20261127T100000.000Z-8-eeeeee.jsonl", 2*day, start(5), record(5)),            // process 8 crashed
		d.journal("20261127T103000.000Z-7-777777.jsonl", 2*day+90*time.Minute, end(10, id(10))), // no line of a running workflow
		tree.TreeFileName("w", id(4)),
	}
	kept := []string{
		d.journal("20261127T100000.000Z-7-777777.jsonl", 2*day+2*time.Hour, start(1), start(3), start(10), end(1, "a scope of 1")),
		d.journal("20261127T110000.000Z-7-777777.jsonl", 2*day+time.Hour, record(1), end(3, id(3))),
		d.tree(10, tree.StatusCompleted, 2*day+30*time.Minute),             // 10's start is in a segment that stays
		d.journal("20261127T120000.000Z-7-777777.jsonl", 2*day, record(1)), // process 7 writes it, quiet for days
		d.journal("20261127T120000.000Z-9-999999.jsonl", 2*day, start(6)),
		d.journal("20261129T115930.000Z-9-999999.jsonl", 30*time.Second), // process 9 just began its next segment
	}
	writing := d.lock(kept[3])

	for _, pol := range []Policy{{MaxBytes: 1}, {MaxAge: day}} {
		res := d.prune(&Pruner{DryRun: true}, pol)
		assert.ElementsMatch(t, gone, res.Removed, "%+v", pol)
	}
	d.prune(&Pruner{}, Policy{MaxAge: day})
	for _, name := range kept {
		assert.True(t, d.exists(name), name)
	}

	// Workflow 1 ends, and process 7 goes on to its next segment: the
	// segments with workflow 1's lines go, and the tree file of 10.
	writing.Close()
	d.journal("20261127T120000.000Z-7-777777.jsonl", 2*day, record(1), end(1, id(1)))
	d.lock(d.journal("20261129T100000.000Z-7-777777.jsonl", 2*time.Hour, start(7)))
	assert.Equal(t, kept[:4], d.prune(&Pruner{}, Policy{MaxAge: day}).Removed)
}

// A process is its pid and the token its segments' names share: a
// crashed process's segments go though a live one has the same pid (a
// container's first process is pid 1 at each start), and a live process
// keeps its segments though a crashed one of the same pid wrote last.
func TestProcessesOfOnePidAreToldApartByTheirToken(t *testing.T) {
	const day = 24 * time.Hour
	t.Run("a crashed one's segments go", func(t *testing.T) {
		d := newDir(t)
		crashed := d.journal("20261127T100000.000Z-1-eeeeee.jsonl", 2*day, start(5), record(5))
		d.lock(d.journal("20261129T110000.000Z-1-ffffff.jsonl", time.Hour, start(6)))
		assert.Equal(t, []string{crashed}, d.prune(&Pruner{DryRun: true}, Policy{MaxAge: day}).Removed)
		assert.Equal(t, []string{crashed}, d.prune(&Pruner{}, Policy{MaxBytes: 1}).Removed)
	})
	t.Run("a live one's stay", func(t *testing.T) {
		d := newDir(t)
		running := d.journal("20261129T115500.000Z-1-aaaaaa.jsonl", 3*time.Minute, start(6), record(6))
		d.lock(d.journal("20261129T115700.000Z-1-aaaaaa.jsonl", 90*time.Second, record(6)))
		d.journal("20261129T115800.000Z-1-cccccc.jsonl", 70*time.Second, start(9), end(9, id(9)))
		assert.NotContains(t, d.prune(&Pruner{}, Policy{MaxBytes: 1}).Removed, running, "6 runs in a live process")
	})
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

// The segments of a live process are read once: whole those that may go,
// and of the others, only the workflows they start or end without the
// other are kept, so that a handler's pruner holds little of a journal
// that MaxAge keeps.
func TestTheSegmentsOfALiveProcessAreReadOnce(t *testing.T) {
	d := newDir(t)
	old := d.journal("20261127T120000.000Z-7-777777.jsonl", 48*time.Hour, start(1), start(2), end(2, id(2)))
	young := d.journal("20261129T100000.000Z-7-777777.jsonl", 2*time.Hour, start(3), end(3, id(3)), start(4), end(1, id(1)))
	d.lock(d.journal("20261129T110000.000Z-7-777777.jsonl", time.Hour, record(4)))
	p := &Pruner{}
	assert.Equal(t, []string{old}, d.prune(p, Policy{MaxAge: 24 * time.Hour}).Removed)
	assert.Equal(t, 3, p.scans, "each once")
	assert.NotContains(t, p.segments, old)
	assert.False(t, p.segments[young].whole)
	assert.Nil(t, p.segments[young].workflows)
	assert.Equal(t, []string{id(4)}, p.segments[young].open)
	assert.Equal(t, []string{id(1)}, p.segments[young].closed)

	assert.Empty(t, d.prune(p, Policy{MaxBytes: 1}).Removed, "4 runs")
	assert.True(t, p.segments[young].whole, "it may go")
	assert.Equal(t, 4, p.scans, "young again, whole")
	assert.Equal(t, []string{id(1), id(3), id(4)}, p.segments[young].workflows)
}

// A workflow's lines in a segment that may go run while its start is in
// a segment of a live process, whatever that segment's age: a child
// process's segment, older than the parent's segment with the start, stays;
// and so does a segment past what MaxBytes alone would let go, which Prune
// reaches when an older file stays.
func TestTheLinesOfAWorkflowRunningElsewhereStay(t *testing.T) {
	t.Run("a child's", func(t *testing.T) {
		d := newDir(t)
		child := d.journal("20261129T115000.000Z-8-888888.jsonl", 5*time.Minute, record(1)) // the child exited
		parent := d.journal("20261129T114000.000Z-7-777777.jsonl", 2*time.Minute, start(1), record(2))
		d.lock(parent)
		st, err := os.Stat(filepath.Join(d.path, parent))
		require.NoError(t, err)
		assert.NotContains(t, d.prune(&Pruner{}, Policy{MaxBytes: st.Size()}).Removed, child, "1 runs in process 7")
	})
	t.Run("past MaxBytes", func(t *testing.T) {
		d := newDir(t)
		d.write("w-"+id(9)+".json", `{"schema":"slogwf.tree/v1","kind":"workflow","id":"`+id(9)+`","name":"w","status":"running","records":[]}`+strings.Repeat(" ", 4000), time.Hour)
		seg := d.journal("20261129T113000.000Z-7-777777.jsonl", 10*time.Minute, start(1), record(1))
		d.lock(d.journal("20261129T114000.000Z-7-777777.jsonl", 5*time.Minute, record(1)))
		assert.NotContains(t, d.prune(&Pruner{}, Policy{MaxBytes: 1000}).Removed, seg, "1 runs in process 7")
	})
}

// Of a live process, the segments that may not go are read only when a
// workflow without a tree file is asked of that the others do not tell:
// a pruner reads little of a journal that MaxAge keeps.
func TestSegmentsThatMayNotGoAreReadOnlyWhenNeeded(t *testing.T) {
	d := newDir(t)
	old := d.journal("20261127T120000.000Z-7-777777.jsonl", 48*time.Hour, start(1), end(1, id(1)), start(2))
	d.journal("20261129T100000.000Z-7-777777.jsonl", 2*time.Hour, record(2), end(2, id(2)))
	d.lock(d.journal("20261129T110000.000Z-7-777777.jsonl", time.Hour, start(3)))
	d.tree(2, tree.StatusCompleted, 2*time.Hour)
	p := &Pruner{}
	assert.Equal(t, []string{old}, d.prune(p, Policy{MaxAge: 24 * time.Hour}).Removed, "1 ended there, 2's tree says it ended")
	assert.Equal(t, 1, p.scans, "the old one alone")
}

// The tree file of a workflow stays while the segment with its start
// does, though that segment, which its process still writes, is past the
// policy and so never read to be removed (its end was lost: a failed
// write).
func TestATreeStaysWhileTheLockedSegmentWithItsStartDoes(t *testing.T) {
	d := newDir(t)
	d.lock(d.journal("20261129T090000.000Z-7-777777.jsonl", 3*time.Hour, start(2), record(2)))
	tr := d.tree(2, tree.StatusCompleted, 2*time.Hour)
	assert.NotContains(t, d.prune(&Pruner{}, Policy{MaxAge: time.Hour}).Removed, tr)
}

// A dry run removes nothing, and says what a run would remove.
func TestDryRunRemovesNothing(t *testing.T) {
	d := newDir(t)
	const day = 24 * time.Hour
	names := []string{
		d.tree(1, tree.StatusCompleted, 2*day),
		d.segment("20261127T120000.000Z-1-aaaaaa.jsonl", 2*day, 1),
		d.write(tree.TempName("w-"+id(1)+".json"), "{", 2*day),
	}
	d.tree(2, tree.StatusRunning, 2*day)
	dry := d.prune(&Pruner{DryRun: true}, Policy{MaxAge: day})
	for _, name := range names {
		assert.True(t, d.exists(name), name)
	}
	assert.Equal(t, dry, d.prune(&Pruner{}, Policy{MaxAge: day}))
	assert.ElementsMatch(t, names, dry.Removed)
}

// A journal segment's NUL padding (a live or crashed writer's tail, a
// power loss's hole) is no line: the lines around it are read as without
// it, and a crashed process's padded segment goes as any other.
func TestTheNULPaddingOfASegmentIsNoLine(t *testing.T) {
	pad := func(n int) string { return strings.Repeat("\x00", n) }
	t.Run("a child's line after a hole stays", func(t *testing.T) {
		d := newDir(t)
		child := d.journal("20261129T115000.000Z-8-888888.jsonl", 5*time.Minute, pad(100)+record(1), pad(1<<20))
		parent := d.journal("20261129T114000.000Z-7-777777.jsonl", 2*time.Minute, start(1), record(2))
		d.lock(parent)
		st, err := os.Stat(filepath.Join(d.path, parent))
		require.NoError(t, err)
		assert.NotContains(t, d.prune(&Pruner{}, Policy{MaxBytes: st.Size()}).Removed, child, "1 runs in process 7")
	})
	t.Run("an end after a hole ends its workflow", func(t *testing.T) {
		d := newDir(t)
		old := d.journal("20261127T120000.000Z-7-777777.jsonl", 48*time.Hour, start(1), pad(4096)+end(1, id(1)), start(2)+pad(1<<20))
		d.journal("20261129T100000.000Z-7-777777.jsonl", 2*time.Hour, record(2), end(2, id(2)))
		d.lock(d.journal("20261129T110000.000Z-7-777777.jsonl", time.Hour, start(3)))
		d.tree(2, tree.StatusCompleted, 2*time.Hour)
		assert.Equal(t, []string{old}, d.prune(&Pruner{}, Policy{MaxAge: 24 * time.Hour}).Removed, "1 ended there, 2's tree says it ended")
	})
	t.Run("a crashed process's padded segment goes", func(t *testing.T) {
		d := newDir(t)
		seg := d.journal("20261127T120000.000Z-7-777777.jsonl", 48*time.Hour, start(1), end(1, id(1))+pad(1<<20))
		empty := d.write(filepath.Join(tree.JournalDir, "20261127T130000.000Z-7-777777.jsonl"), pad(1<<20), 48*time.Hour)
		assert.ElementsMatch(t, []string{seg, empty}, d.prune(&Pruner{}, Policy{MaxAge: 24 * time.Hour}).Removed)
	})
}

// A line copied into the padding of a live process's segment changes
// neither its size nor its time: a segment that ends in padding is read
// again at each prune, so that a workflow that started there since the
// last keeps its lines in a child's segment.
func TestASegmentThatEndsInPaddingIsReadAgainAtEachPrune(t *testing.T) {
	d := newDir(t)
	child := d.journal("20261129T115000.000Z-8-888888.jsonl", 5*time.Minute, record(1)) // the child exited
	parent := d.journal("20261129T114000.000Z-7-777777.jsonl", 2*time.Minute, start(2)+"\n"+strings.Repeat("\x00", 1<<20))
	d.lock(parent)
	st, err := os.Stat(filepath.Join(d.path, parent))
	require.NoError(t, err)
	p := &Pruner{DryRun: true}
	require.Contains(t, d.prune(p, Policy{MaxBytes: st.Size()}).Removed, child, "1 runs nowhere yet")

	f, err := os.OpenFile(filepath.Join(d.path, parent), os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte(start(1)+"\n"), int64(len(start(2))+1))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.Chtimes(filepath.Join(d.path, parent), st.ModTime(), st.ModTime()))

	p.DryRun = false
	assert.NotContains(t, d.prune(p, Policy{MaxBytes: st.Size()}).Removed, child, "1 runs in process 7")
}

// Retention removes, once old, every file slogwf itself writes in a
// directory of workflows: the journals of the earlier layout however
// that layout named them, and the temporary files that a crashed slogwf
// command left beside its inputs (html's page, export -otlp -f's state
// file), as it removed every *.tmp there before.
func TestTheOldFilesEverySlogwfWriterLeavesGo(t *testing.T) {
	const day = 24 * time.Hour
	for _, name := range []string{
		"w-00000001.1-2.jsonl",                                 // the earlier layout, when pid 1 had its journal already
		tree.TempName(tree.FileBase("w", id(1)) + ".html"),     // slogwf html's page, being written
		tree.TempName("workflows.html"),                        // slogwf html of several workflows
		tree.TempName(".slogwf-export.0123456789abcdef.state"), // slogwf export -otlp -f's state
	} {
		t.Run(name, func(t *testing.T) {
			d := newDir(t)
			d.write(name, `{"a":1}`+"\n", 10*day)
			res := d.prune(&Pruner{}, Policy{MaxAge: day})
			assert.Equal(t, []string{filepath.ToSlash(name)}, res.Removed)
		})
	}
}

// Another program's *.jsonl files stay, however old, also when their
// names have a dash and end in a number, as the earlier layout's
// <name>-<id suffix>.<pid>.jsonl does: the id suffix is 8 characters.
func TestOtherJSONLFilesWithANumberInTheirNameStay(t *testing.T) {
	const day = 24 * time.Hour
	for _, name := range []string{"gpt-4.1.jsonl", "dataset-v1.2.jsonl", "eval-set.2.jsonl"} {
		t.Run(name, func(t *testing.T) {
			d := newDir(t)
			d.write(name, `{"a":1}`+"\n", 10*day)
			res := d.prune(&Pruner{}, Policy{MaxAge: day})
			assert.Empty(t, res.Removed)
			assert.True(t, d.exists(name))
		})
	}
}
