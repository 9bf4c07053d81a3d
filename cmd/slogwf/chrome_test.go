package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// chromeTrace is a trace file as a reader of the format sees it.
type chromeTrace struct {
	OtherData struct {
		TimeOrigin string `json:"time_origin"`
	} `json:"otherData"`
	DisplayTimeUnit string `json:"displayTimeUnit"`
	TraceEvents     []struct {
		Name string         `json:"name"`
		Cat  string         `json:"cat"`
		Ph   string         `json:"ph"`
		TS   *float64       `json:"ts"`
		Dur  *float64       `json:"dur"`
		PID  int            `json:"pid"`
		TID  int            `json:"tid"`
		S    string         `json:"s"`
		Args map[string]any `json:"args"`
	} `json:"traceEvents"`
}

// exportChrome runs export -format chrome on args and decodes its output.
func exportChrome(t *testing.T, args ...string) chromeTrace {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"export", "-format", "chrome"}, args...)...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr)
	var tr chromeTrace
	require.NoError(t, json.Unmarshal([]byte(stdout), &tr), "valid JSON")
	return tr
}

// runDemoDir runs the demo fast into a new directory and returns the path
// of its tree file.
func runDemoDir(t *testing.T) string {
	t.Helper()
	path, _ := runDemoCLI(t, "-fast")
	return path
}

// readTree decodes the tree file path.
func readTree(t *testing.T, path string) *treeNode {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var root treeNode
	require.NoError(t, json.Unmarshal(data, &root))
	return &root
}

// ns converts a time of the trace, in microseconds, to nanoseconds, as
// Perfetto reads it.
func ns(us *float64) int64 {
	return int64(math.Round(*us * 1e3))
}

// requireLanesNest checks that the complete events of each lane nest: each
// either holds the next one or ends before it starts.
func requireLanesNest(t *testing.T, tr chromeTrace) {
	t.Helper()
	type span struct {
		name       string
		start, end int64
	}
	lanes := map[[2]int][]span{}
	for _, ev := range tr.TraceEvents {
		if ev.Ph == "X" {
			lane := [2]int{ev.PID, ev.TID}
			lanes[lane] = append(lanes[lane], span{ev.Name, ns(ev.TS), ns(ev.TS) + ns(ev.Dur)})
		}
	}
	for lane, spans := range lanes {
		slices.SortStableFunc(spans, func(a, b span) int {
			if a.start != b.start {
				return int(a.start - b.start)
			}
			return int(b.end - a.end)
		})
		var open []span
		for _, s := range spans {
			for len(open) > 0 && open[len(open)-1].end <= s.start {
				open = open[:len(open)-1]
			}
			if len(open) > 0 {
				top := open[len(open)-1]
				require.LessOrEqual(t, s.end, top.end, "lane %v: %s overlaps %s without nesting in it", lane, s.name, top.name)
			}
			open = append(open, s)
		}
	}
}

func TestChromeTraceHasOneCompleteEventPerScope(t *testing.T) {
	path := runDemoDir(t)
	root := readTree(t, path)
	tr := exportChrome(t, path)
	assert.Equal(t, "ms", tr.DisplayTimeUnit)

	scopes := map[string]*treeNode{}
	statsWalk(root, func(n *treeNode) bool { scopes[n.ID] = n; return true })
	complete := 0
	for _, ev := range tr.TraceEvents {
		if ev.Ph != "X" {
			continue
		}
		complete++
		n := scopes[ev.Args["id"].(string)]
		require.NotNil(t, n, ev.Name)
		delete(scopes, n.ID) // one event per scope
		assert.Equal(t, n.Kind, ev.Cat)
		assert.Equal(t, 1, ev.PID)
		assert.InDelta(t, *n.DurationMS*1e3, *ev.Dur, 1e-3, ev.Name)
		assert.Equal(t, n.Status, ev.Args["status"])
		assert.EqualValues(t, n.Usage.TotalTokens, ev.Args["total_tokens"])
		assert.EqualValues(t, n.Usage.CostUSD, ev.Args["cost_usd"])
		assert.EqualValues(t, n.Counts.Errors, ev.Args["errors"])
		assert.EqualValues(t, n.Counts.Records, ev.Args["records"])
	}
	assert.Empty(t, scopes, "scopes without an event")
	assert.Equal(t, 1+3+13+13+9, complete, "the workflow, 3 iterations, 13 interactions, their 13 model calls and 9 tools")
	requireLanesNest(t, tr)
}

func TestChromeTraceMarksWarningsSemanticAndErrorsAndCountsUsage(t *testing.T) {
	path := runDemoDir(t)
	root := readTree(t, path)
	tr := exportChrome(t, path)

	cats := map[string]int{}
	var tokens, cost []float64
	lastTS := -1.0
	for _, ev := range tr.TraceEvents {
		switch ev.Ph {
		case "i":
			cats[ev.Cat]++
			assert.Equal(t, "t", ev.S, "on the lane of its scope")
		case "C":
			assert.GreaterOrEqual(t, *ev.TS, lastTS, "counters in time order")
			lastTS = *ev.TS
			if v, ok := ev.Args["tokens"]; ok {
				tokens = append(tokens, v.(float64))
			}
			if v, ok := ev.Args["cost_usd"]; ok {
				cost = append(cost, v.(float64))
			}
		}
	}
	assert.EqualValues(t, root.Counts.Errors, cats["error"])
	assert.EqualValues(t, root.Counts.Semantic, cats["semantic"])
	assert.EqualValues(t, root.Counts.Warnings, cats["warning"]+cats["semantic"], "the semantic warning is a WARN")
	require.NotEmpty(t, tokens)
	assert.True(t, slices.IsSorted(tokens), "cumulative")
	assert.EqualValues(t, root.Usage.TotalTokens, tokens[len(tokens)-1])
	assert.InDelta(t, root.Usage.CostUSD, cost[len(cost)-1], 1e-12)
}

// The counters of tokens and cost saturate as stats sums them, whatever a
// tree file says: they never wrap, and tokens never go down.
func TestChromeTraceCountersNeverWrap(t *testing.T) {
	const most = `"input_tokens":9223372036854775807,"output_tokens":9223372036854775807,"cost_usd":9e9`
	path := filepath.Join(t.TempDir(), "w.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",
"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:03Z","duration_ms":3000,"usage":{`+most+`},
"records":[{"time":"2026-01-01T00:00:01Z","level":"INFO","msg":"a","usage":{"llm_calls":1,`+most+`}},
{"time":"2026-01-01T00:00:02Z","level":"INFO","msg":"b","usage":{"llm_calls":1,`+most+`}},
{"time":"2026-01-01T00:00:02Z","level":"INFO","msg":"c","usage":{"llm_calls":1,"input_tokens":-9223372036854775807,"output_tokens":-1}}]}`), 0o600))
	tr := exportChrome(t, path)
	counters := map[string][]float64{}
	for _, ev := range tr.TraceEvents {
		for k, v := range ev.Args {
			if ev.Ph == "C" {
				counters[k] = append(counters[k], v.(float64))
			}
		}
	}
	tokens, cost := counters["tokens"], counters["cost_usd"]
	require.NotEmpty(t, tokens)
	assert.True(t, slices.IsSorted(tokens) && tokens[0] > 0, "tokens never wrap nor go down: %v", tokens)
	assert.Equal(t, float64(math.MaxInt64), tokens[len(tokens)-1])
	assert.True(t, slices.Min(cost) >= 0, "cost never wraps: %v", cost)
	assert.Equal(t, float64(math.MaxInt64)/1e9, slices.Max(cost))
}

// Parallel scopes of one agent take lanes of their own, named after it,
// and every lane has its name as metadata.
func TestChromeTraceLanesNest(t *testing.T) {
	dir := t.TempDir()
	logInto(t, dir, func(ctx context.Context, _ *slog.Logger) {
		ctx, wf := slogwf.StartWorkflow(ctx, "lanes")
		itCtx, it := slogwf.StartIteration(ctx)
		var aCtx, bCtx, pCtx context.Context
		var a, b, a1, a2, b1, p, critic *slogwf.Scope
		tailLockstep([]func(){
			func() { aCtx, a = slogwf.StartInteraction(itCtx, "worker") },
			func() { _, a1 = slogwf.StartAction(aCtx, "fetch") },
			func() {
				var a2Ctx context.Context
				a2Ctx, a2 = slogwf.StartAction(aCtx, "parse") // while fetch runs
				slogwf.Semantic(a2Ctx, "odd input")
			},
			func() { a1.End() },
			func() { a2.Fail(errors.New("bad")) },
			func() { a.End() },
		}, []func(){
			func() { bCtx, b = slogwf.StartInteraction(itCtx, "worker") }, // a second worker at once
			func() { _, b1 = slogwf.StartAction(bCtx, "fetch") },
			func() { b1.End() },
			func() { b.End() },
		}, []func(){
			func() { pCtx, p = slogwf.StartInteraction(itCtx, "planner") },
			func() { _, critic = slogwf.StartInteraction(pCtx, "critic") }, // a sub-agent
			func() { critic.End() },
			func() { p.End() },
		})
		it.End()
		wf.End()
	})
	tr := exportChrome(t, dir)
	requireLanesNest(t, tr)

	names := map[int]string{}
	laneOf := map[string][]int{}
	for _, ev := range tr.TraceEvents {
		switch {
		case ev.Ph == "M" && ev.Name == "thread_name":
			names[ev.TID] = ev.Args["name"].(string)
		case ev.Ph == "M" && ev.Name == "process_name":
			assert.True(t, strings.HasPrefix(ev.Args["name"].(string), "workflow lanes "), ev.Args["name"])
		case ev.Ph == "X":
			laneOf[ev.Name] = append(laneOf[ev.Name], ev.TID)
		}
	}
	for _, ev := range tr.TraceEvents {
		if ev.Ph != "M" {
			assert.NotEmpty(t, names[ev.TID], "lane %d of %s has a name", ev.TID, ev.Name)
		}
	}
	lane := func(name string, i int) string { return names[laneOf[name][i]] }
	assert.Equal(t, "workflow", lane("lanes", 0))
	assert.Equal(t, "workflow", lane("iteration 1", 0))
	assert.ElementsMatch(t, []string{"worker", "worker (2)"}, []string{lane("worker", 0), lane("worker", 1)})
	assert.Equal(t, "planner", lane("planner", 0))
	assert.Equal(t, "critic", lane("critic", 0))
	assert.Equal(t, "worker (3)", lane("parse", 0), "parse runs beside fetch, in a worker that holds a lane of each")
	assert.Equal(t, laneOf["worker"][0], laneOf["fetch"][0], "fetch nests in its worker")
}

func TestExportWritesFile(t *testing.T) {
	path := runDemoDir(t)
	out := filepath.Join(t.TempDir(), "trace.json")
	code, stdout, stderr := runCLI(t, "export", "-format", "chrome", "-o", out, filepath.Dir(path))
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, json.Valid(data))
}

func TestExportErrors(t *testing.T) {
	path := runDemoDir(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no format", []string{path}, 2, "no -format"},
		{"unknown format", []string{"-format", "svg", path}, 2, `-format "svg": want chrome`},
		{"no input", []string{"-format", "chrome"}, 2, "no input"},
		{"missing input", []string{"-format", "chrome", path + ".missing"}, 1, path + ".missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"export"}, tt.args...)...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// The journals of a child process alone hold no start of their workflow:
// times count from the earliest time they hold.
func TestChromeTraceOfAWorkflowWithoutItsStart(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	var lines []string
	for _, l := range journalsOf(t, r)["research"] {
		if !strings.Contains(l, `"kind":"workflow"`) {
			lines = append(lines, l)
		}
	}
	journal := filepath.Join(t.TempDir(), "child.jsonl")
	tailWrite(t, journal, strings.Join(lines, ""))
	tr := exportChrome(t, journal)
	requireLanesNest(t, tr)
	complete := 0
	for _, ev := range tr.TraceEvents {
		if ev.TS != nil {
			assert.GreaterOrEqual(t, *ev.TS, 0.0, ev.Name)
			assert.Less(t, *ev.TS, 1e6, "%s: within a second of the first start", ev.Name)
		}
		if ev.Ph == "X" {
			complete++
		}
	}
	assert.Equal(t, 4, complete, "the iteration, 2 interactions and an action: the workflow has no start")
}

// Times count from the earliest time the file holds, its time_origin: a
// record, or the end of a scope whose start was lost, may come before
// every start, and no event has a time before 0. A scope without a start
// puts what has no time of its own at its end, or at the origin.
func TestChromeTraceTimesCountFromTheEarliestTimeTheFileHolds(t *testing.T) {
	const (
		later   = `{"kind":"interaction","id":"i","agent":"a","status":"completed","start":"2026-01-01T00:00:01Z","end":"2026-01-01T00:00:02Z","duration_ms":1000}`
		warning = `{"time":"2026-01-01T00:00:00.5Z","level":"WARN","msg":"early","usage":{"llm_calls":1,"input_tokens":10,"cost_usd":0.5}}`
	)
	tests := []struct {
		name, tree, origin string
	}{
		{"a record before every scope",
			`"records":[` + warning + `],"interactions":[` + later + `]`,
			"2026-01-01T00:00:00.5Z"},
		{"the end of a scope whose start was lost before every start",
			`"interactions":[` + later + `,{"kind":"interaction","id":"j","agent":"b","status":"failed","error":"gone","end":"2026-01-01T00:00:00.25Z","records":[` + warning + `]}]`,
			"2026-01-01T00:00:00.25Z"},
		{"a scope without a start, with a duration and a record without a time",
			`"status":"failed","duration_ms":5000,"usage":{"input_tokens":7},"records":[{"level":"ERROR","msg":"when?"}],"interactions":[` + later + `]`,
			"2026-01-01T00:00:01Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTestFile(t, t.TempDir(), "w.json", `{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",`+tt.tree+`}`)
			tr := exportChrome(t, path)
			assert.Equal(t, tt.origin, tr.OtherData.TimeOrigin)
			first := math.Inf(1)
			for _, ev := range tr.TraceEvents {
				if ev.TS != nil {
					assert.GreaterOrEqual(t, *ev.TS, 0.0, "%s %s", ev.Ph, ev.Name)
					first = min(first, *ev.TS)
				}
			}
			assert.Equal(t, 0.0, first, "the earliest event is at the origin")
		})
	}
}

// A record at the zero time (year 1), which slog means as no time, has
// no time: it goes at its scope's start, and does not move the origin.
func TestChromeTraceTakesARecordAtTheZeroTimeForOneWithoutATime(t *testing.T) {
	const tree = `{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",` +
		`"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:03Z","duration_ms":3000,` +
		`"records":[{"time":"0001-01-01T00:00:00Z","level":"WARN","msg":"timeless"}],` +
		`"interactions":[{"kind":"interaction","id":"i","agent":"a","status":"completed","start":"2026-01-01T00:00:01Z","end":"2026-01-01T00:00:02Z","duration_ms":1000}]}`
	tr := exportChrome(t, writeTestFile(t, t.TempDir(), "w.json", tree))
	assert.Equal(t, "2026-01-01T00:00:00Z", tr.OtherData.TimeOrigin)
	for _, ev := range tr.TraceEvents {
		if ev.TS == nil {
			continue
		}
		assert.GreaterOrEqual(t, *ev.TS, 0.0, "%s %s", ev.Ph, ev.Name)
		assert.LessOrEqual(t, *ev.TS, 3e6, "%s %s", ev.Ph, ev.Name)
		if ev.Name == "timeless" {
			assert.Equal(t, 0.0, *ev.TS, "at the workflow's start")
		}
	}
}
