package tree

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/jsonenc"
)

// afterParentLines are the lines of a workflow whose interaction p passes
// itself on to a child process and ends, with its iteration, at 3 s; the
// child starts its interaction c under p at 5 s, with a call and a tool
// that fails, and ends them, unless open; the workflow ends at wfEnd
// seconds. The child's clock runs skew ahead of the parent's.
func afterParentLines(wfEnd float64, skew time.Duration, open bool) []string {
	child := func(s float64) string { return timeAt(s + skew.Seconds()) }
	lines := []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"` + timeAt(0) + `","name":"xproc"}`,
		`{"ev":"start","wf":"w","id":"i","parent":"w","kind":"iteration","time":"` + timeAt(1) + `","number":1}`,
		`{"ev":"start","wf":"w","id":"p","parent":"i","kind":"interaction","time":"` + timeAt(2) + `","agent":"parent-agent"}`,
		`{"ev":"end","wf":"w","id":"p","time":"` + timeAt(3) + `","status":"completed"}`,
		`{"ev":"end","wf":"w","id":"i","time":"` + timeAt(4) + `","status":"completed"}`,
		`{"ev":"end","wf":"w","id":"w","time":"` + timeAt(wfEnd) + `","status":"completed"}`,
		`{"ev":"start","wf":"w","id":"c","parent":"p","kind":"interaction","time":"` + child(5) + `","agent":"child-agent"}`,
		`{"ev":"start","wf":"w","id":"llm","parent":"c","kind":"action","time":"` + child(6) + `","name":"llm","attrs":{"model":"gpt-4o-mini"}}`,
		`{"ev":"start","wf":"w","id":"tool","parent":"c","kind":"action","time":"` + child(8) + `","name":"grep"}`,
		`{"ev":"record","wf":"w","scope":"c","time":"` + child(8.5) + `","level":"INFO","msg":"child working"}`,
	}
	if open {
		return lines
	}
	return append(lines,
		`{"ev":"end","wf":"w","id":"llm","time":"`+child(7)+`","status":"completed","usage":{"llm_calls":1,"input_tokens":100,"output_tokens":20,"model":"gpt-4o-mini"}}`,
		`{"ev":"end","wf":"w","id":"tool","time":"`+child(9)+`","status":"failed","error":"tool broke"}`,
		`{"ev":"end","wf":"w","id":"c","time":"`+child(10)+`","status":"completed"}`,
	)
}

// timeAt returns the time s seconds into 2026, as the tree file writes it.
func timeAt(s float64) string {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second))).Format(jsonenc.TimeLayout)
}

// fileNode is a node of a tree file, as far as how it ended goes.
type fileNode struct {
	ID, Status, Start, End, Error string
	DurationMS                    float64 `json:"duration_ms"`
	Iterations, Interactions      []fileNode
	Actions                       []fileNode
}

func (n fileNode) byID(m map[string]fileNode) map[string]fileNode {
	m[n.ID] = n
	for _, kids := range [][]fileNode{n.Iterations, n.Interactions, n.Actions} {
		for _, c := range kids {
			c.byID(m)
		}
	}
	return m
}

// endings returns, by ID, the scopes of workflow w as its tree file shows
// them and as Take passes them, final.
func endings(t *testing.T, b *Builder) (map[string]fileNode, map[string]*Ended) {
	var root fileNode
	require.NoError(t, json.Unmarshal(b.JSON("w"), &root))
	taken := map[string]*Ended{}
	b.Tree("w").Take("w", true, func(e *Ended) { taken[e.ID] = e })
	return root.byID(map[string]fileNode{}), taken
}

// An end closes the scopes below that were open then: not one that a
// child process started after it. Such a scope keeps the end, status and
// error its own end line says, in the tree file and in what Take passes
// to the export; and one that never ended is incomplete no earlier than
// its start. No scope ends before it starts.
func TestAScopeStartedAfterTheScopesAboveEndedKeepsItsOwnEnd(t *testing.T) {
	type ended struct{ status, end, err string }
	own := map[string]ended{
		"c":    {StatusCompleted, timeAt(10), ""},
		"llm":  {StatusCompleted, timeAt(7), ""},
		"tool": {StatusFailed, timeAt(9), "tool broke"},
	}
	tests := []struct {
		name  string
		lines []string
		want  map[string]ended
	}{
		{"the workflow waits for the child", afterParentLines(11, 0, false), own},
		{"the workflow ends before the child starts", afterParentLines(4.5, 0, false), own},
		{"the child's clock runs ahead", afterParentLines(11, 10*time.Second, false), map[string]ended{
			"c":    {StatusCompleted, timeAt(20), ""},
			"llm":  {StatusCompleted, timeAt(17), ""},
			"tool": {StatusFailed, timeAt(19), "tool broke"},
		}},
		{"the child never ends its scopes, the workflow ends after it starts them", afterParentLines(11, 0, true), map[string]ended{
			"c":    {StatusIncomplete, timeAt(11), ""},
			"llm":  {StatusIncomplete, timeAt(11), ""},
			"tool": {StatusIncomplete, timeAt(11), ""},
		}},
		{"the child never ends its scopes, the workflow ends before it starts them", afterParentLines(4.5, 0, true), map[string]ended{
			"c":    {StatusIncomplete, timeAt(8.5), ""},
			"llm":  {StatusIncomplete, timeAt(8.5), ""},
			"tool": {StatusIncomplete, timeAt(8.5), ""},
		}},
		// By the clocks, c started before p ended, and the call before i
		// ended; the tool started after both.
		{"the child's clock runs behind", afterParentLines(11, -2500*time.Millisecond, false), map[string]ended{
			"c":    {StatusIncomplete, timeAt(3), ""},
			"llm":  {StatusIncomplete, timeAt(4), ""},
			"tool": {StatusFailed, timeAt(6.5), "tool broke"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder()
			last := ""
			for _, l := range tt.lines {
				e, err := Decode([]byte(l))
				require.NoError(t, err, l)
				last = max(last, e.Time)
				fresh := b.Apply(e)
				if e.Type == End && tt.want[e.ID].status != StatusIncomplete {
					assert.True(t, fresh, "%s: its end is not late", e.ID)
				}
			}
			file, taken := endings(t, b)
			for id, n := range file {
				end := n.End
				if end == "" {
					end = last // a scope that never ended runs to the last event
				}
				assert.LessOrEqual(t, n.Start, end, "%s ends no earlier than it starts", id)
				assert.GreaterOrEqual(t, n.DurationMS, 0.0, id)
				require.NotNil(t, taken[id], id)
				assert.Equal(t, end, taken[id].End, "%s: Take passes the tree file's end", id)
				if want, ok := tt.want[id]; ok {
					assert.Equal(t, want, ended{n.Status, end, n.Error}, "%s in the tree file", id)
					assert.Equal(t, want, ended{taken[id].Status, taken[id].End, taken[id].Error}, "%s as Take passes it", id)
				}
			}
			assert.Equal(t, StatusCompleted, file["p"].Status, "the parent's interaction keeps its end")
			assert.Equal(t, timeAt(3), file["p"].End)
		})
	}
}

// A clock set back between a scope's start and its end gives an end line
// timed before the start: the scope ends as it starts, with its own
// status, and the scopes it holds are not closed by that end.
func TestAScopeWhoseEndLineIsTimedBeforeItsStartEndsAsItStarts(t *testing.T) {
	b := NewBuilder()
	for _, l := range []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"set back"}`,
		`{"ev":"start","wf":"w","id":"a","parent":"w","kind":"interaction","time":"2026-01-01T00:00:05Z","agent":"a"}`,
		`{"ev":"start","wf":"w","id":"t","parent":"a","kind":"action","time":"2026-01-01T00:00:06Z","name":"tool"}`,
		`{"ev":"end","wf":"w","id":"t","time":"2026-01-01T00:00:02Z","status":"failed","error":"broke"}`,
		`{"ev":"end","wf":"w","id":"a","time":"2026-01-01T00:00:03Z","status":"completed"}`,
		`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:04Z","status":"completed"}`,
	} {
		require.NoError(t, b.Add([]byte(l)))
	}
	file, taken := endings(t, b)
	for id, want := range map[string]struct{ status, end string }{
		"w": {StatusCompleted, timeAt(4)},
		"a": {StatusCompleted, timeAt(5)},
		"t": {StatusFailed, timeAt(6)},
	} {
		assert.Equal(t, want.status, file[id].Status, id)
		assert.Equal(t, want.end, file[id].End, id)
		assert.Equal(t, want.end, taken[id].End, id)
		assert.Equal(t, want.status, taken[id].Status, id)
	}
}
