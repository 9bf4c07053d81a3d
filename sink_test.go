package slogwf

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A record that names a scope by its ID alone asks at most the one
// workflow that started that scope whether it runs, however many
// workflows run: a scope that ended with its workflow, or that no
// workflow here started, is not searched for among them.
func TestARecordNamingAScopeByIDAloneAsksOneWorkflowAtMost(t *testing.T) {
	h, err := New(&Options{Dir: t.TempDir(), Console: io.Discard})
	require.NoError(t, err)
	defer h.Close()
	ctx := ContextWithLogger(context.Background(), slog.New(h))

	const running = 50
	var live []*Scope // an interaction of each running workflow
	var first context.Context
	for range running {
		wctx, _ := StartWorkflow(ctx, "running")
		_, ia := StartInteraction(wctx, "agent")
		live = append(live, ia)
		first = cmp.Or(first, wctx)
	}
	wctx, wf := StartWorkflow(ctx, "ended")
	_, gone := StartInteraction(wctx, "agent")
	gone.End()
	wf.End()
	_, done := StartInteraction(first, "agent")
	done.End() // its workflow runs on

	for _, tc := range []struct {
		name   string
		id     string
		placed bool
		asked  int
	}{
		{"a running scope", live[running/2].ID(), true, 1},
		{"a scope that ended in a running workflow", done.ID(), true, 1},
		{"a scope whose workflow ended", gone.ID(), false, 0},
		{"a scope no workflow here started", "01JUNKNOWNSCOPEID00000000", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := asked(h.sink)
			var x ids
			x[KindInteraction] = tc.id
			rt := h.sink.route(nil, &x)
			assert.Equal(t, tc.placed, rt.flow != nil)
			assert.Equal(t, tc.asked, asked(h.sink)-before, "workflows asked")
		})
	}
}

// asked returns how many times the running workflows of s were asked
// whether a scope started in them.
func asked(s *sink) int {
	n := 0
	s.flows.Range(func(_, v any) bool {
		f := v.(*flow)
		f.mu.Lock()
		n += f.asked
		f.mu.Unlock()
		return true
	})
	return n
}

// A scope that a child process started is found by its ID once the tree
// of its parent's workflow took in its start, though a record named it
// before: what routing by ID did not find is not remembered as missing.
func TestAScopeOfAChildProcessIsFoundByIDOnceItsStartIsTakenIn(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	defer h.Close()
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), slog.New(h)), "parent")
	defer wf.End()
	t.Setenv(EnvParent, strings.TrimPrefix(Environ(ctx)[0], EnvParent+"="))

	child, err := New(&Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	_, ia := StartInteraction(ContextFromEnv(ContextWithLogger(context.Background(), slog.New(child))), "worker")
	var x ids
	x[KindInteraction] = ia.ID()

	assert.Nil(t, h.sink.route(nil, &x).flow, "before its parent took its start in")
	h.sink.flow(wf.ID()).snapshot()
	assert.Equal(t, h.sink.flow(wf.ID()), h.sink.route(nil, &x).flow, "once it did")
	ia.End()
	require.NoError(t, child.Close())
}

// A scope ID that two workflows started (only a crafted or damaged
// journal line of another process says so: IDs are UUIDv7) names the
// scope of the one that started it first while it runs, and of the other
// once it ended, whichever ends first: a record naming it alone is not
// lost while one of them runs it.
func TestAScopeIDThatTwoWorkflowsStartedStaysFoundWhileOneRuns(t *testing.T) {
	for _, tt := range []struct {
		name      string
		firstEnds bool
	}{
		{"the workflow that started it first ends", true},
		{"the other ends", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newSpawner(t)
			actx, a := StartWorkflow(p.ctx, "a")
			_, ia := StartInteraction(actx, "agent")
			bctx, b := StartWorkflow(p.ctx, "b")
			Environ(bctx)

			// A child's journal that starts ia's ID in b.
			own, err := os.ReadFile(filepath.Join(p.dir, p.h.sink.journal.segments[0]))
			require.NoError(t, err)
			var start []byte
			for _, l := range bytes.SplitAfter(own, []byte("\n")) {
				if bytes.Contains(l, []byte(`"ev":"start"`)) && bytes.Contains(l, []byte(ia.ID())) {
					start = bytes.Replace(l, []byte(a.ID()), []byte(b.ID()), -1)
				}
			}
			require.NotNil(t, start)
			name := filepath.Join(p.dir, tree.JournalDir, tree.JournalName(time.Now(), 1, 1))
			require.NoError(t, os.WriteFile(name, start, 0o600))
			p.look(b)
			require.True(t, p.h.sink.flow(b.ID()).started(ia.ID()), "b took the start in")

			ia.End()
			ended, runs := b, a
			if tt.firstEnds {
				ended, runs = a, b
			}
			ended.End()
			var x ids
			x[KindInteraction] = ia.ID()
			got := p.h.sink.route(nil, &x).flow
			assert.True(t, got != nil && got == p.h.sink.flow(runs.ID()), "a record naming it goes to the one that runs it (to a workflow: %v)", got != nil)

			slog.New(p.h).Info("named by its ID", InteractionID(ia.ID()))
			runs.End()
			data, err := os.ReadFile(p.h.TreeFile(runs))
			require.NoError(t, err)
			assert.Contains(t, string(data), "named by its ID", "in the tree of the one that runs it")
		})
	}
}

// holdIndex holds every shard of s's scope index until the func it
// returns is called: an End then stops between the workflow leaving the
// live ones and joining those that ended, as it may be descheduled there.
func holdIndex(s *sink) func() {
	for i := range s.scopes.shards {
		s.scopes.shards[i].mu.Lock()
	}
	return func() {
		for i := range s.scopes.shards {
			s.scopes.shards[i].mu.Unlock()
		}
	}
}

// endMidway ends wf in another goroutine, and returns once it is no
// longer live, its End held midway, with the func that lets it finish.
func endMidway(t *testing.T, s *sink, wf *Scope) func() {
	let := holdIndex(s)
	done := make(chan struct{})
	go func() { wf.End(); close(done) }()
	for s.flow(wf.ID()) != nil {
		runtime.Gosched()
	}
	return func() { let(); <-done }
}

// A look that reads a child's lines while their workflow ends takes them
// into its tree: the workflow is live, or among those that ended, at
// every moment of its End.
func TestAChildsLinesReadWhileItsWorkflowEndsReachItsTree(t *testing.T) {
	p := newSpawner(t)
	ctx, wf := StartWorkflow(p.ctx, "ending")
	child, cctx := p.child(ctx, Options{})
	slog.New(child).InfoContext(cctx, "first")
	p.look(wf)
	slog.New(child).InfoContext(cctx, "second")
	f := p.h.sink.flow(wf.ID())

	finish := endMidway(t, p.h.sink, wf)
	p.h.sink.others.look(p.h.sink, f, wf.spawnedAt(), false) // a snapshot's, under way
	finish()
	require.NoError(t, child.Close())
	p.h.WaitTrees()
	assert.Equal(t, []string{"first", "second"}, treeMsgs(t, p.h, wf))
}

// A record naming its workflow by ID as the workflow ends reaches its
// tree, late if need be, not the console alone.
func TestARecordNamingItsWorkflowByIDAsItEndsReachesItsTree(t *testing.T) {
	p := newSpawner(t)
	_, wf := StartWorkflow(p.ctx, "ending")
	finish := endMidway(t, p.h.sink, wf)
	slog.New(p.h).Info("as it ends", WorkflowID(wf.ID()))
	finish()
	p.h.WaitTrees()
	require.NoError(t, p.h.Close())
	assert.Equal(t, []string{"as it ends"}, treeMsgs(t, p.h, wf))
}
