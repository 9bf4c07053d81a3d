package slogwf_test

// The reliability and security battery (issue 6): hostile input, faults
// and misuse, with nothing lost and nothing leaked. Each test names its row
// of the table; the rows that kill or measure a process run the
// test binary again as a child (see TestMain in process_test.go).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// journalLines returns the lines of all journals in dir.
func journalLines(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	var lines []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		lines = append(lines, strings.SplitAfter(string(b), "\n")...)
	}
	return slices.DeleteFunc(lines, func(l string) bool { return l == "" })
}

// buildTree rebuilds the workflow wf from every journal in dir, as
// `slogwf build` does.
func buildTree(t *testing.T, dir, wf string) []byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	b := tree.NewBuilder()
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		require.NoError(t, b.ReadJournal(f, p, func(err error) { t.Log(err) }))
		f.Close()
	}
	return b.JSON(wf)
}

// lineConsole is a console that counts its lines and keeps every write
// that is not exactly one line.
type lineConsole struct {
	mu    sync.Mutex
	lines int
	bad   []string
}

func (c *lineConsole) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Count(p, []byte("\n")) != 1 || p[len(p)-1] != '\n' {
		c.bad = append(c.bad, string(p))
	}
	c.lines++
	return len(p), nil
}

// countsNode is a tree node read for its counts alone, to read a large
// tree quickly.
type countsNode struct {
	Counts struct {
		Records int64 `json:"records"`
	} `json:"counts"`
	Records      []struct{}   `json:"records"`
	Iterations   []countsNode `json:"iterations"`
	Interactions []countsNode `json:"interactions"`
	Actions      []countsNode `json:"actions"`
}

// records counts the records held in the nodes under n.
func (n *countsNode) records() int {
	c := len(n.Records)
	for _, k := range slices.Concat(n.Iterations, n.Interactions, n.Actions) {
		c += k.records()
	}
	return c
}

// Row 1: 64 goroutines × 10,000 records (1,000 under the race detector),
// through With and WithGroup clones made before and while logging, in
// interactions and actions.
func TestRow1ConcurrentLoggingKeepsEveryRecordOnceAndInOrder(t *testing.T) {
	goroutines, records := 64, 10000
	if testing.Short() || raceDetector {
		records = 1000
	}
	console := &lineConsole{}
	s := newSetup(t, &slogwf.Options{Console: console, SnapshotInterval: 10 * time.Millisecond})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "row1")
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			ctx, ia := slogwf.StartInteraction(ctx, fmt.Sprint("agent-", g))
			base := s.log.With("g", g)
			grouped := base.WithGroup("req").With("agent", g)
			var act *slogwf.Scope
			actx := ctx
			for i := range records {
				if i%1000 == 0 {
					act.End()
					actx, act = slogwf.StartAction(ctx, "tool")
				}
				msg := "r " + strconv.Itoa(g) + " " + strconv.Itoa(i)
				switch i % 3 {
				case 0:
					base.InfoContext(actx, msg, "i", i)
				case 1:
					grouped.InfoContext(actx, msg, "i", i)
				default:
					grouped.With("clone", i).WithGroup("deeper").InfoContext(ctx, msg, "i", i)
				}
			}
			act.End()
			ia.End()
		})
	}
	wg.Wait()
	wf.End()
	require.NoError(t, s.h.Close())

	// Plain checks, not testify's, in the loop: 640,000 lines.
	next := make([]int, goroutines)
	events := 0
	for _, line := range journalLines(t, s.dir) {
		if !json.Valid([]byte(line)) {
			t.Fatalf("invalid journal line %q", line)
		}
		_, msg, ok := strings.Cut(line, `"msg":"r `)
		if !ok {
			events++
			continue
		}
		gs, is, _ := strings.Cut(msg[:strings.IndexByte(msg, '"')], " ")
		g, _ := strconv.Atoi(gs)
		if i, _ := strconv.Atoi(is); i != next[g] {
			t.Fatalf("goroutine %d: record %d where %d should be: each once, in order", g, i, next[g])
		}
		next[g]++
	}
	for g := range next {
		require.Equal(t, records, next[g], "goroutine %d", g)
	}
	data, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	var tree countsNode
	require.NoError(t, json.Unmarshal(data, &tree))
	assert.EqualValues(t, goroutines*records, tree.Counts.Records)
	assert.Equal(t, goroutines*records, tree.records())
	assert.Empty(t, console.bad, "one write per console line")
	assert.Equal(t, goroutines*records+events, console.lines, "one console line per record and per scope event")
	t.Logf("%d records and %d scope events checked in journal, tree and console", goroutines*records, events)
}

// row2Size is the size of the padding of record i of a child of row 2:
// mostly small, every 10th up to 16 KiB (1 KiB under the race detector),
// every 1000th (5000th) near 256 KiB.
func row2Size(i int) int {
	r := rand.New(rand.NewPCG(uint64(i), 2))
	large, medium := 1000, 16<<10
	if raceDetector {
		large, medium = 5000, 1<<10
	}
	switch {
	case i%large == large-1:
		return 256<<10 - r.IntN(64)
	case i%10 == 0:
		return r.IntN(medium)
	}
	return r.IntN(512)
}

const row2Records = 5000

// logRow2 is a child of row 2: two goroutines log its records into the
// scope its parent passed.
func logRow2(dir string) {
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard, MaxValue: 1 << 20})
	if err != nil {
		panic(err)
	}
	l := slog.New(h)
	ctx := slogwf.ContextFromEnv(slogwf.ContextWithLogger(context.Background(), l))
	pad := strings.Repeat("x", 256<<10)
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := g; i < row2Records; i += 2 {
				l.InfoContext(ctx, "r", "pid", os.Getpid(), "i", i, "pad", pad[:row2Size(i)])
			}
		})
	}
	wg.Wait()
	if err := h.Close(); err != nil {
		panic(err)
	}
}

// Row 2: 8 processes × 5,000 records of 0–256 KiB into one workflow.
func TestRow2ProcessesLogIntoOneWorkflowWithoutLoss(t *testing.T) {
	const children = 8
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "row2")
	var cmds []*exec.Cmd
	for range children {
		cmd := child(s.dir, "row2", slogwf.Environ(ctx)...)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait())
	}
	wf.End()
	require.NoError(t, s.h.Close())

	// Every line is valid JSON: the tree that build makes of them drops
	// none. Each record line ends "attrs":{"pid":P,"i":I,"pad":"xx…"}}.
	seen := map[[2]int]bool{}
	var bytesLogged int
	for _, line := range journalLines(t, s.dir) {
		if !strings.HasPrefix(line, `{"ev":"`) || !strings.HasSuffix(line, "}\n") {
			t.Fatalf("not a whole line: %.200q", line)
		}
		_, attrs, ok := strings.Cut(line, `"attrs":{"pid":`)
		if !strings.HasPrefix(line, `{"ev":"record"`) || !ok {
			continue
		}
		p, rest, _ := strings.Cut(attrs, `,"i":`)
		n, pad, _ := strings.Cut(rest, `,"pad":"`)
		pad = strings.TrimSuffix(pad, "\"}}\n")
		pid, err1 := strconv.Atoi(p)
		i, err2 := strconv.Atoi(n)
		if err1 != nil || err2 != nil {
			t.Fatalf("%.200q", line)
		}
		k := [2]int{pid, i}
		if seen[k] || len(pad) != row2Size(i) || strings.Count(pad, "x") != len(pad) {
			t.Fatalf("record %v: twice, or not whole: %.200q", k, line)
		}
		seen[k] = true
		bytesLogged += len(line)
	}
	assert.Len(t, seen, children*row2Records)

	live, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	built := buildTree(t, s.dir, wf.ID())
	require.Equal(t, string(built), string(live), "the live tree is what build makes of all journals")
	assert.Contains(t, string(built), `"loss":{"dropped":0,`, "no line is invalid")
	t.Logf("%d records, %d MiB of journal lines, from %d processes, checked", len(seen), bytesLogged>>20, children)
}

// logUntilKilled logs records in scopes forever, with a snapshot of the
// tree every millisecond, printing the number of each record once its
// Handle has returned.
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
		actx, act := slogwf.StartAction(ctx, "tool")
		l.InfoContext(actx, "record", "i", i, "pad", strings.Repeat("y", i%4096))
		fmt.Fprintln(os.Stdout, i) // os.Stdout is not buffered
		act.End()
	}
}

// Row 3: SIGKILL at a random moment, 30 times.
func TestKilledProcessLosesNothing(t *testing.T) {
	const trials = 30
	for trial := range trials {
		kill := rand.New(rand.NewPCG(uint64(trial), 3)).IntN(400)
		dir := t.TempDir()
		cmd := child(dir, "kill")
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		logged := -1
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			n, err := strconv.Atoi(lines.Text())
			require.NoError(t, err)
			logged = n
			if n == kill {
				require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred code, no flush
			}
		}
		require.Error(t, cmd.Wait(), "the child was killed")

		lns := journal(t, dir)
		seen := map[float64]bool{}
		for i, line := range lns {
			var e struct {
				Ev    string         `json:"ev"`
				Attrs map[string]any `json:"attrs"`
			}
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				require.Equal(t, len(lns)-1, i, "trial %d: only the last line may be torn: %q", trial, line)
				continue
			}
			if e.Ev == "record" {
				seen[e.Attrs["i"].(float64)] = true
			}
		}
		for i := 0; i <= logged; i++ {
			require.True(t, seen[float64(i)], "trial %d: record %d was logged before the kill", trial, i)
		}
		for _, f := range files(t, dir) {
			if strings.HasSuffix(f, ".json") {
				b, err := os.ReadFile(filepath.Join(dir, f))
				require.NoError(t, err)
				require.True(t, json.Valid(b), "trial %d: the tree file is whole", trial)
			}
		}
		t.Logf("trial %d: killed after record %d; %d records logged, all in the journal (%d lines)", trial, kill, logged+1, len(lns))
	}
}

// Row 4: journals torn as a crash tears them. The reader keeps every
// whole line; a process that logs into the workflow later writes whole
// lines of its own.
func TestTornJournalsKeepEveryWholeLine(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "torn")
	for i := range 5 {
		s.log.InfoContext(ctx, "日本語 record", "i", i)
	}
	wf.End()
	whole := []byte(strings.Join(journal(t, s.dir), "\n") + "\n")
	last := bytes.LastIndex(whole[:len(whole)-1], []byte("\n")) + 1
	cut := bytes.Index(whole, []byte("日本")) + 1 // in the middle of a rune
	lines := bytes.Count(whole, []byte("\n"))
	tests := []struct {
		name string
		data []byte
		kept int // whole lines
	}{
		{"partial line", append(slices.Clone(whole), `{"ev":"record","wf":"`...), lines},
		{"split UTF-8", whole[:cut], bytes.Count(whole[:cut], []byte("\n"))},
		{"NUL padding", append(slices.Clone(whole), make([]byte, 4096)...), lines},
		{"missing final newline", whole[:len(whole)-1], lines},
		{"last line cut", whole[:last+10], lines - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// The journal of another process, which died writing it.
			name := filepath.Join(dir, strings.TrimSuffix(filepath.Base(s.h.TreeFile(wf)), ".json")+".1.jsonl")
			require.NoError(t, os.WriteFile(name, tt.data, 0o600))
			b := tree.NewBuilder()
			var warnings []error
			require.NoError(t, b.ReadJournal(bytes.NewReader(tt.data), name, func(err error) { warnings = append(warnings, err) }))
			var tree node
			require.NoError(t, json.Unmarshal(b.JSON(wf.ID()), &tree))
			kept := int(tree.Counts.Records)
			if tree.Start != "" {
				kept++
			}
			if tree.End != "" {
				kept++
			}
			assert.Equal(t, tt.kept, kept, "every whole line kept")
			assert.EqualValues(t, len(warnings), tree.Loss.Dropped, "what was skipped is counted")

			// A later process logs into the same workflow.
			t.Setenv(slogwf.EnvParent, wf.ID()+"/"+wf.ID())
			later := newSetup(t, &slogwf.Options{Dir: dir})
			later.log.InfoContext(slogwf.ContextFromEnv(later.ctx), "later")
			require.NoError(t, later.h.Close())
			got, err := os.ReadFile(name)
			require.NoError(t, err)
			assert.Equal(t, string(tt.data), string(got), "the torn journal is left as it is")
			paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
			require.NoError(t, err)
			require.Len(t, paths, 2)
			for _, p := range paths {
				if p == name {
					continue
				}
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				for line := range bytes.Lines(data) {
					require.True(t, json.Valid(line) && bytes.HasSuffix(line, []byte("\n")), "%q", line)
				}
			}
		})
	}
}

// bigMessage is the size of the message and attribute of row 7.
const bigMessage = 10 << 20

// logBig logs 100 records with a 10 MiB message and a 10 MiB attribute,
// with the default MaxValue, and prints its peak memory in KiB.
func logBig(dir string) {
	h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	if err != nil {
		panic(err)
	}
	l := slog.New(h)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "big")
	big := bigText()
	for range 100 {
		l.InfoContext(ctx, big, "v", big)
	}
	wf.End()
	if err := h.Close(); err != nil {
		panic(err)
	}
	// The peak of this process since exec; its rusage would count the
	// parent's memory too, which the child shares until exec.
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		panic(err)
	}
	_, peak, _ := strings.Cut(string(status), "VmHWM:")
	fmt.Println(strings.Fields(peak)[0])
}

// bigText returns 10 MiB of text with a 2-byte rune across the default
// MaxValue, 64 KiB.
func bigText() string {
	const x = 64<<10 - 1
	return strings.Repeat("x", x) + strings.Repeat("é", (bigMessage-x-1)/2) + "x"
}

// Row 7: 100 records with a 10 MiB message and a 10 MiB attribute.
func TestHugeValuesAreCutWithAMarkerAndMemoryStaysBounded(t *testing.T) {
	dir := t.TempDir()
	cmd := child(dir, "big")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(t, err)
	peak, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err)
	t.Logf("peak memory of the child: %d MiB (100 records of 2×10 MiB logged)", peak>>10)
	assert.Less(t, peak, 512<<10, "memory does not grow with what is logged")

	records, want := 0, bigText()[:64<<10-1]
	for _, line := range journalLines(t, dir) {
		var e struct {
			Ev, Msg string
			Attrs   struct{ V string }
			Loss    loss
		}
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		if e.Ev != "record" {
			continue
		}
		records++
		for _, s := range []string{e.Msg, e.Attrs.V} {
			kept, cut, ok := strings.Cut(s, "…[truncated ")
			require.True(t, ok, "%.100q", s)
			n, err := strconv.Atoi(strings.TrimSuffix(cut, " bytes]"))
			require.NoError(t, err)
			assert.Equal(t, bigMessage, len(kept)+n, "the marker says how much was cut")
			assert.Equal(t, want, kept, "cut at the rune boundary before 64 KiB")
		}
		assert.Equal(t, loss{Truncated: 2}, e.Loss)
	}
	assert.Equal(t, 100, records)
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, paths, 1)
	tree := readTree(t, paths[0])
	assert.Equal(t, &loss{Truncated: 200}, tree.Loss)
}

func TestHugeValuesAreKeptExactlyWithoutALimit(t *testing.T) {
	s := newSetup(t, &slogwf.Options{MaxValue: -1})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "big")
	big := bigText()
	if raceDetector {
		big = big[:1<<20+1] // the same code, a tenth of the time (and whole runes)
	}
	s.log.InfoContext(ctx, big, "v", big)
	wf.End()
	tree := s.tree(t, wf)
	require.Len(t, tree.Records, 1)
	for _, r := range tree.Records {
		require.True(t, r.Msg == big && r.Attrs["v"] == big, "kept exactly")
	}
	assert.Equal(t, &loss{}, tree.Loss)
	assert.Len(t, s.console.Lines(), 3)
}

func TestConsoleCutsLongValuesWithAMarker(t *testing.T) {
	s := newSetup(t, &slogwf.Options{MaxValue: 10})
	s.log.Info("0123456789abcdef", "v", "ééééééééé")
	assert.Equal(t, []string{`INF 0123456789…[truncated 6 bytes] v="ééééé…[truncated 8 bytes]"`}, trimTimes(s.console.Lines()))
}

// Row 8: invalid UTF-8 in every field.
func TestInvalidUTF8StaysVisibleAndJSONValid(t *testing.T) {
	const bad = "ab\xffcd"
	for _, color := range []slogwf.ColorMode{slogwf.ColorNever, slogwf.ColorAlways} {
		s := newSetup(t, &slogwf.Options{Color: color})
		ctx, wf := slogwf.StartWorkflow(s.ctx, bad)
		ctx, ia := slogwf.StartInteraction(ctx, bad)
		s.log.InfoContext(ctx, bad, bad, bad, "v", []byte(bad), "e", errors.New(bad))
		s.log.WithGroup(bad).With(bad, bad).InfoContext(ctx, "with")
		ia.End(slogwf.OutputKey, bad)
		wf.End()

		for _, l := range s.console.Lines() {
			plain := sgr.ReplaceAllString(l, "")
			assert.NotContains(t, plain, "\xff")
			assert.Equal(t, strings.Count(plain, "ab"), strings.Count(plain, `ab\xffcd`), "never cut short: %q", l)
		}
		assert.Contains(t, sgr.ReplaceAllString(s.console.String(), ""), `[ab\xffcd ab\xffcd] ab\xffcd ab\xffcd=ab\xffcd v=ab\xffcd e=ab\xffcd`)
		for _, line := range journal(t, s.dir) {
			assert.True(t, utf8.ValidString(line) && json.Valid([]byte(line)), "%q", line)
		}
		b, err := os.ReadFile(s.h.TreeFile(wf))
		require.NoError(t, err)
		assert.True(t, json.Valid(b))
		assert.Equal(t, "ab\ufffdcd", s.tree(t, wf).Name)
	}
}

// escapes is the escape corpus of row 9, valid UTF-8, so that the journal
// gives it back exactly.
const escapes = "CSI\x1b[31mRED OSC0\x1b]0;title\x07 OSC8\x1b]8;;http://x\x1b\\link OSC52\x1b]52;c;Y2xpcA==\x07" +
	" C1\u009b31m CR\r BS\b BEL\a NUL\x00 DEL\x7f LS\u2028 PS\u2029 RLO\u202eevil\u202c LRI\u2066x\u2069" +
	"\n02:12:52.592 INF [research] forged line TAIL"

// Row 9: the escape corpus in every field. The console is checked by
// TestConsoleEscapesUntrustedText, the CLI by TestCLIOutputEscapesUntrustedText
// in cmd/slogwf; this checks the journal and the tree.
func TestJournalEscapesUntrustedTextAndGivesItBack(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Color: slogwf.ColorAlways})
	ctx, wf := slogwf.StartWorkflow(s.ctx, escapes, escapes, escapes)
	ctx, ia := slogwf.StartInteraction(ctx, escapes, slogwf.InputKey, escapes)
	actx, act := slogwf.StartAction(ctx, escapes)
	s.log.WithGroup(escapes).With(escapes, escapes).InfoContext(actx, escapes, escapes, escapes)
	act.Fail(errors.New(escapes))
	ia.End(slogwf.OutputKey, escapes)
	wf.End()

	unsafe := regexp.MustCompile("[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
	lines := journal(t, s.dir)
	for _, line := range lines {
		assert.NotRegexp(t, unsafe, line, "the journal escapes controls, C1 and bidi")
		assert.True(t, json.Valid([]byte(line)))
	}
	assert.Len(t, lines, 7)
	tree := s.tree(t, wf)
	assert.Equal(t, escapes, tree.Name)
	assert.Equal(t, map[string]any{escapes: escapes}, tree.Attrs)
	ian := tree.Interactions[0]
	assert.Equal(t, escapes, ian.Agent)
	assert.Equal(t, escapes, ian.Input)
	assert.Equal(t, escapes, ian.Output)
	assert.Equal(t, escapes, ian.Actions[0].Name)
	assert.Equal(t, escapes, ian.Actions[0].Error)
	r := ian.Actions[0].Records[0]
	assert.Equal(t, escapes, r.Msg)
	assert.Equal(t, map[string]any{escapes: map[string]any{escapes: escapes}}, r.Attrs)
	b, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	assert.NotRegexp(t, unsafe, string(b))
	for _, l := range s.console.Lines() {
		assert.NotContains(t, sgr.ReplaceAllString(l, ""), "\x1b")
	}
	assert.Len(t, s.console.Lines(), 7, "one console line per record")
}

// Hostile values of row 10.
type (
	panicValuer  struct{}
	selfValuer   struct{}
	panicString  struct{ X int }
	panicError   struct{}
	panicMarshal struct{}
)

func (panicValuer) LogValue() slog.Value          { panic("LogValue boom") }
func (s selfValuer) LogValue() slog.Value         { return slog.AnyValue(s) }
func (panicString) String() string                { panic("String boom") }
func (panicError) Error() string                  { panic("Error boom") }
func (panicMarshal) MarshalJSON() ([]byte, error) { panic("MarshalJSON boom") }

// Row 10: values that panic, hold themselves, or nest without end.
func TestHostileValuesNeitherCrashNorHang(t *testing.T) {
	selfMap := map[string]any{"k": 1}
	selfMap["self"] = selfMap
	selfSlice := []any{1, nil}
	selfSlice[1] = selfSlice
	deep := slog.Int("bottom", 1)
	for i := range 10000 {
		deep = slog.Group(fmt.Sprint("g", i), deep)
	}
	values := []struct {
		name        string
		attr        slog.Attr
		placeholder string // in the tree
	}{
		{"panicking LogValuer", slog.Any("v", panicValuer{}), "!PANIC: LogValue boom"},
		{"LogValuer of itself", slog.Any("v", selfValuer{}), "!ERROR: LogValue returns LogValuers without end"},
		{"panicking String", slog.Any("v", panicString{1}), ""},
		{"panicking Error", slog.Any("v", panicError{}), "!PANIC: Error boom"},
		{"panicking MarshalJSON", slog.Any("v", panicMarshal{}), "!PANIC: MarshalJSON boom"},
		{"map of itself", slog.Any("v", selfMap), "!ERROR: json: unsupported value: encountered a cycle via map[string]interface {}"},
		{"slice of itself", slog.Any("v", selfSlice), "!ERROR: json: unsupported value: encountered a cycle via []interface {}"},
		{"groups 10,000 deep", deep, ""},
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	consoles := []struct {
		name string
		next func(io.Writer) slog.Handler // nil: New's tint console
	}{
		{"tint", nil},
		{"text", func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }},
		{"json", func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }},
	}
	for _, c := range consoles {
		for _, v := range values {
			t.Run(c.name+"/"+v.name, func(t *testing.T) {
				var console lockedBuffer
				dir := t.TempDir()
				var h *slogwf.Handler
				if c.next == nil {
					var err error
					h, err = slogwf.New(&slogwf.Options{Dir: dir, Console: &console, Color: slogwf.ColorAlways, AddSource: true})
					require.NoError(t, err)
				} else {
					h = slogwf.NewHandler(c.next(&console), &slogwf.Options{Dir: dir})
				}
				l := slog.New(h)
				ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "hostile")
				done := make(chan struct{})
				deep := l
				if v.name == "groups 10,000 deep" {
					for i := range 10000 {
						deep = deep.WithGroup(fmt.Sprint("w", i))
					}
				}
				start := time.Now()
				go func() {
					defer close(done)
					l.InfoContext(ctx, "record", v.attr)
					deep.With(v.attr).InfoContext(ctx, "with")
				}()
				select {
				case <-done:
					t.Logf("two records handled in %v", time.Since(start))
				case <-time.After(10 * time.Second):
					// A hang guard, not a timing target: the 1 s
					// is checked by the logged times, ~1 ms each.
					t.Fatal("Handle hangs")
				}
				wf.End()
				require.NoError(t, h.Close())

				tree := readTree(t, h.TreeFile(wf))
				require.Len(t, tree.Records, 2)
				if v.placeholder != "" {
					assert.Equal(t, v.placeholder, tree.Records[0].Attrs["v"])
					assert.Contains(t, console.String(), v.placeholder[:7])
				}
				out := console.String() + strings.Join(journal(t, dir), "")
				assert.NotContains(t, out, wd, "no absolute source paths")
				assert.NotContains(t, out, "goroutine ", "no stack traces")
				assert.Len(t, strings.Split(strings.TrimSpace(console.String()), "\n"), 4)
			})
		}
	}
}

// Row 12: names that try to leave Dir are TestUnsafeWorkflowNamesStayInDir;
// this plants symbolic links where the files will go.
func TestPlantedSymlinksAreNotFollowed(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "logs")
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.WriteFile(outside, []byte("precious"), 0o600))
	s := newSetup(t, &slogwf.Options{Dir: dir})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "linked")
	tree := s.h.TreeFile(wf)
	require.NoError(t, os.Symlink(outside, tree))
	s.log.InfoContext(ctx, "r")
	wf.End()

	got, err := os.ReadFile(outside)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(got), "the link's target is untouched")
	st, err := os.Lstat(tree)
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular(), "the tree replaced the link")
	assert.Equal(t, slogwf.StatusCompleted, readTree(t, tree).Status)

	// A link where the next journal goes makes the handler take another name.
	journalLink := strings.TrimSuffix(tree, ".json") + "." + strconv.Itoa(os.Getpid()) + ".jsonl"
	t.Setenv(slogwf.EnvParent, wf.ID()+"/"+wf.ID())
	require.NoError(t, os.Rename(journalLink, journalLink+".old"))
	require.NoError(t, os.Symlink(outside, journalLink))
	other := newSetup(t, &slogwf.Options{Dir: dir})
	other.log.InfoContext(slogwf.ContextFromEnv(other.ctx), "from another process")
	require.NoError(t, other.h.Close())
	got, err = os.ReadFile(outside)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(got))
	assert.FileExists(t, strings.TrimSuffix(journalLink, ".jsonl")+"-2.jsonl")
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

// Row 13: under umask 000, files are 0600 and directories 0700.
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
	assert.Equal(t, 4, n, "a, logs, a tree and a journal")
}

// secrets are what row 14 hides, with text around them that must stay.
var secrets = []string{
	"sk-proj-AAAAbbbbCCCCddddEEEEffff0123456789",
	"sk-ant-api03-AAAAbbbbCCCCddddEEEEffff0123456789",
	"AKIAABCDEFGHIJKLMNOP",
	"ghp_AAAAbbbbCCCCddddEEEEffff0123456789abcd",
	"github_pat_11AAAAbbbbCCCCddddEEEE_ffff0123456789",
	"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretsecret\n-----END RSA PRIVATE KEY-----",
}

// leaks returns the parts of secrets found in out: any 12 bytes of one.
func leaks(out string, secrets ...string) []string {
	var found []string
	for _, s := range secrets {
		for i := 0; i+12 <= len(s); i++ {
			if part := s[i : i+12]; !strings.Contains(Redacted, part) && strings.Contains(out, part) {
				found = append(found, part)
				break
			}
		}
	}
	return found
}

// Redacted is slogwf.Redacted, for leaks.
const Redacted = slogwf.Redacted

// logSecrets logs each secret in each place of row 14, with a word before
// and after it.
func logSecrets(ctx context.Context, l *slog.Logger) {
	ctx, wf := slogwf.StartWorkflow(ctx, "secrets", "user", "ana")
	for i, s := range secrets {
		text := "before " + s + " after"
		ctx, ia := slogwf.StartInteraction(ctx, "agent", slogwf.InputKey, text)
		l.InfoContext(ctx, text)
		l.InfoContext(ctx, "attr", "v", text, "n", i)
		l.InfoContext(ctx, "llm call", slogwf.Origin(slogwf.OriginLLM), "completion",
			"Sure! Here is the configuration you asked for:\n\nAPI_KEY="+s+"\n\nLet me know if you need more.")
		deep := slog.String("v", text)
		for range 40 {
			deep = slog.Group("g", deep)
		}
		l.InfoContext(ctx, "deep", deep)
		l.With("w", text).WithGroup("req").InfoContext(ctx, "with")
		l.InfoContext(ctx, "error", "err", errors.New(text))
		l.InfoContext(ctx, "bytes", "b", []byte(text))
		l.InfoContext(ctx, "map", "m", map[string]any{"k": text})
		l.InfoContext(ctx, "header", "Authorization", "Bearer xyzzy-token-0123456789",
			slog.Group("headers", slog.String("X-Api-Key", "plain-key-0123456789"), slog.String("Cookie", "session=0123456789abcdef")))
		l.InfoContext(ctx, "bearer", "h", "Authorization: Bearer abcdef0123456789.ghijkl done")
		ia.Fail(errors.New(text), slogwf.OutputKey, text)
	}
	wf.End()
}

// Row 14: secrets are hidden in the console, the journal and the tree (and
// the CLI: TestCLIOutputHidesSecrets in cmd/slogwf); the text around them
// stays. Captured LLM text is an attribute like the "completion" here.
func TestSecretsAreRedactedEverywhere(t *testing.T) {
	all := append(slices.Clone(secrets), "xyzzy-token-0123456789", "plain-key-0123456789", "session=0123456789abcdef", "abcdef0123456789.ghijkl")
	for _, format := range []slogwf.Format{slogwf.FormatTint, slogwf.FormatText, slogwf.FormatJSON} {
		t.Run(string(format), func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Format: format})
			logSecrets(s.ctx, s.log)
			require.NoError(t, s.h.Close())
			paths, err := filepath.Glob(filepath.Join(s.dir, "*"))
			require.NoError(t, err)
			out := s.console.String()
			for _, p := range paths {
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				out += string(b)
			}
			assert.Empty(t, leaks(out, all...), "no secret in any output")
			if format == slogwf.FormatTint {
				assert.Contains(t, out, "before [REDACTED] after")
				assert.Contains(t, out, "Authorization=[REDACTED]")
				assert.Contains(t, out, "Authorization: Bearer [REDACTED] done")
				assert.Contains(t, out, "API_KEY=[REDACTED]\\n\\nLet me know")
			}
		})
	}

	s := newSetup(t, nil)
	logSecrets(s.ctx, s.log)
	require.NoError(t, s.h.Close())
	paths, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, paths, 1)
	assert.EqualValues(t, 6*15, readTree(t, paths[0]).Loss.Redacted, "each hidden value counted: 6 secrets in 15 places")
}

func TestRedactionIsConfigurable(t *testing.T) {
	const secret = "sk-proj-AAAAbbbbCCCCddddEEEEffff0123456789"
	tests := []struct {
		name   string
		redact *slogwf.Redaction
		args   []any
		want   string
		leak   bool // of secret, in the journal
	}{
		{"off", &slogwf.Redaction{Off: true}, []any{"v", secret, "password", "hunter2"},
			"m v=" + secret + " password=hunter2", true},
		{"more keys, any case", &slogwf.Redaction{Keys: []string{"Session_Token"}}, []any{"SESSION_TOKEN", "t0k", "PassWord", "hunter2"},
			"m SESSION_TOKEN=[REDACTED] PassWord=[REDACTED]", false},
		{"no default keys", &slogwf.Redaction{NoDefaultKeys: true}, []any{"password", "hunter2", "v", secret},
			"m password=hunter2 v=[REDACTED]", false},
		{"more patterns", &slogwf.Redaction{Patterns: []*regexp.Regexp{regexp.MustCompile(`ticket-(\d+)`)}}, []any{"v", "see ticket-1234 now"},
			"m v=\"see ticket-[REDACTED] now\"", false},
		{"no default patterns", &slogwf.Redaction{NoDefaultPatterns: true}, []any{"v", secret, "apikey", "k"},
			"m v=" + secret + " apikey=[REDACTED]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Redact: tt.redact})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "r")
			s.log.InfoContext(ctx, "m", tt.args...)
			wf.End()
			lines := trimTimes(s.console.Lines())
			assert.Equal(t, "INF [r] "+tt.want, lines[1])
			assert.Equal(t, tt.leak, len(leaks(strings.Join(journal(t, s.dir), ""), secret)) > 0, "the journal agrees")
		})
	}
}

// Row 15: Close racing with logging from 100 goroutines.
func TestCloseRacingLoggingLosesNothingBeforeIt(t *testing.T) {
	for trial := range 10 {
		s := newSetup(t, &slogwf.Options{Console: io.Discard, SnapshotInterval: time.Millisecond})
		ctx, wf := slogwf.StartWorkflow(s.ctx, "race")
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 100 {
			wg.Go(func() {
				ctx, ia := slogwf.StartInteraction(ctx, "a")
				<-start
				for i := range 50 {
					s.log.InfoContext(ctx, "r", "g", g, "i", i)
				}
				ia.End()
			})
		}
		close(start)
		time.Sleep(time.Duration(trial) * time.Millisecond)
		require.NoError(t, s.h.Close())
		wg.Wait()
		require.NoError(t, s.h.Close(), "Close is idempotent")
		s.log.InfoContext(ctx, "after close")
		wf.End()

		tree := s.tree(t, wf)
		got := map[float64][]float64{}
		var walk func(n *node)
		walk = func(n *node) {
			for _, r := range n.Records {
				g := r.Attrs["g"].(float64)
				got[g] = append(got[g], r.Attrs["i"].(float64))
			}
			for _, c := range n.children() {
				walk(c)
			}
		}
		walk(tree)
		total := 0
		for g, is := range got {
			for j, i := range is {
				require.EqualValues(t, j, i, "goroutine %v: what reached the tree is all it logged up to some point", g)
			}
			total += len(is)
		}
		require.EqualValues(t, total, tree.Counts.Records)
		journalRecords := 0
		for _, line := range journal(t, s.dir) {
			require.True(t, json.Valid([]byte(line)))
			if strings.HasPrefix(line, `{"ev":"record"`) {
				journalRecords++
			}
		}
		require.Equal(t, total, journalRecords, "the journal and the tree agree")
	}
}

// Row 15: records after their scope ended, from any goroutine.
func TestRecordsAfterTheirScopeEndedAreLateNotLost(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Level: slog.LevelDebug})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "late")
	itCtx, it := slogwf.StartIteration(ctx)
	iaCtx, ia := slogwf.StartInteraction(itCtx, "a")
	actCtx, act := slogwf.StartAction(iaCtx, "tool")
	done := make(chan struct{})
	go func() { act.End(); close(done) }() // End from another goroutine
	<-done
	act.End() // twice
	s.log.InfoContext(actCtx, "after the action")
	ia.End()
	s.log.InfoContext(actCtx, "after the interaction")
	it.End()
	s.log.InfoContext(iaCtx, "after the iteration")
	wf.End()
	wf.End()
	s.log.InfoContext(actCtx, "after the workflow")
	s.log.InfoContext(ctx, "in the ended workflow")
	ctx2, it2 := slogwf.StartIteration(ctx) // an ended workflow's context reused
	s.log.InfoContext(ctx2, "in a scope of the ended workflow")
	it2.End()
	require.NoError(t, s.h.Close())

	tree := s.tree(t, wf)
	ian := tree.Iterations[0].Interactions[0]
	// The notes of the second End land in the scope above too.
	msgs := func(n *node) []string {
		return slices.DeleteFunc(n.msgs(), func(m string) bool { return m == "slogwf: scope ended twice" })
	}
	assert.Equal(t, []string{"after the action"}, msgs(ian))
	assert.Equal(t, []string{"after the interaction"}, msgs(tree.Iterations[0]))
	assert.Equal(t, []string{"after the iteration", "after the workflow", "in the ended workflow", "in a scope of the ended workflow"}, msgs(tree))
	for _, r := range slices.Concat(ian.Records, tree.Iterations[0].Records, tree.Records) {
		assert.True(t, r.Late, r.Msg)
	}
	assert.EqualValues(t, 6+2, tree.Counts.Records)
	assert.Equal(t, slogwf.StatusCompleted, tree.Status)
	assert.Contains(t, s.console.String(), "after the workflow late=true")
	assert.Equal(t, 2, strings.Count(s.console.String(), "scope ended twice"), "ending twice is a DEBUG note, once per scope")
	live, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(buildTree(t, s.dir, wf.ID())), string(live), "the journal has the late records too")
}

// Row 16: a nil context and a canceled one are context.Background().
func TestNilAndCanceledContextsLoseNothing(t *testing.T) {
	s := newSetup(t, nil)
	var nilCtx context.Context
	canceled, cancel := context.WithCancel(s.ctx)
	cancel()
	s.log.InfoContext(nilCtx, "nil context")
	s.log.Log(nilCtx, slog.LevelWarn, "nil context, Log")
	require.NoError(t, s.h.Handle(nilCtx, slog.NewRecord(time.Now(), slog.LevelInfo, "nil context, Handle", 0)))
	assert.True(t, s.h.Enabled(nilCtx, slog.LevelInfo))
	assert.Nil(t, slogwf.FromContext(nilCtx))
	ctx, wf := slogwf.StartWorkflow(canceled, "canceled")
	s.log.InfoContext(ctx, "canceled context")
	ctx, ia := slogwf.StartInteraction(ctx, "a")
	s.log.InfoContext(ctx, "canceled interaction")
	ia.End()
	wf.End()

	assert.Equal(t, []string{"INF nil context", "WRN nil context, Log", "INF nil context, Handle"}, trimTimes(s.console.Lines())[:3])
	tree := s.tree(t, wf)
	assert.Equal(t, slogwf.StatusCompleted, tree.Status)
	assert.Equal(t, []string{"canceled context"}, tree.msgs())
	assert.Equal(t, []string{"canceled interaction"}, tree.Interactions[0].msgs())
}

// asJSON returns s as JSON gives it back: each byte of invalid UTF-8 is
// U+FFFD.
func asJSON(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				b.WriteRune(utf8.RuneError)
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Row 11: the rules of row 9 hold for any message, key, value and name,
// and the journal gives them back. The seed corpus, in
// testdata/fuzz/FuzzHandle, holds the cases of rows 8 to 10.
func FuzzHandle(f *testing.F) {
	unsafe := regexp.MustCompile("[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
	f.Fuzz(func(t *testing.T, msg, key, value, name string) {
		var console lockedBuffer
		dir := t.TempDir()
		h, err := slogwf.New(&slogwf.Options{Dir: dir, Console: &console, Color: slogwf.ColorAlways,
			Redact: &slogwf.Redaction{Off: true}, MaxValue: -1})
		require.NoError(t, err)
		l := slog.New(h)
		ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), name)
		ctx, ia := slogwf.StartInteraction(ctx, name, slogwf.InputKey, value)
		l.InfoContext(ctx, msg, key, value, slog.Group(key, "k", value))
		l.WithGroup(key).With(key, value).InfoContext(ctx, msg)
		ia.End(slogwf.OutputKey, value)
		wf.End()
		require.NoError(t, h.Close())

		lines := strings.Split(strings.TrimSuffix(console.String(), "\n"), "\n")
		require.Len(t, lines, 6, "one console line per record")
		for _, l := range lines {
			plain := sgr.ReplaceAllString(l, "")
			require.NotContains(t, plain, "\x1b", "only slogwf's own color sequences: %q", l)
			require.NotRegexp(t, unsafe, plain, "%q", l)
			require.True(t, utf8.ValidString(plain), "%q", l)
		}
		msgs := 0
		for _, line := range journal(t, dir) {
			require.NotRegexp(t, unsafe, line)
			var e struct{ Ev, Msg, Name, Agent string }
			require.NoError(t, json.Unmarshal([]byte(line), &e), "%q", line)
			switch {
			case e.Ev == "record":
				require.Equal(t, asJSON(msg), e.Msg, "the journal gives the message back")
				msgs++
			case e.Name != "":
				require.Equal(t, asJSON(name), e.Name)
			case e.Agent != "":
				require.Equal(t, asJSON(name), e.Agent)
			}
		}
		require.Equal(t, 2, msgs)
		live, err := os.ReadFile(h.TreeFile(wf))
		require.NoError(t, err)
		require.Equal(t, string(buildTree(t, dir, wf.ID())), string(live), "the journal round-trips to the tree")
	})
}

// Row 15: a record that names its workflow by ID after the workflow
// ended, with no live scope around, reaches it late.
func TestRecordsNamingAnEndedWorkflowAreLateNotLost(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "ended")
	_, ia := slogwf.StartInteraction(ctx, "a")
	ia.End()
	wf.End()
	s.log.Info("by workflow ID", slogwf.WorkflowID(wf.ID()))
	s.log.Info("by both IDs", slogwf.WorkflowID(wf.ID()), slogwf.InteractionID(ia.ID()))
	require.NoError(t, s.h.Close())

	tree := s.tree(t, wf)
	require.Len(t, tree.Records, 1)
	assert.Equal(t, "by workflow ID", tree.Records[0].Msg)
	assert.True(t, tree.Records[0].Late)
	assert.Equal(t, []string{"by both IDs"}, tree.Interactions[0].msgs())
}

// Row 14: the secrets of a text cut at MaxValue are hidden whole, however
// much of it they take, and wherever the text resumes.
func TestSecretsOfLongTextsAreHiddenWhole(t *testing.T) {
	key := "sk-" + strings.Repeat("A", 4300)
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("MIIJQgIBADANBgkqhkiG9w0BAQEFAASC\n", 200) + "-----END RSA PRIVATE KEY-----"
	tests := []struct {
		name, text string
		max        int
	}{
		{"a key longer than the margin", key + " and sk-" + strings.Repeat("B", 40), 100},
		{"a PEM key longer than the margin", pem + " tail", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{MaxValue: tt.max})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
			s.log.InfoContext(ctx, "m", "v", tt.text)
			wf.End()
			require.NoError(t, s.h.Close())
			out := s.console.String() + strings.Join(journal(t, s.dir), "")
			assert.Empty(t, leaks(out, key, "sk-"+strings.Repeat("B", 40), pem))
		})
	}
}

// stringer shows a secret through fmt, which JSON does not see.
type stringer struct{ key string }

func (s stringer) String() string { return "token " + s.key }

type hidden struct{ key string }

// Row 14: what the console prints of a value with fmt is searched too.
func TestSecretsShownOnlyByFmtAreHidden(t *testing.T) {
	for _, v := range []any{stringer{secrets[0]}, hidden{secrets[0]}} {
		s := newSetup(t, nil)
		ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
		s.log.InfoContext(ctx, "m", "v", v)
		wf.End()
		require.NoError(t, s.h.Close())
		out := s.console.String() + strings.Join(journal(t, s.dir), "")
		assert.Empty(t, leaks(out, secrets[0]), "%T", v)
		assert.Contains(t, s.console.String(), slogwf.Redacted, "%T", v)
	}
}

// Row 14: a key of the user's, however long, hides its value.
func TestLongRedactionKeysHideTheirValues(t *testing.T) {
	long := strings.Repeat("k", 70)
	s := newSetup(t, &slogwf.Options{Redact: &slogwf.Redaction{Keys: []string{long}}})
	s.log.Info("m", strings.ToUpper(long), "hunter2-value")
	assert.NotContains(t, s.console.String(), "hunter2-value")
}

// Row 14: a group opened with WithGroup under a secret key hides all
// that is logged in it, as slog.Group does.
func TestWithGroupOfASecretKeyHidesItsAttributes(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
	l := s.log.WithGroup("Password")
	l.With("before", "hunter2-with").InfoContext(ctx, "m", "v", "hunter2-record", "n", 42)
	s.log.InfoContext(ctx, "m", "v", "shown")
	wf.End()
	require.NoError(t, s.h.Close())
	out := s.console.String() + strings.Join(journal(t, s.dir), "")
	assert.NotContains(t, out, "hunter2")
	assert.Contains(t, out, "shown")
	tree := s.tree(t, wf)
	assert.Equal(t, map[string]any{"Password": map[string]any{"before": slogwf.Redacted, "v": slogwf.Redacted, "n": slogwf.Redacted}}, tree.Records[0].Attrs)
}
