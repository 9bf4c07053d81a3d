package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/tree"
)

// A directory of workflows may hold another program's files: its *.jsonl
// files that are not named as slogwf names its journals are no journals.
// A command that reads the directory passes each by with one line, never
// one per line of it; prune leaves them, and a file with a .tmp name that
// slogwf does not give, however old. Named on the command line, such a
// file is read as a journal, as asked.
func TestADirectorysOtherJSONLFilesAreNoJournals(t *testing.T) {
	dir := t.TempDir()
	journalRun(t, dir, "research")
	var data strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&data, `{"i":%d}`+"\n", i)
	}
	others := []string{filepath.Join(dir, "eval-set.jsonl"), filepath.Join(dir, tree.JournalDir, "data.jsonl")}
	for _, name := range others {
		require.NoError(t, os.WriteFile(name, []byte(data.String()), 0o600))
	}
	skipped := func(t *testing.T, stderr string) {
		t.Helper()
		for _, name := range others {
			assert.Equal(t, 1, strings.Count(stderr, name+": not named as a slogwf journal, skipped\n"), stderr)
		}
		assert.Equal(t, len(others), strings.Count(stderr, "\n"), stderr)
	}

	for _, args := range [][]string{
		{"build", "-o", "-", dir},
		{"tree", dir},
		{"stats", dir},
		{"ls", dir},
		{"html", "-o", filepath.Join(t.TempDir(), "page.html"), dir},
		{"export", "-format", "chrome", "-o", filepath.Join(t.TempDir(), "trace.json"), dir},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, stdout, stderr := runCLI(t, args...)
			require.Equal(t, 0, code, stderr)
			skipped(t, stderr)
			if args[0] != "html" && args[0] != "export" {
				assert.Contains(t, stdout, "research")
			}
		})
	}

	t.Run("named", func(t *testing.T) {
		code, _, stderr := runCLI(t, "stats", others[0])
		assert.NotZero(t, code)
		assert.Equal(t, 1000, strings.Count(stderr, others[0]+":"), "each line read, and skipped")
	})

	t.Run("prune", func(t *testing.T) {
		tmp := filepath.Join(dir, "session.tmp")
		require.NoError(t, os.WriteFile(tmp, []byte("x"), 0o600))
		ageFiles(t, dir, 10*24*time.Hour)
		code, stdout, stderr := runCLI(t, "prune", "-max-age", "1d", dir)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "removed research-")
		for _, name := range append(others, tmp) {
			assert.NotContains(t, stdout, filepath.Base(name))
			assert.FileExists(t, name)
		}
	})
}

// A directory of tree files (its journals gone) may hold another
// program's *.json: a command that reads the directory passes it by with
// one line, and reads the tree files; named on the command line, it is an
// error.
func TestADirectorysOtherJSONFilesAreNoTreeFiles(t *testing.T) {
	dir, other := treeDirWithPackageJSON(t)
	for _, args := range [][]string{
		{"tree", dir},
		{"stats", dir},
		{"html", "-o", filepath.Join(t.TempDir(), "page.html"), dir},
		{"export", "-format", "chrome", "-o", filepath.Join(t.TempDir(), "trace.json"), dir},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, _, stderr := runCLI(t, args...)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, "slogwf "+args[0]+": "+other+": not a tree file or journal, skipped\n", stderr)
		})
	}
	code, _, stderr := runCLI(t, "tree", other)
	assert.Equal(t, 1, code)
	assert.Equal(t, "slogwf tree: "+other+": not a tree file or journal\n", stderr)
}

// treeDirWithPackageJSON returns a directory of tree files (its journals
// gone) that holds another program's package.json, and that file.
func treeDirWithPackageJSON(t *testing.T) (dir, other string) {
	dir = t.TempDir()
	journalRun(t, dir, "research")
	require.NoError(t, os.RemoveAll(filepath.Join(dir, tree.JournalDir)))
	other = filepath.Join(dir, "package.json")
	require.NoError(t, os.WriteFile(other, []byte(`{"name":"x"}`), 0o600))
	return dir, other
}
