package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// writeHTML runs slogwf html -o on args and returns the page's path.
func writeHTML(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.html")
	code, stdout, stderr := runCLI(t, append([]string{"html", "-o", out}, args...)...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)
	return out
}

// openReport writes the page of args and opens it from its file.
func openReport(t *testing.T, args ...string) *page {
	t.Helper()
	return openPage(t, "file://"+writeHTML(t, args...))
}

// reportNode is a scope as the page lists it: in tree order, children by
// start time.
type reportNode struct {
	*treeNode
	depth int
	agent string // of the innermost interaction
}

func reportNodes(root *treeNode) []reportNode {
	var out []reportNode
	var walk func(n *treeNode, depth int, agent string)
	walk = func(n *treeNode, depth int, agent string) {
		if n.Kind == "interaction" {
			agent = n.Agent
		}
		out = append(out, reportNode{n, depth, agent})
		kids := n.children()
		slices.SortStableFunc(kids, func(a, b *treeNode) int { return cmp.Compare(a.Start, b.Start) })
		for _, k := range kids {
			walk(k, depth+1, agent)
		}
	}
	walk(root, 0, "")
	return out
}

// ids returns the IDs of the nodes for which keep is true, and of the
// nodes above them.
func ids(nodes []reportNode, keep func(reportNode) bool) []string {
	pass := make([]bool, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		if keep(nodes[i]) {
			pass[i] = true
		}
		if pass[i] {
			for j := i - 1; j >= 0; j-- { // the parent is the nearest node above, one level up
				if nodes[j].depth == nodes[i].depth-1 {
					pass[j] = true
					break
				}
			}
		}
	}
	var out []string
	for i, n := range nodes {
		if pass[i] {
			out = append(out, n.ID)
		}
	}
	return out
}

// ownLevel returns the highest level of the records of n, ERROR for a
// failed scope.
func ownLevel(n reportNode) int {
	level := math.MinInt
	if n.Status == string(slogwf.StatusFailed) {
		level = 8
	}
	for _, r := range n.Records {
		l, err := slogwf.ParseLevel(r.Level)
		if err == nil {
			level = max(level, int(l))
		}
	}
	return level
}

// Scripts that read the page.
const (
	jsRows     = `[...document.querySelectorAll('#rows .row:not([hidden])')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map((r) => r.dataset.id)`
	jsSelected = `document.querySelector('#rows .row.sel') ? document.querySelector('#rows .row.sel').dataset.id : ''`
	jsDetails  = `document.getElementById('details').textContent`
)

// rows returns the IDs of the rows drawn, top down.
func (p *page) rows() []string {
	p.t.Helper()
	var ids []string
	p.eval(jsRows, &ids)
	return ids
}

// choose sets the select or check box id to value and tells the page.
func (p *page) choose(id, value string) {
	p.t.Helper()
	p.eval(`(() => { const e = document.getElementById(`+strconv.Quote(id)+`);
		if (e.type === 'checkbox') e.checked = `+strconv.Quote(value)+` === 'true'; else e.value = `+strconv.Quote(value)+`;
		e.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, nil)
}

// click clicks the element of the CSS selector sel.
func (p *page) click(sel string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(sel)))
}

// clickRow clicks the row of the scope id.
func (p *page) clickRow(id string) {
	p.t.Helper()
	p.click(`#rows .row[data-id="` + id + `"] .name`)
}

func TestReportShowsTheWorkflow(t *testing.T) {
	path := runDemoDir(t)
	root := readTree(t, path)
	nodes := reportNodes(root)
	all := ids(nodes, func(reportNode) bool { return true })
	p := openReport(t, path)

	assert.Equal(t, "slogwf · research", p.str(`document.title`))
	var facts map[string]string
	p.eval(`Object.fromEntries([...document.querySelectorAll('#wf-facts div')].map((d) => [d.children[0].textContent, d.children[1].textContent]))`, &facts)
	assert.Equal(t, map[string]string{
		"status":    "completed",
		"start":     root.Start[:10] + " " + root.Start[11:23] + " UTC",
		"duration":  formatDuration(*root.DurationMS),
		"tokens in": formatGrouped(root.Usage.In),
		"cached":    "512",
		"out":       formatGrouped(root.Usage.Out),
		"cost":      formatCost(root.Usage.CostUSD),
		"LLM calls": formatGrouped(root.Usage.Calls),
		"warnings":  "2",
		"semantic":  "1",
		"errors":    "2",
	}, facts)

	// Rows: every scope, each with its time and usage, the workflow
	// selected.
	assert.Equal(t, all, p.rows())
	assert.Equal(t, root.ID, p.str(jsSelected))
	var first []string
	p.eval(`[...document.querySelector('#rows .row[data-id="`+root.ID+`"]').children].map((c) => c.textContent)`, &first)
	assert.Equal(t, []string{"▾✔workflowresearch212", formatDuration(*root.DurationMS), formatGrouped(root.Usage.TotalTokens), formatCost(root.Usage.CostUSD), ""}, first)

	// Expand and collapse.
	p.click(`#collapse-all`)
	assert.Equal(t, all[:1], p.rows())
	p.click(`#expand-all`)
	assert.Equal(t, all, p.rows())
	p.choose("depth", "2")
	assert.Equal(t, ids(nodes, func(n reportNode) bool { return n.depth <= 2 }), p.rows(), "2 levels below the workflow")
	p.click(`#expand-all`)

	// Keys: down to iteration 1, collapse it, expand it, into it.
	it1 := root.Iterations[0]
	p.clickRow(root.ID)
	p.keys(kb.ArrowDown)
	require.Equal(t, it1.ID, p.str(jsSelected))
	assert.Contains(t, p.str(jsDetails), "iteration#1")
	p.keys(kb.ArrowLeft)
	below := len(ids(reportNodes(&it1), func(reportNode) bool { return true })) - 1
	assert.Len(t, p.rows(), len(all)-below, "iteration 1 collapsed")
	p.keys(kb.ArrowRight)
	assert.Equal(t, all, p.rows())
	p.keys(kb.Enter)
	assert.Len(t, p.rows(), len(all)-below, "Enter collapses")
	p.keys(kb.Enter)
	assert.Equal(t, all, p.rows(), "and expands")
	p.keys(kb.ArrowRight)
	assert.Equal(t, all[2], p.str(jsSelected), "→ on an expanded row moves into it")
	p.keys(kb.ArrowLeft + kb.ArrowLeft)
	assert.Equal(t, it1.ID, p.str(jsSelected), "← on a leaf or a collapsed row moves to the parent")
	p.keys("/")
	assert.Equal(t, "search", p.str(`document.activeElement.id`))

	// Details: the failed model call.
	var failed *treeNode
	statsWalk(root, func(n *treeNode) bool {
		if n.Kind == "action" && n.Status == "failed" {
			failed = n
		}
		return true
	})
	require.NotNil(t, failed)
	p.clickRow(failed.ID)
	details := p.str(jsDetails)
	for _, want := range []string{"✗actionllm.chat", "statusfailed", "id" + failed.ID, "error" + failed.Error, "attrscopy", `"http_status": 429`, "inputcopy", "system: You are one agent"} {
		assert.Contains(t, details, want)
	}
	// Records: in time order, with their level, badges and attributes.
	p.clickRow(root.Iterations[1].ID)
	var records []string
	p.eval(`[...document.querySelectorAll('#details .records li')].map((li) => li.textContent)`, &records)
	assert.Contains(t, records, root.Iterations[1].Records[0].Time[11:23]+"WARNretrying after the rate limitagent=worker-2 attempt=2 ")
	p.clickRow(root.Iterations[1].Interactions[0].ID) // the planner, and its semantic warning
	assert.Contains(t, p.str(`document.querySelector('#details .records li.semantic').textContent`), "WARNsemanticplan contradicts the user's constraint")
	var tool *treeNode
	statsWalk(root, func(n *treeNode) bool {
		if n.Kind == "action" && len(n.Records) > 0 {
			tool = n
		}
		return true
	})
	require.NotNil(t, tool)
	p.clickRow(tool.ID)
	assert.Equal(t, "tool", p.str(`document.querySelector('#details .records .b-origin').textContent`), "origin shows")
	p.noConsoleErrors()
}

func TestReportTablesHaveTheNumbersOfStats(t *testing.T) {
	path := runDemoDir(t)
	p := openReport(t, path)
	p.click(`#tab-tables`)
	for _, by := range []string{"agent", "model"} {
		t.Run(by, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "stats", "-json", "-by", by, path)
			require.Equal(t, 0, code, stderr)
			var stats struct {
				Workflows []struct {
					Rows  []statsRowJSON `json:"rows"`
					Total statsRowJSON   `json:"total"`
				} `json:"workflows"`
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &stats))
			ms := func(v *float64) string {
				if v == nil {
					return "-"
				}
				return formatDuration(*v)
			}
			want := [][]string{{by, "calls", "records", "warnings", "semantic", "errors", "in", "out", "cost", "time", "p50", "p95"}}
			for _, r := range append(stats.Workflows[0].Rows, stats.Workflows[0].Total) {
				time := "-"
				if r.TimeMS != 0 || r.P50MS != nil || r.Group == groupTotal {
					time = formatDuration(r.TimeMS)
				}
				want = append(want, []string{r.Group, formatGrouped(r.Calls), formatGrouped(r.Records), formatGrouped(r.Warnings),
					formatGrouped(r.Semantic), formatGrouped(r.Errors), formatGrouped(r.In), formatGrouped(r.Out),
					formatCost(r.CostUSD), time, ms(r.P50MS), ms(r.P95MS)})
			}
			var got [][]string
			p.eval(`[...document.querySelectorAll('#table-`+by+` tr')].map((tr) => [...tr.children].map((c) => c.textContent))`, &got)
			assert.Equal(t, want, got)
		})
	}
	p.noConsoleErrors()
}

func TestReportFiltersSearchesAndFindsErrors(t *testing.T) {
	path := runDemoDir(t)
	root := readTree(t, path)
	nodes := reportNodes(root)
	p := openReport(t, path)

	semantic := func(n reportNode) bool {
		return slices.ContainsFunc(n.Records, func(r treeRecord) bool { return r.Semantic })
	}
	tests := []struct {
		name, id, value string
		keep            func(reportNode) bool
	}{
		{"level", "level", "4", func(n reportNode) bool { return ownLevel(n) >= 4 }},
		{"agent", "agent", "worker-2", func(n reportNode) bool { return n.agent == "worker-2" }},
		{"semantic", "semantic-only", "true", semantic},
		{"errors", "errors-only", "true", func(n reportNode) bool { return ownLevel(n) >= 8 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := ids(nodes, tt.keep)
			require.Less(t, len(want), len(nodes))
			p.choose(tt.id, tt.value)
			assert.Equal(t, want, p.rows())
			p.choose(tt.id, "")
			assert.Len(t, p.rows(), len(nodes))
		})
	}

	// Search: names, messages and values, the matches marked.
	p.click(`#search`)
	p.keys("rate limit")
	p.wait(`document.getElementById('search-count').textContent === '3 matches'`)
	var matched []string
	p.eval(`[...document.querySelectorAll('#rows .row.match')].map((r) => r.dataset.id)`, &matched)
	it2 := root.Iterations[1]
	var failedIA *treeNode
	for i := range it2.Interactions {
		if it2.Interactions[i].Status == "failed" {
			failedIA = &it2.Interactions[i]
		}
	}
	require.NotNil(t, failedIA)
	assert.ElementsMatch(t, []string{it2.ID, failedIA.ID, failedIA.Actions[0].ID}, matched)
	assert.Equal(t, it2.ID, p.str(jsSelected), "the first match is selected")
	assert.Equal(t, "rate limit", p.str(`document.querySelector('#details .records mark').textContent`))
	p.keys(kb.Enter)
	assert.Equal(t, failedIA.ID, p.str(jsSelected), "Enter goes to the next match")
	assert.Equal(t, "rate limit", p.str(`document.querySelector('#details dd.error mark').textContent`))
	p.eval(`(() => { const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input')); return 1 })()`, nil)
	p.wait(`document.querySelectorAll('#rows .row.match').length === 0`)

	// Next error: the failed interaction, then its failed call.
	p.clickRow(root.ID)
	p.click(`#next-error`)
	assert.Equal(t, failedIA.ID, p.str(jsSelected))
	p.click(`#next-error`)
	assert.Equal(t, failedIA.Actions[0].ID, p.str(jsSelected))
	assert.Contains(t, p.str(jsDetails), "HTTP 429")

	// Hot spots: the scopes that take half the time or cost, or more.
	for _, by := range []string{"time", "cost"} {
		p.choose("hot", by)
		var want []string
		for _, n := range nodes[1:] {
			share := *n.DurationMS / *root.DurationMS
			if by == "cost" {
				share = n.Usage.CostUSD / root.Usage.CostUSD
			}
			if share >= 0.5 {
				want = append(want, n.ID)
			}
		}
		var got []string
		p.eval(`[...document.querySelectorAll('#rows .row:not([hidden])')].filter((r) => r.querySelector('.b-hot, .b-hot2')).map((r) => r.dataset.id)`, &got)
		assert.ElementsMatch(t, want, got, by)
	}
	p.noConsoleErrors()
}

// The search marks what it found, also where a character before it is
// longer lower-cased ("İ" is "i̇", two characters), and whatever the case
// of either.
func TestReportSearchMarksTheTextItFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",
"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","duration_ms":1000,
"actions":[{"kind":"action","id":"a","name":"İİİ secret token here","status":"completed",
"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","duration_ms":1000,
"records":[{"time":"2026-01-01T00:00:00Z","level":"INFO","msg":"İ TOKEN (a.*b) Token"}]}]}`), 0o600))
	p := openReport(t, path)
	search := func(q string) {
		p.eval(`(() => { const s = document.getElementById('search'); s.value = `+strconv.Quote(q)+`; s.dispatchEvent(new Event('input')); return 1 })()`, nil)
	}
	for _, q := range []string{"token", "(A.*B)"} {
		search("")
		p.wait(`document.getElementById('search-count').textContent === ''`)
		search(q)
		p.wait(`document.getElementById('search-count').textContent === '1 match'`)
		assert.Equal(t, "a", p.str(jsSelected))
		var marks []string
		p.eval(`[...document.querySelectorAll('#rows .row mark, #details mark')].map((m) => m.textContent)`, &marks)
		require.NotEmpty(t, marks, q)
		for _, m := range marks {
			assert.True(t, strings.EqualFold(m, q), "%q marks %q", q, m)
		}
	}
	p.noConsoleErrors()
}

func TestReportOfSeveralWorkflowsListsThemNewestFirst(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		code, _, stderr := runCLI(t, "demo", "-fast", "-dir", dir)
		require.Equal(t, 0, code, stderr)
	}
	trees, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, trees, 2)
	var roots []*treeNode
	for _, path := range trees {
		roots = append(roots, readTree(t, path))
	}
	slices.SortFunc(roots, func(a, b *treeNode) int { return cmp.Compare(b.Start, a.Start) })

	p := openReport(t, dir)
	assert.False(t, p.num(`document.getElementById('picker').hidden ? 1 : 0`) == 1, "the list shows")
	var options []string
	p.eval(`[...document.querySelectorAll('#wf-select option')].map((o) => o.value)`, &options)
	assert.Equal(t, []string{roots[0].ID, roots[1].ID}, options)
	assert.Equal(t, roots[0].ID, p.rows()[0])
	p.choose("wf-select", roots[1].ID)
	assert.Equal(t, roots[1].ID, p.rows()[0])
	p.noConsoleErrors()
}

// writeLarge logs a workflow of 10 iterations of 10 agents, each calling
// 100 tools: 10,000 actions, each with 10 records, 100,000 in all. It
// returns the path of its tree file.
func writeLarge(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, Format: slogwf.FormatJSON, Level: slog.LevelDebug})
	require.NoError(t, err)
	log := slog.New(h)
	ctx := slogwf.ContextWithLogger(context.Background(), log)
	ctx, wf := slogwf.StartWorkflow(ctx, "large", "user", "ana")
	for range 10 {
		ictx, it := slogwf.StartIteration(ctx)
		for a := range 10 {
			actx, ia := slogwf.StartInteraction(ictx, "agent-"+strconv.Itoa(a), slogwf.InputKey, "work on part "+strconv.Itoa(a))
			for k := range 100 {
				tctx, act := slogwf.StartAction(actx, "tool-"+strconv.Itoa(k%7), slogwf.InputKey, "query "+strconv.Itoa(k))
				log.InfoContext(tctx, "calling model", slogwf.Model("gpt-4o-mini"), slogwf.Tokens(100+k, 20), slogwf.Cost(0.0001))
				for r := range 8 {
					log.InfoContext(tctx, "step of the tool", "step", r, "result", "found 3 documents about the history of the transistor")
				}
				if k%10 == 0 {
					log.WarnContext(tctx, "slow answer", "ms", 900+k)
				} else {
					log.DebugContext(tctx, "cache hit", "key", "q"+strconv.Itoa(k))
				}
				act.End(slogwf.OutputKey, "3 documents")
			}
			ia.End(slogwf.OutputKey, "part "+strconv.Itoa(a)+" done")
		}
		it.End()
	}
	wf.End()
	require.NoError(t, h.Close())
	trees, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, trees, 1)
	return trees[0]
}

// A workflow of 10,000 actions and 100,000 records: the page is at most
// 1.5 times the size of its tree file, draws only the rows in view, and
// takes keys at once. How long it took to be ready, measured in the page,
// is logged, not checked: timing belongs to benchmarks.
func TestReportOfTenThousandActionsDrawsOnlyTheRowsInView(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a workflow of 100,000 records")
	}
	tree := writeLarge(t)
	root := readTree(t, tree)
	require.EqualValues(t, 100_000, root.Counts.Records)
	out := writeHTML(t, tree)
	page, err := os.Stat(out)
	require.NoError(t, err)
	data, err := os.Stat(tree)
	require.NoError(t, err)
	ratio := float64(page.Size()) / float64(data.Size())
	assert.LessOrEqual(t, ratio, 1.5, "page %d bytes, tree %d bytes", page.Size(), data.Size())

	p := openPage(t, "file://"+out)
	ready := p.num(`Number(document.documentElement.dataset.readyMs)`)
	t.Logf("10,000 actions, 100,000 records: ready in %.0f ms (performance.now() in the page); page %d bytes = %.3f × tree %d bytes", ready, page.Size(), ratio, data.Size())

	assert.Less(t, p.num(`document.querySelectorAll('#rows .row').length`), 200.0, "only the rows in view are drawn")
	p.click(`#expand-all`)
	assert.Equal(t, float64(1+10+100+10_000)*22, p.num(`parseFloat(document.getElementById('spacer').style.height)`), "all rows, one row high each")
	p.clickRow(root.ID)
	p.keys(kb.End)
	last := reportNodes(root)
	assert.Equal(t, last[len(last)-1].ID, p.str(jsSelected), "End selects the last row")
	p.keys(kb.Home + kb.ArrowDown)
	assert.Equal(t, last[1].ID, p.str(jsSelected))
	p.noConsoleErrors()
}

// The screenshot in the README is of the demo's page, taken here: with
// -update it is written to docs/report.png.
func TestReportScreenshotOfTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the demo in real time")
	}
	path, _ := runDemoCLI(t) // in real time, for a time line worth a look
	root := readTree(t, path)
	p := openReport(t, path)
	p.do(chromedp.EmulateViewport(1400, 860))
	// The failed attempt of worker-2, with its error and records.
	var failed string
	statsWalk(root, func(n *treeNode) bool {
		if n.Kind == "interaction" && n.Status == "failed" {
			failed = n.ID
		}
		return true
	})
	require.NotEmpty(t, failed)
	p.clickRow(failed)
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	img, err := pngDecodeConfig(png)
	require.NoError(t, err)
	assert.Equal(t, [2]int{1400, 860}, img)
	out := filepath.Join(t.TempDir(), "report.png")
	if *update {
		out = filepath.Join("..", "..", "docs", "report.png")
		require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	}
	require.NoError(t, os.WriteFile(out, png, 0o644))
	p.noConsoleErrors()
}

// pngDecodeConfig returns the width and height of a PNG image.
func pngDecodeConfig(data []byte) ([2]int, error) {
	c, err := png.DecodeConfig(bytes.NewReader(data))
	return [2]int{c.Width, c.Height}, err
}

func TestHTMLWritesThePageBesideItsInput(t *testing.T) {
	tree := runDemoDir(t)
	dir := filepath.Dir(tree)
	base := strings.TrimSuffix(filepath.Base(tree), ".json")
	two := t.TempDir()
	for range 2 {
		code, _, stderr := runCLI(t, "demo", "-fast", "-dir", two)
		require.Equal(t, 0, code, stderr)
	}
	treeData, err := os.ReadFile(tree)
	require.NoError(t, err)
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string // the page written
	}{
		{"a tree file", []string{tree}, "", filepath.Join(dir, base+".html")},
		{"journals", []string{dir}, "", filepath.Join(dir, base+".html")},
		{"several workflows", []string{two}, "", filepath.Join(two, "workflows.html")},
		{"one of several", []string{"-workflow", "research", tree}, "", filepath.Join(dir, base+".html")},
		{"a journal from standard input", []string{"-"}, "journal", filepath.Join(".", base+".html")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := ""
			if tt.stdin == "journal" {
				journals, err := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
				require.NoError(t, err)
				data, err := os.ReadFile(journals[0])
				require.NoError(t, err)
				stdin = string(data)
				t.Chdir(t.TempDir())
			}
			code, stdout, stderr := runCLIStdin(t, strings.NewReader(stdin), append([]string{"html"}, tt.args...)...)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, "html: "+tt.want+"\n", stdout)
			page, err := os.ReadFile(tt.want)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(page), "<!DOCTYPE html>"))
			require.NoError(t, os.Remove(tt.want))
		})
	}
	t.Run("standard output", func(t *testing.T) {
		code, stdout, stderr := runCLIStdin(t, bytes.NewReader(treeData), "html", "-o", "-", "-")
		require.Equal(t, 0, code, stderr)
		assert.True(t, strings.HasPrefix(stdout, "<!DOCTYPE html>"))
		assert.True(t, strings.HasSuffix(stdout, "</html>\n"))
	})
}

func TestHTMLErrors(t *testing.T) {
	tree := runDemoDir(t)
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"no input", nil, "", 2, "no input"},
		{"missing input", []string{tree + ".missing"}, "", 1, tree + ".missing"},
		{"no such workflow", []string{"-workflow", "nope", tree}, "", 1, "no workflow nope in " + tree},
		{"a tree from standard input", []string{"-"}, "tree", 2, "a tree from standard input needs -o"},
		{"not a tree", []string{"-o", "-", "-"}, `{"schema":"other/v9"}`, 1, "not a slogwf.tree/v1 tree file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := tt.stdin
			if stdin == "tree" {
				data, err := os.ReadFile(tree)
				require.NoError(t, err)
				stdin = string(data)
			}
			code, stdout, stderr := runCLIStdin(t, strings.NewReader(stdin), append([]string{"html"}, tt.args...)...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// A tree rebuilt from a torn journal: the header says what it lost, and
// the scope never ended shows incomplete, in amber; failed ones in red.
func TestReportShowsLossAndIncompleteScopes(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	lines := journalsOf(t, r)["research"]
	journal := filepath.Join(t.TempDir(), "research.1.jsonl")
	// Without the end of the worker, and with a line torn.
	var kept []string
	for _, l := range lines {
		if !strings.Contains(l, `"output":"no flight"`) {
			kept = append(kept, l)
		}
	}
	tailWrite(t, journal, strings.Join(kept, "")+`{"ev":"rec`)
	code, _, stderr := runCLI(t, "build", journal)
	require.Equal(t, 0, code, stderr)
	root := readTree(t, filepath.Join(filepath.Dir(journal), tree.TreeFileName("research", r.wf)))

	p := openReport(t, journal)
	var facts map[string]string
	p.eval(`Object.fromEntries([...document.querySelectorAll('#wf-facts div')].map((d) => [d.children[0].textContent, d.children[1].textContent]))`, &facts)
	assert.Equal(t, "1 line dropped", facts["loss"])
	color := func(status string) string {
		var id string
		statsWalk(root, func(n *treeNode) bool {
			if n.Status == status {
				id = n.ID
			}
			return true
		})
		require.NotEmpty(t, id, status)
		return p.str(`getComputedStyle(document.querySelector('#rows .row[data-id="` + id + `"] .bar')).backgroundColor`)
	}
	assert.Equal(t, "rgb(217, 119, 6)", color("incomplete"), "amber")
	assert.Equal(t, "rgb(220, 38, 38)", color("failed"), "red")
	p.noConsoleErrors()
}

// The header names every loss of the tree that is not 0, a member it does
// not know (of a later version) by its name.
func TestReportShowsEveryLossOfTheTree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",
"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","duration_ms":1000,
"loss":{"dropped":1,"truncated":2,"redacted":0,"clamped":3,"unwritten":4,"later":5,"odd":"x"}}`), 0o600))
	p := openReport(t, path)
	assert.Equal(t, "1 line dropped, 2 values truncated, 3 numbers clamped, 4 lines unwritten, 5 later",
		p.str(`document.querySelector('#wf-facts .loss dd').textContent`))
	p.noConsoleErrors()
}

// Tokens written to the prompt cache show beside those read from it, on
// the header and on a scope's details, when there are any.
func TestReportShowsTheTokensWrittenToTheCache(t *testing.T) {
	usage := `{"llm_calls":1,"input_tokens":1600,"cached_input_tokens":100,"cache_write_input_tokens":1400,"output_tokens":3,"total_tokens":1603,"cost_usd":0.1}`
	path := filepath.Join(t.TempDir(), "w.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",
"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","duration_ms":1000,"usage":`+usage+`,
"actions":[{"kind":"action","id":"a","name":"llm.messages","status":"completed","start":"2026-01-01T00:00:00Z","duration_ms":500,"usage":`+usage+`}]}`), 0o600))
	p := openReport(t, path)
	var facts map[string]string
	p.eval(`Object.fromEntries([...document.querySelectorAll('#wf-facts div')].map((d) => [d.children[0].textContent, d.children[1].textContent]))`, &facts)
	assert.Equal(t, "100", facts["cached"])
	assert.Equal(t, "1,400", facts["cache writes"])
	p.clickRow("a")
	assert.Contains(t, p.str(jsDetails), "tokens1,600 in (100 cached, 1,400 written to the cache), 3 out, 1,603 total")
	p.noConsoleErrors()
}

// The page writes times, tokens and costs as tree and stats do.
func TestReportFormatsNumbersAsTheCommandsDo(t *testing.T) {
	type action struct {
		Kind       string  `json:"kind"`
		ID         string  `json:"id"`
		Name       string  `json:"name"`
		Status     string  `json:"status"`
		Start      string  `json:"start"`
		DurationMS float64 `json:"duration_ms"`
		Usage      struct {
			Total int64   `json:"total_tokens"`
			Cost  float64 `json:"cost_usd"`
		} `json:"usage"`
	}
	durations := []float64{0.0004, 0.0123, 1.5, 999.6, 1234.5, 59_999, 61_000, 3_723_000}
	costs := []float64{1.234e-10, 0.000123456, 0.00247, 0.5, 12.345, 1e-9, 0.1, 0}
	tokens := []int64{0, 1, 999, 1000, 12_345, 1_234_567, 10_801, 42}
	var actions []action
	for i := range durations {
		a := action{Kind: "action", ID: "a" + strconv.Itoa(i), Name: "n" + strconv.Itoa(i), Status: "completed",
			Start: "2026-01-01T00:00:00.000000000Z", DurationMS: durations[i]}
		a.Usage.Total, a.Usage.Cost = tokens[i], costs[i]
		actions = append(actions, a)
	}
	tree, err := json.Marshal(map[string]any{
		"schema": slogwf.Schema, "kind": "workflow", "id": "w", "name": "numbers", "status": "completed",
		"start": "2026-01-01T00:00:00.000000000Z", "duration_ms": 3_723_000.0, "actions": actions,
	})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "numbers.json")
	require.NoError(t, os.WriteFile(path, tree, 0o600))

	p := openReport(t, path)
	var got [][]string
	p.eval(`[...document.querySelectorAll('#rows .row:not([hidden])')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).slice(1).map((r) => [...r.querySelectorAll('.num')].map((c) => c.textContent))`, &got)
	var want [][]string
	for i := range durations {
		tok, cost := "", ""
		if tokens[i] != 0 {
			tok = formatGrouped(tokens[i])
		}
		if costs[i] != 0 {
			cost = formatCost(costs[i])
		}
		want = append(want, []string{formatDuration(durations[i]), tok, cost})
	}
	assert.Equal(t, want, got)
	p.noConsoleErrors()
}

// The columns of numbers show whole the longest time, tokens and cost of
// the workflow: up to 99h59m59s, 10 digits of tokens and costs like
// $123456.78 in the columns of small numbers, and longer ones in columns
// that grow for them. Every cell of a column lines up with its head.
func TestReportShowsLargeNumbersWholeInTheirColumns(t *testing.T) {
	type numbers struct {
		durationMS float64
		tokens     int64
		cost       float64
	}
	tests := []struct {
		name    string
		actions []numbers // the workflow holds the first numbers too
	}{
		{"small", []numbers{{1.5, 12, 0.000123}, {999, 999_999, 12.5}, {1.234, 1, 0.5}}},
		{"up to 10 digits", []numbers{{359_999_000, 9_999_999_999, 123_456.78}, {45_296_000, 5_500_000, 1234.5}, {0.0123, 1, -0.000123}}},
		{"longer", []numbers{{3_599_999_000, 999_999_999_999_999, 1e9}, {1, 2_000_005_500_000, 1e-9}}},
	}
	type cell struct {
		Text                     string
		ScrollWidth, ClientWidth int
		Left, Width              float64
	}
	heads := map[string][]cell{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			usage := func(n numbers) string {
				return fmt.Sprintf(`"duration_ms":%v,"usage":{"total_tokens":%d,"cost_usd":%v}`, n.durationMS, n.tokens, n.cost)
			}
			var actions []string
			for i, n := range tt.actions {
				actions = append(actions, fmt.Sprintf(`{"kind":"action","id":"a%d","name":"n%d","status":"completed","start":"2026-01-01T00:00:00Z",%s}`, i, i, usage(n)))
			}
			path := writeTestFile(t, t.TempDir(), "w.json", `{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",
"start":"2026-01-01T00:00:00Z",`+usage(tt.actions[0])+`,"actions":[`+strings.Join(actions, ",")+`]}`)
			p := openReport(t, path)
			var head []cell
			var rows [][]cell
			const cells = `[...r.querySelectorAll('.num')].map((c) => ({text: c.textContent, scrollWidth: c.scrollWidth, clientWidth: c.clientWidth, left: c.getBoundingClientRect().left, width: c.getBoundingClientRect().width}))`
			p.eval(`(() => { const r = document.getElementById('list-head'); return `+cells+` })()`, &head)
			p.eval(`[...document.querySelectorAll('#rows .row:not([hidden])')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map((r) => `+cells+`)`, &rows)
			heads[tt.name] = head
			require.Len(t, rows, 1+len(tt.actions))
			for i, row := range rows {
				n := tt.actions[max(i-1, 0)]
				want := []string{formatDuration(n.durationMS), formatGrouped(n.tokens), formatCost(n.cost)}
				for k, c := range row {
					assert.Equal(t, want[k], c.Text)
					assert.LessOrEqual(t, c.ScrollWidth, c.ClientWidth, "%q is cut", c.Text)
					assert.Equal(t, head[k].Left, c.Left, "%q lines up with the head %q", c.Text, head[k].Text)
					assert.Equal(t, head[k].Width, c.Width, "%q is as wide as the head %q", c.Text, head[k].Text)
				}
			}
			p.noConsoleErrors()
		})
	}
	assert.Equal(t, heads["small"], heads["up to 10 digits"], "the columns stay put")
	assert.Greater(t, heads["longer"][1].Width, heads["small"][1].Width, "the column of tokens grows")
}

// An agent's name of 5,000 characters widens neither the Agent filter
// beyond its bound nor the page, in a window 1,400 px wide.
func TestReportWithALongAgentNameFitsTheWindow(t *testing.T) {
	agent := strings.Repeat("x", 5000)
	path := writeTestFile(t, t.TempDir(), "w.json", `{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",
"start":"2026-01-01T00:00:00Z","duration_ms":1000,"interactions":[{"kind":"interaction","id":"i","agent":"`+agent+`","status":"completed","start":"2026-01-01T00:00:00Z","duration_ms":10}]}`)
	p := openReport(t, path)
	require.Equal(t, 1400.0, p.num(`window.innerWidth`))
	p.choose("agent", agent)
	assert.Equal(t, []string{"w", "i"}, p.rows(), "the agent is one to choose")
	assert.LessOrEqual(t, p.num(`document.getElementById('agent').getBoundingClientRect().width`), 16*13.0, "at most 16em")
	assert.LessOrEqual(t, p.num(`document.getElementById('toolbar').scrollWidth`), p.num(`document.getElementById('toolbar').clientWidth`), "the toolbar")
	assert.LessOrEqual(t, p.num(`document.documentElement.scrollWidth`), p.num(`document.documentElement.clientWidth`), "the page")
	p.noConsoleErrors()
}

// The labels of the time axis stand at round times, each where the bars
// put its time, none overlapping another or passing the ends of the axis,
// whatever the width of the window and the duration of the workflow, from
// 1.5 ms to 30 days, with thousands of scopes; and one stands past 0.
func TestReportTimeAxisLabelsNeverOverlapAtAnyWidthOrDuration(t *testing.T) {
	type box struct {
		Text        string
		Left, Right float64
	}
	const scopes = 3000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, total := range []float64{1.5, 1500, 26_600, 2_220_000, 18_787_000, 359_999_000, 2_592_000_000} {
		t.Run(formatDuration(total), func(t *testing.T) {
			var actions []string
			for i := range scopes {
				start := t0.Add(time.Duration(float64(i) / scopes * total * 1e6)).Format(time.RFC3339Nano)
				actions = append(actions, fmt.Sprintf(`{"kind":"action","id":"a%d","name":"tool","status":"completed","start":%q,"duration_ms":%v}`, i, start, total/scopes))
			}
			path := writeTestFile(t, t.TempDir(), "w.json", fmt.Sprintf(`{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",
"start":%q,"duration_ms":%v,"actions":[%s]}`, t0.Format(time.RFC3339Nano), total, strings.Join(actions, ",")))
			p := openReport(t, path)
			for _, width := range []int64{480, 800, 1100, 1400, 2400} {
				p.do(chromedp.EmulateViewport(width, 900))
				// The axis is drawn again at the frame after it changed.
				p.eval(`window.framed = false; requestAnimationFrame(() => requestAnimationFrame(() => { window.framed = true })); true`, nil)
				p.wait(`window.framed`)
				var axis struct {
					Left, Width float64
					Labels      []box
				}
				p.eval(`(() => { const a = document.getElementById('axis'), r = a.getBoundingClientRect();
					return {left: r.left, width: r.width, labels: [...a.children].map((s) => {
						const b = s.getBoundingClientRect(); return {text: s.textContent, left: b.left, right: b.right} }).sort((x, y) => x.left - y.left)} })()`, &axis)
				require.GreaterOrEqual(t, len(axis.Labels), 2, "at %d px: %+v", width, axis.Labels)
				assert.Equal(t, "0s", axis.Labels[0].Text, "at %d px", width)
				for i, l := range axis.Labels {
					assert.GreaterOrEqual(t, l.Left, axis.Left-0.01, "at %d px, %q passes the start of the axis", width, l.Text)
					assert.LessOrEqual(t, l.Right, axis.Left+axis.Width+0.01, "at %d px, %q passes the end of the axis", width, l.Text)
					if i == 0 {
						continue
					}
					prev := axis.Labels[i-1]
					assert.LessOrEqual(t, prev.Right, l.Left+0.01, "at %d px, %q overlaps %q: %+v", width, prev.Text, l.Text, axis.Labels)
					d, err := time.ParseDuration(l.Text)
					require.NoError(t, err, "at %d px", width)
					at := axis.Left + float64(d)/1e6/total*axis.Width
					assert.InDelta(t, at, (l.Left+l.Right)/2, 1, "at %d px, %q stands at its time", width, l.Text)
				}
			}
			p.noConsoleErrors()
		})
	}
}

// The time axis spans what the bars do, so that each label stands over
// the bars of its time, also where the list of rows shows a scrollbar
// that takes room (classic scrollbars, not overlay ones) and where it
// shows none.
func TestReportTimeAxisSpansTheBarsWithAClassicScrollbar(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		scopes int
	}{
		{"rows that scroll", 300},
		{"rows that fit", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var actions []string
			for i := range tt.scopes {
				start := t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
				actions = append(actions, fmt.Sprintf(`{"kind":"action","id":"a%d","name":"tool","status":"completed","start":%q,"duration_ms":1000}`, i, start))
			}
			path := writeTestFile(t, t.TempDir(), "w.json", fmt.Sprintf(`{"schema":"slogwf.tree/v1","kind":"workflow","id":"w","name":"w","status":"completed",
"start":%q,"duration_ms":%d,"actions":[%s]}`, t0.Format(time.RFC3339Nano), tt.scopes*1000, strings.Join(actions, ",")))
			p := openReport(t, path)
			p.eval(`window.framed = false; requestAnimationFrame(() => requestAnimationFrame(() => { window.framed = true })); true`, nil)
			p.wait(`window.framed`)
			var got struct{ Axis, Bar, Rows [2]float64 }
			p.eval(`(() => { const r = (e) => { const b = e.getBoundingClientRect(); return [b.left, b.right] };
				const rows = document.getElementById('rows');
				return {axis: r(document.getElementById('axis')), bar: r(document.querySelector('#rows .row .bar')),
					rows: [rows.offsetWidth, rows.clientWidth]} })()`, &got)
			if tt.scopes > 100 {
				require.Greater(t, got.Rows[0]-got.Rows[1], 10.0, "the rows show a classic scrollbar: %+v", got)
			}
			assert.InDelta(t, got.Bar[0], got.Axis[0], 0.5, "the axis starts where the workflow's bar does: %+v", got)
			assert.InDelta(t, got.Bar[1], got.Axis[1], 0.5, "the axis ends where the workflow's bar does: %+v", got)
			p.noConsoleErrors()
		})
	}
}
