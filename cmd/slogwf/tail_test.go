package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// tailRun is a run of the real handler: its journals and its console.
type tailRun struct {
	dir     string
	console string
	wf      string // ID of the workflow "research"
}

// tailLockstep runs the steps of each agent in a goroutine of its own, in
// turns: the first step of each agent, then the second of each, and so on.
// The agents run in parallel, their interactions open at the same time,
// yet they log in the same order on every run.
func tailLockstep(agents ...[]func()) {
	type runner struct{ turn, done chan struct{} }
	rs := make([]runner, len(agents))
	var wg sync.WaitGroup
	for i, steps := range agents {
		rs[i] = runner{make(chan struct{}), make(chan struct{})}
		wg.Go(func() {
			for _, step := range steps {
				<-rs[i].turn
				step()
				rs[i].done <- struct{}{}
			}
		})
	}
	for n, more := 0, true; more; n++ {
		more = false
		for i, steps := range agents {
			if n < len(steps) {
				more = true
				rs[i].turn <- struct{}{}
				<-rs[i].done
			}
		}
	}
	wg.Wait()
}

// writeTailJournals runs a workflow "research" with two agents in parallel,
// a planner and a worker: a semantic warning, a warning and a failed
// action. With other, a second workflow "other" follows.
func writeTailJournals(t *testing.T, color slogwf.ColorMode, other bool) tailRun {
	t.Helper()
	dir := t.TempDir()
	var console bytes.Buffer
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: &console, Color: color})
	require.NoError(t, err)
	log := slog.New(h)
	ctx := slogwf.ContextWithLogger(context.Background(), log)

	ctx, wf := slogwf.StartWorkflow(ctx, "research", "user", "ana")
	itCtx, it := slogwf.StartIteration(ctx)
	var planCtx, workCtx, actCtx context.Context
	var plan, work, act *slogwf.Scope
	tailLockstep([]func(){
		func() { planCtx, plan = slogwf.StartInteraction(itCtx, "planner", slogwf.InputKey, "plan a trip") },
		func() {
			log.InfoContext(planCtx, "llm call", slogwf.Model("m1"), slogwf.Tokens(100, 20), slogwf.Cost(0.25))
		},
		func() { slogwf.Semantic(planCtx, "plan breaks the budget", "budget", 100) },
		func() { plan.End(slogwf.OutputKey, "fly, then walk") },
	}, []func(){
		func() { workCtx, work = slogwf.StartInteraction(itCtx, "worker", slogwf.InputKey, "book the flight") },
		func() { actCtx, act = slogwf.StartAction(workCtx, "book_flight", slogwf.InputKey, "LIS-OPO") },
		func() { log.WarnContext(actCtx, "seat map unavailable", "attempt", 2) },
		func() { act.Fail(errors.New("no seats")) },
		func() { log.InfoContext(workCtx, "giving up") },
		func() { work.End(slogwf.OutputKey, "no flight") },
	})
	it.End()
	wf.End()
	if other {
		ctx, wf2 := slogwf.StartWorkflow(ctx, "other")
		log.InfoContext(ctx, "unrelated")
		wf2.End()
	}
	require.NoError(t, h.Close())
	return tailRun{dir: dir, console: console.String(), wf: wf.ID()}
}

// tailLines returns the lines of the journals in dir, each with its
// newline.
func tailLines(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var lines []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		lines = append(lines, strings.SplitAfter(string(data), "\n")...)
	}
	return slices.DeleteFunc(lines, func(l string) bool { return l == "" })
}

// tailDropTimes drops the leading time column of each line of out.
func tailDropTimes(out string) []string {
	var lines []string
	for l := range strings.Lines(out) {
		_, rest, _ := strings.Cut(strings.TrimSuffix(l, "\n"), " ")
		lines = append(lines, rest)
	}
	return lines
}

func tailWrite(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
}

func TestTailPrintsAsTheConsoleDid(t *testing.T) {
	for _, mode := range []struct {
		color slogwf.ColorMode
		flag  string
	}{{slogwf.ColorNever, "-color=never"}, {slogwf.ColorAlways, "-color=always"}} {
		t.Run(mode.flag, func(t *testing.T) {
			r := writeTailJournals(t, mode.color, true)
			code, stdout, stderr := runCLI(t, "tail", mode.flag, r.dir)
			require.Equal(t, 0, code, stderr)
			assert.Empty(t, stderr)
			assert.Equal(t, r.console, stdout)
			// 14 lines of research, 3 of other.
			assert.Equal(t, 17, strings.Count(stdout, "\n"), stdout)
		})
	}
}

func TestTailInterleavesJournalsByTime(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	lines := tailLines(t, r.dir)
	require.Greater(t, len(lines), 10)

	// Two journals of one workflow, as two processes would write them:
	// the lines taken in turns.
	dir := t.TempDir()
	id8 := r.wf[len(r.wf)-8:]
	var a, b strings.Builder
	for i, l := range lines {
		if i%2 == 0 {
			a.WriteString(l)
		} else {
			b.WriteString(l)
		}
	}
	pa := filepath.Join(dir, "research-"+id8+".101.jsonl")
	pb := filepath.Join(dir, "research-"+id8+".202.jsonl")
	tailWrite(t, pa, a.String())
	tailWrite(t, pb, b.String())

	for _, args := range [][]string{{dir}, {pb, pa}} {
		code, stdout, stderr := runCLI(t, append([]string{"tail", "-color=never"}, args...)...)
		require.Equal(t, 0, code, stderr)
		assert.Empty(t, stderr)
		assert.Equal(t, r.console, stdout, "%v", args)
	}

	// The same from standard input.
	code, stdout, stderr := runCLIStdin(t, strings.NewReader(b.String()), "tail", "-color=never", pa, "-")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, r.console, stdout)
}

func TestTailFilters(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, true)
	planner := []string{
		`INF [research it1 planner] ▶ interaction input="plan a trip"`,
		`INF [research it1 planner] llm call model=m1 tokens.input=100 tokens.output=20 cost_usd=0.25`,
		`WRN SEMANTIC [research it1 planner] plan breaks the budget budget=100`,
	}
	worker := []string{
		`INF [research it1 worker] ▶ interaction input="book the flight"`,
		`INF [research it1 worker>book_flight] ▶ action input=LIS-OPO`,
		`WRN [research it1 worker>book_flight] seat map unavailable attempt=2`,
	}
	other := []string{
		`INF [other] ▶ workflow`,
		`INF [other] unrelated`,
	}
	tests := []struct {
		name  string
		flags []string
		want  []string // with the time column dropped, and "dur=…"
	}{
		{"agent", []string{"-agent", "worker"}, []string{
			worker[0], worker[1], worker[2],
			`ERR [research it1 worker>book_flight] ✗ action failed dur=… error="no seats"`,
			`INF [research it1 worker] giving up`,
			`INF [research it1 worker] ✔ interaction dur=… output="no flight"`,
		}},
		{"workflow by name", []string{"-workflow", "other"}, append(other[:2:2], `INF [other] ✔ workflow dur=…`)},
		{"workflow by ID", []string{"-workflow", r.wf, "-agent", "planner"}, append(planner[:3:3],
			`INF [research it1 planner] ✔ interaction dur=… total_tokens=120 cost_usd=0.25 output="fly, then walk"`)},
		{"level", []string{"-level", "WARN"}, []string{
			planner[2], worker[2],
			`ERR [research it1 worker>book_flight] ✗ action failed dur=… error="no seats"`,
		}},
		{"level with offset", []string{"-level", "warn+1"}, []string{
			`ERR [research it1 worker>book_flight] ✗ action failed dur=… error="no seats"`,
		}},
		{"semantic", []string{"-semantic"}, []string{planner[2]}},
		{"workflow by the start of its ID", []string{"-workflow", r.wf[:24], "-level", "warn+1"}, []string{
			`ERR [research it1 worker>book_flight] ✗ action failed dur=… error="no seats"`,
		}},
		{"all filters", []string{"-semantic", "-workflow", "research", "-agent", "worker"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"tail", "-color=never"}, tt.flags...)
			code, stdout, stderr := runCLI(t, append(args, r.dir)...)
			require.Equal(t, 0, code, stderr)
			assert.Empty(t, stderr)
			got := tailDropTimes(stdout)
			for i, l := range got {
				if before, after, ok := strings.Cut(l, " dur="); ok {
					_, rest, _ := strings.Cut(after, " ")
					got[i] = strings.TrimSpace(before + " dur=… " + rest)
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// tailBuffer is a bytes.Buffer safe for the tail goroutine and the test.
type tailBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tailStart runs slogwf tail with args in a goroutine: see startCLI.
func tailStart(t *testing.T, args ...string) (stdout, stderr *tailBuffer, stop func() int) {
	t.Helper()
	return startCLI(t, append([]string{"tail"}, args...)...)
}

// startCLI runs slogwf with args in a goroutine. It returns the output,
// and a function that cancels the context and returns the exit code,
// failing when the command does not return promptly.
func startCLI(t *testing.T, args ...string) (stdout, stderr *tailBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = new(tailBuffer), new(tailBuffer)
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), stdout, stderr) }()
	stopped := false
	stop = func() int {
		t.Helper()
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(5 * time.Second):
			t.Fatalf("slogwf %s did not return after the context was canceled", args[0])
			return -1
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	return stdout, stderr, stop
}

// tailAppend appends data to the file path, creating it.
func tailAppend(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString(data)
	require.NoError(t, errors.Join(err, f.Close()))
}

// tailWait bounds a wait for what a follower or server prints. Only a
// failing test waits it out; serve, under -race beside other packages' tests
// on two cores, took more than 5 s to read a directory and say it serves.
const (
	tailWait = 20 * time.Second
	tailTick = 10 * time.Millisecond
)

func TestTailFollow(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	lines := tailLines(t, r.dir)
	want := strings.SplitAfter(r.console, "\n")
	require.Len(t, lines, len(want)-1, "one console line per journal line")

	dir := t.TempDir()
	id8 := r.wf[len(r.wf)-8:]
	first := filepath.Join(dir, "research-"+id8+".101.jsonl")
	second := filepath.Join(dir, "research-"+id8+".202.jsonl")
	tailWrite(t, first, strings.Join(lines[:3], ""))

	stdout, stderr, stop := tailStart(t, "-f", "-color=never", dir)
	require.Eventually(t, func() bool { return stdout.String() == strings.Join(want[:3], "") }, tailWait, tailTick)

	// A line written in two pieces prints once, whole.
	line := lines[3]
	tailAppend(t, first, line[:len(line)/2])
	time.Sleep(3 * followPoll) // tail polls the half line, and must keep it
	assert.Equal(t, strings.Join(want[:3], ""), stdout.String())
	tailAppend(t, first, line[len(line)/2:]+lines[4])
	require.Eventually(t, func() bool { return stdout.String() == strings.Join(want[:5], "") }, tailWait, tailTick)

	// A journal that appears in the directory is read from its start.
	tailWrite(t, second, strings.Join(lines[5:], ""))
	require.Eventually(t, func() bool { return stdout.String() == r.console }, tailWait, tailTick)

	assert.Equal(t, 0, stop())
	assert.Equal(t, r.console, stdout.String())
	assert.Empty(t, stderr.String())
}

func TestTailFollowTruncated(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	lines := tailLines(t, r.dir)
	want := strings.SplitAfter(r.console, "\n")
	path := filepath.Join(t.TempDir(), "j.jsonl")
	tailWrite(t, path, strings.Join(lines[:4], ""))

	stdout, stderr, stop := tailStart(t, "-f", "-color=never", path)
	require.Eventually(t, func() bool { return stdout.String() == strings.Join(want[:4], "") }, tailWait, tailTick)

	// Rewritten shorter: read again from the start.
	tailWrite(t, path, lines[0])
	require.Eventually(t, func() bool { return stdout.String() == strings.Join(want[:4], "")+want[0] }, tailWait, tailTick)
	assert.Equal(t, 0, stop())
	assert.Equal(t, "slogwf tail: "+path+": truncated or replaced, reading it again from the start\n", stderr.String())
}

func TestTailFollowStdin(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	lines := tailLines(t, r.dir)
	pr, pw := io.Pipe()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := new(tailBuffer), new(tailBuffer)
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"tail", "-f", "-color=never", "-"}, pr, stdout, stderr) }()

	_, err := io.WriteString(pw, strings.Join(lines[:2], "")+lines[2][:10])
	require.NoError(t, err)
	want := strings.SplitAfter(r.console, "\n")
	require.Eventually(t, func() bool { return stdout.String() == strings.Join(want[:2], "") }, tailWait, tailTick)
	_, err = io.WriteString(pw, lines[2][10:]+strings.Join(lines[3:], ""))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return stdout.String() == r.console }, tailWait, tailTick)

	// The end of standard input, its only input, ends tail.
	require.NoError(t, pw.Close())
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(tailWait):
		t.Fatal("tail -f - did not return at the end of standard input")
	}
	assert.Empty(t, stderr.String())
}

func TestTailBadLines(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	lines := tailLines(t, r.dir)
	want := strings.SplitAfter(r.console, "\n")
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	torn := lines[3][:20]
	tailWrite(t, path, lines[0]+"not json\x1b[2J\n"+lines[1]+lines[2]+torn)

	for _, follow := range []bool{false, true} {
		if !follow {
			code, stdout, stderr := runCLI(t, "tail", "-color=never", path)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, strings.Join(want[:3], ""), stdout)
			errLines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			require.Len(t, errLines, 2, stderr)
			assert.True(t, strings.HasPrefix(errLines[0], "slogwf tail: "+path+":2: not a journal event"), errLines[0])
			assert.True(t, strings.HasPrefix(errLines[1], "slogwf tail: "+path+":5: torn last line"), errLines[1])
			assert.NotContains(t, stderr, "\x1b")
			continue
		}
		// With -f the torn line is a line still being written.
		stdout, stderr, stop := tailStart(t, "-f", "-color=never", path)
		require.Eventually(t, func() bool { return stdout.String() == strings.Join(want[:3], "") }, tailWait, tailTick)
		tailAppend(t, path, lines[3][20:])
		require.Eventually(t, func() bool { return stdout.String() == strings.Join(want[:4], "") }, tailWait, tailTick)
		assert.Equal(t, 0, stop())
		assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), stderr.String())
		assert.Contains(t, stderr.String(), path+":2: not a journal event")
	}
}

func TestTailErrors(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, false)
	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	tests := []struct {
		name string
		args []string
		code int
		want string // in the one line on stderr
	}{
		{"missing file", []string{r.dir, missing}, 1, missing},
		{"missing with -f", []string{"-f", missing}, 1, missing},
		{"no input", nil, 2, "no journal"},
		{"bad level", []string{"-level", "bogus", r.dir}, 2, `-level "bogus"`},
		{"bad color", []string{"-color=sometimes", r.dir}, 2, `"sometimes"`},
		{"bad width", []string{"-width", "wide", r.dir}, 2, `"wide"`},
		{"bad line width", []string{"-line-width", "wide", r.dir}, 2, `"wide"`},
		{"stdin twice", []string{"-", "-"}, 2, "more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"tail"}, tt.args...)...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			require.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
			assert.True(t, strings.HasPrefix(stderr, "slogwf tail: "), stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// tail cuts string values at -width characters and lines at -line-width
// columns, as the live console does.
func TestTailCutsValuesAndLines(t *testing.T) {
	dir := t.TempDir()
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "w")
	prompt := strings.Repeat("why so? ", 20)
	words := strings.Repeat("why so? ", 30)
	slog.New(h).InfoContext(ctx, "asking", "prompt", prompt)
	slog.New(h).InfoContext(ctx, words)
	wf.End()
	require.NoError(t, h.Close())

	const head = "00:00:00.000 INF [w] " // 21 columns
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-line-width=0"}, `asking prompt="` + strings.Repeat("why so? ", 9) + `why so?…"`}, // 80 characters
		{[]string{"-line-width=0", "-width", "12"}, `asking prompt="why so? why…"`},
		{[]string{"-line-width=0", "-width", "0"}, `asking prompt="` + prompt + `"`},
		{[]string{"-line-width=0", "-width=-1"}, `asking prompt="` + prompt + `"`},
		{nil, words[:160-len(head)-1] + "…"},
		{[]string{"-line-width", "30"}, "why so? …"},
		{[]string{"-line-width", "0"}, words},
		{[]string{"-line-width=-1"}, words},
	} {
		code, stdout, stderr := runCLI(t, append(append([]string{"tail", "-color=never"}, tt.args...), dir)...)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, tailDropTimes(stdout), "INF [w] "+tt.want, "%v", tt.args)
	}
}

func TestTailHelp(t *testing.T) {
	code, stdout, stderr := runCLI(t, "tail", "-h")
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
	assert.Contains(t, stdout, "Example:\n\tslogwf tail -f ")
	for _, flag := range []string{"-f", "-workflow", "-agent", "-level", "-semantic", "-color", "-width", "-line-width"} {
		assert.Regexp(t, `\n  `+flag+`[ \t\n]`, stdout)
	}
}

func TestTailEmptyDir(t *testing.T) {
	code, stdout, stderr := runCLI(t, "tail", t.TempDir())
	assert.Equal(t, 0, code)
	assert.Empty(t, stdout)
	assert.Empty(t, stderr)
}

// Events that a journal holds out of order print in time order when they
// are less than a window (tailWindow events) late; one later than that
// prints when it is read.
func TestTailSortsWithinAWindow(t *testing.T) {
	const wf = "0190a0b0-0000-7000-8000-0000000000aa"
	record := func(sec int, msg string) string {
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
		return `{"ev":"record","wf":"` + wf + `","scope":"` + wf + `","time":"` + at.Format("2006-01-02T15:04:05.000000000Z") + `","level":"INFO","msg":"` + msg + `"}` + "\n"
	}
	var journal strings.Builder
	for i := 1; i <= tailWindow+100; i++ {
		journal.WriteString(record(i+10, "r"))
		switch i {
		case 5:
			journal.WriteString(record(1, "a little late"))
		case tailWindow + 50:
			journal.WriteString(record(2, "too late"))
		}
	}
	path := filepath.Join(t.TempDir(), "j.jsonl")
	tailWrite(t, path, journal.String())
	code, stdout, stderr := runCLI(t, "tail", "-color=never", path)
	require.Equal(t, 0, code, stderr)
	lines := tailDropTimes(stdout)
	require.Len(t, lines, tailWindow+102)
	assert.Equal(t, "INF [000000aa] a little late", lines[0])
	at := slices.Index(lines, "INF [000000aa] too late")
	// After the events printed when it was read: of the tailWindow+51
	// read before it, all but the tailWindow in the window.
	assert.Equal(t, 51, at)
}

// Many journals, each read only when the merge comes to its first event,
// still print in time order, whatever their order in the directory.
func TestTailMergesManyJournalsInTimeOrder(t *testing.T) {
	dir := t.TempDir()
	const files = 100
	for f := range files {
		wf := fmt.Sprintf("0190a0b0-0000-7000-8000-%012d", f)
		var j strings.Builder
		for k := range 3 {
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((files-f)+k*files) * time.Second)
			fmt.Fprintf(&j, `{"ev":"record","wf":%q,"scope":%q,"time":%q,"level":"INFO","msg":"at %05d"}`+"\n",
				wf, wf, at.Format("2006-01-02T15:04:05.000000000Z"), (files-f)+k*files)
		}
		tailWrite(t, filepath.Join(dir, segment(f)), j.String())
	}
	code, stdout, stderr := runCLI(t, "tail", "-color=never", dir)
	require.Equal(t, 0, code, stderr)
	var got []string
	for _, l := range tailDropTimes(stdout) {
		_, msg, _ := strings.Cut(l, "] ")
		got = append(got, msg)
	}
	require.Len(t, got, 3*files)
	assert.True(t, slices.IsSorted(got), "%v", got)
}

// tail stops reading when it is stopped (Ctrl-C), however much is left.
func TestTailStopsWhenStopped(t *testing.T) {
	r := writeTailJournals(t, slogwf.ColorNever, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr strings.Builder
	code := run(ctx, []string{"tail", "-color=never", r.dir}, strings.NewReader(""), &stdout, &stderr)
	assert.Equal(t, 0, code, stderr.String())
	assert.Empty(t, stdout.String())
}

// -workflow picks by ID, then by name, then by the start of an ID, as tree
// and stats do: a workflow named as another's ID starts is picked alone.
func TestTailPicksAWorkflowByNameBeforeTheStartOfAnID(t *testing.T) {
	lines := func(id, name string, sec int) string {
		return fmt.Sprintf(`{"ev":"start","wf":"%[1]s","id":"%[1]s","kind":"workflow","time":"2026-01-01T00:00:0%[3]d.000000000Z","name":"%[2]s"}`+"\n"+
			`{"ev":"end","wf":"%[1]s","id":"%[1]s","time":"2026-01-01T00:00:0%[3]d.500000000Z","status":"completed"}`+"\n", id, name, sec)
	}
	path := filepath.Join(t.TempDir(), "j.jsonl")
	tailWrite(t, path, lines("0190aaaa-0000-7000-8000-000000000001", "0190bb", 1)+lines("0190bbbb-0000-7000-8000-000000000003", "beta", 2))
	code, stdout, stderr := runCLI(t, "tail", "-color=never", "-workflow", "0190bb", path)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "[0190bb]")
	assert.NotContains(t, stdout, "beta")
}
