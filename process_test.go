package slogwf_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// Child processes are this test binary, started again with these
// variables: what to do, and the directory to log in.
const (
	childEnv    = "SLOGWF_TEST_CHILD"
	childDirEnv = "SLOGWF_TEST_CHILD_DIR"
)

// TestMain runs a child process when the test binary is started as one.
func TestMain(m *testing.M) {
	if run, ok := children[os.Getenv(childEnv)]; ok {
		run(os.Getenv(childDirEnv))
		return
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		removeBenchDirs()
		os.Exit(code)
	}))
}

// children are what a child process can be started to do, by name, with
// the directory to log in; limits_unix_test.go adds its own.
var children = map[string]func(dir string){
	"kill":      logUntilKilled,
	"records":   logUnderParent,
	"padded":    logPaddedRecords,
	"big":       logBig,
	"iteration": iterateUnderParent,
}

// child starts the test binary as a child process that does what.
func child(dir, what string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+what, childDirEnv+"="+dir), env...)
	return cmd
}

// childRecords is how many records each child of TestChildProcessesLogIntoTheParentsWorkflow logs,
// besides a call in the parent's scope and one in its own.
const childRecords = 1000

// logUnderParent logs records in the scope its parent passed, and in a
// sub-agent of its own.
func logUnderParent(dir string) {
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	if err != nil {
		panic(err)
	}
	l := slog.New(h)
	ctx := slogwf.ContextFromEnv(slogwf.ContextWithLogger(context.Background(), l))
	for i := range childRecords {
		l.InfoContext(ctx, "child record", "i", i, "pid", os.Getpid())
	}
	l.InfoContext(ctx, "child call", slogwf.Tokens(100, 10), "pid", os.Getpid())
	sub, ia := slogwf.StartInteraction(ctx, "sub-agent")
	l.InfoContext(sub, "in the child's own scope", slogwf.Tokens(200, 20))
	ia.End()
	_, open := slogwf.StartAction(ctx, "left open")
	_ = open
	if err := h.Close(); err != nil {
		panic(err)
	}
}

// iterateUnderParent starts and ends an iteration under the scope its
// parent passed, and prints its ID.
func iterateUnderParent(dir string) {
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	if err != nil {
		panic(err)
	}
	_, it := slogwf.StartIteration(slogwf.ContextFromEnv(slogwf.ContextWithLogger(context.Background(), slog.New(h))))
	it.End()
	fmt.Println(it.ID())
	if err := h.Close(); err != nil {
		panic(err)
	}
}

func TestChildProcessesLogIntoTheParentsWorkflow(t *testing.T) {
	const children = 4
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "parent")
	var cmds []*exec.Cmd
	var ias []*slogwf.Scope
	for range children {
		iaCtx, ia := slogwf.StartInteraction(ctx, "worker")
		cmd := child(s.dir, "records", slogwf.Environ(iaCtx)...)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		cmds, ias = append(cmds, cmd), append(ias, ia)
	}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait())
		ias[i].End()
	}
	wf.End()
	require.NoError(t, s.h.Close())

	journals, err := filepath.Glob(filepath.Join(s.dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 1+children, "one journal per process")
	b := tree.NewBuilder()
	for _, j := range journals {
		f, err := os.Open(j)
		require.NoError(t, err)
		require.NoError(t, b.ReadJournal(f, j, func(err error) { t.Error(err) }))
		f.Close()
	}
	require.Equal(t, []string{wf.ID()}, b.Workflows())
	assert.Equal(t, filepath.Base(s.h.TreeFile(wf)), b.FileName(wf.ID()))
	var tree node
	require.NoError(t, json.Unmarshal(b.JSON(wf.ID()), &tree))
	assert.Equal(t, "parent", tree.Name)
	assert.EqualValues(t, children*(childRecords+2), tree.Counts.Records)
	require.Len(t, tree.Interactions, children)
	pids := map[any]bool{}
	for i, ia := range tree.Interactions {
		assert.Equal(t, ias[i].ID(), ia.ID)
		assert.Equal(t, slogwf.StatusCompleted, ia.Status)
		require.Len(t, ia.Records, childRecords+1, "every child record under its interaction")
		pid := ia.Records[0].Attrs["pid"]
		for _, r := range ia.Records {
			require.Equal(t, pid, r.Attrs["pid"], "no record of one child under another")
		}
		pids[pid] = true
		require.Len(t, ia.Interactions, 1)
		assert.Equal(t, "sub-agent", ia.Interactions[0].Agent)
		assert.Equal(t, []string{"in the child's own scope"}, ia.Interactions[0].msgs())
		require.Len(t, ia.Actions, 1)
		assert.Equal(t, slogwf.StatusIncomplete, ia.Actions[0].Status, "the child's Close ended its own open scope")
	}
	assert.Len(t, pids, children)

	live, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(b.JSON(wf.ID())), string(live), "the parent's tree takes in the children's journals")
}

// Two processes with one pid (containers sharing a volume) never write
// one journal: each creates its own, with a name no other has.
func TestJournalsOfProcessesWithOnePid(t *testing.T) {
	parent := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(parent.ctx, "shared")
	t.Setenv(slogwf.EnvParent, strings.TrimPrefix(slogwf.Environ(ctx)[0], slogwf.EnvParent+"="))
	other := newSetup(t, &slogwf.Options{Dir: parent.dir}) // same pid, same Dir
	other.log.InfoContext(slogwf.ContextFromEnv(other.ctx), "from the other process")
	require.NoError(t, other.h.Close())
	wf.End()
	require.NoError(t, parent.h.Close())

	journals, err := filepath.Glob(filepath.Join(parent.dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 2)
	pid := "-" + strconv.Itoa(os.Getpid()) + "-"
	for _, j := range journals {
		assert.Contains(t, filepath.Base(j), pid)
	}
	var tr node
	require.NoError(t, json.Unmarshal(buildTree(t, parent.dir, wf.ID()), &tr))
	assert.Equal(t, []string{"from the other process"}, tr.msgs())
}

// Each process sends the scopes it started, with what it logged in them:
// the parent's exporter gets neither the scopes a child started nor the
// records and usage the child logged in the parent's scopes, whether or
// not a snapshot took the child's journal in before they ended. The tree
// file has them all.
func TestEachProcessExportsOnlyTheScopesItStarted(t *testing.T) {
	for _, snapshot := range []bool{false, true} {
		t.Run(fmt.Sprint("snapshot=", snapshot), func(t *testing.T) {
			rec := &recorder{}
			s := newSetup(t, &slogwf.Options{Exporter: rec, SnapshotInterval: time.Hour})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "parent")
			iaCtx, ia := slogwf.StartInteraction(ctx, "worker")
			s.log.InfoContext(iaCtx, "parent call", slogwf.Tokens(1, 1))
			cmd := child(s.dir, "records", slogwf.Environ(iaCtx)...)
			cmd.Stderr = os.Stderr
			require.NoError(t, cmd.Run())
			if snapshot {
				s.h.Snapshot(wf)
				require.Len(t, s.tree(t, wf).Interactions[0].Interactions, 1, "the snapshot took the child's journal in")
			}
			ia.End()
			wf.End()
			require.NoError(t, s.h.Close())

			got := rec.byID(t)
			assert.Len(t, got, 2, "the workflow and the worker: no scope of the child")
			for _, sc := range []*slogwf.Scope{wf, ia} {
				e := got[sc.ID()]
				require.NotNil(t, e, sc.ID())
				assert.Equal(t, "completed", e.Status)
				assert.Equal(t, tree.Counts{Records: 1}, e.Counts, "the parent's record alone")
				assert.Equal(t, tree.Usage{Calls: 1, In: 1, Out: 1}, e.Total, "the parent's usage alone")
			}
			assert.Len(t, got[ia.ID()].SortedRecords(), 1)

			tr := s.tree(t, wf)
			assert.EqualValues(t, 1+childRecords+2, tr.Counts.Records, "the tree file has the child's records")
			assert.EqualValues(t, 1+100+200, tr.Usage.InputTokens)
		})
	}
}

// The tree numbers the iterations of each scope 1, 2, … in the order they
// started, also when child processes (ContextFromEnv) start some in the
// scope their parent passed them, each numbering its own from 1: in the
// workflow's iterations, when passed the workflow, or two children in one
// interaction. The live tree is the one rebuilt from the journals.
func TestNoTwoIterationsOfOneScopeShareANumberWhenChildProcessesStartSome(t *testing.T) {
	for _, tt := range []struct {
		name     string
		children int
		passWF   bool
	}{
		{"a child passed an interaction", 1, false},
		{"a child passed the workflow", 1, true},
		{"two children passed one interaction", 2, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent := newSetup(t, nil)
			ctx, wf := slogwf.StartWorkflow(parent.ctx, "w")
			itCtx, it := slogwf.StartIteration(ctx)
			iaCtx, ia := slogwf.StartInteraction(itCtx, "worker")
			passed := iaCtx
			if tt.passWF {
				passed = ctx
			}
			var childIts []string
			for range tt.children {
				cmd := child(parent.dir, "iteration", slogwf.Environ(passed)...)
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				require.NoError(t, err)
				childIts = append(childIts, strings.TrimSpace(string(out)))
			}
			ia.End()
			it.End()
			_, it2 := slogwf.StartIteration(ctx)
			it2.End()
			wf.End()
			require.NoError(t, parent.h.Close())

			live, err := os.ReadFile(parent.h.TreeFile(wf))
			require.NoError(t, err)
			assert.Equal(t, string(buildTree(t, parent.dir, wf.ID())), string(live), "the journals give the live tree")
			var tr node
			require.NoError(t, json.Unmarshal(live, &tr))
			var check func(n *node)
			check = func(n *node) {
				for i, c := range n.Iterations {
					assert.Equal(t, i+1, c.Number, "iteration %d of %s %s", i+1, n.Kind, n.ID)
					if i > 0 {
						assert.LessOrEqual(t, n.Iterations[i-1].Start, c.Start, "in the order they started")
					}
				}
				for _, c := range n.children() {
					check(c)
				}
			}
			check(&tr)

			ids := func(ns []*node) (ids []string) {
				for _, n := range ns {
					ids = append(ids, n.ID)
				}
				return ids
			}
			wantWF, wantIA := []string{it.ID(), it2.ID()}, childIts
			if tt.passWF {
				wantWF, wantIA = slices.Concat(wantWF[:1], childIts, wantWF[1:]), nil
			}
			assert.Equal(t, wantWF, ids(tr.Iterations), "the workflow's")
			assert.Equal(t, wantIA, ids(tr.find(ia.ID()).Iterations), "the interaction's")
		})
	}
}

// A workflow passed on to other processes takes the lines of their
// journals, and of no other file in the journal directory: a *.jsonl file
// that slogwf did not name is not a journal, whatever it holds.
func TestAWorkflowPassedOnTakesLinesOfJournalsOnly(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "parent")
	slogwf.Environ(ctx)
	line := func(msg string) string {
		return fmt.Sprintf(`{"ev":"record","wf":%q,"scope":%q,"seq":1,"time":%q,"level":"INFO","msg":%q}`+"\n",
			wf.ID(), wf.ID(), time.Now().UTC().Format(time.RFC3339Nano), msg)
	}
	dir := filepath.Join(s.dir, tree.JournalDir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.jsonl"), []byte(line("not a journal's")), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, tree.JournalName(time.Now(), 1, 0xabcdef)), []byte(line("a child's")), 0o600))
	wf.End()
	require.NoError(t, s.h.Close())
	assert.Equal(t, []string{"a child's"}, readTree(t, s.h.TreeFile(wf)).msgs())
}

// An iteration that a child process starts is a child of the scope its
// parent passed it, wherever in it it starts, as a workflow's iteration is
// the workflow's: the tree numbers it as the child's journal does, also
// when the child started it inside an interaction of its own.
func TestAChildProcessesIterationsAreOfThePassedScopeWhereverTheyStart(t *testing.T) {
	parent := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(parent.ctx, "w")
	iaCtx, ia := slogwf.StartInteraction(ctx, "worker")
	t.Setenv(slogwf.EnvParent, strings.TrimPrefix(slogwf.Environ(iaCtx)[0], slogwf.EnvParent+"="))
	child := newSetup(t, &slogwf.Options{Dir: parent.dir}) // as a child process would
	passed := slogwf.ContextFromEnv(child.ctx)
	_, first := slogwf.StartIteration(passed)
	first.End()
	subCtx, sub := slogwf.StartInteraction(passed, "sub")
	_, second := slogwf.StartIteration(subCtx)
	second.End()
	sub.End()
	require.NoError(t, child.h.Close())
	ia.End()
	wf.End()
	require.NoError(t, parent.h.Close())

	journaled := journaledIterations(t, parent.dir)
	var tr node
	require.NoError(t, json.Unmarshal(buildTree(t, parent.dir, wf.ID()), &tr))
	got := map[string]int{}
	for _, it := range tr.find(ia.ID()).Iterations {
		got[it.ID] = it.Number
	}
	assert.Equal(t, map[string]int{first.ID(): 1, second.ID(): 2}, journaled)
	assert.Equal(t, journaled, got, "the passed interaction's iterations, numbered as the child's journal has them")
}
