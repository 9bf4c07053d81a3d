package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

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
	journal := oneJournal(t, dir)
	link := filepath.Join(t.TempDir(), "20260101T000000.000Z-1-aaaaaa.jsonl")
	require.NoError(t, os.Symlink(journal, link))
	for _, cmd := range [][]string{{"build", "-o", "-"}, {"stats"}, {"tree"}} {
		_, once, stderr := runCLI(t, append(cmd, dir)...)
		require.NotEmpty(t, once, stderr)
		for _, args := range [][]string{
			{dir, journal},
			{journal, journal},
			{dir, filepath.Join(dir, tree.JournalDir)},
			{dir, link},
		} {
			code, stdout, stderr := runCLI(t, append(cmd, args...)...)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, once, stdout, "%s %s", cmd[0], args)
		}
	}
}

// A journal of the earlier layout is a journal whatever name that layout
// gave it: <name>-<id suffix>.<pid>.jsonl, or <name>-<id suffix>.<pid>-<n>.jsonl
// when another process of the same pid (a container's pid 1) had taken
// the first. Commands given the directory read both.
func TestEveryJournalOfTheEarlierLayoutIsReadFromADirectory(t *testing.T) {
	const wf = "019ad3a1-0000-7000-8000-0000000000a1"
	journal := `{"ev":"start","wf":"` + wf + `","id":"` + wf + `","kind":"workflow","time":"2026-11-29T02:00:00.000000000Z","name":"research"}` + "\n" +
		`{"ev":"end","wf":"` + wf + `","id":"` + wf + `","time":"2026-11-29T02:00:01.000000000Z","status":"completed"}` + "\n"
	for _, name := range []string{"research-000000a1.1.jsonl", "research-000000a1.1-2.jsonl"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(journal), 0o600))
			code, stdout, stderr := runCLI(t, "build", "-o", "-", dir)
			require.Equal(t, 0, code, stderr)
			assert.Empty(t, stderr)
			assert.Contains(t, stdout, `"name":"research"`)
		})
	}
}

// A file is passed by with one line however often it is named: a
// directory given twice, or with its journal directory, warns once of
// each *.jsonl file there that is no journal.
func TestAFileNamedTwiceIsPassedByWithOneLine(t *testing.T) {
	dir := t.TempDir()
	journalRun(t, dir, "research")
	other := filepath.Join(dir, tree.JournalDir, "data.jsonl")
	require.NoError(t, os.WriteFile(other, []byte(`{"i":1}`+"\n"), 0o600))
	for _, args := range [][]string{{"tree", dir, dir}, {"tree", dir, filepath.Join(dir, tree.JournalDir)}} {
		code, _, stderr := runCLI(t, args...)
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, 1, strings.Count(stderr, other+": not named as a slogwf journal, skipped\n"), stderr)
	}
}

// A *.json file that holds no tree is an error when named on the command
// line, also when a directory named before it holds it too.
func TestANamedJSONFileThatIsNoTreeIsAnErrorAfterItsDirectory(t *testing.T) {
	dir, other := treeDirWithPackageJSON(t)
	for _, args := range [][]string{{"tree", other, dir}, {"tree", dir, other}} {
		code, _, stderr := runCLI(t, args...)
		assert.Equal(t, 1, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "slogwf tree: "+other+": not a tree file or journal\n", args)
	}
}

// Standard input redirected from a file that is named too (stats - FILE
// < FILE) is that file: it is read once, in either order.
func TestStandardInputFromAFileNamedTooIsReadOnce(t *testing.T) {
	dir := t.TempDir()
	journal := oneJournal(t, dir)
	for _, cmd := range []string{"stats", "tree"} {
		_, once, stderr := runCLI(t, cmd, journal)
		require.NotEmpty(t, once, stderr)
		for _, args := range [][]string{{"-", journal}, {journal, "-"}, {"-", dir}} {
			f, err := os.Open(journal)
			require.NoError(t, err)
			code, stdout, stderr := runCLIStdin(t, f, append([]string{cmd}, args...)...)
			f.Close()
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, once, stdout, "%s %s", cmd, args)
		}
	}
}

// A file is one file by whatever path or link it is reached: the set of
// files read holds it once, and holds two files apart however alike.
func TestAFileSetTellsFilesApartByWhatTheyAreNotByTheirNames(t *testing.T) {
	dir := t.TempDir()
	a, b, link := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "link")
	require.NoError(t, os.WriteFile(a, []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(b, []byte("x"), 0o600))
	mod := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, os.Chtimes(a, mod, mod))
	require.NoError(t, os.Chtimes(b, mod, mod))
	require.NoError(t, os.Symlink(a, link))
	stat := func(name string) os.FileInfo {
		st, err := os.Stat(name)
		require.NoError(t, err)
		return st
	}
	s := fileSet{}
	assert.True(t, s.add(stat(a)))
	assert.True(t, s.add(stat(b)), "alike, but another file")
	assert.False(t, s.add(stat(link)), "a through a link")
	assert.True(t, s.has(stat(filepath.Join(dir, ".", "a"))))
}

// oneJournal runs a workflow research that logs to dir, and returns its
// journal.
func oneJournal(t *testing.T, dir string) string {
	t.Helper()
	journalRun(t, dir, "research")
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 1)
	return journals[0]
}
