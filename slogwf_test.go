package slogwf_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// The end-to-end tests of the package: a workflow through New, read back
// from the console, the journal and the tree.

// placed is where one output put a record: the ID of its node, and whether
// it was late.
type placed struct {
	scope string
	late  bool
}

// consoleLine returns the console line of the record msg, without its time.
func (s *setup) consoleLine(t *testing.T, msg string) string {
	t.Helper()
	for _, l := range trimTimes(s.console.Lines()) {
		if strings.Contains(l, " "+msg) {
			return l
		}
	}
	require.Failf(t, "no console line", "%q in\n%s", msg, s.console.String())
	return ""
}

// journalPlace returns where the journal put the record msg.
func (s *setup) journalPlace(t *testing.T, msg string) placed {
	t.Helper()
	for _, line := range journalLines(t, s.dir) {
		var e struct {
			Ev, Scope, Msg string
			Late           bool
		}
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		if e.Ev == "record" && e.Msg == msg {
			return placed{e.Scope, e.Late}
		}
	}
	require.Failf(t, "no journal line", "%q", msg)
	return placed{}
}

// treePlace returns where the tree put the record msg.
func treePlace(t *testing.T, n *node, msg string) placed {
	t.Helper()
	var found []placed
	var walk func(n *node)
	walk = func(n *node) {
		for _, r := range n.Records {
			if r.Msg == msg {
				found = append(found, placed{n.ID, r.Late})
			}
		}
		for _, c := range n.children() {
			walk(c)
		}
	}
	walk(n)
	require.Len(t, found, 1, "%q is in the tree once", msg)
	return found[0]
}

// A record logged with the context of an ended interaction alpha, naming
// the live interaction beta by its ID, belongs to beta, and not late: the
// attributes win over the context, in every output.
func TestARecordIsPlacedOnceForTheConsoleTheJournalAndTheTree(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "route")
	alphaCtx, alpha := slogwf.StartInteraction(ctx, "alpha")
	_, beta := slogwf.StartInteraction(ctx, "beta")
	alpha.End()
	s.log.InfoContext(alphaCtx, "which one", slogwf.InteractionID(beta.ID()))
	beta.End()
	wf.End()

	line := s.consoleLine(t, "which one")
	assert.True(t, strings.HasPrefix(line, "INF [route beta] which one "), line)
	assert.NotContains(t, line, "late=true")
	assert.Equal(t, placed{beta.ID(), false}, s.journalPlace(t, "which one"))
	assert.Equal(t, placed{beta.ID(), false}, treePlace(t, s.tree(t, wf), "which one"))
}

// Wherever a record goes, by its context or by the IDs it names, the
// console shows the path of the node the tree files it under, and marks it
// late when the tree does.
func TestTheConsoleShowsWhereTheTreeFilesARecord(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "route")
	itCtx, it := slogwf.StartIteration(ctx)
	alphaCtx, alpha := slogwf.StartInteraction(itCtx, "alpha")
	_, beta := slogwf.StartInteraction(itCtx, "beta")
	_, old := slogwf.StartWorkflow(s.ctx, "old")
	old.End()
	alpha.End()

	s.log.InfoContext(alphaCtx, "ended scope")                                         // late, in the iteration
	s.log.Info("by ID alone", slogwf.InteractionID(beta.ID()))                         // beta
	s.log.With(slogwf.IterationID(it.ID())).InfoContext(alphaCtx, "by ID of a parent") // the iteration, not late
	s.log.Info("ended workflow by ID", slogwf.WorkflowID(old.ID()))                    // old, late
	beta.End()
	it.End()
	wf.End()
	require.NoError(t, s.h.Close())

	tests := []struct {
		msg, path string
		want      placed
		tree      *node
	}{
		{"ended scope", "[route it1] ", placed{it.ID(), true}, s.tree(t, wf)},
		{"by ID alone", "[route it1 beta] ", placed{beta.ID(), false}, s.tree(t, wf)},
		{"by ID of a parent", "[route it1] ", placed{it.ID(), false}, s.tree(t, wf)},
		{"ended workflow by ID", "[old] ", placed{old.ID(), true}, s.tree(t, old)},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			line := s.consoleLine(t, tt.msg)
			assert.True(t, strings.HasPrefix(line, "INF "+tt.path+tt.msg), line)
			assert.Equal(t, tt.want.late, strings.HasSuffix(line, " late=true"), line)
			assert.Equal(t, tt.want, s.journalPlace(t, tt.msg))
			assert.Equal(t, tt.want, treePlace(t, tt.tree, tt.msg))
		})
	}
}

// Records logged after their scope ended, from any goroutine, go late to
// the nearest open scope above, or to the workflow; none is lost.
func TestRecordsAfterTheirScopeEndedAreLateNotLost(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Level: slog.LevelDebug})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "late")
	itCtx, it := slogwf.StartIteration(ctx)
	iaCtx, ia := slogwf.StartInteraction(itCtx, "a")
	actCtx, act := slogwf.StartAction(iaCtx, "tool")
	done := make(chan struct{})
	go func() { act.End(); close(done) }() // End from another goroutine
	<-done
	act.End() // twice
	s.log.InfoContext(actCtx, "after the action")
	ia.End()
	s.log.InfoContext(actCtx, "after the interaction")
	it.End()
	s.log.InfoContext(iaCtx, "after the iteration")
	wf.End()
	wf.End()
	s.log.InfoContext(actCtx, "after the workflow")
	s.log.InfoContext(ctx, "in the ended workflow")
	ctx2, it2 := slogwf.StartIteration(ctx) // an ended workflow's context reused
	s.log.InfoContext(ctx2, "in a scope of the ended workflow")
	it2.End()
	require.NoError(t, s.h.Close())

	tree := s.tree(t, wf)
	ian := tree.Iterations[0].Interactions[0]
	// The notes of the second End land in the scope above too.
	msgs := func(n *node) []string {
		return slices.DeleteFunc(n.msgs(), func(m string) bool { return m == "slogwf: scope ended twice" })
	}
	assert.Equal(t, []string{"after the action"}, msgs(ian))
	assert.Equal(t, []string{"after the interaction"}, msgs(tree.Iterations[0]))
	assert.Equal(t, []string{"after the iteration", "after the workflow", "in the ended workflow", "in a scope of the ended workflow"}, msgs(tree))
	for _, r := range slices.Concat(ian.Records, tree.Iterations[0].Records, tree.Records) {
		assert.True(t, r.Late, r.Msg)
	}
	assert.EqualValues(t, 6+2, tree.Counts.Records)
	assert.Equal(t, slogwf.StatusCompleted, tree.Status)
	assert.Contains(t, s.console.String(), "after the workflow late=true")
	assert.Equal(t, 2, strings.Count(s.console.String(), "scope ended twice"), "ending twice is a DEBUG note, once per scope")
	live, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(buildTree(t, s.dir, wf.ID())), string(live), "the journal has the late records too")
}

// A nil context and a canceled one lose nothing: they are
// context.Background().
func TestNilAndCanceledContextsLoseNothing(t *testing.T) {
	s := newSetup(t, nil)
	var nilCtx context.Context
	canceled, cancel := context.WithCancel(s.ctx)
	cancel()
	s.log.InfoContext(nilCtx, "nil context")
	s.log.Log(nilCtx, slog.LevelWarn, "nil context, Log")
	require.NoError(t, s.h.Handle(nilCtx, slog.NewRecord(time.Now(), slog.LevelInfo, "nil context, Handle", 0)))
	assert.True(t, s.h.Enabled(nilCtx, slog.LevelInfo))
	assert.Nil(t, slogwf.FromContext(nilCtx))
	ctx, wf := slogwf.StartWorkflow(canceled, "canceled")
	s.log.InfoContext(ctx, "canceled context")
	ctx, ia := slogwf.StartInteraction(ctx, "a")
	s.log.InfoContext(ctx, "canceled interaction")
	ia.End()
	wf.End()

	assert.Equal(t, []string{"INF nil context", "WRN nil context, Log", "INF nil context, Handle"}, trimTimes(s.console.Lines())[:3])
	tree := s.tree(t, wf)
	assert.Equal(t, slogwf.StatusCompleted, tree.Status)
	assert.Equal(t, []string{"canceled context"}, tree.msgs())
	assert.Equal(t, []string{"canceled interaction"}, tree.Interactions[0].msgs())
}

// A record that names its workflow by ID after the workflow
// ended, with no live scope around, reaches it late.
func TestRecordsNamingAnEndedWorkflowAreLateNotLost(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "ended")
	_, ia := slogwf.StartInteraction(ctx, "a")
	ia.End()
	wf.End()
	s.log.Info("by workflow ID", slogwf.WorkflowID(wf.ID()))
	s.log.Info("by both IDs", slogwf.WorkflowID(wf.ID()), slogwf.InteractionID(ia.ID()))
	require.NoError(t, s.h.Close())

	tree := s.tree(t, wf)
	require.Len(t, tree.Records, 1)
	assert.Equal(t, "by workflow ID", tree.Records[0].Msg)
	assert.True(t, tree.Records[0].Late)
	assert.Equal(t, []string{"by both IDs"}, tree.Interactions[0].msgs())
}

// A tree file holds its tree and nothing after it, a large one too, whose
// disk is reserved before it is written: running, and once ended.
func TestALargeTreeFileIsItsTreeExactly(t *testing.T) {
	s := newSetup(t, &slogwf.Options{SnapshotInterval: time.Millisecond})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "large")
	text := strings.Repeat("x", 1000)
	for i := range 2000 {
		s.log.InfoContext(ctx, "record", "i", i, "text", text)
	}
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(s.h.TreeFile(wf))
		return err == nil && len(b) > 2000*len(text)
	}, 10*time.Second, time.Millisecond, "a snapshot of all the records")
	running, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	assert.True(t, json.Valid(running), "the running tree is JSON, and only JSON")
	wf.End()
	final, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(buildTree(t, s.dir, wf.ID())), string(final))
}
