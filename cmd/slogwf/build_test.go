package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
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

// Set to a directory, these make the test binary a child process that
// logs there: until it is killed, or its records under its parent's scope.
const (
	crashEnv = "SLOGWF_TEST_CRASH_DIR"
	childEnv = "SLOGWF_TEST_CHILD_DIR"
)

// Set to a JSON array, this makes the test binary run slogwf with those
// arguments, as the slogwf command does.
const runEnv = "SLOGWF_TEST_RUN"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		logUntilKilled(dir)
	}
	if args := os.Getenv(runEnv); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Exit(run(context.Background(), a, os.Stdin, os.Stdout, os.Stderr))
	}
	if dir := os.Getenv(childEnv); dir != "" {
		logAsChild(dir)
		return
	}
	goleak.VerifyTestMain(stopsBrowser{m})
}

// stopsBrowser runs the tests, then stops the browser that they shared,
// before goleak looks for goroutines left over.
type stopsBrowser struct{ m *testing.M }

func (s stopsBrowser) Run() int {
	defer stopBrowser()
	return s.m.Run()
}

// childRecords is how many records each child process logs.
const childRecords = 1000

// logAsChild logs records under the scope its parent passed.
func logAsChild(dir string) {
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	if err != nil {
		panic(err)
	}
	l := slog.New(h)
	ctx := slogwf.ContextFromEnv(slogwf.ContextWithLogger(context.Background(), l))
	for i := range childRecords {
		l.InfoContext(ctx, "child", "i", i, "pid", os.Getpid())
	}
	if err := h.Close(); err != nil {
		panic(err)
	}
}

// A parent and 4 child processes, each child under its own interaction:
// build merges their 5 journals into one tree.
func TestBuildMergesProcesses(t *testing.T) {
	const children = 4
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "merge")
	var cmds []*exec.Cmd
	var ias []*slogwf.Scope
	for range children {
		iaCtx, ia := slogwf.StartInteraction(ctx, "worker")
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(append(os.Environ(), childEnv+"="+dir), slogwf.Environ(iaCtx)...)
		require.NoError(t, cmd.Start())
		cmds, ias = append(cmds, cmd), append(ias, ia)
	}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait())
		ias[i].End()
	}
	wf.End()
	require.NoError(t, h.Close())
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 1+children)

	code, stdout, stderr := runCLI(t, append([]string{"build", "-o", "-"}, journals...)...)
	require.Equal(t, 0, code, stderr)
	var tree struct {
		Counts       struct{ Records int }
		Interactions []struct {
			ID      string
			Records []struct{ Attrs struct{ Pid int } }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &tree))
	assert.Equal(t, children*childRecords, tree.Counts.Records)
	require.Len(t, tree.Interactions, children)
	for i, ia := range tree.Interactions {
		assert.Equal(t, ias[i].ID(), ia.ID)
		require.Len(t, ia.Records, childRecords)
		for _, r := range ia.Records {
			require.Equal(t, ia.Records[0].Attrs.Pid, r.Attrs.Pid, "one child's records under one interaction")
		}
	}
}

// crashAt is the record after which the crashing child waits to be killed:
// in the worker's turn of iteration 3.
const crashAt = 275

// logUntilKilled runs iterations of two agents, printing the number of
// each record once it is logged, and waits to be killed after crashAt.
func logUntilKilled(dir string) {
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	if err != nil {
		panic(err)
	}
	l := slog.New(h)
	ctx, _ := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "crash")
	for n := 0; ; {
		itCtx, it := slogwf.StartIteration(ctx)
		for _, agent := range []string{"planner", "worker"} {
			iaCtx, ia := slogwf.StartInteraction(itCtx, agent)
			for range 50 {
				l.InfoContext(iaCtx, "record", "n", n)
				fmt.Println(n)
				if n == crashAt {
					select {} // until SIGKILL
				}
				n++
			}
			ia.End()
		}
		it.End()
	}
}

// journalRun logs a small workflow with the real handler in dir and
// returns the path of its tree file.
func journalRun(t *testing.T, dir, name string) string {
	t.Helper()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), name, "user", "ana")
	itCtx, it := slogwf.StartIteration(ctx)
	iaCtx, ia := slogwf.StartInteraction(itCtx, "planner", slogwf.InputKey, "plan")
	l.InfoContext(iaCtx, "call", slogwf.Model("m"), slogwf.Tokens(100, 20), slogwf.CachedTokens(30), slogwf.CacheWriteTokens(40), slogwf.Cost(0.01))
	slogwf.Semantic(iaCtx, "odd")
	_, act := slogwf.StartAction(iaCtx, "search")
	act.Fail(errors.New("timeout"))
	ia.End(slogwf.OutputKey, "done")
	_, _ = slogwf.StartInteraction(itCtx, "left open")
	it.End()
	wf.End()
	require.NoError(t, h.Close())
	return h.TreeFile(wf)
}

func TestBuildGivesTheLiveTreeByteForByte(t *testing.T) {
	dir := t.TempDir()
	live, err := os.ReadFile(journalRun(t, dir, "research"))
	require.NoError(t, err)

	code, stdout, stderr := runCLI(t, "build", "-o", "-", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, string(live), stdout)

	path := journalRun(t, t.TempDir(), "again")
	require.NoError(t, os.Remove(path))
	journals, err := filepath.Glob(filepath.Join(filepath.Dir(path), tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	code, stdout, stderr = runCLI(t, append([]string{"build"}, journals...)...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "tree: "+path+"\n", stdout, "the tree goes beside its journal, as the handler names it")
	assert.FileExists(t, path)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestBuildSeveralWorkflows(t *testing.T) {
	dir := t.TempDir()
	a, b := journalRun(t, dir, "a"), journalRun(t, dir, "b")
	want := map[string][]byte{}
	for _, p := range []string{a, b} {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		want[p] = data
		require.NoError(t, os.Remove(p))
	}

	code, _, stderr := runCLI(t, "build", "-o", filepath.Join(dir, "one.json"), dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "-o takes one workflow, the journals hold 2: a ")
	assert.Equal(t, 1, strings.Count(stderr, "\n"))

	code, stdout, stderr := runCLI(t, "build", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 2, strings.Count(stdout, "tree: "))
	for p, data := range want {
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, string(data), string(got))
	}
}

func TestBuildSkipsBadLinesWithAWarning(t *testing.T) {
	dir := t.TempDir()
	live, err := os.ReadFile(journalRun(t, dir, "torn"))
	require.NoError(t, err)
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	data, err := os.ReadFile(journals[0])
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	damaged := lines[0] + "{not json}\n" + strings.Join(lines[1:], "") + `{"ev":"record","wf":"` // torn
	require.NoError(t, os.WriteFile(journals[0], []byte(damaged), 0o600))

	code, stdout, stderr := runCLI(t, "build", "-o", "-", journals[0])
	require.Equal(t, 0, code, stderr)
	want := strings.Replace(string(live), `"loss":{"dropped":0,`, `"loss":{"dropped":2,`, 1)
	assert.Equal(t, want, stdout, "every whole line is kept, the others are counted")
	warnings := strings.Split(strings.TrimSpace(stderr), "\n")
	require.Len(t, warnings, 2, stderr)
	assert.Contains(t, warnings[0], journals[0]+":2: line skipped")
	assert.Contains(t, warnings[1], fmt.Sprintf("%s:%d: torn last line skipped", journals[0], len(lines)+1))
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	missing := filepath.Join(dir, "missing.jsonl")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing", []string{missing}, 1, missing},
		{"empty", []string{empty}, 1, "no events in " + empty},
		{"tree file", []string{treeFile}, 1, "build reads journals only"},
		{"no input", nil, 2, "no journals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"build"}, tt.args...)...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// A process killed with SIGKILL in the middle of an iteration: the tree
// rebuilt from its journal holds every record it logged, and the scopes it
// left open are incomplete.
func TestBuildAfterACrash(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	logged := -1
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		logged, err = strconv.Atoi(lines.Text())
		require.NoError(t, err)
		if logged == crashAt {
			require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred code, no Close
		}
	}
	require.Error(t, cmd.Wait())
	require.Equal(t, crashAt, logged)

	code, stdout, stderr := runCLI(t, "build", "-o", "-", dir)
	require.Equal(t, 0, code, stderr)
	var tree struct {
		Status     string
		Counts     struct{ Records int }
		Iterations []struct {
			Status       string
			Interactions []struct {
				Agent, Status string
				Records       []struct{ Attrs struct{ N int } }
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &tree))
	assert.Equal(t, "incomplete", tree.Status)
	assert.GreaterOrEqual(t, tree.Counts.Records, logged+1, "every record logged before the kill")
	seen := map[int]bool{}
	for i, it := range tree.Iterations {
		last := i == len(tree.Iterations)-1
		assert.Equal(t, map[bool]string{true: "incomplete", false: "completed"}[last], it.Status, "iteration %d", i+1)
		for _, ia := range it.Interactions {
			for _, r := range ia.Records {
				seen[r.Attrs.N] = true
			}
		}
	}
	for n := 0; n <= logged; n++ {
		require.True(t, seen[n], "record %d", n)
	}
	require.Len(t, tree.Iterations, 3)
	last := tree.Iterations[2].Interactions
	require.Len(t, last, 2)
	assert.Equal(t, []string{"completed", "incomplete"}, []string{last[0].Status, last[1].Status}, "the planner ended, the worker was cut off")

	code, outline, stderr := runCLI(t, "tree", "-color=never", "-errors", dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, outline, "… workflow crash")
	assert.NotContains(t, outline, "✔", "-errors shows only the paths to incomplete nodes")
}

func TestTreeReadsJournals(t *testing.T) {
	dir := t.TempDir()
	path := journalRun(t, dir, "research")
	_, fromTree, _ := runCLI(t, "tree", "-color=never", path)
	require.NoError(t, os.Remove(path))
	code, fromJournal, stderr := runCLI(t, "tree", "-color=never", dir)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, fromTree, fromJournal)
}

func TestTreeDepthAndErrorsGolden(t *testing.T) {
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"testdata/tree_depth1.golden", []string{"-depth", "1"}},
		{"testdata/tree_errors.golden", []string{"-errors"}},
	} {
		code, stdout, stderr := runCLI(t, append(append([]string{"tree", "-color=never"}, tt.args...), treeFile)...)
		require.Equal(t, 0, code, stderr)
		if *update {
			require.NoError(t, os.WriteFile(tt.golden, []byte(stdout), 0o644))
		}
		golden, err := os.ReadFile(tt.golden)
		require.NoError(t, err)
		assert.Equal(t, string(golden), stdout, tt.golden)
	}
}

// open opens the file name for the test.
func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestStandardInput(t *testing.T) {
	dir := t.TempDir()
	path := journalRun(t, dir, "stdin")
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	live, err := os.ReadFile(path)
	require.NoError(t, err)
	_, outline, _ := runCLI(t, "tree", "-color=never", path)

	code, stdout, stderr := runCLIStdin(t, open(t, journals[0]), "build", "-o", "-", "-")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, string(live), stdout)
	for _, file := range []string{path, journals[0]} {
		code, stdout, stderr := runCLIStdin(t, open(t, file), "tree", "-color=never", "-")
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, outline, stdout, file)
	}
}

func TestBuildOutputFile(t *testing.T) {
	dir := t.TempDir()
	live, err := os.ReadFile(journalRun(t, dir, "out"))
	require.NoError(t, err)
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)

	real := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	require.NoError(t, os.Symlink(real, link))
	code, _, stderr := runCLI(t, "build", "-o", link, journals[0])
	require.Equal(t, 0, code, stderr)
	got, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, string(live), string(got), "the link is followed")
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, st.Mode().Type(), "and stays a link")

	null, err := os.Stat(os.DevNull)
	require.NoError(t, err)
	code, _, stderr = runCLI(t, "build", "-o", os.DevNull, journals[0])
	require.Equal(t, 0, code, stderr)
	after, err := os.Stat(os.DevNull)
	require.NoError(t, err)
	assert.Equal(t, null.Mode(), after.Mode(), "a device is written to, not replaced")

	missing := filepath.Join(dir, "no", "such", "dir.json")
	code, _, stderr = runCLI(t, "build", "-o", missing, journals[0])
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "write "+missing+": ")

	code, _, stderr = runCLI(t, "tree", "-", "-")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "given more than once")

	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	code, _, stderr = runCLI(t, "tree", empty)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no workflow in "+empty)
}

// A file that build or html names itself, beside their inputs, replaces a
// symbolic link planted at its name, and writes nothing where it leads.
func TestFilesACommandNamesItselfReplaceASymlinkPlantedThere(t *testing.T) {
	tests := []struct {
		cmd  string
		name func(tree string) string
	}{
		{"build", func(tree string) string { return tree }},
		{"html", func(tree string) string { return strings.TrimSuffix(tree, ".json") + ".html" }},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			dir := t.TempDir()
			name := tt.name(journalRun(t, dir, "research"))
			victim := filepath.Join(t.TempDir(), "victim")
			require.NoError(t, os.WriteFile(victim, []byte("keep"), 0o600))
			if err := os.Remove(name); !errors.Is(err, fs.ErrNotExist) {
				require.NoError(t, err)
			}
			require.NoError(t, os.Symlink(victim, name))

			code, _, stderr := runCLI(t, tt.cmd, dir)
			require.Equal(t, 0, code, stderr)
			got, err := os.ReadFile(victim)
			require.NoError(t, err)
			assert.True(t, string(got) == "keep", "the file the link leads to is untouched")
			st, err := os.Lstat(name)
			require.NoError(t, err)
			assert.True(t, st.Mode().IsRegular(), "the link replaced")
		})
	}
}

// spread is a workflow that the handler logged across journal segments.
type spread struct {
	id, path   string
	final      []byte   // its tree file, as the handler left it
	start, end string   // the segments with its start and its end
	late       string   // the segment with its late record
	tokens     string   // the segment with its interaction's end, which says its tokens
	journals   []string // all the segments, its own and others'
}

// logSpread logs workflow name in dir across segments: its start and
// records, the end of an interaction with its tokens, its end, and a
// record logged after its end, each in its own segment, others' workflows
// between them.
func logSpread(t *testing.T, dir, name string) spread {
	t.Helper()
	const size = 1 << 20 // the least segment
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, SegmentSize: size, MaxValue: -1})
	require.NoError(t, err)
	l := slog.New(h)
	base := slogwf.ContextWithLogger(context.Background(), l)
	pad := func() { // others' lines fill the segment
		for range 2 {
			c, o := slogwf.StartWorkflow(base, "other")
			l.InfoContext(c, "r", "pad", strings.Repeat("y", size/2))
			o.End()
		}
	}
	ctx, wf := slogwf.StartWorkflow(base, name)
	l.InfoContext(ctx, "on time", "i", 0, "pad", strings.Repeat("x", size)) // its start's segment is its own
	for i := range 2 {
		l.InfoContext(ctx, "on time", "i", i+1)
	}
	_, ia := slogwf.StartInteraction(ctx, "planner")
	pad()
	ia.End(slogwf.Tokens(100, 20))
	pad()
	wf.End()
	pad()
	l.InfoContext(ctx, "late")
	require.NoError(t, h.Close())

	s := spread{id: wf.ID(), path: h.TreeFile(wf)}
	s.final, err = os.ReadFile(s.path)
	require.NoError(t, err)
	require.Contains(t, string(s.final), `"msg":"late"`, "the handler rebuilt the tree with the late record")
	s.journals, err = filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	for _, name := range s.journals {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		for line := range strings.Lines(string(data)) {
			switch {
			case !strings.Contains(line, `"wf":"`+s.id+`"`):
			case strings.HasPrefix(line, `{"ev":"start"`) && strings.Contains(line, `"id":"`+s.id+`"`):
				s.start = name
			case strings.HasPrefix(line, `{"ev":"end"`) && strings.Contains(line, `"id":"`+s.id+`"`):
				s.end = name
			case strings.HasPrefix(line, `{"ev":"end"`) && strings.Contains(line, `"id":"`+ia.ID()+`"`):
				s.tokens = name
			case strings.Contains(line, `"msg":"late"`):
				s.late = name
			}
		}
	}
	require.NotEmpty(t, s.start)
	require.NotEqual(t, s.start, s.end)
	require.NotEqual(t, s.end, s.late)
	require.NotContains(t, []string{s.start, s.end, ""}, s.tokens)
	return s
}

// build never replaces a tree file with a tree that holds less of its
// workflow: when the journals it reads lack the workflow's start (retention
// removed the segments before a late record's), its end, or records, the
// tree file stays, and build says so in one line.
// Each count of usage the journals hold less of than the tree file keeps
// the tree file, whatever the others hold.
func TestBuildKeepsATreeFileThatHoldsMoreOfAnyUsage(t *testing.T) {
	full := treeHead{Status: tree.StatusCompleted, Usage: treeUsage{Calls: 2, In: 100, Cached: 30, CacheWrite: 40, Out: 20}}
	tests := []struct {
		less func(u *treeUsage)
		want string
	}{
		{func(u *treeUsage) { u.In-- }, "input tokens of workflow w: 100 in it, 99 in the journals"},
		{func(u *treeUsage) { u.Cached-- }, "cached input tokens of workflow w: 30 in it, 29 in the journals"},
		{func(u *treeUsage) { u.CacheWrite-- }, "input tokens written to the cache of workflow w: 40 in it, 39 in the journals"},
		{func(u *treeUsage) { u.Out-- }, "output tokens of workflow w: 20 in it, 19 in the journals"},
		{func(u *treeUsage) { u.Calls-- }, "LLM calls of workflow w: 2 in it, 1 in the journals"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			h := full
			tt.less(&h.Usage)
			assert.Equal(t, tt.want, lessThan(full, h, "w"))
			assert.Empty(t, lessThan(h, full, "w"), "the journals hold more")
		})
	}
}

func TestBuildKeepsATreeFileThatHoldsMoreThanTheJournals(t *testing.T) {
	tests := []struct {
		name, workflow string
		cut            func(t *testing.T, dir string, s spread) []string // the journals build reads
		why            string
	}{
		{"retention removed the segments before its late record's", "old", pruneBeforeLate, "without its start"},
		{"of a workflow with no name", "", pruneBeforeLate, "without its start"},
		{"the journal named holds its start and records, not its end", "old",
			func(_ *testing.T, _ string, s spread) []string { return []string{s.start} }, "it holds 4 records of workflow"},
		{"the segment with its end was removed by hand", "old",
			func(t *testing.T, dir string, s spread) []string {
				require.NoError(t, os.Remove(s.end))
				return []string{dir}
			}, "it holds the end of workflow"},
		{"the segment with an interaction's end and its tokens was removed by hand", "old",
			func(t *testing.T, dir string, s spread) []string {
				require.NoError(t, os.Remove(s.tokens))
				return []string{dir}
			}, "input tokens of workflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := logSpread(t, dir, tt.workflow)
			code, stdout, stderr := runCLI(t, append([]string{"build"}, tt.cut(t, dir, s)...)...)
			require.Equal(t, 0, code, stderr)
			got, err := os.ReadFile(s.path)
			require.NoError(t, err)
			assert.Equal(t, string(s.final), string(got), "the tree file stays")
			assert.NotContains(t, stdout, s.id)
			var kept []string
			for line := range strings.Lines(stderr) {
				if strings.Contains(line, s.id) {
					kept = append(kept, line)
				}
			}
			require.Len(t, kept, 1, stderr)
			assert.Contains(t, kept[0], "slogwf build: kept "+s.path+": ")
			assert.Contains(t, kept[0], tt.why)
			trees, err := filepath.Glob(filepath.Join(dir, "*"+s.id+".json*"))
			require.NoError(t, err)
			assert.Equal(t, []string{s.path}, trees, "no other tree file of the workflow, nor a temporary one")
		})
	}
}

// pruneBeforeLate prunes the segments before the one with the late record
// of s, as retention does once they are old and the tree file is not.
func pruneBeforeLate(t *testing.T, dir string, s spread) []string {
	past := time.Now().Add(-30 * 24 * time.Hour)
	for _, name := range s.journals {
		if name != s.late {
			require.NoError(t, os.Chtimes(name, past, past))
		}
	}
	code, _, stderr := runCLI(t, "prune", "-max-age", "7d", dir)
	require.Equal(t, 0, code, stderr)
	require.NoFileExists(t, s.start)
	require.FileExists(t, s.late)
	return []string{dir}
}

// sortAfterEndRemoved removes the segment with the end of s, and writes its
// tree file with its members sorted, as another tool would: its head does
// not come first.
func sortAfterEndRemoved(t *testing.T, _ string, s spread) {
	require.NoError(t, os.Remove(s.end))
	var m map[string]any
	require.NoError(t, json.Unmarshal(s.final, &m))
	sorted, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.path, sorted, 0o600))
}

// A tree file that holds less than the journals, a snapshot or a tree
// rebuilt from some of them, build replaces with the whole tree.
func TestBuildReplacesATreeFileThatHoldsLessThanTheJournals(t *testing.T) {
	dir := t.TempDir()
	s := logSpread(t, dir, "old")
	code, _, stderr := runCLI(t, "build", "-o", s.path, s.start)
	require.Equal(t, 0, code, stderr)

	code, stdout, stderr := runCLI(t, "build", dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "tree: "+s.path+"\n")
	assert.Empty(t, stderr)
	got, err := os.ReadFile(s.path)
	require.NoError(t, err)
	assert.Equal(t, string(s.final), string(got))
}

// A running snapshot that a crash left is made final, though it holds more
// records than the journals (a power loss: the snapshot was synced, the
// journal's tail was not): else it would say running for ever.
func TestBuildMakesARunningSnapshotFinalThoughItHoldsMore(t *testing.T) {
	dir := t.TempDir()
	s := logSpread(t, dir, "old")
	snap := strings.Replace(string(s.final), `"status":"completed"`, `"status":"running"`, 1)
	require.NotEqual(t, string(s.final), snap)
	require.NoError(t, os.WriteFile(s.path, []byte(snap), 0o600))
	for _, name := range s.journals {
		if name != s.start {
			require.NoError(t, os.Remove(name))
		}
	}
	code, _, stderr := runCLI(t, "build", dir)
	require.Equal(t, 0, code, stderr)
	got, err := os.ReadFile(s.path)
	require.NoError(t, err)
	assert.Contains(t, string(got), `"status":"incomplete"`, stderr)
}

// A journal segment's NUL padding (a live or crashed writer's tail, a
// power loss's hole) is no line: build makes the tree it makes without
// it, counting nothing lost but a line the padding cut short, torn as a
// last line without its newline is; a segment of NULs alone (a process
// that crashed before its first line) holds nothing.
func TestBuildSkipsTheNULPaddingOfAJournal(t *testing.T) {
	pad := func(n int) string { return strings.Repeat("\x00", n) }
	dir := t.TempDir()
	live, err := os.ReadFile(journalRun(t, dir, "padded"))
	require.NoError(t, err)
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 1)
	data, err := os.ReadFile(journals[0])
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	head, rest := lines[0]+lines[1], strings.Join(lines[2:], "")
	half := `{"ev":"record","wf":"`
	torn := strings.Replace(string(live), `"loss":{"dropped":0,`, `"loss":{"dropped":1,`, 1)
	tests := []struct {
		name, journal string
		want          string
		warnings      int
	}{
		{"a NUL tail after the last line", string(data) + pad(1<<20), string(live), 0},
		{"a NUL hole between lines", head + pad(4096) + rest, string(live), 0},
		{"NULs before the first line", pad(100) + string(data), string(live), 0},
		{"a half line, then NULs", string(data) + half + pad(1<<20), torn, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(journals[0], []byte(tt.journal), 0o600))
			only := filepath.Join(dir, tree.JournalDir, "20260101T000000.000Z-98-ffffff.jsonl")
			require.NoError(t, os.WriteFile(only, []byte(pad(1<<20)), 0o600))
			for _, args := range [][]string{{dir}, {journals[0], only}, {"-"}} {
				code, stdout, stderr := runCLIStdin(t, strings.NewReader(tt.journal), append([]string{"build", "-o", "-"}, args...)...)
				require.Equal(t, 0, code, stderr)
				assert.Equal(t, tt.want, stdout, args)
				assert.Equal(t, tt.warnings, strings.Count(stderr, "torn last line skipped"), stderr)
				assert.Equal(t, tt.warnings, strings.Count(stderr, "\n"), stderr)
			}
		})
	}
	code, stdout, stderr := runCLIStdin(t, strings.NewReader(pad(1<<20)), "build", "-")
	emptyCode, emptyStdout, emptyStderr := runCLIStdin(t, strings.NewReader(""), "build", "-")
	assert.Equal(t, []any{emptyCode, emptyStdout, emptyStderr}, []any{code, stdout, stderr}, "NULs alone are an empty journal")
}

// The torn start of a workflow of which no other line is read (its
// process died writing it) is a line lost: a warning, and a loss of the
// journal's workflows; it makes no workflow of its own, whose tree would
// go where the command runs: what build and html write goes beside the
// journals.
func TestATornStartMakesNoWorkflowAndNothingIsWrittenOutsideTheInputs(t *testing.T) {
	dir := t.TempDir()
	treeFile := journalRun(t, dir, "research")
	require.NoError(t, os.Remove(treeFile))
	journals, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, journals, 1)
	const torn = `{"ev":"start","wf":"01a22c7a-5555-7000-8000-000000000001","id":"01a22c7a-5555-7000-8000-000000000001","kind":"workflow","seq":99,"ti`
	f, err := os.OpenFile(journals[0], os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(torn)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	cwd := t.TempDir()
	t.Chdir(cwd)

	tests := []struct {
		name string
		args []string
		out  string // in stdout
	}{
		{name: "build", args: []string{"build", dir}, out: "tree: " + treeFile + "\n"},
		{name: "build -o -", args: []string{"build", "-o", "-", dir}, out: `"loss":{"dropped":1,`},
		{name: "tree", args: []string{"tree", dir}, out: "workflow research"},
		{name: "stats", args: []string{"stats", dir}, out: "workflow research"},
		{name: "html", args: []string{"html", dir}, out: "html: " + strings.TrimSuffix(treeFile, ".json") + ".html\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stdout, tt.out)
			assert.NotContains(t, stdout, `""`, "a workflow with no name")
			assert.Equal(t, 1, strings.Count(stderr, ": torn last line skipped"), stderr)
			entries, err := os.ReadDir(cwd)
			require.NoError(t, err)
			assert.Empty(t, entries, "written where the command runs")
		})
	}
}
