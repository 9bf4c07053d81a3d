package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
	slogwfotel "github.com/slogwf/slogwf/otel"
)

// A child process may start its scopes under the interaction its parent
// passed it after the parent ended that interaction, and its iteration:
// they keep their own ends, statuses and errors in the parent's tree file
// and in build's, and export sends them from the journals as the child
// sent them live, none ending before it starts.
func TestExportSendsTheScopesAChildStartedAfterItsParentScopeEndedAsTheChildSentThemLive(t *testing.T) {
	dir := t.TempDir()
	ctx, parent := newHandler(t, dir)
	ctx, wf := slogwf.StartWorkflow(ctx, "xproc")
	ctx, it := slogwf.StartIteration(ctx)
	ictx, ia := slogwf.StartInteraction(ctx, "parent-agent")
	env := slogwf.Environ(ictx)
	ia.End()
	it.End()

	// The child, as another process: a handler of its own in the same Dir.
	t.Setenv(slogwf.EnvParent, strings.TrimPrefix(env[0], slogwf.EnvParent+"="))
	mem := tracetest.NewInMemoryExporter()
	x := slogwfotel.New(mem, nil)
	child, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, Exporter: x})
	require.NoError(t, err)
	cctx := slogwf.ContextFromEnv(slogwf.ContextWithLogger(context.Background(), slog.New(child)))
	cctx, cia := slogwf.StartInteraction(cctx, "child-agent")
	_, call := slogwf.StartAction(cctx, "llm", slogwf.Model("gpt-4o-mini"))
	call.End(slogwf.Tokens(100, 20))
	_, tool := slogwf.StartAction(cctx, "grep")
	tool.Fail(errors.New("tool broke"))
	cia.End()
	require.NoError(t, child.Close())
	live := sentLive(t, x, mem)

	wf.End()
	require.NoError(t, parent.Close())

	treeFile, err := os.ReadFile(parent.TreeFile(wf))
	require.NoError(t, err)
	code, built, stderr := runCLI(t, "build", "-o", "-", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, string(treeFile), built, "the parent's tree file is build's")
	var root treeNode
	require.NoError(t, json.Unmarshal(treeFile, &root))
	cs := root.Iterations[0].Interactions[0].Interactions
	require.Len(t, cs, 1)
	assert.Equal(t, tree.StatusCompleted, cs[0].Status)
	var actions [][3]string
	for _, a := range cs[0].Actions {
		actions = append(actions, [3]string{a.Name, a.Status, a.Error})
	}
	assert.Equal(t, [][3]string{{"llm", tree.StatusCompleted, ""}, {"grep", tree.StatusFailed, "tool broke"}}, actions)

	shipped, _, stderr := shipTo(t, otlpOptions{}, dir)
	assert.Empty(t, stderr)
	require.Len(t, live, 3, "the child's interaction, call and tool")
	require.Len(t, shipped, 6)
	got := bySpanID(shipped)
	for _, w := range live {
		assertSentAsLive(t, w, got[w.SpanContext.SpanID()])
	}
	for _, s := range shipped {
		assert.False(t, s.EndTime.Before(s.StartTime), "%s ends no earlier than it starts", s.Name)
	}
}
