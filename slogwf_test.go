package slogwf_test

import (
	"encoding/json"
	"strings"
	"testing"

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
	for _, line := range journals(t, s.dir) {
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
