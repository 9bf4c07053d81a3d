package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/slogwf/slogwf"
)

// traceEvent is one event of Chrome's Trace Event Format. Times are in
// microseconds since the earliest time of the trace, written with
// nanosecond digits, so that a reader's ts+dur are exactly ours.
type traceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	TS   json.Number    `json:"ts,omitempty"`
	Dur  json.Number    `json:"dur,omitempty"`
	PID  int            `json:"pid"`
	TID  int            `json:"tid"`
	S    string         `json:"s,omitempty"` // scope of an instant event
	Args map[string]any `json:"args,omitempty"`
}

// micros formats ns nanoseconds as microseconds.
func micros(ns int64) json.Number {
	return json.Number(strconv.FormatFloat(float64(ns)/1e3, 'f', -1, 64))
}

// writeChromeTrace writes the workflows of trees as one trace: a process
// per workflow, a thread lane per agent, on which the complete events of
// scopes always nest, so that parallel scopes of one agent take lanes of
// their own.
func writeChromeTrace(w io.Writer, trees []treeDoc) error {
	var roots []*treeNode
	// The origin is the earliest time of all, that no event comes before:
	// a start, or else an end or a record, which come first when the
	// journal of an earlier start is not read (a child process's alone).
	origin := time.Time{}
	earliest := func(s string) {
		if at, ok := chromeTime(s); ok && (origin.IsZero() || at.Before(origin)) {
			origin = at
		}
	}
	for _, t := range trees {
		root, err := t.decode(func(r *treeRecord) bool { return r.Usage != nil || chromeCategory(*r) != "" })
		if err != nil {
			return err
		}
		roots = append(roots, root)
		statsWalk(root, func(n *treeNode) bool {
			earliest(n.Start)
			earliest(n.End)
			for _, r := range n.Records {
				earliest(r.Time)
			}
			return true
		})
	}
	var events []traceEvent
	for i, root := range roots {
		events = append(events, chromeProcess(root, i+1, origin)...)
	}

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `{"otherData":{"generator":"slogwf","time_origin":%q},"displayTimeUnit":"ms","traceEvents":[`, origin.UTC().Format(time.RFC3339Nano))
	for i, ev := range events {
		j, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		bw.Write(j)
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// chromeSpan is a scope on the time line, in nanoseconds since the origin.
type chromeSpan struct {
	n          *treeNode
	agent      string // of the innermost interaction; "" outside any
	parent     *chromeSpan
	depth      int
	start, end int64
	started    bool // false for a scope whose start no journal held
	lane       *chromeLane
}

// chromeLane is a thread of the trace: the spans on it nest, and stack
// holds those open at the time being placed.
type chromeLane struct {
	tid   int
	name  string
	stack []*chromeSpan
}

// fits reports whether s nests in the lane: the lane is free, or the span
// open on it holds s and is a scope above s, so that a lane never shows a
// scope inside another that is not its parent. Spans are placed in the
// order of their starts: those that ended by s's start leave the stack.
func (l *chromeLane) fits(s *chromeSpan) bool {
	for len(l.stack) > 0 && l.stack[len(l.stack)-1].end <= s.start {
		l.stack = l.stack[:len(l.stack)-1]
	}
	if len(l.stack) == 0 {
		return true
	}
	top := l.stack[len(l.stack)-1]
	if top.end < s.end {
		return false
	}
	for p := s.parent; p != nil; p = p.parent {
		if p == top {
			return true
		}
	}
	return false
}

// chromeProcess returns the events of the workflow root, as process pid.
func chromeProcess(root *treeNode, pid int, origin time.Time) []traceEvent {
	at := func(s string) (int64, bool) {
		t, ok := chromeTime(s)
		return int64(t.Sub(origin)), ok
	}
	var spans []*chromeSpan
	var walk func(n *treeNode, parent *chromeSpan, agent string, depth int)
	walk = func(n *treeNode, parent *chromeSpan, agent string, depth int) {
		if n.Kind == "interaction" {
			agent = n.Agent
		}
		s := &chromeSpan{n: n, agent: agent, parent: parent, depth: depth}
		s.start, s.started = at(n.Start)
		if end, ok := at(n.End); ok {
			s.end = end
		} else if s.started && n.DurationMS != nil {
			s.end = s.start + int64(math.Round(*n.DurationMS*1e6))
		}
		if !s.started {
			// What of the scope has no time of its own (its records
			// without one, its failure, its usage) goes at its end, or
			// else at the origin.
			s.start = s.end
		}
		s.end = max(s.end, s.start)
		spans = append(spans, s)
		for _, c := range n.children() {
			walk(c, s, agent, depth+1)
		}
	}
	walk(root, nil, "", 0)

	// Lanes: the workflow's first, then each agent's in the order its
	// first scope starts; a scope goes on its parent's lane when it nests
	// there, else on the first lane of its agent where it does.
	placed := slices.Clone(spans)
	slices.SortStableFunc(placed, func(a, b *chromeSpan) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end), cmp.Compare(a.depth, b.depth))
	})
	var lanes []*chromeLane
	byAgent := map[string][]*chromeLane{}
	for _, s := range placed {
		if !s.started {
			continue
		}
		if p := s.parent; p != nil && p.lane != nil && p.agent == s.agent && p.lane.fits(s) {
			s.lane = p.lane
		}
		for _, l := range byAgent[s.agent] {
			if s.lane == nil && l.fits(s) {
				s.lane = l
			}
		}
		if s.lane == nil {
			name := cmp.Or(s.agent, "workflow")
			if k := len(byAgent[s.agent]); k > 0 {
				name += " (" + strconv.Itoa(k+1) + ")"
			}
			s.lane = &chromeLane{tid: len(lanes) + 1, name: name}
			lanes = append(lanes, s.lane)
			byAgent[s.agent] = append(byAgent[s.agent], s.lane)
		}
		s.lane.stack = append(s.lane.stack, s)
	}
	// A scope never started has no event; its records go on the lane of
	// the nearest scope above that has one.
	laneOf := func(s *chromeSpan) int {
		for ; s != nil; s = s.parent {
			if s.lane != nil {
				return s.lane.tid
			}
		}
		return 1
	}

	events := []traceEvent{
		{Name: "process_name", Ph: "M", PID: pid, Args: map[string]any{"name": "workflow " + root.Name + " " + root.ID}},
		{Name: "process_sort_index", Ph: "M", PID: pid, Args: map[string]any{"sort_index": pid}},
	}
	for _, l := range lanes {
		events = append(events,
			traceEvent{Name: "thread_name", Ph: "M", PID: pid, TID: l.tid, Args: map[string]any{"name": l.name}},
			traceEvent{Name: "thread_sort_index", Ph: "M", PID: pid, TID: l.tid, Args: map[string]any{"sort_index": l.tid}})
	}
	var instants []traceEvent
	type usageAt struct {
		at int64
		u  statsTally // its tokens and cost
	}
	var usages []usageAt
	for _, s := range placed {
		n, tid := s.n, laneOf(s)
		if s.started {
			events = append(events, traceEvent{
				Name: chromeName(n), Cat: n.Kind, Ph: "X",
				TS: micros(s.start), Dur: micros(s.end - s.start),
				PID: pid, TID: tid, Args: chromeArgs(n),
			})
		}
		if n.Status == string(slogwf.StatusFailed) {
			instants = append(instants, traceEvent{
				Name: chromeShort("✗ " + cmp.Or(n.Error, chromeName(n)+" failed")), Cat: "error", Ph: "i", S: "t",
				TS: micros(s.end), PID: pid, TID: tid,
				Args: map[string]any{"scope": chromeName(n), "error": n.Error},
			})
		}
		if own := ownUsage(n); own.in != 0 || own.out != 0 || own.cost != 0 {
			usages = append(usages, usageAt{s.end, own})
		}
		for _, r := range n.Records {
			t, ok := at(r.Time)
			if !ok {
				t = s.start
			}
			if u := r.Usage; u != nil {
				usages = append(usages, usageAt{t, statsTally{in: max(u.In, 0), out: max(u.Out, 0), cost: nanoUSD(u.CostUSD)}})
			}
			if cat := chromeCategory(r); cat != "" {
				args := map[string]any{"level": r.Level, "msg": r.Msg, "scope": chromeName(n)}
				if len(r.Attrs) > 0 {
					args["attrs"] = r.Attrs
				}
				instants = append(instants, traceEvent{
					Name: chromeShort(r.Msg), Cat: cat, Ph: "i", S: "t",
					TS: micros(t), PID: pid, TID: tid, Args: args,
				})
			}
		}
	}
	events = append(events, instants...)

	// Two counter tracks, of the tokens and the cost so far, saturated as
	// stats sums them, whatever a tree file says.
	slices.SortStableFunc(usages, func(a, b usageAt) int { return cmp.Compare(a.at, b.at) })
	var sum statsTally
	for _, u := range usages {
		sum.add(u.u)
		events = append(events,
			traceEvent{Name: "tokens", Ph: "C", TS: micros(u.at), PID: pid, Args: map[string]any{"tokens": saturated(sum.in, sum.out)}},
			traceEvent{Name: "cost (USD)", Ph: "C", TS: micros(u.at), PID: pid, Args: map[string]any{"cost_usd": float64(sum.cost) / 1e9}})
	}
	return events
}

// chromeTime returns the time s, and whether it is one: the zero time
// (year 1) is none, as slog means it, and would put every other time
// beyond what a time line holds.
func chromeTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil && !t.IsZero()
}

// chromeCategory returns the category of the instant event of record r:
// semantic, error or warning; "" for a record that has none.
func chromeCategory(r treeRecord) string {
	level, err := slogwf.ParseLevel(r.Level)
	switch {
	case r.Semantic:
		return "semantic"
	case err != nil:
		return ""
	case level >= slog.LevelError:
		return "error"
	case level >= slog.LevelWarn:
		return "warning"
	}
	return ""
}

// chromeName returns the name of the event of scope n.
func chromeName(n *treeNode) string {
	switch n.Kind {
	case "iteration":
		return "iteration " + strconv.FormatInt(n.Number, 10)
	case "interaction":
		return n.Agent
	}
	return n.Name
}

// chromeShort returns s cut to a length that a time line can show; the
// whole text is in the event's args.
func chromeShort(s string) string {
	const max = 120
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// chromeArgs returns the args of the complete event of scope n.
func chromeArgs(n *treeNode) map[string]any {
	args := map[string]any{
		"id":            n.ID,
		"status":        n.Status,
		"llm_calls":     n.Usage.Calls,
		"input_tokens":  n.Usage.In,
		"output_tokens": n.Usage.Out,
		"total_tokens":  n.Usage.TotalTokens,
		"cost_usd":      n.Usage.CostUSD,
		"records":       n.Counts.Records,
		"warnings":      n.Counts.Warnings,
		"semantic":      n.Counts.Semantic,
		"errors":        n.Counts.Errors,
	}
	if n.Error != "" {
		args["error"] = n.Error
	}
	return args
}
