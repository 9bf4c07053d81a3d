package tree

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A line skipped counts as lost in its workflow, when a line read before
// or after names it, and otherwise in every workflow of its journal; it
// makes no workflow of its own. Lines added one by one count as the journal read
// whole.
func TestLinesAddedOneByOneGiveTheTreesOfTheJournalReadWhole(t *testing.T) {
	start := func(wf string) string {
		return `{"ev":"start","wf":"` + wf + `","id":"` + wf + `","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"n"}` + "\n"
	}
	end := func(wf string) string {
		return `{"ev":"end","wf":"` + wf + `","id":"` + wf + `","time":"2026-01-01T00:00:01Z","status":"completed"}` + "\n"
	}
	tests := []struct {
		name    string
		journal string
		dropped map[string]int64
	}{
		{"a line that names no workflow, before the workflows", "{not json}\n" + start("a") + start("b") + end("a") + end("b"),
			map[string]int64{"a": 1, "b": 1}},
		{"a line that names no workflow, between them", start("a") + "{not json}\n" + start("b") + end("a") + end("b"),
			map[string]int64{"a": 1, "b": 1}},
		{"a line of a workflow read that is not an event", start("a") + start("b") + `{"ev":"end","wf":"b",}` + "\n" + end("a"),
			map[string]int64{"a": 0, "b": 1}},
		{"a line of a workflow not read yet, before it", start("a") + `{"ev":"end","wf":"b",}` + "\n" + start("b") + end("a"),
			map[string]int64{"a": 0, "b": 1}},
		{"a torn last line", start("a") + end("a") + `{"ev":"rec`, map[string]int64{"a": 1}},
		{"the torn start of a workflow not read", start("a") + end("a") + `{"ev":"start","wf":"c","id":"c","kind":"workflow","ti`,
			map[string]int64{"a": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole := NewBuilder()
			require.NoError(t, whole.ReadJournal(strings.NewReader(tt.journal), "j.jsonl", func(error) {}))
			lines := NewBuilder()
			for l := range strings.Lines(tt.journal) {
				_, _ = lines.AddLine([]byte(l), "j.jsonl", !strings.HasSuffix(l, "\n"))
			}
			require.Equal(t, slices.Sorted(maps.Keys(tt.dropped)), whole.Workflows(), "a line skipped makes no workflow")
			require.Equal(t, whole.Workflows(), lines.Workflows())
			for wf, n := range tt.dropped {
				assert.Equal(t, n, whole.Tree(wf).loss.Dropped, wf)
				assert.Equal(t, string(whole.JSON(wf)), string(lines.JSON(wf)), wf)
			}
		})
	}
}

func TestAForgottenWorkflowTakesNoMoreLines(t *testing.T) {
	b := NewBuilder()
	line := []byte(`{"ev":"start","wf":"a","id":"a","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"n"}` + "\n")
	wf, err := b.AddLine(line, "j.jsonl", false)
	require.NoError(t, err)
	require.Equal(t, "a", wf)
	b.Forget("a")
	assert.Empty(t, b.Workflows())
	assert.Empty(t, b.followed, "nothing kept of its journal")

	wf, err = b.AddLine(line, "j.jsonl", false)
	require.NoError(t, err)
	assert.Equal(t, "a", wf, "the line's workflow, still")
	assert.Empty(t, b.Workflows())
	require.NoError(t, b.ReadJournal(bytes.NewReader(line), "k.jsonl", func(err error) { t.Error(err) }))
	assert.Empty(t, b.Workflows())
}

// A workflow removed leaves nothing behind, not even its ID: a line of it
// that comes later starts it again.
func TestARemovedWorkflowLeavesNothingAndStartsAgainAtItsNextLine(t *testing.T) {
	b := NewBuilder()
	line := []byte(`{"ev":"start","wf":"a","id":"a","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"n"}` + "\n")
	other := []byte(`{"ev":"start","wf":"b","id":"b","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"n"}` + "\n")
	_, err := b.AddLine(line, "j.jsonl", false)
	require.NoError(t, err)
	_, err = b.AddLine(other, "j.jsonl", false)
	require.NoError(t, err)
	b.Remove("a")
	assert.Equal(t, []string{"b"}, b.Workflows())
	assert.Empty(t, b.forgotten)
	assert.Equal(t, map[string]bool{"b": true}, b.followed["j.jsonl"].wfs, "its journal's other workflows")
	b.Remove("b")
	assert.Empty(t, b.followed, "nothing kept of its journal")
	assert.Empty(t, b.journals)
	assert.Empty(t, b.names)

	_, err = b.AddLine(line, "k.jsonl", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, b.Workflows())
}

func TestTheLinesOfAForgottenWorkflowCostNoAllocation(t *testing.T) {
	b := NewBuilder()
	line := []byte(`{"ev":"start","wf":"a","id":"a","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"n"}`)
	_, err := b.AddLine(line, "j.jsonl", false)
	require.NoError(t, err)
	b.Forget("a")
	allocs := testing.AllocsPerRun(100, func() { _, _ = b.AddLine(line, "j.jsonl", false) })
	assert.Zero(t, allocs, "a follower keeps reading the journals of the workflows it is done with")
}

// The trees a Builder makes do not depend on the order the journals are
// read in: a torn line of a workflow whose start another journal holds
// counts in that workflow's loss, whichever journal is read first, and in
// no other workflow's.
func TestATornLineCountsInItsWorkflowWhicheverJournalIsReadFirst(t *testing.T) {
	start := func(wf string) string {
		return `{"ev":"start","wf":"` + wf + `","id":"` + wf + `","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"n"}` + "\n"
	}
	end := func(wf string) string {
		return `{"ev":"end","wf":"` + wf + `","id":"` + wf + `","time":"2026-01-01T00:00:01Z","status":"completed"}` + "\n"
	}
	journals := map[string]string{
		"1.jsonl": start("c") + end("c"),
		"2.jsonl": start("a") + end("a") + `{"ev":"record","wf":"c","scope":"c","time":"2026-01-01T00:0`,
	}
	trees := func(order ...string) map[string]string {
		b := NewBuilder()
		for _, name := range order {
			require.NoError(t, b.ReadJournal(strings.NewReader(journals[name]), name, func(error) {}))
		}
		return map[string]string{"a": string(b.JSON("a")), "c": string(b.JSON("c"))}
	}
	assert.Equal(t, trees("1.jsonl", "2.jsonl"), trees("2.jsonl", "1.jsonl"))
}

// A follower that runs for weeks forgets a workflow for as long as a
// journal that holds lines of it may still be read, before its Forget or
// after, under its name or renamed; then it keeps nothing of it.
func TestAForgottenWorkflowIsLetGoOnceNoJournalStillHoldsALineOfIt(t *testing.T) {
	start := func(wf string) []byte {
		return []byte(`{"ev":"start","wf":"` + wf + `","id":"` + wf + `","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"n"}` + "\n")
	}
	b := NewBuilder()
	for _, l := range []struct{ wf, journal string }{{"a", "1.jsonl"}, {"b", "1.jsonl"}, {"b", "2.jsonl"}, {"c", "3.jsonl"}, {"d", "3.jsonl"}} {
		_, err := b.AddLine(start(l.wf), l.journal, false)
		require.NoError(t, err)
	}
	for _, wf := range []string{"a", "b", "c", "never read"} {
		b.Forget(wf)
	}
	_, err := b.AddLine(start("a"), "4.jsonl", false) // a late line, after its Forget
	require.NoError(t, err)
	b.Renamed("3.jsonl", "5.jsonl")
	b.Forget("d") // after the rename

	still := map[string]bool{"1.jsonl": true, "2.jsonl": true, "4.jsonl": true, "5.jsonl": true}
	held := func(j string) bool { return still[j] }
	assert.ElementsMatch(t, []string{"never read"}, b.Release(held))
	delete(still, "1.jsonl")
	assert.Empty(t, b.Release(held), "a in 4.jsonl, b in 2.jsonl, c and d in 5.jsonl")
	delete(still, "2.jsonl")
	delete(still, "5.jsonl")
	assert.ElementsMatch(t, []string{"b", "c", "d"}, b.Release(held))
	delete(still, "4.jsonl")
	assert.Equal(t, []string{"a"}, b.Release(held))
	assert.Empty(t, b.forgotten, "nothing kept")

	_, err = b.AddLine(start("a"), "6.jsonl", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, b.Workflows(), "a line that comes later starts it again")
}
