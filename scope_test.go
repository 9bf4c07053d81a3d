package slogwf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

func TestScopesBuildTheTree(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "research", "user", "ana")
	itCtx, it := slogwf.StartIteration(ctx)
	iaCtx, ia := slogwf.StartInteraction(itCtx, "planner", slogwf.InputKey, "plan a trip")
	subCtx, sub := slogwf.StartInteraction(iaCtx, "critic")
	s.log.InfoContext(subCtx, "in sub-agent")
	sub.End()
	_, act := slogwf.StartAction(iaCtx, "search_web", "query", "paris")
	act.End("hits", 3)
	_, itAct := slogwf.StartAction(itCtx, "merge")
	itAct.End()
	ia.End(slogwf.OutputKey, map[string]any{"steps": []string{"fly", "walk"}})
	it.End()
	wf.End("result", "ok")

	tree := s.tree(t, wf)
	assert.Equal(t, slogwf.Schema, tree.Schema)
	assert.Equal(t, "workflow", tree.Kind)
	assert.Equal(t, wf.ID(), tree.ID)
	assert.Equal(t, "research", tree.Name)
	assert.Equal(t, map[string]any{"user": "ana", "result": "ok"}, tree.Attrs, "start and end attrs merge")
	require.Len(t, tree.Iterations, 1)
	iter := tree.Iterations[0]
	assert.Equal(t, 1, iter.Number)
	require.Len(t, iter.Interactions, 1)
	require.Len(t, iter.Actions, 1)
	assert.Equal(t, "merge", iter.Actions[0].Name)

	planner := iter.Interactions[0]
	assert.Equal(t, "planner", planner.Agent)
	assert.Equal(t, "plan a trip", planner.Input)
	assert.Equal(t, map[string]any{"steps": []any{"fly", "walk"}}, planner.Output)
	require.Len(t, planner.Interactions, 1)
	assert.Equal(t, "critic", planner.Interactions[0].Agent)
	assert.Equal(t, []string{"in sub-agent"}, planner.Interactions[0].msgs())
	require.Len(t, planner.Actions, 1)
	assert.Equal(t, map[string]any{"query": "paris", "hits": 3.0}, planner.Actions[0].Attrs)

	for _, n := range []*node{tree, iter, planner, planner.Actions[0]} {
		assert.Equal(t, slogwf.StatusCompleted, n.Status, n.Kind)
		assert.NotEmpty(t, n.Start)
		assert.GreaterOrEqual(t, n.End, n.Start)
	}
	assert.GreaterOrEqual(t, tree.DurationMS, iter.DurationMS)
}

// Iterations started from parallel goroutines are numbered 1, 2, … per
// workflow in the order they start: the tree, which numbers them so,
// shows the numbers of their journal lines (and console lines).
func TestIterationsAreNumberedPerWorkflowFromParallelGoroutines(t *testing.T) {
	const goroutines, each = 8, 250
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "numbers")
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				_, it := slogwf.StartIteration(ctx)
				it.End()
			}
		})
	}
	wg.Wait()
	_, other := slogwf.StartWorkflow(s.ctx, "other")
	_, first := slogwf.StartIteration(slogwf.ContextWithLogger(context.Background(), s.log))
	assert.Nil(t, first, "no iteration outside a workflow")
	other.End()
	wf.End()

	journaled := journaledIterations(t, s.dir)
	its := s.tree(t, wf).Iterations
	require.Len(t, its, goroutines*each)
	for i, it := range its {
		assert.Equal(t, i+1, it.Number)
		assert.Equal(t, journaled[it.ID], it.Number, "as its journal line says")
	}
}

// The tree numbers the iterations of one process as its journal (and
// console) does, also when the clock was set back between two starts: the
// later starts as the earlier did, not before it.
func TestIterationsKeepTheirNumbersInTheTreeWhenTheClockIsSetBack(t *testing.T) {
	for _, tt := range []struct {
		name string
		back time.Duration
	}{
		{"by a millisecond", time.Millisecond},
		{"by an hour", time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil)
			ctx, wf := slogwf.StartWorkflow(s.ctx, "clock")
			_, first := slogwf.StartIteration(ctx)
			first.End()
			slogwf.SetClockBack(t, tt.back)
			_, second := slogwf.StartIteration(ctx)
			second.End()
			wf.End()

			journaled := journaledIterations(t, s.dir)
			require.Equal(t, map[string]int{first.ID(): 1, second.ID(): 2}, journaled)
			its := s.tree(t, wf).Iterations
			require.Len(t, its, 2)
			for _, it := range its {
				assert.Equal(t, journaled[it.ID], it.Number, "iteration %s as its journal line says", it.ID)
			}
			live, err := os.ReadFile(s.h.TreeFile(wf))
			require.NoError(t, err)
			assert.Equal(t, string(buildTree(t, s.dir, wf.ID())), string(live), "the journals give the live tree")
		})
	}
}

// An iteration is the workflow's, numbered among its iterations, wherever
// in the workflow it starts: the data contract has iterations only there.
func TestAnIterationStartedInsideAScopeIsTheWorkflows(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
	itCtx, it := slogwf.StartIteration(ctx)
	iaCtx, ia := slogwf.StartInteraction(itCtx, "planner")
	actCtx, act := slogwf.StartAction(iaCtx, "tool")
	for _, c := range []context.Context{itCtx, iaCtx, actCtx} {
		c, inner := slogwf.StartIteration(c)
		s.log.InfoContext(c, "in it")
		inner.End()
	}
	act.End()
	ia.End()
	it.End()
	wf.End()

	tree := s.tree(t, wf)
	require.Len(t, tree.Iterations, 4)
	for i, n := range tree.Iterations {
		assert.Equal(t, i+1, n.Number)
		assert.Equal(t, slogwf.StatusCompleted, n.Status)
		assert.Empty(t, n.Iterations)
		if i > 0 {
			assert.Equal(t, []string{"in it"}, n.msgs())
		}
	}
	assert.Empty(t, tree.Iterations[0].Interactions[0].Iterations)
	assert.Empty(t, tree.Iterations[0].Interactions[0].Actions[0].Iterations)
}

func TestEndingAParentClosesOpenChildrenAsIncomplete(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "parent")
	ctx, it := slogwf.StartIteration(ctx)
	ctx, ia := slogwf.StartInteraction(ctx, "a")
	_, act := slogwf.StartAction(ctx, "tool")
	it.End()
	ia.End() // too late: the iteration closed it
	act.Fail(errors.New("late"))
	wf.End()

	tree := s.tree(t, wf)
	iter := tree.Iterations[0]
	assert.Equal(t, slogwf.StatusCompleted, iter.Status)
	assert.Equal(t, slogwf.StatusIncomplete, iter.Interactions[0].Status)
	assert.Equal(t, iter.End, iter.Interactions[0].End)
	assert.Equal(t, slogwf.StatusIncomplete, iter.Interactions[0].Actions[0].Status)
	assert.Zero(t, tree.Counts.Errors, "incomplete is not failed")
}

func TestEndingTwiceIsANoOpNotedOnceAtDebug(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Level: slog.LevelDebug})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "twice")
	_, ia := slogwf.StartInteraction(ctx, "a")
	ia.End()
	ia.Fail(errors.New("again"))
	ia.End()
	wf.End()

	assert.Equal(t, slogwf.StatusCompleted, s.tree(t, wf).Interactions[0].Status)
	// Logged in the ended interaction, the note goes to the workflow, late.
	assert.Equal(t, 1, strings.Count(s.console.String(), "DBG [twice] slogwf: scope ended twice kind=interaction"))
}

func TestNilScopeMethodsAreSafe(t *testing.T) {
	var s *slogwf.Scope
	s.End()
	s.Fail(errors.New("x"))
	assert.Empty(t, s.ID())
	assert.Nil(t, slogwf.FromContext(context.Background()))
}

// A nil Scope has no kind: the zero Kind, which is none of the four.
func TestNilScopeHasNoKind(t *testing.T) {
	var s *slogwf.Scope
	var none slogwf.Kind
	assert.Equal(t, none, s.Kind())
	assert.Equal(t, "none", s.Kind().String())
	for _, k := range []slogwf.Kind{slogwf.KindWorkflow, slogwf.KindIteration, slogwf.KindInteraction, slogwf.KindAction} {
		assert.NotEqual(t, none, k)
	}
}

func TestFromContextReturnsTheInnermostScope(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "from")
	ctx, ia := slogwf.StartInteraction(ctx, "a")
	assert.Same(t, ia, slogwf.FromContext(ctx))
	assert.Equal(t, slogwf.KindInteraction, slogwf.FromContext(ctx).Kind())
	ia.End()
	wf.End()
}

func TestInteract(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "interact")

	out, err := slogwf.Interact(ctx, "ok", func(ctx context.Context) (string, error) {
		s.log.InfoContext(ctx, "inside")
		return "the plan", nil
	}, slogwf.InputKey, "question")
	require.NoError(t, err)
	assert.Equal(t, "the plan", out)

	_, err = slogwf.Interact(ctx, "err", func(context.Context) (int, error) { return 0, errors.New("no quota") })
	require.EqualError(t, err, "no quota")

	assert.PanicsWithValue(t, "boom", func() {
		_, _ = slogwf.Interact(ctx, "panic", func(context.Context) (int, error) { panic("boom") })
	})
	n, err := slogwf.Act(ctx, "tool", func(context.Context) (int, error) { return 42, nil })
	require.NoError(t, err)
	assert.Equal(t, 42, n)
	wf.End()

	tree := s.tree(t, wf)
	require.Len(t, tree.Interactions, 3)
	byAgent := map[string]*node{}
	for _, ia := range tree.Interactions {
		byAgent[ia.Agent] = ia
	}
	assert.Equal(t, "question", byAgent["ok"].Input)
	assert.Equal(t, "the plan", byAgent["ok"].Output)
	assert.Equal(t, []string{"inside"}, byAgent["ok"].msgs())
	assert.Equal(t, slogwf.StatusFailed, byAgent["err"].Status)
	assert.Equal(t, "no quota", byAgent["err"].Error)
	assert.Equal(t, slogwf.StatusFailed, byAgent["panic"].Status)
	assert.Equal(t, "panic: boom", byAgent["panic"].Error)
	require.Len(t, tree.Actions, 1)
	assert.EqualValues(t, 42, tree.Actions[0].Output)
	assert.EqualValues(t, 2, tree.Counts.Errors)
}

func TestUsageRollsUpAtEveryLevel(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "usage")
	itCtx, it := slogwf.StartIteration(ctx)
	for _, agent := range []string{"a", "b"} {
		iaCtx, ia := slogwf.StartInteraction(itCtx, agent)
		s.log.InfoContext(iaCtx, "call", slogwf.Model("m"), slogwf.Tokens(100, 10), slogwf.CachedTokens(40), slogwf.CacheWriteTokens(30), slogwf.Cost(0.25))
		s.log.InfoContext(iaCtx, "model only", slogwf.Model("m"))
		s.log.InfoContext(iaCtx, "nested tokens do not count", slog.Group("g", slogwf.Tokens(1000, 1000)))
		ia.End()
	}
	_, act := slogwf.StartAction(itCtx, "llm.chat")
	act.End(slogwf.Tokens(5, 5), slogwf.CacheWriteTokens(3), slogwf.Cost(0.5))
	it.End()
	wf.End()

	tree := s.tree(t, wf)
	for _, n := range []*node{tree, tree.Iterations[0]} {
		assert.EqualValues(t, 5, n.Usage.LLMCalls)
		assert.EqualValues(t, 205, n.Usage.InputTokens)
		assert.EqualValues(t, 80, n.Usage.CachedTokens)
		assert.EqualValues(t, 63, n.Usage.CacheWriteTokens)
		assert.EqualValues(t, 25, n.Usage.OutputTokens)
		assert.EqualValues(t, 230, n.Usage.TotalTokens)
		assert.InDelta(t, 1.0, n.Usage.CostUSD, 1e-9)
		assert.EqualValues(t, 6, n.Counts.Records)
	}
	ia := tree.Iterations[0].Interactions[0]
	assert.EqualValues(t, 2, ia.Usage.LLMCalls)
	assert.EqualValues(t, 110, ia.Usage.TotalTokens)
	assert.Equal(t, map[string]any{"llm_calls": 1.0, "input_tokens": 100.0, "cached_input_tokens": 40.0, "cache_write_input_tokens": 30.0, "output_tokens": 10.0,
		"total_tokens": 110.0, "cost_usd": 0.25, "model": "m"}, ia.Records[0].Usage, "a record says what it counted")
	assert.Nil(t, ia.Records[2].Usage, "usage inside a group is not counted")
	assert.Contains(t, s.console.String(), "✔ iteration dur=")
	assert.Contains(t, s.console.String(), "total_tokens=230 cost_usd=1")
}

func TestSourcePointsAtTheCaller(t *testing.T) {
	var buf bytes.Buffer
	h, err := slogwf.New(&slogwf.Options{Dir: t.TempDir(), Console: &buf, Format: slogwf.FormatJSON, AddSource: true})
	require.NoError(t, err)
	ctx := slogwf.ContextWithLogger(context.Background(), slog.New(h))
	ctx, wf := slogwf.StartWorkflow(ctx, "src")
	_, _ = slogwf.Interact(ctx, "a", func(context.Context) (int, error) { return 1, nil })
	_, _ = slogwf.Act(ctx, "b", func(context.Context) (int, error) { return 0, io.EOF })
	slogwf.Semantic(ctx, "note")
	_, ia := slogwf.StartInteraction(ctx, "c")
	ia.Fail(io.EOF)
	wf.End()
	require.NoError(t, h.Close())

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 9)
	for _, l := range lines {
		var r struct{ Source struct{ File string } }
		require.NoError(t, json.Unmarshal([]byte(l), &r))
		assert.Equal(t, "scope_test.go", filepath.Base(r.Source.File), l)
	}
}

func TestContextFromEnv(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "env")
	ctx, ia := slogwf.StartInteraction(ctx, "a")
	env := slogwf.Environ(ctx)
	require.Equal(t, []string{slogwf.EnvParent + "=" + wf.ID() + "/" + ia.ID()}, env)
	assert.Nil(t, slogwf.Environ(s.ctx), "nothing to carry outside a workflow")

	t.Setenv(slogwf.EnvParent, strings.TrimPrefix(env[0], slogwf.EnvParent+"="))
	child := slogwf.ContextFromEnv(s.ctx)
	assert.Equal(t, ia.ID(), slogwf.FromContext(child).ID())
	assert.Equal(t, []string{env[0]}, slogwf.Environ(child), "a child passes the scope on to its own children")

	for _, bad := range []string{"", "no-slash", "/x", "x/", "a/b/c", "x/\x1b[31m"} {
		t.Setenv(slogwf.EnvParent, bad)
		assert.Same(t, s.ctx, slogwf.ContextFromEnv(s.ctx), "%q", bad)
	}
	assert.Equal(t, 5, strings.Count(s.console.String(), "slogwf: malformed SLOGWF_PARENT"), "one warning each; empty is absent")
	ia.End()
	wf.End()
}

func TestAChildCannotEndItsParentsScopes(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Level: slog.LevelDebug})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "parent")
	ctx, ia := slogwf.StartInteraction(ctx, "a")
	t.Setenv(slogwf.EnvParent, strings.TrimPrefix(slogwf.Environ(ctx)[0], slogwf.EnvParent+"="))
	child := slogwf.ContextFromEnv(s.ctx)
	slogwf.FromContext(child).End()
	slogwf.FromContext(child).Fail(errors.New("no"))
	s.log.InfoContext(ctx, "still open")
	ia.End()
	wf.End()

	tree := s.tree(t, wf)
	assert.Equal(t, slogwf.StatusCompleted, tree.Interactions[0].Status)
	assert.Equal(t, []string{"slogwf: a scope of the parent process ends there, not here", "still open"}, tree.Interactions[0].msgs(),
		"one DEBUG note, and the scope goes on")
}

// contexts is a slog.Handler that keeps the context of every record.
type contexts struct {
	slog.Handler
	got *[]context.Context
}

func (c contexts) Handle(ctx context.Context, r slog.Record) error {
	*c.got = append(*c.got, ctx)
	return c.Handler.Handle(ctx, r)
}

// The context a Start function returns is its parent's with the scope:
// canceled with it, with its deadline and values. The records of the
// scope's start and end carry those values and the scope, and are never
// canceled, so that End logs whenever it is called.
func TestScopeContextsKeepTheirParentsValuesAndCancellation(t *testing.T) {
	type key struct{}
	s := newSetup(t, nil)
	var got []context.Context
	l := slog.New(contexts{s.log.Handler(), &got})
	parent, cancel := context.WithTimeout(context.WithValue(slogwf.ContextWithLogger(context.Background(), l), key{}, "v"), time.Hour)
	ctx, wf := slogwf.StartWorkflow(parent, "wf")
	require.NotNil(t, wf)
	assert.Same(t, wf, slogwf.FromContext(ctx))
	assert.Equal(t, "v", ctx.Value(key{}))
	want, _ := parent.Deadline()
	deadline, ok := ctx.Deadline()
	assert.True(t, ok)
	assert.Equal(t, want, deadline)
	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	<-ctx.Done()
	<-child.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	wf.End()

	require.Len(t, got, 2, "the records of the start and the end")
	for _, c := range got {
		assert.Same(t, wf, slogwf.FromContext(c))
		assert.Equal(t, "v", c.Value(key{}))
		assert.Nil(t, c.Done())
		assert.NoError(t, c.Err())
		assert.NoError(t, context.Cause(c))
		_, ok := c.Deadline()
		assert.False(t, ok)
	}
	tree := s.tree(t, wf)
	assert.Equal(t, slogwf.StatusCompleted, tree.Status)
}
