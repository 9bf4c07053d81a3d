package slogwf_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// recorder is a ScopeExporter that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	scopes []*tree.Ended
}

func (r *recorder) ExportScope(s *tree.Ended) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scopes = append(r.scopes, s)
}

// byID returns the scopes given so far by ID, failing on one given twice.
func (r *recorder) byID(t *testing.T) map[string]*tree.Ended {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]*tree.Ended{}
	for _, s := range r.scopes {
		require.NotContains(t, m, s.ID, "scope %s given twice", s.ID)
		m[s.ID] = s
	}
	return m
}

func TestEachScopeGoesToTheExporterOnceWhenItEnds(t *testing.T) {
	rec := &recorder{}
	s := newSetup(t, &slogwf.Options{Exporter: rec})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "research")
	ctx, it := slogwf.StartIteration(ctx)
	ctx, ia := slogwf.StartInteraction(ctx, "planner")
	_, act := slogwf.StartAction(ctx, "search")
	_, open := slogwf.StartAction(ctx, "never ends")
	_ = open
	assert.Empty(t, rec.byID(t), "nothing has ended")

	act.End()
	require.Len(t, rec.byID(t), 1, "the action, as End returns")
	assert.Equal(t, "completed", rec.byID(t)[act.ID()].Status)
	ia.Fail(errors.New("gave up"))
	got := rec.byID(t)
	require.Len(t, got, 3, "the interaction, and the action it left open")
	assert.Equal(t, "failed", got[ia.ID()].Status)
	assert.Equal(t, "incomplete", got[open.ID()].Status)
	act.End()
	ia.End()
	assert.Len(t, rec.byID(t), 3, "ending again gives nothing")

	wf.End()
	got = rec.byID(t)
	require.Len(t, got, 5)
	assert.Equal(t, "incomplete", got[it.ID()].Status, "ended by the workflow")
	assert.Equal(t, "completed", got[wf.ID()].Status)
	assert.Equal(t, "research", got[wf.ID()].Name)
}

// A scope started in the context of one that ended (a goroutine that
// outlives its agent) is not closed by that end: it goes to the exporter
// as it ended itself, as the tree file and the journal say, and never ends
// before it starts.
func TestAScopeStartedUnderOneThatEndedGoesToTheExporterAsItEnded(t *testing.T) {
	rec := &recorder{}
	s := newSetup(t, &slogwf.Options{Exporter: rec})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "research")
	ctx, ia := slogwf.StartInteraction(ctx, "planner")
	ia.End()
	_, act := slogwf.StartAction(ctx, "search")
	act.Fail(errors.New("gave up"))
	wf.End()
	require.NoError(t, s.h.Close())

	live := rec.byID(t)[act.ID()]
	require.NotNil(t, live)
	assert.Equal(t, "failed", live.Status)
	assert.Equal(t, "gave up", live.Error)
	assert.LessOrEqual(t, live.Start, live.End)
	n := s.tree(t, wf).Interactions[0].Actions[0]
	assert.Equal(t, []string{live.Status, live.Start, live.End}, []string{string(n.Status), n.Start, n.End}, "the tree file's")
	var replayed *tree.Ended
	readJournals(t, s.dir).Tree(wf.ID()).Take(wf.ID(), true, func(e *tree.Ended) {
		if e.ID == act.ID() {
			replayed = e
		}
	})
	require.NotNil(t, replayed)
	assert.Equal(t, []string{live.Status, live.Start, live.End}, []string{replayed.Status, replayed.Start, replayed.End}, "the journal's")
}

func TestCloseGivesTheExporterTheScopesStillOpen(t *testing.T) {
	rec := &recorder{}
	s := newSetup(t, &slogwf.Options{Exporter: rec})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "research")
	_, ia := slogwf.StartInteraction(ctx, "planner")
	require.NoError(t, s.h.Close())
	got := rec.byID(t)
	require.Len(t, got, 2)
	for _, sc := range []*slogwf.Scope{wf, ia} {
		assert.Equal(t, "incomplete", got[sc.ID()].Status)
	}
}

// logDemoShape logs a workflow shaped as the CLI's demo: iterations of a
// planner and parallel workers that call a model and a tool, records,
// a semantic warning, a failed call and a retry.
func logDemoShape(ctx context.Context, l *slog.Logger) *slogwf.Scope {
	ctx, wf := slogwf.StartWorkflow(ctx, "research", "user", "ana")
	for n := 1; n <= 2; n++ {
		ctx, it := slogwf.StartIteration(ctx)
		_, _ = slogwf.Interact(ctx, "planner", func(ctx context.Context) (string, error) {
			l.InfoContext(ctx, "called", slogwf.Model("gpt-4o-mini"), slogwf.Tokens(812, 95), slogwf.Cost(0.0002))
			slogwf.Semantic(ctx, "plan contradicts the user's constraint", "step", n)
			return "plan", nil
		}, slogwf.InputKey, fmt.Sprint("plan ", n))
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Go(func() {
				_, _ = slogwf.Interact(ctx, fmt.Sprint("worker-", w), func(ctx context.Context) (string, error) {
					_, err := slogwf.Act(ctx, "llm.chat", func(ctx context.Context) (string, error) {
						if w == 1 && n == 2 {
							return "", errors.New("HTTP 429: rate limited")
						}
						l.InfoContext(ctx, "answer", slogwf.Model("gpt-4o-mini"), slogwf.Tokens(300+w, 40))
						return "ok", nil
					})
					if err != nil {
						return "", err
					}
					return slogwf.Act(ctx, "search_web", func(ctx context.Context) (string, error) {
						l.InfoContext(ctx, "tool done", slogwf.Origin(slogwf.OriginTool), "items", w)
						return "2 items", nil
					}, slogwf.InputKey, map[string]any{"query": "transistor"})
				})
			})
		}
		wg.Wait()
		it.End()
	}
	wf.End(slogwf.OutputKey, "report")
	return wf
}

func TestTheExporterGetsTheScopesThatTheJournalsGive(t *testing.T) {
	rec := &recorder{}
	s := newSetup(t, &slogwf.Options{Exporter: rec})
	wf := logDemoShape(s.ctx, s.log)
	require.NoError(t, s.h.Close())
	live := rec.byID(t)
	assert.Len(t, live, 1+2+2*(1+3*3)-1, "every scope: the worker whose call failed runs no tool")

	assertExportedAsReplayed(t, live, s.dir, wf)
	assert.Equal(t, int64(2*(1+3)-1), live[wf.ID()].Total.Calls)
}

// assertExportedAsReplayed asserts that live, the scopes of workflow wf
// that the exporter got, are those that `slogwf export` takes of the
// journals in dir.
func assertExportedAsReplayed(t *testing.T, live map[string]*tree.Ended, dir string, wf *slogwf.Scope) {
	t.Helper()
	replayed := map[string]*tree.Ended{}
	readJournals(t, dir).Tree(wf.ID()).Take(wf.ID(), true, func(s *tree.Ended) { replayed[s.ID] = s })
	require.Len(t, replayed, len(live))
	for id, want := range live {
		got := replayed[id]
		require.NotNil(t, got, id)
		assert.Equal(t, want.SortedRecords(), got.SortedRecords(), id)
		w, g := *want, *got
		w.Records, g.Records = nil, nil
		assert.Equal(t, w, g, id)
	}
}
