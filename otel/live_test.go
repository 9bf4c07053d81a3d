package slogwfotel

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/slogwf/slogwf"
)

// logLive logs a workflow started with the attributes args through a
// handler whose exporter is an Exporter to memory, and returns its spans
// and the directory of its journal.
func logLive(t *testing.T, ctx context.Context, args ...any) (tracetest.SpanStubs, string) {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	x := New(mem, nil)
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, Exporter: x})
	require.NoError(t, err)
	ctx = slogwf.ContextWithLogger(ctx, slog.New(h))
	ctx, wf := slogwf.StartWorkflow(ctx, "research", args...)
	_, ia := slogwf.StartInteraction(ctx, "planner")
	ia.End()
	wf.End()
	require.NoError(t, h.Close())
	require.NoError(t, x.ForceFlush(context.Background()))
	spans := mem.GetSpans()
	require.NoError(t, x.Shutdown(context.Background()))
	return spans, dir
}

func TestAWorkflowStartedInASpanContinuesItsTraceLive(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	spans, _ := logLive(t, ctx, TraceParent(ctx), "user", "ana")
	require.Len(t, spans, 2)
	for _, s := range spans {
		assert.Equal(t, tid, s.SpanContext.TraceID(), s.Name)
		if s.Name == "invoke_workflow research" {
			assert.Equal(t, sid, s.Parent.SpanID(), "a child of the span of the context")
			assert.NotContains(t, attrs(s.Attributes), TraceParentKey)
			assert.Equal(t, "ana", attrs(s.Attributes)["user"])
		}
	}
}

func TestTraceParentOutsideASpanAddsNothing(t *testing.T) {
	spans, dir := logLive(t, context.Background(), TraceParent(context.Background()), "user", "ana")
	require.Len(t, spans, 2)
	paths, err := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, paths, 1)
	journal, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	start, _, _ := strings.Cut(string(journal), "\n")
	assert.Contains(t, start, `"attrs":{"user":"ana"}`, "the empty attribute is dropped")
	for _, s := range spans {
		if s.Name == "invoke_workflow research" {
			assert.False(t, s.Parent.IsValid(), "the root of a trace of its own")
			assert.Equal(t, s.SpanContext.TraceID().String()[16:], s.SpanContext.SpanID().String(), "the workflow's UUID")
		}
	}
}
