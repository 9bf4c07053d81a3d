package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/slogwf/slogwf/internal/otelspan"
	"github.com/slogwf/slogwf/internal/retention"
	"github.com/slogwf/slogwf/internal/tree"
)

// workflowJournals writes n workflows "w", each with an interaction, in a
// journal of its own, as of n processes, in a new directory, and returns
// the directory, the workflows' IDs and the journals.
func workflowJournals(t *testing.T, n int) (dir string, ids, journals []string) {
	t.Helper()
	_, id, lines := journalOf(t)
	dir = t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, tree.JournalDir), 0o700))
	for i := range n {
		ids = append(ids, id[:len(id)-4]+fmt.Sprintf("%04x", i))
		journals = append(journals, filepath.Join(dir, tree.JournalDir, tree.JournalName(time.Now(), 4242+i, 1)))
		tailWrite(t, journals[i], strings.ReplaceAll(strings.Join(lines, ""), id, ids[i]))
	}
	return dir, ids, journals
}

// startShipper starts export -otlp -f on dir to mem as ship does, its clock
// at *clock, with the state in the file state: it has read the journals,
// and not yet sent what they hold.
func startShipper(t *testing.T, dir, state string, mem *tracetest.InMemoryExporter, clock *time.Time) (*shipper, *follower) {
	t.Helper()
	warn := func(err error) { t.Error(err) }
	s := newShipper(mem, otelspan.Options{}, "", io.Discard, warn)
	s.now = func() time.Time { return *clock }
	var err error
	s.state, err = loadShipState(state, "http://127.0.0.1:4318/v1/traces", warn)
	require.NoError(t, err)
	fl := newFollower(os.Open, s.line, warn)
	require.NoError(t, s.read(fl, []string{dir}))
	return s, fl
}

// A sidecar export -f runs for weeks while retention or slogwf prune
// removes old journals: the workflows it sent whole it keeps, in memory
// and in its state file, only while a journal that holds lines of them
// is there to be read (under its name or renamed), so that what it keeps
// is bounded by what is on disk; and a restart still sends nothing twice.
func TestAFollowingExportKeepsTheWorkflowsItSentWholeOnlyWhileAJournalHoldsThem(t *testing.T) {
	const n = 5
	dir, ids, journals := workflowJournals(t, n)
	state := filepath.Join(t.TempDir(), "state")
	done := func() []string {
		data, err := os.ReadFile(state)
		require.NoError(t, err)
		var f shipStateFile
		require.NoError(t, json.Unmarshal(data, &f))
		return f.Done
	}
	mem := tracetest.NewInMemoryExporter()
	clock := time.Now()
	s, fl := startShipper(t, dir, state, mem, &clock)
	s.round(context.Background(), fl.names)
	clock = clock.Add(retention.Grace)
	s.round(context.Background(), fl.names)
	require.Len(t, mem.GetSpans(), 2*n, "a workflow and an interaction each")
	require.Equal(t, ids, done(), "sent whole")

	for _, j := range journals[:n-2] {
		require.NoError(t, os.Remove(j))
	}
	renamed := filepath.Join(dir, tree.JournalDir, tree.JournalName(time.Now(), 9999, 1))
	require.NoError(t, os.Rename(journals[n-1], renamed))
	fl.poll()
	checks := func() { // the check after the journals went, and the next
		for range 2 {
			clock = clock.Add(liveEvery)
			s.round(context.Background(), fl.names)
		}
	}
	checks()
	assert.Equal(t, ids[n-2:], done(), "the workflows whose journals are there, one renamed")
	before, err := os.Stat(state)
	require.NoError(t, err)
	clock = clock.Add(liveEvery)
	s.round(context.Background(), fl.names)
	after, err := os.Stat(state)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "not written again when nothing changed")

	require.NoError(t, os.Remove(journals[n-2]))
	require.NoError(t, os.Remove(renamed))
	fl.poll()
	checks()
	assert.Empty(t, done(), "no journal left")
	assert.Empty(t, s.b.Release(func(string) bool { return false }), "the builder forgets none either")
}

// A restart after retention removed journals sends nothing twice: the
// state says done for every workflow whose journal is still there.
func TestAFollowingExportRestartedAfterJournalsWentSendsNothingTwice(t *testing.T) {
	dir, _, journals := workflowJournals(t, 2)
	renamed := filepath.Join(dir, tree.JournalDir, tree.JournalName(time.Now(), 9999, 1))
	state := filepath.Join(t.TempDir(), "state")
	mem := tracetest.NewInMemoryExporter()
	clock := time.Now()
	run := func(between func(fl *follower)) {
		s, fl := startShipper(t, dir, state, mem, &clock)
		s.round(context.Background(), fl.names)
		clock = clock.Add(retention.Grace)
		s.round(context.Background(), fl.names) // sent whole
		between(fl)
		clock = clock.Add(liveEvery)
		s.round(context.Background(), fl.names)
	}
	run(func(fl *follower) {
		require.NoError(t, os.Remove(journals[0]))
		require.NoError(t, os.Rename(journals[1], renamed))
		fl.poll()
	})
	require.Len(t, mem.GetSpans(), 4)
	run(func(*follower) {})
	assert.Equal(t, 4, len(mem.GetSpans()), "nothing sent twice")
}
