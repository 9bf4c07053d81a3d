//go:build unix

package slogwf_test

// What the process limits of Unix do to the handler: the umask of the
// files it makes, and a low limit of open files.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

func init() {
	children["umask"] = logWithUmask0
	children["descriptors"] = logWorkflowsWithFewDescriptors
}

// logWithUmask0 logs a workflow into a new directory under umask 000.
func logWithUmask0(dir string) {
	syscall.Umask(0)
	h, err := slogwf.New(&slogwf.Options{Dir: filepath.Join(dir, "a", "logs"), Console: io.Discard, Sync: slogwf.SyncEnd})
	if err != nil {
		panic(err)
	}
	_, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "perm")
	wf.End()
	if err := h.Close(); err != nil {
		panic(err)
	}
}

// Under umask 000, files are 0600 and directories 0700.
func TestPermissionsUnderUmask0(t *testing.T) {
	dir := t.TempDir()
	cmd := child(dir, "umask")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run())
	n := 0
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "a"), func(path string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		st, err := d.Info()
		require.NoError(t, err)
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		assert.Equal(t, want, st.Mode().Perm(), path)
		n++
		return nil
	}))
	assert.Equal(t, 5, n, "a, logs, a tree, the journal directory and a segment")
}

// openWorkflows is how many workflows the child of
// TestTenThousandOpenWorkflowsNeedFewDescriptors keeps open at once, each
// logging from its own goroutine; under the race detector, which allows
// 8,128 goroutines, at most 4,000 of them log at once.
const openWorkflows, recordsEach = 10000, 10

// logWorkflowsWithFewDescriptors is the child of
// TestTenThousandOpenWorkflowsNeedFewDescriptors: with at most 256 open
// files, it starts openWorkflows workflows, logs recordsEach records in
// each from a goroutine of its own, ends them, and prints what Close
// returned, the faults reported and the files it had open.
func logWorkflowsWithFewDescriptors(dir string) {
	limit := syscall.Rlimit{Cur: 256, Max: 256}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		panic(err)
	}
	var faults bytes.Buffer
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, ErrorOutput: &faults, SnapshotInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	l := slog.New(h)
	base := slogwf.ContextWithLogger(context.Background(), l)
	ctxs := make([]context.Context, openWorkflows)
	wfs := make([]*slogwf.Scope, openWorkflows)
	for i := range ctxs {
		ctxs[i], wfs[i] = slogwf.StartWorkflow(base, "open")
	}
	running := make(chan struct{}, openWorkflows)
	if raceDetector {
		running = make(chan struct{}, 4000)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, ctx := range ctxs {
		running <- struct{}{}
		wg.Go(func() {
			defer func() { <-running }()
			<-start
			for j := range recordsEach {
				l.InfoContext(ctx, "r", "i", i, "j", j)
			}
		})
		if i == cap(running)-1 {
			close(start) // all of them at once, as many as the race detector allows
		}
	}
	wg.Wait()
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, wf := range wfs {
		wf.End()
	}
	err = h.Close()
	var said strings.Builder // but how many workflows run, which is no fault
	for line := range strings.Lines(faults.String()) {
		if !strings.Contains(line, " workflows are running at once: ") {
			said.WriteString(line)
		}
	}
	fmt.Printf("close: %v\nfaults: %q\nopen files: %d\n", err, said.String(), len(fds))
}

// With at most 256 open files, 10,000 workflows open at once, each
// logging 10 records from its own goroutine: every record is in the
// journal, no fault, Close returns nil, and the journal gives 10,000
// whole trees.
func TestTenThousandOpenWorkflowsNeedFewDescriptors(t *testing.T) {
	dir := t.TempDir()
	cmd := child(dir, "descriptors")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(t, err)
	t.Logf("child: %s", out)
	assert.Contains(t, string(out), "close: <nil>\nfaults: \"\"\n")

	b := readJournals(t, dir)
	ids := b.Workflows()
	require.Len(t, ids, openWorkflows)
	for _, id := range ids {
		var root node
		require.NoError(t, json.Unmarshal(b.JSON(id), &root))
		if root.Status != slogwf.StatusCompleted || len(root.Records) != recordsEach {
			t.Fatalf("workflow %s: %s with %d records", id, root.Status, len(root.Records))
		}
	}
	trees, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	assert.Len(t, trees, openWorkflows, "and a tree file each")
}
