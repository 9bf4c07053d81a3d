package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// statsJournal is a hand-made journal with fixed times: workflow research,
// 2 iterations, planner, worker-1 calling the nested agent critic, and
// worker-2 failing once; models gpt-4o, gpt-4o-mini and one call without
// a model; the durations of the calls (dur) but that one's; a semantic
// warning; a record outside interactions; an action outside iterations.
const statsJournal = "testdata/stats.jsonl"

// evilJournal is a journal whose names are written to break a terminal.
const evilJournal = `{"ev":"start","wf":"w\u001b[2J","id":"w\u001b[2J","kind":"workflow","time":"2026-11-29T03:00:00.000000000Z","name":"evil\u202ename"}
{"ev":"start","wf":"w\u001b[2J","id":"ia","parent":"w\u001b[2J","kind":"interaction","time":"2026-11-29T03:00:00.100000000Z","agent":"worker\u001b[31m\nevil"}
{"ev":"record","wf":"w\u001b[2J","scope":"ia","time":"2026-11-29T03:00:00.200000000Z","level":"INFO","msg":"llm call","usage":{"llm_calls":1,"input_tokens":10,"output_tokens":5,"cost_usd":0.001,"model":"gpt\u202e\u0085"},"attrs":{"model":"gpt\u202e\u0085","tokens":{"input":10,"output":5},"cost_usd":0.001}}
{"ev":"end","wf":"w\u001b[2J","id":"ia","time":"2026-11-29T03:00:00.300000000Z","status":"completed"}
{"ev":"end","wf":"w\u001b[2J","id":"w\u001b[2J","time":"2026-11-29T03:00:00.400000000Z","status":"completed"}
`

// statsOK runs slogwf stats with args and returns its stdout, requiring
// success without a word on stderr.
func statsOK(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, append([]string{"stats"}, args...)...)
	require.Equal(t, 0, code, stderr)
	require.Empty(t, stderr)
	return stdout
}

// writeTestFile writes data to name in dir and returns its path.
func writeTestFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
	return p
}

// rebuildTree returns the tree file of the only workflow of journal, as
// the tree builder rebuilds it.
func rebuildTree(t *testing.T, journal string) []byte {
	t.Helper()
	f, err := os.Open(journal)
	require.NoError(t, err)
	defer f.Close()
	b := tree.NewBuilder()
	require.NoError(t, b.ReadJournal(f, journal, func(err error) { t.Errorf("warning: %v", err) }))
	ids := b.Workflows()
	require.Len(t, ids, 1)
	return b.JSON(ids[0])
}

func TestStatsGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
		alias  bool // the golden file of another case, which -update writes
	}{
		{"agent", []string{"-by", "agent"}, "testdata/stats_agent.golden", false},
		{"model", []string{"-by", "model"}, "testdata/stats_model.golden", false},
		{"iteration", []string{"-by=iteration"}, "testdata/stats_iteration.golden", false},
		{"json", []string{"-json"}, "testdata/stats_json.golden", false},
		{"default is agent", nil, "testdata/stats_agent.golden", true},
		{"double dash", []string{"--by", "model"}, "testdata/stats_model.golden", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout := statsOK(t, append(tt.args, statsJournal)...)
			if *update && !tt.alias {
				require.NoError(t, os.WriteFile(tt.golden, []byte(stdout), 0o644))
			}
			golden, err := os.ReadFile(tt.golden)
			require.NoError(t, err)
			assert.Equal(t, string(golden), stdout)
		})
	}
}

// statsDoc is the output of -json.
type statsDoc struct {
	Workflows []struct {
		ID         string         `json:"id"`
		Name       string         `json:"name"`
		Status     string         `json:"status"`
		DurationMS *float64       `json:"duration_ms"`
		By         string         `json:"by"`
		Rows       []statsRowJSON `json:"rows"`
		Total      statsRowJSON   `json:"total"`
	} `json:"workflows"`
}

func statsJSON(t *testing.T, args ...string) statsDoc {
	t.Helper()
	var doc statsDoc
	require.NoError(t, json.Unmarshal([]byte(statsOK(t, append([]string{"-json"}, args...)...)), &doc))
	return doc
}

// rowOf returns the row of group.
func rowOf(t *testing.T, rows []statsRowJSON, group string) statsRowJSON {
	t.Helper()
	for _, r := range rows {
		if r.Group == group {
			return r
		}
	}
	t.Fatalf("no row %q in %+v", group, rows)
	return statsRowJSON{}
}

func TestStatsRowsAddUp(t *testing.T) {
	// The tree's own totals, read independently of the code under test.
	var root struct {
		Usage struct {
			Calls int64   `json:"llm_calls"`
			In    int64   `json:"input_tokens"`
			Out   int64   `json:"output_tokens"`
			Cost  float64 `json:"cost_usd"`
		} `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(rebuildTree(t, statsJournal), &root))

	for _, by := range []string{"agent", "iteration", "model"} {
		t.Run(by, func(t *testing.T) {
			doc := statsJSON(t, "-by", by, statsJournal)
			require.Len(t, doc.Workflows, 1)
			wf := doc.Workflows[0]
			assert.Equal(t, by, wf.By)
			total := wf.Total
			assert.Equal(t, "total", total.Group)
			assert.Equal(t, root.Usage.Calls, total.Calls)
			assert.Equal(t, root.Usage.In, total.In)
			assert.Equal(t, root.Usage.Out, total.Out)
			assert.InDelta(t, root.Usage.Cost, total.CostUSD, 1e-12)

			var sum statsRowJSON
			for _, r := range wf.Rows {
				sum.Calls += r.Calls
				sum.Records += r.Records
				sum.Warnings += r.Warnings
				sum.Semantic += r.Semantic
				sum.Errors += r.Errors
				sum.In += r.In
				sum.Out += r.Out
				sum.CostUSD += r.CostUSD
			}
			// Every token and cent of the fixture is on an LLM call
			// record, so even the model rows add up to the total.
			assert.Equal(t, total.Calls, sum.Calls)
			assert.Equal(t, total.In, sum.In)
			assert.Equal(t, total.Out, sum.Out)
			assert.InDelta(t, total.CostUSD, sum.CostUSD, 1e-12)
			if by != "model" {
				assert.Equal(t, total.Records, sum.Records)
				assert.Equal(t, total.Warnings, sum.Warnings)
				assert.Equal(t, total.Semantic, sum.Semantic)
				assert.Equal(t, total.Errors, sum.Errors)
			}
		})
	}
}

func TestStatsByAgent(t *testing.T) {
	rows := statsJSON(t, statsJournal).Workflows[0].Rows
	// worker-1's own calls only: critic, nested in it, counts apart.
	w1 := rowOf(t, rows, "worker-1")
	assert.Equal(t, int64(700+600), w1.In)
	assert.Equal(t, int64(200+250), w1.Out)
	assert.Equal(t, int64(3), w1.Records) // one in an action of its own
	critic := rowOf(t, rows, "critic")
	assert.Equal(t, int64(400+300), critic.In)
	assert.Equal(t, 600.0, critic.TimeMS)
	// worker-2 failed once: the failure is an error, its call a warning.
	w2 := rowOf(t, rows, "worker-2")
	assert.Equal(t, int64(1), w2.Errors)
	assert.Equal(t, int64(1), w2.Warnings)
	assert.Equal(t, 200.0, *w2.P50MS)
	assert.Equal(t, 590.0, *w2.P95MS)
	// The record of the iteration itself.
	none := rowOf(t, rows, "(none)")
	assert.Equal(t, int64(1), none.Records)
	assert.Nil(t, none.P50MS)

	var groups []string
	for _, r := range rows {
		groups = append(groups, r.Group)
	}
	assert.Equal(t, []string{"planner", "critic", "worker-1", "worker-2", "(none)"}, groups, "by cost")
}

func TestStatsByModel(t *testing.T) {
	rows := statsJSON(t, "-by", "model", statsJournal).Workflows[0].Rows
	mini := rowOf(t, rows, "gpt-4o-mini")
	assert.Equal(t, int64(4), mini.Calls) // the failed call too
	assert.Equal(t, int64(1), mini.Warnings)
	assert.InDelta(t, 50.0+160+180+380, mini.TimeMS, 1e-9, "its calls' durations")
	assert.Equal(t, 160.0, *mini.P50MS)
	assert.Equal(t, 380.0, *mini.P95MS)
	unknown := rowOf(t, rows, "(unknown)")
	assert.Equal(t, int64(100), unknown.In)
	assert.Zero(t, unknown.TimeMS, "a call without its duration")
	assert.Nil(t, unknown.P50MS)
}

func TestStatsTreeFile(t *testing.T) {
	dir := t.TempDir()
	tree := writeTestFile(t, dir, "research-000000a1.json", string(rebuildTree(t, statsJournal)))
	for _, args := range [][]string{{"-by", "agent"}, {"-by", "model"}, {"-by", "iteration"}, {"-json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want := statsOK(t, append(args, statsJournal)...)
			assert.Equal(t, want, statsOK(t, append(args, tree)...))
		})
	}
}

func TestStatsDirectory(t *testing.T) {
	want := statsOK(t, statsJournal)
	data, err := os.ReadFile(statsJournal)
	require.NoError(t, err)
	tree := string(rebuildTree(t, statsJournal))

	t.Run("journals of two processes", func(t *testing.T) {
		dir := t.TempDir()
		var a, b strings.Builder
		for i, line := range strings.SplitAfter(string(data), "\n") {
			if i%2 == 0 {
				a.WriteString(line)
			} else {
				b.WriteString(line)
			}
		}
		writeTestFile(t, dir, "research-000000a1.101.jsonl", a.String())
		writeTestFile(t, dir, "research-000000a1.202.jsonl", b.String())
		writeTestFile(t, dir, "research-000000a1.json", tree) // ignored: the journals are there
		writeTestFile(t, dir, "notes.txt", "not a log")
		assert.Equal(t, want, statsOK(t, dir))
	})
	t.Run("two journal files", func(t *testing.T) {
		dir := t.TempDir()
		lines := strings.SplitAfter(string(data), "\n")
		half := len(lines) / 2
		a := writeTestFile(t, dir, "a.jsonl", strings.Join(lines[half:], ""))
		b := writeTestFile(t, dir, "b.jsonl", strings.Join(lines[:half], ""))
		assert.Equal(t, want, statsOK(t, a, b))
	})
	t.Run("tree files only", func(t *testing.T) {
		dir := t.TempDir()
		writeTestFile(t, dir, "research-000000a1.json", tree)
		assert.Equal(t, want, statsOK(t, dir))
	})
}

func TestStatsStdin(t *testing.T) {
	want := statsOK(t, "-by", "model", statsJournal)
	tree := writeTestFile(t, t.TempDir(), "tree.json", string(rebuildTree(t, statsJournal)))
	for _, name := range []string{statsJournal, tree} {
		t.Run(filepath.Ext(name), func(t *testing.T) {
			f, err := os.Open(name)
			require.NoError(t, err)
			defer f.Close()
			code, stdout, stderr := runCLIStdin(t, f, "stats", "-by", "model", "-")
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, want, stdout)
		})
	}
}

func TestStatsOrder(t *testing.T) {
	dir := t.TempDir()
	evil := writeTestFile(t, dir, "evil.jsonl", evilJournal)
	tree := writeTestFile(t, dir, "research.json", string(rebuildTree(t, statsJournal)))
	headings := func(stdout string) []string {
		var hs []string
		for line := range strings.Lines(stdout) {
			if name, ok := strings.CutPrefix(line, "workflow "); ok {
				hs = append(hs, strings.Fields(name)[0])
			}
		}
		return hs
	}
	assert.Equal(t, []string{"research", strconv.Quote("evil\u202ename")}, headings(statsOK(t, tree, evil)))
	assert.Equal(t, []string{strconv.Quote("evil\u202ename"), "research"}, headings(statsOK(t, evil, tree)))
	// One blank line between the tables.
	assert.Contains(t, statsOK(t, tree, evil), "\n\nworkflow ")
}

func TestStatsUntrustedNames(t *testing.T) {
	evil := writeTestFile(t, t.TempDir(), "evil.jsonl", evilJournal)
	for _, args := range [][]string{{"-by", "agent"}, {"-by", "model"}} {
		t.Run(args[1], func(t *testing.T) {
			stdout := statsOK(t, append(args, evil)...)
			assert.NotContains(t, stdout, "\x1b")
			assert.NotContains(t, stdout, "\u202e")
			assert.NotContains(t, stdout, "\u0085")
			assert.Contains(t, stdout, "workflow "+strconv.Quote("evil\u202ename")+" "+strconv.Quote("w\x1b[2J")+"  completed  400ms\n")
			if args[1] == "agent" {
				assert.Contains(t, stdout, strconv.Quote("worker\x1b[31m\nevil"))
			} else {
				assert.Contains(t, stdout, strconv.Quote("gpt\u202e\u0085"))
			}
			assert.Len(t, strings.Split(strings.TrimSuffix(stdout, "\n"), "\n"), 4)
		})
	}
	t.Run("json", func(t *testing.T) {
		stdout := statsOK(t, "-json", "-by", "model", evil)
		for _, raw := range []string{"\x1b", "\u202e", "\u0085"} {
			assert.NotContains(t, stdout, raw)
		}
		var doc statsDoc
		require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
		assert.Equal(t, "evil\u202ename", doc.Workflows[0].Name)
		assert.Equal(t, "w\x1b[2J", doc.Workflows[0].ID)
		assert.Equal(t, "gpt\u202e\u0085", doc.Workflows[0].Rows[0].Group)
	})
}

func TestStatsJournalWarnings(t *testing.T) {
	data, err := os.ReadFile(statsJournal)
	require.NoError(t, err)
	bad := writeTestFile(t, t.TempDir(), "bad.jsonl", "not json\x1b[2J\n"+string(data)+`{"ev":"rec`)
	code, stdout, stderr := runCLI(t, "stats", bad)
	assert.Equal(t, 0, code)
	assert.Equal(t, statsOK(t, statsJournal), stdout)
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	require.Len(t, lines, 2, stderr)
	assert.NotContains(t, stderr, "\x1b")
	for i, n := range []int{1, 40} {
		assert.True(t, strings.HasPrefix(lines[i], "slogwf stats: "), lines[i])
		assert.Contains(t, lines[i], bad+":"+strconv.Itoa(n)+":")
	}
}

func TestStatsErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.jsonl")
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o700))
	invalid := writeTestFile(t, dir, "invalid.json", `{"schema":"slogwf.tree/v1",`)
	other := writeTestFile(t, dir, "other.json", `{"schema":"other/v2"}`)
	noWorkflow := writeTestFile(t, dir, "none.jsonl", "")
	tests := []struct {
		name string
		args []string
		code int
		want string // in the one line on stderr
	}{
		{"missing file", []string{statsJournal, missing}, 1, missing},
		{"missing directory", []string{filepath.Join(dir, "nodir")}, 1, filepath.Join(dir, "nodir")},
		{"empty directory", []string{empty}, 1, empty},
		{"invalid tree", []string{invalid}, 1, invalid},
		{"other schema", []string{other}, 1, other},
		{"no workflow", []string{noWorkflow}, 1, "no workflow"},
		{"no file", nil, 2, "no file"},
		{"bad -by", []string{"-by", "agents", statsJournal}, 2, `-by "agents"`},
		{"bad --by", []string{"--by=cost", statsJournal}, 2, `-by "cost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"stats"}, tt.args...)...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			require.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.True(t, strings.HasPrefix(stderr, "slogwf stats: "), stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

func TestStatsHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		code, stdout, stderr := runCLI(t, "stats", arg)
		assert.Equal(t, 0, code)
		assert.Empty(t, stderr)
		assert.Contains(t, stdout, "usage: slogwf stats [-by agent|model|iteration] [-json] [-workflow ID|NAME] FILE...")
		assert.Contains(t, stdout, "Example:\n\tslogwf stats -by model logs\n")
		assert.Contains(t, stdout, "  -by GROUP")
		assert.Contains(t, stdout, "  -json")
	}
}

func TestStatsPercentiles(t *testing.T) {
	tests := []struct {
		durs     []float64
		p50, p95 float64
	}{
		{[]float64{7}, 7, 7},
		{[]float64{2, 1}, 1, 2},
		{[]float64{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 10, 19},
		{[]float64{5, 1, 3}, 3, 5},
	}
	for _, tt := range tests {
		r := statsRow{durs: tt.durs}
		p50, p95, ok := r.percentiles()
		require.True(t, ok)
		assert.Equal(t, tt.p50, p50, "%v", tt.durs)
		assert.Equal(t, tt.p95, p95, "%v", tt.durs)
	}
	_, _, ok := (&statsRow{}).percentiles()
	assert.False(t, ok)
}

func TestEscapeUnprintable(t *testing.T) {
	in := []byte(`{"a":"x` + "\u202e\u0085\x7f\U000e0001é✔" + `"}`)
	assert.Equal(t, `{"a":"x\u202e\u0085\u007f\udb40\udc01é✔"}`, string(escapeUnprintable(in)))
	assert.True(t, json.Valid(escapeUnprintable(in)))
	var s map[string]string
	require.NoError(t, json.Unmarshal(escapeUnprintable(in), &s))
	assert.Equal(t, "x\u202e\u0085\x7f\U000e0001é✔", s["a"])
	assert.Equal(t, 0, bytes.Count(escapeUnprintable(in), []byte("\u202e")))
}

// An action that counted an LLM call at its end, as slogwf.Transport's do,
// is a call of its model, as a record would be.
func TestStatsByModelCountsScopeCalls(t *testing.T) {
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	ctx := slogwf.ContextWithLogger(context.Background(), slog.New(h))
	ctx, wf := slogwf.StartWorkflow(ctx, "w")
	ctx, ia := slogwf.StartInteraction(ctx, "agent")
	actx, a := slogwf.StartAction(ctx, "llm.chat")
	slog.New(h).InfoContext(actx, "inner call", slogwf.Model("m2"), slogwf.Tokens(1, 2))
	a.End(slogwf.Model("m1"), slogwf.Tokens(100, 10), slogwf.Cost(0.5))
	_, failed := slogwf.StartAction(ctx, "llm.chat")
	failed.Fail(errors.New("HTTP 429"), slogwf.Model("m1"))
	ia.End()
	wf.End()
	require.NoError(t, h.Close())

	rows := statsJSON(t, "-by", "model", dir).Workflows[0].Rows
	m1 := rowOf(t, rows, "m1")
	assert.Equal(t, statsRowJSON{Group: "m1", Calls: 2, Errors: 1, In: 100, Out: 10, CostUSD: 0.5, TimeMS: m1.TimeMS, P50MS: m1.P50MS, P95MS: m1.P95MS}, m1)
	m2 := rowOf(t, rows, "m2")
	assert.Equal(t, int64(1), m2.Calls)
	assert.Equal(t, int64(3), m2.In+m2.Out)
}

// callsJournal is a workflow of 30 s whose one interaction, of 26.6 s,
// makes four LLM calls: two actions of model m1, of 100 and 200 ms, and two
// records of model m2, one with its duration (dur, 150 ms), one without.
const callsJournal = `{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-11-29T02:00:00.000000000Z","name":"calls"}
{"ev":"start","wf":"w","id":"ia","parent":"w","kind":"interaction","time":"2026-11-29T02:00:00.000000000Z","agent":"agent"}
{"ev":"start","wf":"w","id":"c1","parent":"ia","kind":"action","time":"2026-11-29T02:00:01.000000000Z","name":"llm.chat"}
{"ev":"end","wf":"w","id":"c1","time":"2026-11-29T02:00:01.100000000Z","status":"completed","usage":{"llm_calls":1,"input_tokens":10,"output_tokens":5,"total_tokens":15,"model":"m1"},"attrs":{"model":"m1"}}
{"ev":"start","wf":"w","id":"c2","parent":"ia","kind":"action","time":"2026-11-29T02:00:02.000000000Z","name":"llm.chat"}
{"ev":"end","wf":"w","id":"c2","time":"2026-11-29T02:00:02.200000000Z","status":"completed","usage":{"llm_calls":1,"input_tokens":10,"output_tokens":5,"total_tokens":15,"model":"m1"},"attrs":{"model":"m1"}}
{"ev":"record","wf":"w","scope":"ia","usage":{"llm_calls":1,"input_tokens":10,"output_tokens":5,"total_tokens":15,"model":"m2"},"time":"2026-11-29T02:00:03.000000000Z","level":"INFO","msg":"llm call","attrs":{"model":"m2","dur":150000000}}
{"ev":"record","wf":"w","scope":"ia","usage":{"llm_calls":1,"input_tokens":10,"output_tokens":5,"total_tokens":15,"model":"m2"},"time":"2026-11-29T02:00:04.000000000Z","level":"INFO","msg":"llm call","attrs":{"model":"m2"}}
{"ev":"end","wf":"w","id":"ia","time":"2026-11-29T02:00:26.600000000Z","status":"completed"}
{"ev":"end","wf":"w","id":"w","time":"2026-11-29T02:00:30.000000000Z","status":"completed"}
`

// By model, the time and percentiles of a row are those of its calls
// themselves, not of the interactions that make them: a call's scope's
// duration, or its record's dur. The total's percentiles are those of all
// the calls; its time is the workflow's.
func TestStatsByModelTimesTheCallsThemselves(t *testing.T) {
	journal := writeTestFile(t, t.TempDir(), "calls.jsonl", callsJournal)
	wf := statsJSON(t, "-by", "model", journal).Workflows[0]
	times := func(r statsRowJSON) [3]string { // time, p50, p95
		ms := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return formatDuration(*v)
		}
		return [3]string{formatDuration(r.TimeMS), ms(r.P50MS), ms(r.P95MS)}
	}
	got := map[string][3]string{"total": times(wf.Total)}
	for _, r := range wf.Rows {
		got[r.Group] = times(r)
	}
	assert.Equal(t, map[string][3]string{
		"m1":    {"300ms", "100ms", "200ms"},
		"m2":    {"150ms", "150ms", "150ms"}, // the record without dur adds no time
		"total": {"30s", "150ms", "200ms"},   // the workflow's time, all the calls' percentiles
	}, got)
}

// nestedIterationsJournal is a workflow with an iteration of its own,
// number 1, and an interaction outside it in which a child process started
// iterations numbered from 1 too (see slogwf.ContextFromEnv).
const nestedIterationsJournal = `{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-11-29T02:00:00.000000000Z","name":"nested"}
{"ev":"start","wf":"w","id":"i1","parent":"w","kind":"iteration","number":1,"time":"2026-11-29T02:00:01.000000000Z"}
{"ev":"end","wf":"w","id":"i1","time":"2026-11-29T02:00:02.000000000Z","status":"completed","usage":{"llm_calls":1,"input_tokens":10,"output_tokens":5,"total_tokens":15,"model":"m"}}
{"ev":"start","wf":"w","id":"ia","parent":"w","kind":"interaction","time":"2026-11-29T02:00:03.000000000Z","agent":"worker"}
{"ev":"start","wf":"w","id":"c1","parent":"ia","kind":"iteration","number":1,"time":"2026-11-29T02:00:04.000000000Z"}
{"ev":"end","wf":"w","id":"c1","time":"2026-11-29T02:00:05.000000000Z","status":"completed","usage":{"llm_calls":1,"input_tokens":20,"output_tokens":5,"total_tokens":25,"model":"m"}}
{"ev":"end","wf":"w","id":"ia","time":"2026-11-29T02:00:06.000000000Z","status":"completed"}
{"ev":"end","wf":"w","id":"w","time":"2026-11-29T02:00:07.000000000Z","status":"completed"}
`

// By iteration, each outermost iteration has a row of its own, also two
// of one number in different scopes, as a child process's iterations in
// an interaction and the workflow's: none adds up another's.
func TestStatsByIterationGivesEachIterationARowOfItsOwn(t *testing.T) {
	journal := writeTestFile(t, t.TempDir(), "nested.jsonl", nestedIterationsJournal)
	wf := statsJSON(t, "-by", "iteration", journal).Workflows[0]
	inputs := map[string]int64{}
	for _, r := range wf.Rows {
		inputs[r.Group] = r.In
	}
	assert.Equal(t, map[string]int64{"iteration 1": 10, "iteration 1 (c1)": 20, "(none)": 0}, inputs)
}
