package slogwf_test

import (
	"bytes"
	"context"
	"log/slog"
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
