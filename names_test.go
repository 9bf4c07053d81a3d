package slogwf

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/slogwf/slogwf/internal/tree"
)

// The root package says again what its internal packages say, so that
// go doc shows it: they agree.
func TestRootNamesAreTheInternalPackagesNames(t *testing.T) {
	assert.Equal(t, tree.Schema, Schema)
	assert.Equal(t, tree.LevelTrace, LevelTrace)
	assert.Equal(t, tree.LevelNotice, LevelNotice)
	for _, s := range []struct {
		root     Status
		internal string
	}{
		{StatusRunning, tree.StatusRunning},
		{StatusCompleted, tree.StatusCompleted},
		{StatusFailed, tree.StatusFailed},
		{StatusIncomplete, tree.StatusIncomplete},
	} {
		assert.Equal(t, s.internal, string(s.root))
	}
	for _, k := range []struct {
		root     Kind
		internal tree.Kind
		name     string
	}{
		{KindWorkflow, tree.Workflow, "workflow"},
		{KindIteration, tree.Iteration, "iteration"},
		{KindInteraction, tree.Interaction, "interaction"},
		{KindAction, tree.Action, "action"},
	} {
		assert.Equal(t, k.internal, tree.Kind(k.root))
		assert.Equal(t, k.name, k.root.String())
	}
	assert.Equal(t, tree.NKinds, tree.Kind(nKinds))
}
