package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/slogwf/slogwf/internal/tree"
)

// A journal renamed is the journal its process writes (see
// follower.renamed): a following export keeps a workflow without an end
// whose process lives, though no line of it came under the new name yet,
// and sends its scopes once, with their ends as they come, none
// incomplete. Also when the rename changes the process the name tells: a
// journal of the earlier layout names its process by its own name.
func TestAFollowingExportKeepsTheWorkflowOfALiveJournalRenamedRunning(t *testing.T) {
	for _, tt := range []struct {
		name     string
		from, to func(dir, id string) string
	}{
		{"a journal of the earlier layout",
			func(dir, id string) string { return filepath.Join(dir, "w-"+id[len(id)-8:]+".4242.jsonl") },
			func(dir, id string) string { return filepath.Join(dir, "w-"+id[len(id)-8:]+".4242-1.jsonl") }},
		{"a segment renamed as of another process",
			func(dir, _ string) string { return filepath.Join(dir, tree.JournalName(time.Now(), 4242, 1)) },
			func(dir, _ string) string { return filepath.Join(dir, tree.JournalName(time.Now(), 9999, 1)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, id, lines := journalOf(t)
			end := len(lines) - 2 // the workflow's end; the last is ""
			dir := t.TempDir()
			journal, renamed := tt.from(dir, id), tt.to(dir, id)
			tailWrite(t, journal, strings.Join(lines[:end], ""))
			ageJournals(t, dir)
			lockJournal(t, journal) // its process lives
			mem := tracetest.NewInMemoryExporter()
			clock := time.Now()
			s, fl := startShipper(t, dir, filepath.Join(t.TempDir(), "state"), mem, &clock)
			round := func() {
				clock = clock.Add(liveEvery) // the processes are looked at
				s.round(context.Background(), fl.names)
			}
			round()
			require.Equal(t, []string{"invoke_agent a"}, spanNames(mem.GetSpans()), "the scope that ended")

			require.NoError(t, os.Rename(journal, renamed))
			fl.poll()
			round()
			fl.poll()
			round()
			assert.Equal(t, []string{"invoke_agent a"}, spanNames(mem.GetSpans()), "kept while its process lives")

			f, err := os.OpenFile(renamed, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.WriteString(lines[end])
			require.NoError(t, err)
			require.NoError(t, f.Close())
			fl.poll()
			round()
			spans := mem.GetSpans()
			assert.Equal(t, []string{"invoke_agent a", "invoke_workflow w"}, spanNames(spans), "each once")
			for _, span := range spans {
				assert.NotEqual(t, codes.Error, span.Status.Code, "%s incomplete", span.Name)
			}
		})
	}
}
