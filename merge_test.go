package slogwf

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/tree"
)

// spawner is a parent process whose workflows pass themselves on to
// child processes: Handlers of their own on the same Dir, each with its
// own journal, as a child's.
type spawner struct {
	t   *testing.T
	dir string
	h   *Handler
	ctx context.Context
}

func newSpawner(t *testing.T) *spawner {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, SnapshotInterval: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return &spawner{t: t, dir: dir, h: h, ctx: ContextWithLogger(context.Background(), slog.New(h))}
}

// child starts a child process of the workflow of ctx, and returns its
// Handler and the context it logs in.
func (p *spawner) child(ctx context.Context, opts Options) (*Handler, context.Context) {
	p.t.Setenv(EnvParent, strings.TrimPrefix(Environ(ctx)[0], EnvParent+"="))
	opts.Dir, opts.Console = p.dir, io.Discard
	h, err := New(&opts)
	require.NoError(p.t, err)
	p.t.Cleanup(func() { h.Close() })
	return h, ContextFromEnv(ContextWithLogger(context.Background(), slog.New(h)))
}

// look snapshots wf, and returns how many journals its look opened.
func (p *spawner) look(wf *Scope) int {
	o := &p.h.sink.others
	o.mu.Lock()
	before := o.opened
	o.mu.Unlock()
	p.h.sink.flow(wf.ID()).snapshot()
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.opened - before
}

// A look of a workflow passed on opens the journals that may still hold
// lines of the workflows still looking, not every journal of a child
// since: a journal that its process let go, and that a look read to its
// end, is not opened again, however many workflows ran a child before.
func TestALookOpensNoJournalThatItsProcessLetGoAndWasRead(t *testing.T) {
	p := newSpawner(t)
	for _, before := range []int{0, 10, 30} {
		t.Run("", func(t *testing.T) {
			for range before {
				ctx, wf := StartWorkflow(p.ctx, "short")
				child, cctx := p.child(ctx, Options{})
				slog.New(child).InfoContext(cctx, "done")
				require.NoError(t, child.Close())
				wf.End()
			}
			p.h.WaitTrees()

			ctx, wf := StartWorkflow(p.ctx, "long")
			child, cctx := p.child(ctx, Options{})
			slog.New(child).InfoContext(cctx, "working")
			assert.Equal(t, 1, p.look(wf), "journals opened with %d children before: the live child's", before)
			slog.New(child).InfoContext(cctx, "still working")
			assert.Equal(t, 1, p.look(wf), "journals opened at the next look")
			require.NoError(t, child.Close())
			wf.End()
			p.h.WaitTrees()
			assert.Equal(t, []string{"working", "still working"}, treeMsgs(t, p.h, wf))
		})
	}
}

// A look opens no journal created before the earliest of the workflows
// still looking was passed on: once the workflow passed on before it
// made its final look, a journal no process will finish (a child that
// died in the middle of a line) is not opened again.
func TestALookOpensNoJournalMadeBeforeTheWorkflowsStillLookingWerePassedOn(t *testing.T) {
	p := newSpawner(t)
	actx, a := StartWorkflow(p.ctx, "early")
	Environ(actx)
	a.spawned.Store(time.Now().Add(-time.Hour).UnixNano()) // passed on an hour ago
	torn := filepath.Join(p.dir, tree.JournalDir, tree.JournalName(time.Now().Add(-30*time.Minute), 1, 1))
	require.NoError(t, os.WriteFile(torn, []byte(`{"wf":"`+a.ID()+`","t":"rec`), 0o600))

	assert.Equal(t, 1, p.look(a), "journals opened by the early workflow's look")

	bctx, b := StartWorkflow(p.ctx, "late")
	Environ(bctx)
	assert.Equal(t, 1, p.look(b), "journals opened while the early workflow looks")
	a.End()
	p.h.sink.finals.wait(p.h.sink.recent.get(a.ID()))
	assert.Equal(t, 0, p.look(b), "journals opened once it made its final look")
	b.End()
}

// A workflow passed on takes in every line of its children, though other
// workflows passed on start and end meanwhile, and its children start
// late, write late, and write more than one segment.
func TestAWorkflowPassedOnTakesInItsChildrenAsOthersComeAndGo(t *testing.T) {
	p := newSpawner(t)
	ctx, long := StartWorkflow(p.ctx, "long")
	early, ectx := p.child(ctx, Options{SegmentSize: minSegmentSize, MaxValue: -1})
	slog.New(early).InfoContext(ectx, "early 1")
	p.look(long)
	var want []string
	want = append(want, "early 1")
	for i := range 5 {
		octx, wf := StartWorkflow(p.ctx, "short")
		child, cctx := p.child(octx, Options{})
		slog.New(child).InfoContext(cctx, "short")
		require.NoError(t, child.Close())
		wf.End()
		p.h.sink.finals.wait(p.h.sink.recent.get(wf.ID()))

		msg := "early " + strings.Repeat("+", i+2) // long enough to fill segments
		slog.New(early).InfoContext(ectx, msg, "pad", strings.Repeat("x", minSegmentSize))
		want = append(want, msg)
		if i%2 == 1 {
			p.look(long)
		}
	}
	late, lctx := p.child(ctx, Options{})
	slog.New(late).InfoContext(lctx, "late")
	want = append(want, "late")
	assert.Greater(t, len(early.sink.journal.segments), 2, "segments the early child wrote")
	require.NoError(t, early.Close())
	require.NoError(t, late.Close())
	long.End()
	p.h.WaitTrees()
	assert.ElementsMatch(t, want, treeMsgs(t, p.h, long))
}

// treeMsgs returns the messages of the records of wf's final tree, in
// the tree file of h.
func treeMsgs(t *testing.T, h *Handler, wf *Scope) []string {
	t.Helper()
	var msgs []string
	for _, r := range readTreeFile(t, h.TreeFile(wf)) {
		rec, _ := r.(map[string]any)
		msg, _ := rec["msg"].(string)
		msgs = append(msgs, msg)
	}
	return msgs
}

// A link planted among the journals is not followed: the journal it
// names is read once, under its own name.
func TestALookFollowsNoLinkPlantedAmongTheJournals(t *testing.T) {
	p := newSpawner(t)
	ctx, wf := StartWorkflow(p.ctx, "linked")
	child, cctx := p.child(ctx, Options{})
	slog.New(child).InfoContext(cctx, "once")
	name := child.sink.journal.segments[0]
	require.NoError(t, child.Close())
	link := tree.JournalName(time.Now().Add(time.Second), 1, 1)
	require.NoError(t, os.Symlink(filepath.Base(name), filepath.Join(p.dir, tree.JournalDir, link)))
	wf.End()
	p.h.WaitTrees()
	assert.Equal(t, []string{"once"}, treeMsgs(t, p.h, wf))
}
