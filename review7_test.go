package slogwf_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// A scope is one LLM call, whichever of its start and end names the model:
// the tokens its start says cost what the model its end names costs.
func TestAScopesStartTokensCostWhatTheModelItsEndNamesCosts(t *testing.T) {
	checkScopeCost(t, "tokens at the start, the model at the end", []any{slogwf.Tokens(1000, 100)}, []any{slogwf.Model("gpt-4o")},
		(1000*2.5+100*10)/1e6)
}

// A scope is one LLM call: an explicit cost on its start or its end is the
// call's cost, and the other half's tokens are not priced on top of it.
func TestAnExplicitCostOnEitherHalfOfAScopeIsTheCallsCost(t *testing.T) {
	checkScopeCost(t, "an explicit cost at the start, tokens at the end", []any{slogwf.Model("gpt-4o"), slogwf.Cost(0.5)}, []any{slogwf.Tokens(1000, 100)}, 0.5)
	checkScopeCost(t, "tokens at the start, an explicit cost at the end", []any{slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100)}, []any{slogwf.Cost(0.5)}, 0.5)
}

func checkScopeCost(t *testing.T, name string, start, end []any, cost float64) {
	t.Helper()
	prices := slogwf.Prices{"gpt-4o": {Input: 2.5, Output: 10}}
	t.Run(name, func(t *testing.T) {
		s := newSetup(t, &slogwf.Options{Prices: prices})
		ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
		_, a := slogwf.StartAction(ctx, "call", start...)
		a.End(end...)
		wf.End()
		tree := s.tree(t, wf)
		assert.Equal(t, int64(1), tree.Usage.LLMCalls)
		assert.InDelta(t, cost, tree.Actions[0].Usage.CostUSD, 1e-12)
	})
}

// The iterations of a workflow are numbered 1, 2, … without two of one
// number, also when a child process (ContextFromEnv) starts one in the
// scope its parent passed it: the child numbers its own from 1.
func TestAWorkflowHasNoTwoIterationsOfOneNumberWhenAChildStartsOne(t *testing.T) {
	parent := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(parent.ctx, "w")
	itCtx, it := slogwf.StartIteration(ctx)
	iaCtx, ia := slogwf.StartInteraction(itCtx, "worker")
	t.Setenv(slogwf.EnvParent, strings.TrimPrefix(slogwf.Environ(iaCtx)[0], slogwf.EnvParent+"="))
	child := newSetup(t, &slogwf.Options{Dir: parent.dir}) // as a child process would
	_, childIt := slogwf.StartIteration(slogwf.ContextFromEnv(child.ctx))
	childIt.End(slogwf.Model("m"), slogwf.Tokens(10, 1))
	require.NoError(t, child.h.Close())
	ia.End()
	it.End()
	wf.End()
	require.NoError(t, parent.h.Close())

	var tr node
	require.NoError(t, json.Unmarshal(buildTree(t, parent.dir, wf.ID()), &tr))
	numbers := map[int]int{}
	for _, n := range tr.Iterations {
		numbers[n.Number]++
	}
	for n, times := range numbers {
		assert.Equal(t, 1, times, "iteration %d", n)
	}
	assert.EqualValues(t, 10, tr.Iterations[0].Usage.InputTokens, "the child's call, in the iteration it ran in")
}

// What the journal and the tree file say of a scope's model is the model
// as its start's record said it once cleaned: redacted and cut at
// MaxValue, also on the end that takes it from the start.
func TestTheModelAScopesEndTakesFromItsStartIsCleaned(t *testing.T) {
	for _, tt := range []struct {
		name, model, gone string
		opts              slogwf.Options
	}{
		{"a secret", "sk-0123456789abcdefghijKLMN", "sk-0123456789abcdefghijKLMN", slogwf.Options{}},
		{"longer than MaxValue", "gpt-4o-" + strings.Repeat("x", 100), strings.Repeat("x", 100), slogwf.Options{MaxValue: 16}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &tt.opts)
			ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
			_, a := slogwf.StartAction(ctx, "call", slogwf.Model(tt.model))
			a.End(slogwf.Tokens(10, 1))
			wf.End()
			require.NoError(t, s.h.Close())
			tree, err := os.ReadFile(s.h.TreeFile(wf))
			require.NoError(t, err)
			assert.NotContains(t, string(tree), tt.gone)
			journals, err := filepath.Glob(filepath.Join(s.dir, "journal", "*.jsonl"))
			require.NoError(t, err)
			for _, j := range journals {
				b, err := os.ReadFile(j)
				require.NoError(t, err)
				assert.NotContains(t, string(b), tt.gone)
			}
		})
	}
}
