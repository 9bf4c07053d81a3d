package slogwf_test

// Durability under load and crashes: goroutines and processes logging into
// one workflow, a process killed at any moment, journals torn as a crash
// tears them, Close racing the logging; nothing is lost, nothing is
// duplicated, and the order of each goroutine's records holds. The tests
// that kill or measure a process run the test binary again as a child (see
// TestMain in process_test.go).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

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

// 64 goroutines log 10,000 records each (1,000 under the race detector),
// through With and WithGroup clones made before and while logging, in
// interactions and actions.
func TestConcurrentLoggingKeepsEveryRecordOnceAndInOrder(t *testing.T) {
	goroutines, records := 64, 10000
	if testing.Short() || raceDetector {
		records = 1000
	}
	console := &lineConsole{}
	s := newSetup(t, &slogwf.Options{Console: console, SnapshotInterval: 10 * time.Millisecond})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "concurrent")
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

// paddingOf is the size of the padding of record i of a child of
// TestProcessesLogIntoOneWorkflowWithoutLoss:
// mostly small, every 10th up to 16 KiB (1 KiB under the race detector),
// every 1000th (5000th) near 256 KiB.
func paddingOf(i int) int {
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

// recordsPerChild is how many records each child of
// TestProcessesLogIntoOneWorkflowWithoutLoss logs.
const recordsPerChild = 5000

// logPaddedRecords is a child of TestProcessesLogIntoOneWorkflowWithoutLoss:
// two goroutines log its records into the scope its parent passed.
func logPaddedRecords(dir string) {
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
			for i := g; i < recordsPerChild; i += 2 {
				l.InfoContext(ctx, "r", "pid", os.Getpid(), "i", i, "pad", pad[:paddingOf(i)])
			}
		})
	}
	wg.Wait()
	if err := h.Close(); err != nil {
		panic(err)
	}
}

// 8 processes log 5,000 records of 0–256 KiB each into one workflow.
func TestProcessesLogIntoOneWorkflowWithoutLoss(t *testing.T) {
	const children = 8
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "processes")
	var cmds []*exec.Cmd
	for range children {
		cmd := child(s.dir, "padded", slogwf.Environ(ctx)...)
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
		if seen[k] || len(pad) != paddingOf(i) || strings.Count(pad, "x") != len(pad) {
			t.Fatalf("record %v: twice, or not whole: %.200q", k, line)
		}
		seen[k] = true
		bytesLogged += len(line)
	}
	assert.Len(t, seen, children*recordsPerChild)

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

// A process killed (SIGKILL) at a random moment, 30 times, loses no
// record whose Handle returned.
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
		var wf string
		for i, line := range lns {
			var e struct {
				Ev    string         `json:"ev"`
				WF    string         `json:"wf"`
				Attrs map[string]any `json:"attrs"`
			}
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				require.Equal(t, len(lns)-1, i, "trial %d: only the last line may be torn: %q", trial, line)
				continue
			}
			wf = e.WF
			if e.Ev == "record" {
				seen[e.Attrs["i"].(float64)] = true
			}
		}
		for i := 0; i <= logged; i++ {
			require.True(t, seen[float64(i)], "trial %d: record %d was logged before the kill", trial, i)
		}
		var built countsNode
		require.NoError(t, json.Unmarshal(buildTree(t, dir, wf), &built))
		require.GreaterOrEqual(t, built.records(), logged+1, "trial %d: build gives every record", trial)
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

// Journals torn as a crash tears them: the reader keeps every
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
			require.NoError(t, os.Mkdir(filepath.Join(dir, tree.JournalDir), 0o700))
			name := filepath.Join(dir, tree.JournalDir, "20260101T000000Z-1-abcdef.jsonl")
			require.NoError(t, os.WriteFile(name, tt.data, 0o600))
			b := tree.NewBuilder()
			var warnings []error
			require.NoError(t, b.ReadJournal(bytes.NewReader(tt.data), name, func(err error) { warnings = append(warnings, err) }))
			var root node
			require.NoError(t, json.Unmarshal(b.JSON(wf.ID()), &root))
			kept := int(root.Counts.Records)
			if root.Start != "" {
				kept++
			}
			if root.End != "" {
				kept++
			}
			assert.Equal(t, tt.kept, kept, "every whole line kept")
			assert.EqualValues(t, len(warnings), root.Loss.Dropped, "what was skipped is counted")

			// A later process logs into the same workflow.
			t.Setenv(slogwf.EnvParent, wf.ID()+"/"+wf.ID())
			later := newSetup(t, &slogwf.Options{Dir: dir})
			later.log.InfoContext(slogwf.ContextFromEnv(later.ctx), "later")
			require.NoError(t, later.h.Close())
			got, err := os.ReadFile(name)
			require.NoError(t, err)
			assert.Equal(t, string(tt.data), string(got), "the torn journal is left as it is")
			paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
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

// Close racing with logging from 100 goroutines loses nothing logged
// before it.
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

// Records that carry equal times (bridges, replays, coarse clocks) keep
// the order in which each goroutine logged them, in the live tree and in
// one rebuilt from the journal in any line order.
func TestRecordsOfEqualTimesKeepTheirOrderPerGoroutine(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Console: io.Discard})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "equal")
	at := time.Date(2026, 11, 29, 3, 33, 30, 0, time.UTC)
	const goroutines, records = 4, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range records {
				// "r 10" sorts before "r 9" as bytes.
				r := slog.NewRecord(at, slog.LevelInfo, "r "+strconv.Itoa(records-i), 0)
				r.AddAttrs(slog.Int("g", g), slog.Int("i", i))
				require.NoError(t, s.h.Handle(ctx, r))
			}
		})
	}
	wg.Wait()
	wf.End()
	require.NoError(t, s.h.Close())

	live := s.tree(t, wf)
	next := make([]float64, goroutines)
	for _, r := range live.Records {
		g := int(r.Attrs["g"].(float64))
		require.Equal(t, next[g], r.Attrs["i"], "goroutine %d: in the order logged", g)
		next[g]++
	}
	require.Len(t, live.Records, goroutines*records)

	data, err := os.ReadFile(s.h.TreeFile(wf))
	require.NoError(t, err)
	lines := journalLines(t, s.dir)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	b := tree.NewBuilder()
	for _, line := range lines {
		require.NoError(t, b.Add([]byte(line)))
	}
	assert.Equal(t, string(data), string(b.JSON(wf.ID())), "the journal gives the same order")
}

// Dir removed and made again while the handler runs (rm -rf logs; mkdir
// logs): the handler notices at its next tree write, says so once, and
// goes on in the directory now at the path.
func TestDirRemovedWhileRunningGoesOnInTheNewDirectory(t *testing.T) {
	var errs lockedBuffer
	s := newSetup(t, &slogwf.Options{ErrorOutput: &errs, SnapshotInterval: time.Hour})
	ctx, a := slogwf.StartWorkflow(s.ctx, "a")
	s.log.InfoContext(ctx, "before")
	require.NoError(t, os.RemoveAll(s.dir))
	require.NoError(t, os.Mkdir(s.dir, 0o700))
	s.log.InfoContext(ctx, "during")
	_, b := slogwf.StartWorkflow(s.ctx, "b")
	b.End()
	require.FileExists(t, s.h.TreeFile(b), "the next tree write notices")
	cctx, c := slogwf.StartWorkflow(s.ctx, "c")
	s.log.InfoContext(cctx, "after")
	c.End()
	s.log.InfoContext(ctx, "later")
	a.End()
	require.ErrorContains(t, s.h.Close(), "was removed or replaced")

	assert.Equal(t, 1, strings.Count(errs.String(), "was removed or replaced"), errs.String())
	assert.Equal(t, []string{"before", "during", "later"}, s.tree(t, a).msgs(), "the final tree has it all")
	live, err := os.ReadFile(s.h.TreeFile(c))
	require.NoError(t, err)
	assert.Equal(t, string(live), string(buildTree(t, s.dir, c.ID())), "the journal goes on in the new directory")
}

// Dir replaced by a symbolic link while the handler runs: the link is
// not followed, and the handler says so once.
func TestDirReplacedByASymlinkIsNotFollowed(t *testing.T) {
	parent := t.TempDir()
	dir, elsewhere := filepath.Join(parent, "logs"), filepath.Join(parent, "elsewhere")
	require.NoError(t, os.Mkdir(elsewhere, 0o700))
	var errs lockedBuffer
	s := newSetup(t, &slogwf.Options{Dir: dir, ErrorOutput: &errs})
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.Symlink(elsewhere, dir))
	for range 2 {
		_, wf := slogwf.StartWorkflow(s.ctx, "x")
		wf.End()
		s.h.TreeFile(wf)
	}
	require.ErrorContains(t, s.h.Close(), "a symbolic link, not followed")
	assert.Empty(t, files(t, elsewhere), "nothing written through the link")
	assert.Equal(t, 1, strings.Count(errs.String(), "not followed"), errs.String())
}
