package main

import (
	"context"
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

	"github.com/slogwf/slogwf/internal/tree"
)

// A follower of a directory (tail -f, serve, export -otlp -f) follows its
// journals alone, as the other commands read them: another program's
// *.jsonl there, found when it starts or made while it follows, is passed
// by with one line on stderr, however many lines it holds or gets; its
// lines are neither read nor reported. Named on the command line, such a
// file is followed, as asked.
func TestAFollowedDirectorysOtherJSONLFilesAreNoJournals(t *testing.T) {
	var data strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&data, `{"i":%d}`+"\n", i)
	}
	// start follows dir; it returns the follower's stderr, whether it read
	// the workflow "research" of dir, and a func that stops it.
	tests := []struct {
		name  string
		start func(t *testing.T, dir string) (stderr *tailBuffer, read func() bool, stop func())
	}{
		{"tail -f", func(t *testing.T, dir string) (*tailBuffer, func() bool, func()) {
			stdout, stderr, stop := tailStart(t, "-f", "-color=never", dir)
			read := func() bool { return strings.Contains(stdout.String(), "research") }
			return stderr, read, func() { assert.Equal(t, 0, stop()) }
		}},
		{"serve", func(t *testing.T, dir string) (*tailBuffer, func() bool, func()) {
			s := startServe(t, dir)
			list := listed(t, next(t, events(t, s.url+"events"), "list"))
			read := func() bool { return len(list) == 1 && list[0].Name == "research" }
			return s.stderr, read, func() { assert.Equal(t, 0, s.stop()) }
		}},
		{"export -otlp -f", func(t *testing.T, dir string) (*tailBuffer, func() bool, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel) // should the test stop before stop
			mem := tracetest.NewInMemoryExporter()
			stderr := new(tailBuffer)
			shipped := make(chan error, 1)
			go func() {
				shipped <- ship(ctx, mem, "http://127.0.0.1:4318/v1/traces", otlpOptions{follow: true}, []string{dir}, io.Discard, stderr)
			}()
			read := func() bool { return len(mem.GetSpans()) > 0 }
			return stderr, read, func() {
				cancel()
				require.NoError(t, <-shipped)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			journalRun(t, dir, "research")
			early := filepath.Join(dir, "eval-set.jsonl")
			require.NoError(t, os.WriteFile(early, []byte(data.String()), 0o600))
			stderr, read, stop := tt.start(t, dir)
			require.Eventually(t, read, tailWait, tailTick)

			late := []string{filepath.Join(dir, "late.jsonl"), filepath.Join(dir, tree.JournalDir, "data.jsonl")}
			for _, name := range late {
				require.NoError(t, os.WriteFile(name, []byte(data.String()), 0o600))
			}
			others := append([]string{early}, late...)
			if tt.name == "serve" { // it names them in its directory
				for i, name := range others {
					others[i], _ = filepath.Rel(dir, name)
				}
			}
			require.Eventually(t, func() bool {
				return strings.Count(stderr.String(), "not named as a slogwf journal") == len(others)
			}, tailWait, tailTick, "stderr: %s", stderr)
			for _, name := range append([]string{early}, late...) {
				tailAppend(t, name, data.String())
			}
			time.Sleep(3 * followPoll) // the appends are seen, and could be read or reported
			stop()
			for _, name := range others {
				assert.Equal(t, 1, strings.Count(stderr.String(), name+": not named as a slogwf journal, skipped\n"), stderr)
			}
			assert.Equal(t, len(others), strings.Count(stderr.String(), "\n"), "one line per file: %s", stderr)
		})
	}

	// -workflow picks among the journals followed, not among the others.
	t.Run("-workflow", func(t *testing.T) {
		dir := t.TempDir()
		journalRun(t, dir, "research")
		elsewhere := t.TempDir()
		journalRun(t, elsewhere, "gamma")
		journals, err := filepath.Glob(filepath.Join(elsewhere, tree.JournalDir, "*.jsonl"))
		require.NoError(t, err)
		require.Len(t, journals, 1)
		gamma, err := os.ReadFile(journals[0])
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "eval-set.jsonl"), gamma, 0o600))
		for _, args := range [][]string{
			{"tree", "-workflow", "gamma", dir},
			{"tail", "-workflow", "gamma", dir},
		} {
			code, _, stderr := runCLI(t, args...)
			assert.Equal(t, 1, code, "%v", args)
			assert.Contains(t, stderr, "no workflow gamma in "+dir, "%v", args)
		}
	})

	t.Run("named", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "eval-set.jsonl")
		require.NoError(t, os.WriteFile(other, []byte(data.String()), 0o600))
		_, stderr, stop := tailStart(t, "-f", "-color=never", other)
		require.Eventually(t, func() bool { return strings.Count(stderr.String(), other+":") == 1000 }, tailWait, tailTick,
			"each line read, and reported as no event")
		assert.Equal(t, 0, stop())
	})
}
