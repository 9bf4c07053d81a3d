package slogwf

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

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
