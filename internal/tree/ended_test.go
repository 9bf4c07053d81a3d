package tree

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// takeLines is a workflow with a call, a tool, records, a failed
// interaction whose action it leaves open, and an action that never ends.
var takeLines = []string{
	`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"research","attrs":{"user":"ana","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}`,
	`{"ev":"start","wf":"w","id":"i","parent":"w","kind":"iteration","time":"2026-01-01T00:00:01.000000000Z","number":1}`,
	`{"ev":"start","wf":"w","id":"p","parent":"i","kind":"interaction","time":"2026-01-01T00:00:02.000000000Z","agent":"planner","input":"plan"}`,
	`{"ev":"start","wf":"w","id":"c","parent":"p","kind":"action","time":"2026-01-01T00:00:03.000000000Z","name":"llm.chat","attrs":{"provider":"openai"}}`,
	`{"ev":"end","wf":"w","id":"c","time":"2026-01-01T00:00:04.000000000Z","status":"completed","attrs":{"model":"gpt-4o"},"usage":{"llm_calls":1,"input_tokens":10,"output_tokens":5,"cost_usd":0.25,"model":"gpt-4o"}}`,
	`{"ev":"record","wf":"w","scope":"p","time":"2026-01-01T00:00:05.000000000Z","level":"WARN","msg":"second","semantic":true}`,
	`{"ev":"record","wf":"w","scope":"p","time":"2026-01-01T00:00:04.500000000Z","level":"INFO","msg":"first"}`,
	`{"ev":"end","wf":"w","id":"p","time":"2026-01-01T00:00:06.000000000Z","status":"completed","output":"ok"}`,
	`{"ev":"start","wf":"w","id":"k","parent":"i","kind":"interaction","time":"2026-01-01T00:00:07.000000000Z","agent":"worker"}`,
	`{"ev":"start","wf":"w","id":"t","parent":"k","kind":"action","time":"2026-01-01T00:00:08.000000000Z","name":"search"}`,
	`{"ev":"end","wf":"w","id":"k","time":"2026-01-01T00:00:09.000000000Z","status":"failed","error":"gave up"}`,
	`{"ev":"end","wf":"w","id":"t","time":"2026-01-01T00:00:10.000000000Z","status":"completed"}`,
	`{"ev":"end","wf":"w","id":"i","time":"2026-01-01T00:00:11.000000000Z","status":"completed"}`,
	`{"ev":"start","wf":"w","id":"x","parent":"w","kind":"action","time":"2026-01-01T00:00:12.000000000Z","name":"cleanup"}`,
	`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:13.000000000Z","status":"completed"}`,
}

// takeLive applies the lines in order as the live handler does: it takes
// the scope of each end as it comes, and everything at the workflow's.
func takeLive(t *testing.T, lines []string) (taken []*Ended, at map[string]int) {
	tr := NewTree("w")
	at = map[string]int{}
	for i, line := range lines {
		e, err := Decode([]byte(line))
		require.NoError(t, err, line)
		tr.Apply(e)
		if e.Type == End {
			tr.Take(e.ID, e.ID == "w", func(s *Ended) {
				taken = append(taken, s)
				at[s.ID] = i
			})
		}
	}
	return taken, at
}

func byID(ss []*Ended) map[string]*Ended {
	m := map[string]*Ended{}
	for _, s := range ss {
		m[s.ID] = s
	}
	return m
}

func TestTakePassesEachScopeOnceWhenItEnds(t *testing.T) {
	taken, at := takeLive(t, takeLines)
	ids := make([]string, len(taken))
	for i, s := range taken {
		ids[i] = s.ID
	}
	assert.ElementsMatch(t, []string{"w", "i", "p", "c", "k", "t", "x"}, ids, "each scope once")
	assert.Equal(t, 4, at["c"], "the call at its end")
	assert.Equal(t, 7, at["p"])
	assert.Equal(t, 10, at["t"], "an action ends with the interaction that ended first")
	assert.Equal(t, 14, at["x"], "a scope that never ends, at the workflow's end")
}

func TestTakenScopesAreWhatTheTreeFileSays(t *testing.T) {
	s := byID(func() []*Ended { taken, _ := takeLive(t, takeLines); return taken }())

	assert.Equal(t, Ended{
		Workflow: "w", TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		Kind: Action, ID: "c", Parent: "p", Name: "llm.chat",
		Start: "2026-01-01T00:00:03.000000000Z", End: "2026-01-01T00:00:04.000000000Z", Status: StatusCompleted,
		StartAttrs: []byte(`{"provider":"openai"}`), EndAttrs: []byte(`{"model":"gpt-4o"}`),
		Own:      Usage{Calls: 1, In: 10, Out: 5, Cost: ToNano(0.25), Model: "gpt-4o"},
		Total:    Usage{Calls: 1, In: 10, Out: 5, Cost: ToNano(0.25)},
		Provider: "openai",
	}, *s["c"])
	assert.Equal(t, `{"provider":"openai","model":"gpt-4o"}`, string(s["c"].Attrs()))

	p := s["p"]
	assert.Equal(t, Counts{Records: 2, Warnings: 1, Semantic: 1}, p.Counts)
	assert.Equal(t, Usage{Calls: 1, In: 10, Out: 5, Cost: ToNano(0.25)}, p.Total, "the subtree's")
	assert.Zero(t, p.Own.Calls, "its own")
	assert.Equal(t, "openai", p.Provider, "its call's")
	assert.Equal(t, `"plan"`, string(p.Input))
	assert.Equal(t, `"ok"`, string(p.Output))
	var msgs []string
	for _, r := range p.SortedRecords() {
		_, msg, _ := strings.Cut(string(r), `"msg":"`)
		msgs = append(msgs, msg[:strings.IndexByte(msg, '"')])
	}
	assert.Equal(t, []string{"first", "second"}, msgs, "by time")

	assert.Equal(t, StatusFailed, s["k"].Status)
	assert.Equal(t, "gave up", s["k"].Error)
	assert.Equal(t, Counts{Errors: 1}, s["k"].Counts, "a failed scope counts as an error")
	assert.Equal(t, StatusIncomplete, s["t"].Status, "ended by its parent first")
	assert.Equal(t, "2026-01-01T00:00:09.000000000Z", s["t"].End, "at its parent's end")
	assert.Equal(t, StatusIncomplete, s["x"].Status)
	assert.Equal(t, "2026-01-01T00:00:13.000000000Z", s["x"].End, "at the workflow's end")
	assert.Equal(t, int64(1), s["i"].Number)
	assert.Equal(t, "planner", p.Name)
	assert.Empty(t, s["w"].Parent)
	assert.Equal(t, "research", s["w"].Name)
}

func TestAReplayInAnyOrderTakesWhatTheLiveTreeTook(t *testing.T) {
	live, _ := takeLive(t, takeLines)
	want := byID(live)
	for i := range 20 {
		order := slices.Clone(takeLines)
		rand.New(rand.NewPCG(uint64(i), 2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		b := NewBuilder()
		for _, l := range order {
			require.NoError(t, b.Add([]byte(l)))
		}
		var replayed []*Ended
		b.Tree("w").Take("w", true, func(s *Ended) { replayed = append(replayed, s) })
		got := byID(replayed)
		require.Len(t, got, len(want))
		for id, s := range want {
			assert.Equal(t, s.Attrs(), got[id].Attrs(), id)
			assert.Equal(t, s.SortedRecords(), got[id].SortedRecords(), id)
			a, b := *s, *got[id]
			a.Records, b.Records = nil, nil             // in the order they came
			a.records, b.records = records{}, records{} // likewise
			a.unsorted, b.unsorted = false, false       // whether that was the tree file's
			assert.Equal(t, a, b, "%s in the order %v", id, order)
		}
	}
}

func TestTakeLeavesRunningScopesUnlessFinal(t *testing.T) {
	tr := NewTree("w")
	for _, line := range takeLines[:5] { // the call ended; the rest runs
		e, err := Decode([]byte(line))
		require.NoError(t, err)
		tr.Apply(e)
	}
	var ids []string
	tr.Take("w", false, func(s *Ended) { ids = append(ids, s.ID) })
	assert.Equal(t, []string{"c"}, ids)
	ids = nil
	tr.Take("w", false, func(s *Ended) { ids = append(ids, s.ID) })
	assert.Empty(t, ids, "taken once")
	tr.Take("w", true, func(s *Ended) {
		ids = append(ids, s.ID)
		assert.Equal(t, StatusIncomplete, s.Status, s.ID)
		assert.Equal(t, "2026-01-01T00:00:04.000000000Z", s.End, "%s: at the last event", s.ID)
	})
	assert.Equal(t, []string{"p", "i", "w"}, ids, "children first")
}

func TestScopesOfAnotherProcessHangWhereTheirParentsSay(t *testing.T) {
	tr := NewTree("w") // a child process's: the workflow and the interaction are the parent's
	for _, line := range []string{
		`{"ev":"start","wf":"w","id":"a","parent":"p","kind":"action","time":"2026-01-01T00:00:03.000000000Z","name":"search"}`,
		`{"ev":"record","wf":"w","scope":"p","time":"2026-01-01T00:00:04.000000000Z","level":"INFO","msg":"in the parent's scope"}`,
		`{"ev":"end","wf":"w","id":"a","time":"2026-01-01T00:00:05.000000000Z","status":"completed"}`,
	} {
		e, err := Decode([]byte(line))
		require.NoError(t, err)
		tr.Apply(e)
	}
	var taken []*Ended
	tr.Take("w", true, func(s *Ended) { taken = append(taken, s) })
	require.Len(t, taken, 1, "only the scopes started here")
	assert.Equal(t, "p", taken[0].Parent)
	assert.Equal(t, StatusCompleted, taken[0].Status)
}

// A scope's parent is where the tree file hangs it: the workflow for the
// scopes of a loop of parents, which only a damaged journal holds, and
// for those at the cut every 100 levels; live and from the journal alike.
func TestTakenScopesHangWhereTheTreeFileHangsThem(t *testing.T) {
	start := func(id, parent string, s int) string {
		return fmt.Sprintf(`{"ev":"start","wf":"w","id":%q,"parent":%q,"kind":"action","time":"2026-01-01T00:00:%02d.000000000Z","name":%q}`, id, parent, s, id)
	}
	end := func(id string, s int) string {
		return fmt.Sprintf(`{"ev":"end","wf":"w","id":%q,"time":"2026-01-01T00:00:%02d.000000000Z","status":"completed"}`, id, s)
	}
	workflow := []string{`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"n"}`}
	wfEnd := `{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:59.000000000Z","status":"completed"}`

	loop := slices.Concat(workflow, []string{start("a", "b", 1), start("b", "a", 2), start("c", "a", 3),
		end("c", 4), end("b", 5), end("a", 6), wfEnd})
	var deep []string
	for i := 1; i <= 102; i++ {
		deep = append(deep, start(fmt.Sprint("d", i), fmt.Sprint("d", i-1), 1))
	}
	deep[0] = start("d1", "w", 1)
	for i := 102; i >= 1; i-- {
		deep = append(deep, end(fmt.Sprint("d", i), 2))
	}
	deep = slices.Concat(workflow, deep, []string{wfEnd})

	tests := []struct {
		name    string
		lines   []string
		parents map[string]string
	}{
		{"a loop", loop, map[string]string{"a": "w", "b": "w", "c": "a"}},
		{"102 levels", deep, map[string]string{"d1": "w", "d2": "d1", "d100": "d99", "d101": "w", "d102": "d101"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live, _ := takeLive(t, tt.lines)
			b := NewBuilder()
			for _, l := range tt.lines {
				require.NoError(t, b.Add([]byte(l)))
			}
			var replayed []*Ended
			b.Tree("w").Take("w", true, func(s *Ended) { replayed = append(replayed, s) })
			for _, taken := range [][]*Ended{live, replayed} {
				got := byID(taken)
				for id, parent := range tt.parents {
					require.Contains(t, got, id)
					assert.Equal(t, parent, got[id].Parent, id)
				}
			}
		})
	}
}

// parentLines are a parent process's lines: its record in the scope s of
// its child names that scope by ID. childLines are the child's, which the
// parent merges: a record in the parent's interaction, a sub-agent s, and
// an action it leaves open.
var (
	parentLines = []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"parent"}`,
		`{"ev":"start","wf":"w","id":"k","parent":"w","kind":"interaction","time":"2026-01-01T00:00:01.000000000Z","agent":"worker"}`,
		`{"ev":"record","wf":"w","scope":"k","time":"2026-01-01T00:00:02.000000000Z","level":"INFO","msg":"parent call","usage":{"llm_calls":1,"input_tokens":1,"output_tokens":1}}`,
		`{"ev":"record","wf":"w","scope":"s","time":"2026-01-01T00:00:06.000000000Z","level":"WARN","msg":"about the child's sub-agent"}`,
		`{"ev":"end","wf":"w","id":"k","time":"2026-01-01T00:00:08.000000000Z","status":"completed"}`,
		`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:09.000000000Z","status":"completed"}`,
	}
	childLines = []string{
		`{"ev":"record","wf":"w","scope":"k","time":"2026-01-01T00:00:03.000000000Z","level":"INFO","msg":"child call","usage":{"llm_calls":1,"input_tokens":100,"output_tokens":10,"model":"m"}}`,
		`{"ev":"start","wf":"w","id":"s","parent":"k","kind":"interaction","time":"2026-01-01T00:00:04.000000000Z","agent":"sub-agent"}`,
		`{"ev":"record","wf":"w","scope":"s","time":"2026-01-01T00:00:05.000000000Z","level":"ERROR","msg":"in the sub-agent","usage":{"llm_calls":1,"input_tokens":200,"output_tokens":20}}`,
		`{"ev":"end","wf":"w","id":"s","time":"2026-01-01T00:00:07.000000000Z","status":"completed"}`,
		`{"ev":"start","wf":"w","id":"o","parent":"k","kind":"action","time":"2026-01-01T00:00:07.500000000Z","name":"left open"}`,
	}
)

// Take passes the scopes Apply started, with what Apply added, whenever
// Merge adds another process's lines: before any of them, between any
// two, or after the last; the tree file has everything, as a replay of
// all the lines builds it.
func TestTakePassesWhatApplyAddedWhateverMergeAdded(t *testing.T) {
	alone, _ := takeLive(t, parentLines)
	want := byID(alone)
	require.Len(t, want, 2, "the parent's scopes")
	assert.Equal(t, Counts{Records: 1}, want["k"].Counts)
	assert.Equal(t, Usage{Calls: 1, In: 1, Out: 1}, want["k"].Total)
	assert.Equal(t, Counts{Records: 2, Warnings: 1}, want["w"].Counts, "the record in a scope not started here is the workflow's")

	b := NewBuilder()
	for _, l := range slices.Concat(parentLines, childLines) {
		require.NoError(t, b.Add([]byte(l)))
	}
	wantFile := string(b.Tree("w").AppendJSON(nil, true))

	for at := range len(parentLines) + 1 {
		t.Run(fmt.Sprint("merged before line ", at), func(t *testing.T) {
			tr := NewTree("w")
			var taken []*Ended
			add := func(lines []string, merge bool) {
				for _, line := range lines {
					e, err := Decode([]byte(line))
					require.NoError(t, err, line)
					if merge {
						tr.Merge(e)
						continue
					}
					tr.Apply(e)
					if e.Type == End {
						tr.Take(e.ID, e.ID == "w", func(s *Ended) { taken = append(taken, s) })
					}
				}
			}
			add(parentLines[:at], false)
			add(childLines, true)
			add(parentLines[at:], false)

			got := byID(taken)
			require.Len(t, got, len(want), "no scope of the child")
			for id, s := range want {
				assert.Equal(t, s.SortedRecords(), got[id].SortedRecords(), id)
				a, b := *s, *got[id]
				a.Records, b.Records = nil, nil
				assert.Equal(t, a, b, id)
			}
			assert.Equal(t, wantFile, string(tr.AppendJSON(nil, true)))
		})
	}
}
