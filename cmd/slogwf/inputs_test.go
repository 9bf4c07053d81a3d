package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/tree"
)

// writeSmallJournals writes n journals into dir, each of a workflow of its
// own: a start, two records and an end, as a short request of a service.
func writeSmallJournals(t testing.TB, dir string, n int) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("0190a0b0-0000-7000-8000-%012d", i)
		err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("svc-%08d.1.jsonl", i)), []byte(
			`{"ev":"start","wf":"`+id+`","id":"`+id+`","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"svc"}`+"\n"+
				`{"ev":"record","wf":"`+id+`","scope":"`+id+`","time":"2026-01-01T00:00:00.100000000Z","level":"INFO","msg":"call","usage":{"llm_calls":1,"input_tokens":100,"output_tokens":20}}`+"\n"+
				`{"ev":"record","wf":"`+id+`","scope":"`+id+`","time":"2026-01-01T00:00:00.200000000Z","level":"INFO","msg":"done"}`+"\n"+
				`{"ev":"end","wf":"`+id+`","id":"`+id+`","time":"2026-01-01T00:00:00.300000000Z","status":"completed"}`+"\n"), 0o600)
		require.NoError(t, err)
	}
}

// Reading journals costs as much per journal, however many there are:
// what readInputs does is linear in the number of journals. What it keeps
// of a small workflow is small too, with no fixed block per workflow: under
// the 4 KiB of a tree of one small record.
func TestReadingJournalsIsLinear(t *testing.T) {
	perJournal := func(n int) (allocated, kept float64) {
		dir := t.TempDir()
		writeSmallJournals(t, dir, n)
		runtime.GC()
		var before, after, held runtime.MemStats
		runtime.ReadMemStats(&before)
		in, err := readInputs("tree", []string{dir}, nil, io.Discard, true)
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		runtime.GC()
		runtime.ReadMemStats(&held)
		require.Len(t, in.b.Workflows(), n)
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(n), (float64(held.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
	}
	few, _ := perJournal(200)
	many, kept := perJournal(2000)
	t.Logf("bytes allocated per journal: %.0f of 200, %.0f of 2,000; kept per workflow: %.0f", few, many, kept)
	assert.Less(t, many/few, 1.2)
	assert.Less(t, kept, 4096.0)
}

// A DIR stands for its journals and those of its journal directory, where
// the handler keeps journal segments, even one made while tail follows.
func TestADirHoldsTheJournalsOfItsJournalDirectory(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, stop := tailStart(t, "-f", "-color=never", dir)
	inner := filepath.Join(dir, tree.JournalDir)
	require.NoError(t, os.Mkdir(inner, 0o700))
	writeSmallJournals(t, inner, 2)
	require.Eventually(t, func() bool { return strings.Count(stdout.String(), "✔ workflow") == 2 }, tailWait, tailTick)
	assert.Equal(t, 0, stop())
	assert.Empty(t, stderr.String())

	for _, args := range [][]string{{"tree", "-color=never", dir}, {"ls", dir}, {"stats", dir}} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		assert.Equal(t, 2, strings.Count(stdout, "svc"), "%v: %s", args, stdout)
	}
}

// A journal is read once, whatever the number of ways it is named: in its
// directory and by itself, by two globs, or through a link. Its records,
// warnings and usage count once.
func TestAJournalNamedTwiceIsReadOnce(t *testing.T) {
	dir := t.TempDir()
	journalRun(t, dir, "research")
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 1)
	link := filepath.Join(t.TempDir(), "20260101T000000.000Z-1-aaaaaa.jsonl")
	require.NoError(t, os.Symlink(journals[0], link))
	for _, cmd := range [][]string{{"build", "-o", "-"}, {"stats"}, {"tree"}} {
		_, once, stderr := runCLI(t, append(cmd, dir)...)
		require.NotEmpty(t, once, stderr)
		for _, args := range [][]string{
			{dir, journals[0]},
			{journals[0], journals[0]},
			{dir, filepath.Join(dir, tree.JournalDir)},
			{dir, link},
		} {
			code, stdout, stderr := runCLI(t, append(cmd, args...)...)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, once, stdout, "%s %s", cmd[0], args)
		}
	}
}
