package slogwf_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// The API as a program misuses it: what it does is said, and nothing
// panics or is lost without a word.

// NewHandler given no next handler says so on ErrorOutput, and its tree
// takes the records at INFO and above, as it does behind a console at the
// default level.
func TestNewHandlerWithoutANextHandlerSaysSoAndKeepsTheTree(t *testing.T) {
	var errOut bytes.Buffer
	h := slogwf.NewHandler(nil, &slogwf.Options{Dir: t.TempDir(), ErrorOutput: &errOut})
	l := slog.New(h.WithAttrs([]slog.Attr{slog.String("k", "v")}).WithGroup("g"))
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "w")
	require.NotNil(t, wf)
	l.InfoContext(ctx, "kept")
	l.DebugContext(ctx, "below INFO")
	wf.End()
	require.NoError(t, h.Close())

	assert.Equal(t, "slogwf: NewHandler: next is nil: records reach no console, and the tree takes them at INFO and above\n", errOut.String())
	tree := readTree(t, h.TreeFile(wf))
	assert.Equal(t, slogwf.StatusCompleted, tree.Status)
	assert.Equal(t, []string{"kept"}, tree.msgs())
}

// Every function that takes a context takes a nil one for
// context.Background(), as slog's do, and does not panic.
func TestEveryFunctionTakesANilContextAsBackground(t *testing.T) {
	s := newSetup(t, nil)
	var nilCtx context.Context
	for _, tt := range []struct {
		name string
		call func()
	}{
		{"StartWorkflow", func() { _, wf := slogwf.StartWorkflow(nilCtx, "w"); wf.End() }},
		{"StartIteration", func() { _, _ = slogwf.StartIteration(nilCtx) }},
		{"StartInteraction", func() { _, _ = slogwf.StartInteraction(nilCtx, "a") }},
		{"StartAction", func() { _, _ = slogwf.StartAction(nilCtx, "a") }},
		{"Interact", func() {
			_, _ = slogwf.Interact(nilCtx, "a", func(context.Context) (int, error) { return 0, nil })
		}},
		{"Act", func() { _, _ = slogwf.Act(nilCtx, "a", func(context.Context) (int, error) { return 0, nil }) }},
		{"Semantic", func() { slogwf.Semantic(nilCtx, "s") }},
		{"SemanticLog", func() { slogwf.SemanticLog(nilCtx, slog.LevelError, "s") }},
		{"ContextWithLogger", func() {
			ctx := slogwf.ContextWithLogger(nilCtx, s.log)
			_, wf := slogwf.StartWorkflow(ctx, "w")
			assert.NotNil(t, wf, "the context has the logger")
			wf.End()
		}},
		{"FromContext", func() { assert.Nil(t, slogwf.FromContext(nilCtx)) }},
		{"Environ", func() { assert.Empty(t, slogwf.Environ(nilCtx)) }},
		{"ContextFromEnv", func() { assert.NotNil(t, slogwf.ContextFromEnv(nilCtx)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.NotPanics(t, tt.call)
		})
	}
}

// What a workflow logs after Close reaches the console only: the first
// time, in whichever way, ErrorOutput says so, once, so that a service
// that closes its handler before its work is done learns of it.
func TestAWorkflowThatLogsAfterCloseIsSaidOnceOnErrorOutput(t *testing.T) {
	for _, tt := range []struct {
		name string
		// before runs before Close, and returns what logs after it.
		before func(l *slog.Logger, ctx context.Context) func()
		shows  string // on the console
	}{
		{"a record in a scope that Close ended", func(l *slog.Logger, ctx context.Context) func() {
			ctx, _ = slogwf.StartWorkflow(ctx, "w")
			ctx, _ = slogwf.StartInteraction(ctx, "a")
			return func() { l.InfoContext(ctx, "after") }
		}, "after"},
		{"the end of a scope that Close ended", func(l *slog.Logger, ctx context.Context) func() {
			ctx, _ = slogwf.StartWorkflow(ctx, "w")
			_, ia := slogwf.StartInteraction(ctx, "a")
			return func() { ia.End() }
		}, "✔ interaction"},
		{"the start of a scope in a workflow that Close ended", func(l *slog.Logger, ctx context.Context) func() {
			ctx, _ = slogwf.StartWorkflow(ctx, "w")
			return func() { _, _ = slogwf.StartInteraction(ctx, "a") }
		}, ""}, // a scope started after Close logs nothing
		{"a late record of a workflow that ended before Close", func(l *slog.Logger, ctx context.Context) func() {
			ctx, wf := slogwf.StartWorkflow(ctx, "w")
			wf.End()
			return func() { l.InfoContext(ctx, "after") }
		}, "after"},
		{"a record naming by its ID a workflow that ended before Close", func(l *slog.Logger, ctx context.Context) func() {
			_, wf := slogwf.StartWorkflow(ctx, "w")
			wf.End()
			return func() { l.Info("after", slogwf.WorkflowID(wf.ID())) }
		}, "after"},
		{"a workflow started after Close through a handler that wraps it", func(l *slog.Logger, ctx context.Context) func() {
			wrapped := slog.New(slog.NewMultiHandler(l.Handler()))
			return func() {
				ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(ctx, wrapped), "w")
				wrapped.InfoContext(ctx, "after")
				wf.End()
			}
		}, "after"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			s := newSetup(t, &slogwf.Options{ErrorOutput: &errOut})
			after := tt.before(s.log, s.ctx)
			require.NoError(t, s.h.Close())
			require.Empty(t, errOut.String(), "nothing to say at Close")
			after()
			after()

			assert.Equal(t, 1, strings.Count(errOut.String(), "\n"), "said once: %s", errOut.String())
			assert.Regexp(t, `^slogwf: workflow "w" [0-9a-f-]{36} logged after Close: what is logged after Close reaches the console only`, errOut.String())
			assert.Contains(t, s.console.String(), tt.shows, "the console has it")
		})
	}
}

// A workflow that ends before Close, and logs nothing after it, has
// nothing said.
func TestNothingIsSaidOfWorkflowsDoneBeforeClose(t *testing.T) {
	var errOut bytes.Buffer
	s := newSetup(t, &slogwf.Options{ErrorOutput: &errOut})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
	_, ia := slogwf.StartInteraction(ctx, "a")
	ia.Fail(errors.New("x"))
	wf.End()
	s.log.InfoContext(ctx, "late, before Close")
	require.NoError(t, s.h.Close())
	s.log.Info("outside any workflow, after Close")
	assert.Empty(t, errOut.String())
}

// A workflow started after Close through the Handler itself has no Scope
// (its Start function returns nil) and logs to the console only: it is
// named once on ErrorOutput, as one started through a handler that wraps
// the Handler is, so that a service that goes on taking requests after
// Close learns of it.
func TestAWorkflowStartedAfterCloseIsSaidOnceOnErrorOutput(t *testing.T) {
	var errOut bytes.Buffer
	s := newSetup(t, &slogwf.Options{ErrorOutput: &errOut})
	require.NoError(t, s.h.Close())
	for range 2 {
		ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
		assert.Nil(t, wf)
		s.log.InfoContext(ctx, "after")
		wf.End()
	}

	assert.Equal(t, 1, strings.Count(errOut.String(), "\n"), "said once: %s", errOut.String())
	assert.Regexp(t, `^slogwf: workflow "w" started after Close: what is logged after Close reaches the console only`, errOut.String())
	assert.Contains(t, s.console.String(), "after", "the console has it")
}
