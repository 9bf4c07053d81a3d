package slogwf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/tree"
)

// faultyFS is a directory whose operation fail fails, once armed.
type faultyFS struct {
	dirFS
	mu    sync.Mutex
	armed bool
	fail  string // create, write, sync, close, rename or syncdir
}

var errInjected = errors.New("injected fault")

func (f *faultyFS) failing(op string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.armed && f.fail == op
}

func (f *faultyFS) openFile(name string, flag int) (journalFile, error) {
	if strings.HasSuffix(name, ".tmp") && f.failing("create") {
		return nil, errInjected
	}
	file, err := f.dirFS.openFile(name, flag)
	if err != nil || !strings.HasSuffix(name, ".tmp") {
		return file, err
	}
	return &faultyFile{journalFile: file, fs: f}, nil
}

func (f *faultyFS) rename(from, to string) error {
	if f.failing("rename") {
		return errInjected
	}
	return f.dirFS.rename(from, to)
}

func (f *faultyFS) syncDir() error {
	if f.failing("syncdir") {
		return errInjected
	}
	return f.dirFS.syncDir()
}

type faultyFile struct {
	journalFile
	fs *faultyFS
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if f.fs.failing("write") {
		n, _ := f.journalFile.Write(p[:len(p)/2])
		return n, errInjected
	}
	return f.journalFile.Write(p)
}

func (f *faultyFile) Sync() error {
	if f.fs.failing("sync") {
		return errInjected
	}
	return f.journalFile.Sync()
}

func (f *faultyFile) Close() error {
	err := f.journalFile.Close()
	if f.fs.failing("close") {
		return errInjected
	}
	return err
}

// Faults around the temporary file, its fsync and its rename leave
// the old tree file or the new, whole, and no temporary file.
func TestTreeFileFaultsLeaveAWholeTree(t *testing.T) {
	for _, op := range []string{"create", "write", "sync", "close", "rename", "syncdir"} {
		t.Run(op, func(t *testing.T) {
			var errs bytes.Buffer
			dir := t.TempDir()
			h, err := New(&Options{Dir: dir, Console: io.Discard, ErrorOutput: &errs, SnapshotInterval: time.Hour, Sync: SyncEnd})
			require.NoError(t, err)
			fs := &faultyFS{dirFS: h.sink.dir.fs, fail: op}
			h.sink.dir.fs = fs
			l := slog.New(h)
			ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "faults")
			l.InfoContext(ctx, "old")
			f := h.sink.flow(wf.ID())
			f.snapshot()
			old, err := os.ReadFile(h.TreeFile(wf))
			require.NoError(t, err)

			fs.mu.Lock()
			fs.armed = true
			fs.mu.Unlock()
			l.InfoContext(ctx, "new")
			f.snapshot()
			now, err := os.ReadFile(h.TreeFile(wf))
			require.NoError(t, err)
			assert.True(t, json.Valid(now), "the tree file is whole")
			if op == "syncdir" {
				assert.Contains(t, string(now), `"msg":"new"`, "renamed: the new tree")
			} else {
				assert.Equal(t, string(old), string(now), "the old tree")
			}
			matches, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
			require.NoError(t, err)
			assert.Empty(t, matches, "no temporary file is left")
			assert.Contains(t, errs.String(), "injected fault")

			fs.mu.Lock()
			fs.armed = false
			fs.mu.Unlock()
			wf.End()
			err = h.Close()
			assert.ErrorIs(t, err, errInjected)
			assert.Contains(t, err.Error(), filepath.Base(h.TreeFile(wf)))
			final, err := os.ReadFile(h.TreeFile(wf))
			require.NoError(t, err)
			assert.Contains(t, string(final), `"status":"completed"`)
		})
	}
}

// failingFile fails every write; shortFile writes half of each line to
// file, then fails.
type (
	failingFile struct{ journalFile }
	shortFile   struct{ journalFile }
)

func (failingFile) Write([]byte) (int, error) { return 0, errInjected }

func (f shortFile) Write(p []byte) (int, error) {
	n, _ := f.journalFile.Write(p[:len(p)/2])
	return n, io.ErrShortWrite
}

// A journal that cannot be written is reported once, and logging goes on.
func TestJournalFaultsAreReportedOnceAndLoggingGoesOn(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, j *journal)
	}{
		{"/dev/full", func(t *testing.T, j *journal) {
			full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
			require.NoError(t, err)
			require.NoError(t, j.file.Close())
			j.file = full
		}},
		{"failing writer", func(t *testing.T, j *journal) { j.file = failingFile{j.file} }},
		{"short writer", func(t *testing.T, j *journal) { j.file = shortFile{j.file} }},
		{"closed file", func(t *testing.T, j *journal) { require.NoError(t, j.file.Close()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs, console bytes.Buffer
			dir := t.TempDir()
			h, err := New(&Options{Dir: dir, Console: &console, ErrorOutput: &errs, Sync: SyncAlways})
			require.NoError(t, err)
			l := slog.New(h)
			ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "fault")
			j := h.sink.journal
			segment := j.segments[0]
			j.mu.Lock()
			tt.break_(t, j)
			j.mu.Unlock()
			assert.NotPanics(t, func() {
				for range 10 {
					l.InfoContext(ctx, "still here")
				}
				wf.End()
			})

			err = h.Close()
			require.Error(t, err, "Close returns the fault")
			assert.Contains(t, err.Error(), "slogwf: write journal "+segment)
			assert.Equal(t, 1, strings.Count(errs.String(), "write journal"), "reported once: %s", errs.String())
			assert.Equal(t, 10, strings.Count(console.String(), "still here"), "the console goes on")
			assert.FileExists(t, h.TreeFile(wf), "the tree is written all the same")
			data, err := os.ReadFile(filepath.Join(dir, segment))
			require.NoError(t, err)
			for line := range bytes.Lines(data) {
				assert.True(t, json.Valid(line) && bytes.HasSuffix(line, []byte("\n")), "no partial line: %q", line)
			}
		})
	}
}

// fullFile fails every write while full is set, as a full disk does.
type fullFile struct {
	journalFile
	full *atomic.Bool
}

func (f fullFile) Write(p []byte) (int, error) {
	if f.full.Load() {
		return 0, syscall.ENOSPC
	}
	return f.journalFile.Write(p)
}

// fillDisk makes the journal of h fail every write while the flag it
// returns is set.
func fillDisk(h *Handler) *atomic.Bool {
	var full atomic.Bool
	j := h.sink.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	j.file = fullFile{j.file, &full}
	return &full
}

// The lines a full disk kept out of the journal are counted: the next
// line of their workflow says how many, and a tree rebuilt from the
// journal (after a crash) counts them in loss.unwritten.
func TestJournalGapsOfAFullDiskAreCounted(t *testing.T) {
	dir := t.TempDir()
	var errs bytes.Buffer
	h, err := New(&Options{Dir: dir, Console: io.Discard, ErrorOutput: &errs})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "full")
	full := fillDisk(h)
	for i := range 90 {
		full.Store(30 <= i && i < 77)
		l.InfoContext(ctx, "r", "i", i)
	}
	wf.End()
	require.ErrorIs(t, h.Close(), syscall.ENOSPC)
	assert.Equal(t, 1, strings.Count(errs.String(), "\n"), "reported once: %s", errs.String())

	var live, rebuilt struct {
		Counts struct{ Records int }
		Loss   struct{ Dropped, Unwritten int }
	}
	data, err := os.ReadFile(h.TreeFile(wf))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &live))
	assert.Equal(t, 90, live.Counts.Records, "the live tree has them all")
	require.NoError(t, json.Unmarshal(replay(t, dir), &rebuilt))
	assert.Equal(t, 43, rebuilt.Counts.Records)
	assert.Equal(t, 47, rebuilt.Loss.Unwritten, "the journal says what it missed")
	assert.Zero(t, rebuilt.Loss.Dropped)
}

// A record logged after its workflow ended, after a journal fault, reaches
// the tree, rebuilt from the journal, whose loss counts what the journal
// missed; and the fault says so.
func TestLateRecordsAfterAJournalFaultReachTheTreeAndTheLossIsCounted(t *testing.T) {
	h, errs, l, ctx, wf := lateWorkflow(t)
	full := fillDisk(h)
	for i := range 20 {
		full.Store(5 <= i && i < 8)
		l.InfoContext(ctx, "r", "i", i)
	}
	wf.End()
	h.TreeFile(wf) // the final tree, then a late record
	l.InfoContext(ctx, "late")
	require.Error(t, h.Close())

	var tree struct {
		Counts  struct{ Records int }
		Loss    struct{ Unwritten int }
		Records []struct{ Msg string }
	}
	data, err := os.ReadFile(h.TreeFile(wf))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &tree))
	require.NotEmpty(t, tree.Records)
	assert.Equal(t, "late", tree.Records[len(tree.Records)-1].Msg, "the late record reached the tree")
	assert.Equal(t, 21, tree.Counts.Records+tree.Loss.Unwritten, "what is not there is counted")
	assert.Contains(t, errs.String(), "late records rebuilt the tree of workflow "+wf.ID())
}

// A final tree that could not be written is written by the rebuild a late
// record brings, once the cause is gone: its absence is not retention's.
func TestALateRecordWritesTheFinalTreeThatFailed(t *testing.T) {
	h, errs, l, ctx, wf := lateWorkflow(t)
	l.InfoContext(ctx, "on time")
	// A directory where the tree file goes: the rename onto it fails.
	blocker := filepath.Join(h.sink.dir.given, tree.TreeFileName("late", wf.ID()))
	require.NoError(t, os.MkdirAll(filepath.Join(blocker, "x"), 0o700))
	wf.End()
	h.WaitTrees()
	require.Contains(t, errs.String(), "write tree")
	require.NoError(t, os.RemoveAll(blocker))

	l.InfoContext(ctx, "late")
	require.Error(t, h.Close(), "the fault of the final tree")
	var got struct{ Records []struct{ Msg string } }
	data, err := os.ReadFile(blocker)
	require.NoError(t, err, "the rebuild wrote the tree file")
	require.NoError(t, json.Unmarshal(data, &got))
	var msgs []string
	for _, r := range got.Records {
		msgs = append(msgs, r.Msg)
	}
	assert.Equal(t, []string{"on time", "late"}, msgs)
}

// A workflow whose tree a late record's rebuild is writing runs, as
// retention sees it, until the tree is in place: else retention could
// remove the tree file the rebuild is about to write again.
func TestAWorkflowBeingRebuiltKeepsItsFiles(t *testing.T) {
	h, _, l, ctx, wf := lateWorkflow(t)
	wf.End()
	h.TreeFile(wf)
	renaming, release := make(chan struct{}), make(chan struct{})
	h.sink.dir.fs = &blockedRename{dirFS: h.sink.dir.fs, renaming: renaming, release: release}
	l.InfoContext(ctx, "late")
	go h.sink.recent.get(wf.ID()).rebuild()
	<-renaming
	assert.True(t, h.sink.running(wf.ID()), "while its rebuilt tree is being written")
	close(release)
	require.NoError(t, h.Close())
	assert.False(t, h.sink.running(wf.ID()))
}

// blockedRename is a directory whose first rename waits for release.
type blockedRename struct {
	dirFS
	once              sync.Once
	renaming, release chan struct{}
}

func (b *blockedRename) rename(from, to string) error {
	b.once.Do(func() {
		close(b.renaming)
		<-b.release
	})
	return b.dirFS.rename(from, to)
}

// lateWorkflow starts a workflow named late in a handler of a new
// directory, which reports its faults to errs and writes no snapshot.
func lateWorkflow(t *testing.T) (h *Handler, errs *lockedWriter, l *slog.Logger, ctx context.Context, wf *Scope) {
	errs = &lockedWriter{}
	h, err := New(&Options{Dir: t.TempDir(), Console: io.Discard, ErrorOutput: errs, SnapshotInterval: time.Hour})
	require.NoError(t, err)
	l = slog.New(h)
	ctx, wf = StartWorkflow(ContextWithLogger(context.Background(), l), "late")
	return h, errs, l, ctx, wf
}

// lockedWriter is an ErrorOutput that tests read while handlers write.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Faults after New are reported once per cause, not once per file, and
// Close returns a bounded list: 2,000 workflows whose tree files cannot
// be written give one line.
func TestFaultsAreReportedOncePerCauseAndKeptBounded(t *testing.T) {
	var errs lockedWriter
	h, err := New(&Options{Dir: t.TempDir(), Console: io.Discard, ErrorOutput: &errs})
	require.NoError(t, err)
	h.sink.dir.fs = &faultyFS{dirFS: h.sink.dir.fs, fail: "create", armed: true}
	l := slog.New(h)
	for range 2000 {
		ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "unwritable")
		l.InfoContext(ctx, "r")
		wf.End()
	}
	err = h.Close()
	require.ErrorIs(t, err, errInjected)
	assert.Equal(t, 1, strings.Count(errs.String(), "\n"), "one line per cause: %.500s", errs.String())
	assert.Less(t, len(err.Error()), 1000, "a bounded list")
}
