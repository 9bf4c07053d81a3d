//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A pipe named as a journal (of the earlier layout) or a tree file in a
// directory, or a link to one, keeps no command waiting: each passes it by
// with a warning, once, and reads the rest.
func TestNoCommandWaitsOnAPipeInItsDirectory(t *testing.T) {
	dir := t.TempDir()
	journalRun(t, dir, "research")
	var pipes []string
	for _, name := range []string{"stray-0000beef.1.jsonl", "stray.json", "fifo"} {
		path := filepath.Join(dir, name)
		require.NoError(t, syscall.Mkfifo(path, 0o600))
		pipes = append(pipes, path)
	}
	require.NoError(t, os.Symlink("fifo", filepath.Join(dir, "link-0000beef.2.jsonl")))
	t.Cleanup(func() {
		// Lets a reader that waits at its open go, if a command waited.
		for _, p := range pipes {
			if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
	})
	srv := newOTLPServer(t)
	skipped := func(t *testing.T, stderr string, names ...string) {
		t.Helper()
		for _, n := range names {
			assert.Equal(t, 1, strings.Count(stderr, n+": not a regular file, skipped\n"), "%s once in %q", n, stderr)
		}
	}

	for _, tt := range []struct {
		name string
		args []string
	}{
		{"build", []string{"build", dir}},
		{"html", []string{"html", "-o", filepath.Join(t.TempDir(), "page.html"), dir}},
		{"tree", []string{"tree", dir}},
		{"stats", []string{"stats", dir}},
		{"export chrome", []string{"export", "-format", "chrome", "-o", filepath.Join(t.TempDir(), "trace.json"), dir}},
		{"tail", []string{"tail", dir}},
		{"tail -workflow", []string{"tail", "-workflow", "research", dir}},
		{"ls", []string{"ls", dir}},
		{"export otlp", []string{"export", "-otlp", srv.URL, dir}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, stdout, stderr := runCLI(t, tt.args...)
				done <- result{code, stdout, stderr}
			}()
			select {
			case r := <-done:
				require.Equal(t, 0, r.code, r.stderr)
				skipped(t, r.stderr, filepath.Join(dir, "stray-0000beef.1.jsonl"), filepath.Join(dir, "link-0000beef.2.jsonl"))
			case <-time.After(30 * time.Second):
				t.Fatalf("slogwf %s waits on a pipe", tt.name)
			}
		})
	}

	t.Run("tail -f", func(t *testing.T) {
		stdout, stderr, stop := startCLI(t, "tail", "-f", "-color=never", dir)
		require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "research") }, tailWait, tailTick)
		time.Sleep(3 * followPoll) // polls, which could wait on a pipe, or warn again
		assert.Equal(t, 0, stop())
		skipped(t, stderr.String(), filepath.Join(dir, "stray-0000beef.1.jsonl"), filepath.Join(dir, "link-0000beef.2.jsonl"))
	})
	t.Run("serve", func(t *testing.T) {
		s := startServe(t, dir)
		list := listed(t, next(t, events(t, s.url+"events"), "list"))
		require.Len(t, list, 1)
		assert.Equal(t, "research", list[0].Name)
		time.Sleep(3 * followPoll)
		assert.Equal(t, 0, s.stop())
		skipped(t, s.stderr.String(), "stray-0000beef.1.jsonl", "link-0000beef.2.jsonl", "stray.json")
	})
}
