package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// demoTree is what the demo test reads from a tree file.
type demoTree struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Usage  struct {
		LLMCalls    int     `json:"llm_calls"`
		TotalTokens int     `json:"total_tokens"`
		CostUSD     float64 `json:"cost_usd"`
	} `json:"usage"`
	Counts struct {
		Semantic int `json:"semantic"`
		Errors   int `json:"errors"`
	} `json:"counts"`
	Iterations []struct {
		Number       int    `json:"number"`
		Status       string `json:"status"`
		Interactions []struct {
			Agent   string          `json:"agent"`
			Status  string          `json:"status"`
			Input   json.RawMessage `json:"input"`
			Output  json.RawMessage `json:"output"`
			Error   string          `json:"error"`
			Attrs   map[string]any  `json:"attrs"`
			Actions []struct {
				Name   string `json:"name"`
				Status string `json:"status"`
				Error  string `json:"error"`
				Usage  struct {
					TotalTokens int     `json:"total_tokens"`
					CostUSD     float64 `json:"cost_usd"`
				} `json:"usage"`
			} `json:"actions"`
		} `json:"interactions"`
	} `json:"iterations"`
}

// runDemoTree runs the demo fast with args and returns its tree and
// console output.
func runDemoTree(t *testing.T, args ...string) (*demoTree, string) {
	t.Helper()
	path, console := runDemoCLI(t, append([]string{"-fast"}, args...)...)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var tree demoTree
	require.NoError(t, json.Unmarshal(data, &tree))
	return &tree, console
}

// runDemoCLI runs the demo with args into a new directory and returns the
// path of its tree file, and its console output.
func runDemoCLI(t *testing.T, args ...string) (path, console string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"demo", "-dir", t.TempDir()}, args...)...)
	require.Equal(t, 0, code, stderr)
	line, _, _ := strings.Cut(stdout, "\n")
	path, ok := strings.CutPrefix(line, "tree: ")
	require.True(t, ok, stdout)
	assert.Contains(t, stdout, "slogwf tree "+path+"\n")
	return path, stderr
}

func TestDemo(t *testing.T) {
	prevLogger, prevOut := slog.Default(), log.Writer()
	tree, console := runDemoTree(t)

	assert.Equal(t, slogwf.Schema, tree.Schema)
	assert.Equal(t, "research", tree.Name)
	assert.Equal(t, "completed", tree.Status)
	assert.Equal(t, demoLLMCalls(), tree.Usage.LLMCalls)
	assert.Positive(t, tree.Usage.TotalTokens)
	assert.Positive(t, tree.Usage.CostUSD)
	assert.Equal(t, 1, tree.Counts.Semantic)
	assert.Equal(t, 2, tree.Counts.Errors) // the failed attempt and its model call

	require.Len(t, tree.Iterations, demoIterations)
	for i, it := range tree.Iterations {
		assert.Equal(t, i+1, it.Number)
		assert.Equal(t, "completed", it.Status)
		var agents []string
		failed := 0
		for _, ia := range it.Interactions {
			agents = append(agents, ia.Agent)
			assert.NotEmpty(t, ia.Input, ia.Agent)
			if ia.Status == "failed" {
				failed++
				assert.Equal(t, failWorker, ia.Agent)
				assert.Equal(t, errRateLimited.Error(), ia.Error)
				assert.EqualValues(t, 1, ia.Attrs["attempt"])
				require.Len(t, ia.Actions, 1)
				assert.Equal(t, "failed", ia.Actions[0].Status)
				assert.Contains(t, ia.Actions[0].Error, "HTTP 429: Rate limit reached")
				continue
			}
			assert.Equal(t, "completed", ia.Status)
			assert.NotEmpty(t, ia.Output, ia.Agent)
			want := 2 // the model call and the tool
			if ia.Agent == "planner" {
				want = 1
			}
			require.Len(t, ia.Actions, want, ia.Agent)
			for _, a := range ia.Actions {
				assert.Equal(t, "completed", a.Status, ia.Agent)
			}
			assert.Equal(t, "llm.chat", ia.Actions[0].Name)
			assert.Positive(t, ia.Actions[0].Usage.TotalTokens, ia.Agent)
			assert.Positive(t, ia.Actions[0].Usage.CostUSD, ia.Agent)
		}
		want := []string{"planner"}
		for _, w := range demoWorkers() {
			want = append(want, w.name)
		}
		if it.Number == failIteration {
			assert.Len(t, it.Interactions, 5)
			assert.Equal(t, 1, failed)
			want = append(want, failWorker)
		} else {
			assert.Len(t, it.Interactions, 4)
			assert.Zero(t, failed)
		}
		// Workers run in parallel, so their order in the tree varies.
		assert.ElementsMatch(t, want, agents)
	}

	assert.Contains(t, console, "SEMANTIC")
	assert.Contains(t, console, "✗")
	assert.Contains(t, console, "llm.chat] ✔ action")
	assert.NotContains(t, console, "sk-demo", "the API key is never logged")

	// The demo hands the default logger back, and package log's output.
	assert.Same(t, prevLogger, slog.Default())
	assert.Equal(t, prevOut, log.Writer())
}

// The demo's console shows no string value wider than the default
// ValueWidth: the prompts of the model calls are cut, the tree keeps them.
func TestDemoConsoleCutsLongValues(t *testing.T) {
	tree, console := runDemoTree(t)
	value := regexp.MustCompile(` [\w.]+=("(?:[^"\\]|\\.)*"|\S*)`)
	cut := 0
	for line := range strings.Lines(console) {
		for _, m := range value.FindAllStringSubmatch(line, -1) {
			v := strings.TrimSuffix(strings.TrimPrefix(m[1], `"`), `"`)
			assert.LessOrEqual(t, utf8.RuneCountInString(v), 80, "%s", line)
			if strings.HasSuffix(v, "…") {
				cut++
			}
		}
	}
	assert.Positive(t, cut, "the prompts are cut")
	var input string
	require.NoError(t, json.Unmarshal(tree.Iterations[0].Interactions[0].Input, &input))
	assert.Greater(t, utf8.RuneCountInString(input), 80, "the tree keeps the whole input")
}

// The demo's console lines fit in 160 columns, colored or not, and so do
// tail's of its journals; the end of a model call shows its duration,
// tokens and cost before what is cut.
func TestDemoConsoleLinesFitIn160Columns(t *testing.T) {
	path, plain := runDemoCLI(t, "-fast")
	llm, stop, err := startLLM(1, true)
	require.NoError(t, err)
	defer stop()
	var colored bytes.Buffer
	_, err = demo{seed: 1, fast: true, llm: llm}.run(context.Background(),
		&slogwf.Options{Dir: t.TempDir(), Console: &colored, Color: slogwf.ColorAlways, Prices: demoPrices})
	require.NoError(t, err)
	consoles := map[string]string{"plain": plain, "colored": colored.String()}
	for _, color := range []string{"never", "always"} {
		code, stdout, stderr := runCLI(t, "tail", "-color="+color, filepath.Dir(path))
		require.Equal(t, 0, code, stderr)
		consoles["tail -color="+color] = stdout
	}
	for name, out := range consoles {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		assert.Greater(t, len(lines), 80, name)
		for _, l := range lines {
			assert.LessOrEqual(t, utf8.RuneCountInString(sgr.ReplaceAllString(l, "")), 160, "%s: %q", name, l)
		}
	}
	assert.Regexp(t, `INF \[research it1 planner>llm.chat\] ✔ action dur=\S+ total_tokens=\d+ cost_usd=\S+ http_status=200 `, plain)
}

func TestDemoSeed(t *testing.T) {
	a, _ := runDemoTree(t, "-seed", "7")
	b, _ := runDemoTree(t, "-seed", "7")
	c, _ := runDemoTree(t, "-seed", "8")
	assert.Equal(t, a.Usage, b.Usage)
	assert.NotEqual(t, a.Usage.TotalTokens, c.Usage.TotalTokens)
}

func TestDemoArgs(t *testing.T) {
	code, _, stderr := runCLI(t, "demo", "-fast", "extra")
	assert.Equal(t, 2, code)
	assert.Equal(t, "slogwf demo: unexpected argument extra (see \"slogwf demo -h\")\n", stderr)
}
