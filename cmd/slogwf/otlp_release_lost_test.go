package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/slogwf/slogwf/internal/retention"
	"github.com/slogwf/slogwf/internal/tree"
)

// A journal renamed is read on under its new name, and still holds the
// lines of the workflows sent whole: they stay done, so that a restart,
// which reads it again, sends none of them twice. Also when the watch
// names the old name at one tick and the new one at the next, with a
// check of the journals between them.
func TestAJournalRenamedBetweenTwoTicksKeepsItsWorkflowsDoneAcrossARestart(t *testing.T) {
	dir, _, journals := workflowJournals(t, 1)
	state := filepath.Join(t.TempDir(), "state")
	mem := tracetest.NewInMemoryExporter()
	clock := time.Now()
	s, fl := startShipper(t, dir, state, mem, &clock)
	s.round(context.Background(), fl.names)
	clock = clock.Add(retention.Grace)
	s.round(context.Background(), fl.names)
	require.Equal(t, 2, len(mem.GetSpans()), "sent whole")

	renamed := filepath.Join(dir, tree.JournalDir, tree.JournalName(time.Now(), 9999, 1))
	require.NoError(t, os.Rename(journals[0], renamed))
	fl.readFollowed(fl.seen[filepath.Clean(journals[0])], 0) // the tick whose events name the old name alone
	clock = clock.Add(liveEvery)
	s.round(context.Background(), fl.names)
	fl.poll() // the next tick, which finds the new name
	clock = clock.Add(liveEvery)
	s.round(context.Background(), fl.names)
	require.Equal(t, 2, len(mem.GetSpans()), "read on from where it was")

	s, fl = startShipper(t, dir, state, mem, &clock) // restarted
	s.round(context.Background(), fl.names)
	clock = clock.Add(retention.Grace)
	s.round(context.Background(), fl.names)
	assert.Equal(t, 2, len(mem.GetSpans()), "nothing sent twice")
}

// A journal rotated, renamed and another made under its name, holds the
// lines it held under its new name, and the new one those written since
// under the old name: a workflow of the new one stays done while that is
// there, also once the one renamed is removed, so that a restart sends
// none of it twice.
func TestAWorkflowOfAJournalMadeUnderTheNameOfOneRenamedStaysDoneWhileItIsThere(t *testing.T) {
	dir, ids, journals := workflowJournals(t, 2)
	require.NoError(t, os.Rename(journals[1], journals[1]+".later")) // the second workflow, written after the rotation
	state := filepath.Join(t.TempDir(), "state")
	mem := tracetest.NewInMemoryExporter()
	clock := time.Now()
	rounds := func(s *shipper, fl *follower) {
		for range 3 {
			s.round(context.Background(), fl.names)
			clock = clock.Add(retention.Grace)
		}
	}
	s, fl := startShipper(t, dir, state, mem, &clock)
	fl.warn = func(error) {} // "truncated or replaced"
	rounds(s, fl)
	require.Equal(t, 2, len(mem.GetSpans()), "the first workflow, sent whole")

	rotated := filepath.Join(dir, tree.JournalDir, tree.JournalName(time.Now(), 9999, 1))
	require.NoError(t, os.Rename(journals[0], rotated))
	require.NoError(t, os.Rename(journals[1]+".later", journals[0]))
	fl.poll()
	rounds(s, fl)
	require.Equal(t, 4, len(mem.GetSpans()), "the second workflow, sent whole")

	require.NoError(t, os.Remove(rotated))
	fl.poll()
	rounds(s, fl)
	data, err := os.ReadFile(state)
	require.NoError(t, err)
	assert.Contains(t, string(data), ids[1], "done: its journal is there")

	s, fl = startShipper(t, dir, state, mem, &clock) // restarted
	rounds(s, fl)
	assert.Equal(t, 4, len(mem.GetSpans()), "nothing sent twice")
}
