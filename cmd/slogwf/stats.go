package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/slogwf/slogwf"
)

const statsHelp = `usage: slogwf stats [-by agent|model|iteration] [-json] [-workflow ID|NAME] FILE...

Stats sums up each workflow in a table, one row per agent, model or
iteration: LLM calls, records, warnings, semantic warnings, errors, input
and output tokens, cost, and time (the total of the interactions'
durations, less the time spent in interactions nested in them, which is
theirs) with the 50th and 95th percentiles of the interactions' whole
durations; by model, of the calls' own durations. Rows come by cost, then
time. The last row, total, is the whole workflow; its time is the
workflow's duration.

  -by agent      each interaction without the interactions nested in it,
                 which count under their own agents; "(none)" is what
                 happened outside any interaction
  -by iteration  each iteration with all it holds, with its ID when an
                 earlier row has its number (a child process's, in
                 another scope); "(none)" is what happened outside any
                 iteration
  -by model      the LLM calls, as the handler counted them (a model or
                 tokens among the attributes of a logging call, or of a
                 scope's start or end, as slogwf.Transport's actions),
                 per model; a call without a model is "(unknown)". The
                 time of a call is its own: its scope's duration, or its
                 record's attribute dur (a time.Duration); a record
                 without one adds none

A FILE is a tree file (*.json), a journal (*.jsonl), or a directory: its
journals, or its tree files when it has no journal. The journals of all
FILEs are read together, so that the journals that several processes wrote
for one workflow merge. FILE "-" reads a tree file or a journal from
standard input.

Example:
	slogwf stats -by model logs

Flags:
`

// Groups of rows other than the agents, models and iterations themselves.
const (
	groupNone    = "(none)"    // outside any interaction or iteration
	groupUnknown = "(unknown)" // an LLM call without a model
	groupTotal   = "total"
)

// statsWalk calls visit on n and, while visit returns true, on its subtree.
func statsWalk(n *treeNode, visit func(*treeNode) bool) {
	if visit(n) {
		for _, c := range n.children() {
			statsWalk(c, visit)
		}
	}
}

// statsOutermost returns the nodes of kind below n that no other node of kind
// below n holds.
func statsOutermost(n *treeNode, kind string) []*treeNode {
	var found []*treeNode
	for _, c := range n.children() {
		if c.Kind == kind {
			found = append(found, c)
		} else {
			found = append(found, statsOutermost(c, kind)...)
		}
	}
	return found
}

// statsTally holds the numbers of one row but its times.
type statsTally struct {
	calls, records, warnings, semantic, errors int64
	in, out                                    int64
	cost                                       int64 // in units of $1e-9, as the tree sums it
}

// add adds u to t. Its sums saturate instead of wrapping, whatever a tree
// file holds.
func (t *statsTally) add(u statsTally) {
	t.calls = saturated(t.calls, u.calls)
	t.records = saturated(t.records, u.records)
	t.warnings = saturated(t.warnings, u.warnings)
	t.semantic = saturated(t.semantic, u.semantic)
	t.errors = saturated(t.errors, u.errors)
	t.in = saturated(t.in, u.in)
	t.out = saturated(t.out, u.out)
	t.cost = saturated(t.cost, u.cost)
}

// sub takes u, a part of t, out of t. A count that a tree file says is
// larger in the part than in the whole becomes 0.
func (t *statsTally) sub(u statsTally) {
	t.calls = max(t.calls-u.calls, 0) // both 0 or more: no overflow
	t.records = max(t.records-u.records, 0)
	t.warnings = max(t.warnings-u.warnings, 0)
	t.semantic = max(t.semantic-u.semantic, 0)
	t.errors = max(t.errors-u.errors, 0)
	t.in = max(t.in-u.in, 0)
	t.out = max(t.out-u.out, 0)
	t.cost = saturated(t.cost, -u.cost)
}

// saturated returns a+b, bounded to ±math.MaxInt64 instead of wrapping.
func saturated(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0, s == math.MinInt64:
		return -math.MaxInt64
	}
	return s
}

// nodeTally returns the rolled-up usage and counts of n.
func nodeTally(n *treeNode) statsTally {
	return statsTally{
		calls:    max(n.Usage.Calls, 0),
		records:  max(n.Counts.Records, 0),
		warnings: max(n.Counts.Warnings, 0),
		semantic: max(n.Counts.Semantic, 0),
		errors:   max(n.Counts.Errors, 0),
		in:       max(n.Usage.In, 0),
		out:      max(n.Usage.Out, 0),
		cost:     nanoUSD(n.Usage.CostUSD),
	}
}

// nanoUSD converts usd to units of $1e-9, bounded to what int64 holds.
func nanoUSD(usd float64) int64 {
	const most = 9e9 // US dollars
	if math.IsNaN(usd) {
		return 0
	}
	return int64(math.Round(max(-most, min(usd, most)) * 1e9))
}

// statsRow is one row of a table.
type statsRow struct {
	group string
	num   int64 // of an iteration, to order ties
	statsTally
	timeMS float64
	durs   []float64 // of the interactions, or by model of the calls, for the percentiles
}

// addTime adds the duration of the interaction n to the time of r and to
// its percentiles.
func (r *statsRow) addTime(n *treeNode) {
	if n.DurationMS != nil {
		r.timeMS += *n.DurationMS
		r.durs = append(r.durs, *n.DurationMS)
	}
}

// nestedMS returns the time n spent in the outermost interactions inside
// it, at most n's own duration.
func nestedMS(n *treeNode) float64 {
	var ms float64
	for _, c := range statsOutermost(n, "interaction") {
		if c.DurationMS != nil {
			ms += *c.DurationMS
		}
	}
	if n.DurationMS != nil {
		ms = min(ms, *n.DurationMS)
	}
	return ms
}

// addDurations adds the durations of the interactions in the subtree of n
// to the percentiles of r.
func (r *statsRow) addDurations(n *treeNode) {
	statsWalk(n, func(c *treeNode) bool {
		if c.Kind == "interaction" && c.DurationMS != nil {
			r.durs = append(r.durs, *c.DurationMS)
		}
		return true
	})
}

// percentiles returns the nearest-rank 50th and 95th percentiles of r's
// interaction durations, and false when there are none.
func (r *statsRow) percentiles() (p50, p95 float64, ok bool) {
	if len(r.durs) == 0 {
		return 0, 0, false
	}
	s := slices.Sorted(slices.Values(r.durs))
	at := func(p float64) float64 {
		rank := int(math.Ceil(p / 100 * float64(len(s))))
		return s[min(max(rank, 1), len(s))-1]
	}
	return at(50), at(95), true
}

// workflowStats is the table of one workflow.
type workflowStats struct {
	id, name, status string
	durationMS       *float64
	by               string
	rows             []*statsRow
	total            *statsRow
}

// statsRows keeps the rows of a table by group, in the order they came.
type statsRows struct {
	byGroup map[string]*statsRow
	list    []*statsRow
}

func (rs *statsRows) get(group string, num int64) *statsRow {
	r := rs.byGroup[group]
	if r == nil {
		if rs.byGroup == nil {
			rs.byGroup = map[string]*statsRow{}
		}
		r = &statsRow{group: group, num: num}
		rs.byGroup[group] = r
		rs.list = append(rs.list, r)
	}
	return r
}

// newWorkflowStats sums up the workflow root, named name, by agent, model
// or iteration.
func newWorkflowStats(root *treeNode, name, by string) *workflowStats {
	var rs statsRows
	switch by {
	case "agent":
		statsByAgent(root, &rs)
	case "iteration":
		statsByIteration(root, &rs)
	case "model":
		statsByModel(root, &rs)
	}
	slices.SortFunc(rs.list, func(a, b *statsRow) int {
		return cmp.Or(
			cmp.Compare(b.cost, a.cost),
			cmp.Compare(b.timeMS, a.timeMS),
			cmp.Compare(a.num, b.num),
			strings.Compare(a.group, b.group))
	})
	total := &statsRow{group: groupTotal, statsTally: nodeTally(root)}
	if root.DurationMS != nil {
		total.timeMS = *root.DurationMS
	}
	if by == "model" {
		for _, r := range rs.list {
			total.durs = append(total.durs, r.durs...)
		}
	} else {
		total.addDurations(root)
	}
	return &workflowStats{
		id:         root.ID,
		name:       name,
		status:     root.Status,
		durationMS: root.DurationMS,
		by:         by,
		rows:       rs.list,
		total:      total,
	}
}

// statsByAgent adds a row per agent: each interaction with its own part only,
// so that nested interactions are not counted twice.
func statsByAgent(root *treeNode, rs *statsRows) {
	statsWalk(root, func(n *treeNode) bool {
		if n.Kind == "interaction" {
			own := nodeTally(n)
			for _, c := range statsOutermost(n, "interaction") {
				own.sub(nodeTally(c))
			}
			r := rs.get(n.Agent, 0)
			r.add(own)
			r.addTime(n)
			r.timeMS -= nestedMS(n) // counted under the nested agents
		}
		return true
	})
	rest := nodeTally(root)
	for _, c := range statsOutermost(root, "interaction") {
		rest.sub(nodeTally(c))
	}
	if rest != (statsTally{}) {
		rs.get(groupNone, 0).add(rest)
	}
}

// statsByIteration adds a row per iteration, and one for what happened outside
// iterations.
func statsByIteration(root *treeNode, rs *statsRows) {
	rest := nodeTally(root)
	for _, it := range statsOutermost(root, "iteration") {
		group := "iteration " + strconv.FormatInt(it.Number, 10)
		if rs.byGroup[group] != nil { // of another scope: a child process numbers its own from 1
			group += " (" + it.ID + ")"
		}
		r := rs.get(group, it.Number)
		t := nodeTally(it)
		r.add(t)
		rest.sub(t)
		if it.DurationMS != nil {
			r.timeMS += *it.DurationMS
		}
		r.addDurations(it)
	}
	var outside []*treeNode
	for _, c := range root.children() {
		if c.Kind != "iteration" {
			outside = append(outside, c)
		}
	}
	if rest == (statsTally{}) && len(outside) == 0 && len(root.Records)+root.skipped == 0 {
		return
	}
	r := rs.get(groupNone, 0)
	r.add(rest)
	for _, c := range outside {
		if c.DurationMS != nil {
			r.timeMS += *c.DurationMS
		}
		// Interactions under iterations under these belong to the
		// iterations' rows.
		statsWalk(c, func(n *treeNode) bool {
			if n.Kind == "iteration" {
				return false
			}
			if n.Kind == "interaction" && n.DurationMS != nil {
				r.durs = append(r.durs, *n.DurationMS)
			}
			return true
		})
	}
}

// statsByModel adds a row per model of the LLM calls: records, and scopes
// that counted one themselves, as the actions of slogwf.Transport do. The
// time of a row is its calls' own: a scope's duration, a record's dur.
func statsByModel(root *treeNode, rs *statsRows) {
	add := func(model string, t statsTally, ms *float64) {
		r := rs.get(cmp.Or(model, groupUnknown), 0)
		r.add(t)
		if ms != nil {
			r.timeMS += *ms
			r.durs = append(r.durs, *ms)
		}
	}
	statsWalk(root, func(n *treeNode) bool {
		if model, t, ok := scopeCall(n); ok {
			add(model, t, n.DurationMS)
		}
		for _, rec := range n.Records {
			if model, t, ok := llmCall(rec); ok {
				add(model, t, callMS(rec))
			}
		}
		return true
	})
}

// callMS returns how long the LLM call that the record rec is took, in
// milliseconds: its attribute dur, a time.Duration (nanoseconds in JSON), as
// slogwf.Transport logs a call as a record. It returns nil without one.
func callMS(rec treeRecord) *float64 {
	var attrs struct {
		Dur *float64 `json:"dur"`
	}
	if json.Unmarshal(rec.Attrs, &attrs) != nil || attrs.Dur == nil || *attrs.Dur < 0 {
		return nil
	}
	ms := *attrs.Dur / 1e6
	return &ms
}

// scopeCall reports whether the start or end of scope n counted an LLM
// call: its usage without that of its records and children. It returns the
// model and tally of the call.
func scopeCall(n *treeNode) (model string, t statsTally, ok bool) {
	t = ownUsage(n)
	if t.calls <= 0 {
		return "", t, false
	}
	if n.Status == string(slogwf.StatusFailed) {
		t.errors = 1
	}
	model, _ = n.Attrs["model"].(string)
	return model, t, true
}

// ownUsage returns the usage of n without that of its records and
// children: what its own start and end said.
func ownUsage(n *treeNode) statsTally {
	u := n.Usage
	t := statsTally{calls: max(u.Calls, 0), in: max(u.In, 0), out: max(u.Out, 0), cost: nanoUSD(u.CostUSD)}
	for _, rec := range n.Records {
		if u := rec.Usage; u != nil {
			t.sub(statsTally{calls: max(u.Calls, 0), in: max(u.In, 0), out: max(u.Out, 0), cost: nanoUSD(u.CostUSD)})
		}
	}
	for _, c := range n.children() {
		c := nodeTally(c)
		t.sub(statsTally{calls: c.calls, in: c.in, out: c.out, cost: c.cost})
	}
	return t
}

// llmCall reports whether rec is an LLM call: one the handler counted, as
// its usage says. It returns the model and tally of the call.
func llmCall(rec treeRecord) (model string, t statsTally, ok bool) {
	u := rec.Usage
	if u == nil || u.Calls <= 0 {
		return "", t, false
	}
	t = statsTally{calls: u.Calls, records: 1, in: max(u.In, 0), out: max(u.Out, 0), cost: nanoUSD(u.CostUSD)}
	level, err := slogwf.ParseLevel(rec.Level)
	switch {
	case err != nil:
	case level >= slog.LevelError:
		t.errors = 1
	case level >= slog.LevelWarn:
		t.warnings = 1
	}
	if rec.Semantic {
		t.semantic = 1
	}
	return u.Model, t, true
}

// runStats is the stats command.
func runStats(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("stats", statsHelp)
	by := fs.String("by", "agent", "`GROUP` of the rows: agent, model or iteration")
	asJSON := fs.Bool("json", false, "print one JSON document instead of the tables")
	workflow := fs.String("workflow", "", "sum up "+workflowFlag)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	switch *by {
	case "agent", "model", "iteration":
	default:
		return usageError{fmt.Errorf("-by %s: want agent, model or iteration", strconv.Quote(*by))}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no file")}
	}
	in, err := readInputs("stats", fs.Args(), stdin, stderr, false)
	if err != nil {
		return err
	}
	trees, err := pickTrees(*workflow, in.all(), strings.Join(fs.Args(), " "))
	if err != nil {
		return err
	}
	var stats []*workflowStats
	for _, t := range trees {
		root, err := t.decode(statsRecord)
		if err != nil {
			return err
		}
		stats = append(stats, newWorkflowStats(root, root.Name, *by))
	}
	if len(stats) == 0 {
		return errors.New("no workflow found")
	}
	return writeOutput(stdout, *asJSON, stats, writeStatsJSON, writeStatsText)
}

// statsRecord reports whether stats needs the record r: a record with a
// usage, an LLM call or part of one.
func statsRecord(r *treeRecord) bool { return r.Usage != nil }

// writeStatsText writes the tables of stats, a heading over each.
func writeStatsText(w *bufio.Writer, stats []*workflowStats) {
	for i, s := range stats {
		if i > 0 {
			w.WriteByte('\n')
		}
		dur := "-"
		if s.durationMS != nil {
			dur = formatDuration(*s.durationMS)
		}
		fmt.Fprintf(w, "workflow %s %s  %s  %s\n", printableName(s.name), printableName(s.id), printableName(s.status), dur)

		// Numbers are right-aligned: every cell is, and the group column
		// is padded here to one width, so it stays left-aligned.
		cells := [][]string{{s.by, "calls", "records", "warnings", "semantic", "errors", "in", "out", "cost", "time", "p50", "p95"}}
		for _, r := range append(slices.Clone(s.rows), s.total) {
			cells = append(cells, r.cells())
		}
		width := 0
		for _, c := range cells {
			width = max(width, utf8.RuneCountInString(c[0]))
		}
		tw := tabwriter.NewWriter(w, 0, 0, 0, ' ', tabwriter.AlignRight)
		for _, c := range cells {
			tw.Write([]byte(c[0] + strings.Repeat(" ", width-utf8.RuneCountInString(c[0])) + "\t"))
			for _, cell := range c[1:] {
				tw.Write([]byte("  " + cell + "\t"))
			}
			tw.Write([]byte("\n"))
		}
		tw.Flush() // its errors stay in w, for the caller's Flush
	}
}

// cells returns the cells of r in a table, its group made printable.
func (r *statsRow) cells() []string {
	dur, p50, p95 := "-", "-", "-"
	if v50, v95, ok := r.percentiles(); ok {
		p50, p95 = formatDuration(v50), formatDuration(v95)
	}
	if r.timeMS != 0 || len(r.durs) > 0 || r.group == groupTotal {
		dur = formatDuration(r.timeMS)
	}
	return []string{
		printableName(r.group),
		formatGrouped(r.calls),
		formatGrouped(r.records),
		formatGrouped(r.warnings),
		formatGrouped(r.semantic),
		formatGrouped(r.errors),
		formatGrouped(r.in),
		formatGrouped(r.out),
		formatCost(float64(r.cost) / 1e9),
		dur,
		p50,
		p95,
	}
}

// formatGrouped formats n with thousands separators.
func formatGrouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	b.WriteString(s[:len(s)-len(digits)])
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// statsRowJSON is a row in the output of -json.
type statsRowJSON struct {
	Group    string   `json:"group"`
	Calls    int64    `json:"calls"`
	Records  int64    `json:"records"`
	Warnings int64    `json:"warnings"`
	Semantic int64    `json:"semantic"`
	Errors   int64    `json:"errors"`
	In       int64    `json:"input_tokens"`
	Out      int64    `json:"output_tokens"`
	CostUSD  float64  `json:"cost_usd"`
	TimeMS   float64  `json:"time_ms"`
	P50MS    *float64 `json:"p50_ms"` // null without durations
	P95MS    *float64 `json:"p95_ms"`
}

func (r *statsRow) json() statsRowJSON {
	j := statsRowJSON{
		Group:    r.group,
		Calls:    r.calls,
		Records:  r.records,
		Warnings: r.warnings,
		Semantic: r.semantic,
		Errors:   r.errors,
		In:       r.in,
		Out:      r.out,
		CostUSD:  float64(r.cost) / 1e9,
		TimeMS:   r.timeMS,
	}
	if p50, p95, ok := r.percentiles(); ok {
		j.P50MS, j.P95MS = &p50, &p95
	}
	return j
}

// writeStatsJSON writes stats as one JSON document.
func writeStatsJSON(w *bufio.Writer, stats []*workflowStats) error {
	type workflowJSON struct {
		ID         string         `json:"id"`
		Name       string         `json:"name"`
		Status     string         `json:"status"`
		DurationMS *float64       `json:"duration_ms"`
		By         string         `json:"by"`
		Rows       []statsRowJSON `json:"rows"`
		Total      statsRowJSON   `json:"total"`
	}
	doc := struct {
		Workflows []workflowJSON `json:"workflows"`
	}{Workflows: []workflowJSON{}}
	for _, s := range stats {
		wf := workflowJSON{ID: s.id, Name: s.name, Status: s.status, DurationMS: s.durationMS, By: s.by, Rows: []statsRowJSON{}, Total: s.total.json()}
		for _, r := range s.rows {
			wf.Rows = append(wf.Rows, r.json())
		}
		doc.Workflows = append(doc.Workflows, wf)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err // a sum of huge durations overflows to +Inf
	}
	_, err := w.Write(escapeUnprintable(buf.Bytes()))
	return err
}

// escapeUnprintable escapes the runes of the JSON text j that encoding/json
// leaves as they are but a terminal would act on: DEL, C1 controls, bidi
// overrides, invisible format characters. encoding/json already escapes
// C0 controls and replaces invalid UTF-8, and such runes can only be in
// strings.
func escapeUnprintable(j []byte) []byte {
	var out []byte
	for i := 0; i < len(j); {
		r, size := utf8.DecodeRune(j[i:])
		if r < utf8.RuneSelf && r != 0x7f || strconv.IsPrint(r) || r == utf8.RuneError && size == 1 {
			out = append(out, j[i:i+size]...)
		} else if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	return out
}
