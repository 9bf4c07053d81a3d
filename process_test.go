package slogwf_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

const childDirEnv = "SLOGWF_TEST_CHILD_DIR"

// TestMain runs the child process of TestKilledProcessLosesNothing when the
// test binary is started as one.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		logUntilKilled(dir)
		return
	}
	os.Exit(m.Run())
}

// logUntilKilled logs records in a workflow forever, printing the number
// of each record once its Handle has returned.
func logUntilKilled(dir string) {
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, SnapshotInterval: time.Millisecond})
	if err != nil {
		panic(err)
	}
	l := slog.New(h)
	ctx, _ := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "doomed")
	ctx, _ = slogwf.StartIteration(ctx)
	ctx, _ = slogwf.StartInteraction(ctx, "agent")
	for i := 0; ; i++ {
		l.InfoContext(ctx, "record", "i", i)
		fmt.Fprintln(os.Stdout, i) // os.Stdout is not buffered
	}
}

func TestKilledProcessLosesNothing(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	logged := -1
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		n, err := strconv.Atoi(lines.Text())
		require.NoError(t, err)
		logged = n
		if n == 2000 {
			require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred code, no flush
		}
	}
	require.Error(t, cmd.Wait(), "the child was killed")
	require.GreaterOrEqual(t, logged, 2000)

	lns := journal(t, dir)
	seen := map[float64]bool{}
	for i, line := range lns {
		var e struct {
			Ev    string         `json:"ev"`
			Attrs map[string]any `json:"attrs"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			assert.Equal(t, len(lns)-1, i, "only the last line may be torn: %q", line)
			continue
		}
		if e.Ev == "record" {
			seen[e.Attrs["i"].(float64)] = true
		}
	}
	for i := 0; i <= logged; i++ {
		require.True(t, seen[float64(i)], "record %d was logged before the kill", i)
	}
	t.Logf("%d records logged before SIGKILL, all %d in the journal (%d lines)", logged+1, len(seen), len(lns))
	for _, f := range files(t, dir) {
		if strings.HasSuffix(f, ".json") {
			b, err := os.ReadFile(dir + "/" + f)
			require.NoError(t, err)
			assert.True(t, json.Valid(b), "the tree file is whole")
		}
	}
}
