package slogwf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// journalLine is a line of a journal, with the journal's name.
type journalLine struct {
	line    []byte
	journal string
}

// replay rebuilds the one workflow of the journals in dir through the tree
// builder, as `slogwf build` does, with their lines in the order shuffle
// puts them in.
func replay(t *testing.T, dir string, shuffle ...func([]journalLine)) []byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	var lines []journalLine
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		lr := tree.NewLineReader(f, 64<<10)
		for {
			line, err := lr.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			lines = append(lines, journalLine{slices.Clone(line), p})
		}
		f.Close()
	}
	for _, f := range shuffle {
		f(lines)
	}
	b := tree.NewBuilder()
	for _, l := range lines {
		_, err := b.AddLine(l.line, l.journal, l.line[len(l.line)-1] != '\n')
		require.NoError(t, err, "%s", l.line)
	}
	wfs := b.Workflows()
	require.Len(t, wfs, 1)
	return b.JSON(wfs[0])
}

func TestReplayingTheJournalGivesTheLiveTreeByteForByte(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, SnapshotInterval: time.Millisecond, Prices: Prices{"m": {Input: 1, Output: 2}}})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "replay\x1b\xff", "user", "ana")
	var wg sync.WaitGroup
	for i := range 3 {
		ctx, it := StartIteration(ctx, "round", i)
		for a := range 4 {
			wg.Go(func() {
				ctx, ia := StartInteraction(ctx, fmt.Sprint("agent-", a), InputKey, map[string]any{"q": "why?\u202e"})
				g := l.With("agent", a).WithGroup("req")
				for j := range 20 {
					g.InfoContext(ctx, "step\n\xff\u2028", "j", j, slog.Group("nested", "x", 1.5, "e", errors.New("e")))
				}
				l.InfoContext(ctx, "call", Model("m"), Tokens(10, 2), CachedTokens(4), CacheWriteTokens(3), Cost(0.001))
				Semantic(ctx, "odd", "why", "because")
				_, llm := StartAction(ctx, "llm", Model("m"))
				llm.End(Tokens(7, 3))
				_, act := StartAction(ctx, "tool")
				if a == 2 {
					act.Fail(errors.New("tool broke"))
				}
				if a != 3 {
					ia.End(OutputKey, []int{a})
				}
			})
		}
		wg.Wait()
		l.With(WorkflowID(wf.ID()), IterationID(it.ID())).Warn("by attribute")
		it.End("done", true)
	}
	_, open := StartInteraction(ctx, "left open")
	_ = open
	l.InfoContext(ctx, "unknown scope", InteractionID("0000"), WorkflowID(wf.ID()))
	wf.End()
	require.NoError(t, h.Close())

	live, err := os.ReadFile(h.TreeFile(wf))
	require.NoError(t, err)
	assert.Equal(t, string(live), string(replay(t, dir)))
	for i := range 20 {
		shuffled := replay(t, dir, func(lines []journalLine) {
			rand.New(rand.NewPCG(uint64(i), 0)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		})
		require.Equal(t, string(live), string(shuffled), "journal lines in any order build the same tree")
	}
}

// A running workflow's journal, replayed with LiveJSON, gives the tree file
// that the handler keeps rewriting while it runs: open scopes running.
func TestLiveJSONOfAJournalIsTheRunningHandlersTreeFile(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, SnapshotInterval: time.Millisecond})
	require.NoError(t, err)
	defer h.Close()
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "live")
	ctx, ia := StartInteraction(ctx, "planner")
	_, act := StartAction(ctx, "search")
	act.End(CacheWriteTokens(3))
	l.InfoContext(ctx, "thinking", Tokens(10, 2), CacheWriteTokens(4))

	var live, replayed string
	require.Eventually(t, func() bool {
		data, err := os.ReadFile(h.TreeFile(wf))
		if err != nil {
			return false // not written yet
		}
		live = string(data)
		b := tree.NewBuilder()
		journals, _ := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
		for _, j := range journals {
			data, err := os.ReadFile(j)
			if err != nil || b.ReadJournal(bytes.NewReader(data), j, func(err error) { t.Error(err) }) != nil {
				return false
			}
		}
		replayed = string(b.LiveJSON(wf.ID()))
		return live == replayed
	}, 5*time.Second, 5*time.Millisecond, "live:\n%s\nreplayed:\n%s", live, replayed)
	assert.Contains(t, replayed, `"kind":"interaction","id":"`+ia.ID()+`","agent":"planner","status":"running"`)
	wf.End()
}

func TestJournalWriteFaultIsReportedOnce(t *testing.T) {
	var errs, console bytes.Buffer
	h, err := New(&Options{Dir: t.TempDir(), Console: &console, ErrorOutput: &errs})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "fault")
	j := h.sink.journal
	segment := j.segments[0]
	j.mu.Lock()
	require.NoError(t, j.file.Close()) // the disk goes away under the journal
	j.mu.Unlock()
	for range 10 {
		l.InfoContext(ctx, "still here")
	}
	wf.End()

	err = h.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "slogwf: write journal")
	assert.Contains(t, err.Error(), segment)
	assert.Equal(t, 1, strings.Count(errs.String(), "write journal"), errs.String())
	assert.Equal(t, 10, strings.Count(console.String(), "still here"))
	assert.FileExists(t, h.TreeFile(wf), "the tree is written all the same")
}

// Ends racing each other reach the journal in the order they reach the
// tree, so a replay decides "the first end wins" as the live tree did.
func TestConcurrentEndsReplayAsTheyHappened(t *testing.T) {
	for range 30 {
		dir := t.TempDir()
		h, err := New(&Options{Dir: dir, Console: io.Discard})
		require.NoError(t, err)
		ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), slog.New(h)), "race")
		ctx, it := StartIteration(ctx)
		var scopes []*Scope
		for a := range 8 {
			_, ia := StartInteraction(ctx, fmt.Sprint(a))
			scopes = append(scopes, ia)
		}
		scopes = append(scopes, it)
		var wg sync.WaitGroup
		for _, s := range scopes {
			wg.Go(func() { s.End() })
		}
		wg.Wait()
		wf.End()
		require.NoError(t, h.Close())

		live, err := os.ReadFile(h.TreeFile(wf))
		require.NoError(t, err)
		require.Equal(t, string(live), string(replay(t, dir)))
	}
}

func TestEndRacingCloseKeepsTheFinalTree(t *testing.T) {
	for range 50 {
		h, err := New(&Options{Dir: t.TempDir(), Console: io.Discard})
		require.NoError(t, err)
		ctx := ContextWithLogger(context.Background(), slog.New(h))
		_, wf := StartWorkflow(ctx, "race")
		var wg sync.WaitGroup
		wg.Go(func() { wf.End() })
		var closeErr error
		wg.Go(func() { closeErr = h.Close() })
		wg.Wait()
		require.NoError(t, closeErr)
		require.FileExists(t, h.TreeFile(wf))
	}
}

func TestCloseRacingStartWorkflowLeavesWholeTrees(t *testing.T) {
	for range 50 {
		dir := t.TempDir()
		h, err := New(&Options{Dir: dir, Console: io.Discard})
		require.NoError(t, err)
		ctx := ContextWithLogger(context.Background(), slog.New(h))
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { StartWorkflow(ctx, "race") })
		}
		require.NoError(t, h.Close())
		wg.Wait()
		paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
		require.NoError(t, err)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Contains(t, string(b), `"name":"race","status":"incomplete","start":`)
		}
	}
}

func TestOddValuesKeepTheTreeValid(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "odd")
	l.InfoContext(ctx, "nan cost", Cost(math.NaN()), Cost(math.Inf(1)))
	l.InfoContext(ctx, "huge cost", Cost(1e300))
	l.InfoContext(ctx, "self", "v", selfValuer{})
	r := slog.NewRecord(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "far future", 0)
	require.NoError(t, h.Handle(ctx, r))
	wf.End()
	require.NoError(t, h.Close())

	live, err := os.ReadFile(h.TreeFile(wf))
	require.NoError(t, err)
	var root struct {
		Usage struct {
			Cost float64 `json:"cost_usd"`
		}
		Records []struct{ Time string }
	}
	require.NoError(t, json.Unmarshal(live, &root), "the tree is JSON a reader can read")
	assert.Equal(t, 2*tree.MaxCost, root.Usage.Cost, "NaN counts for nothing, the rest is bounded")
	require.Len(t, root.Records, 4)
	assert.Contains(t, string(live), "groups nested too deep")
	assert.Equal(t, string(live), string(replay(t, dir)))
}

// selfValuer is a LogValuer whose value holds itself.
type selfValuer struct{}

func (selfValuer) LogValue() slog.Value { return slog.GroupValue(slog.Any("again", selfValuer{})) }

// The handler builds the event of a scope's start or end with its line;
// it is the event a replay decodes from the line.
func TestScopeEventIsItsLineDecoded(t *testing.T) {
	const odd = "a\x1b\xff\ufffd\u2028\"\\z"
	wf := &Scope{kind: KindWorkflow, id: "w", name: "wf" + odd}
	wf.wf = wf
	at := time.Date(2026, 11, 29, 2, 12, 52, 592, time.UTC)
	// The text of a scope's start time is the event's when the line says
	// it, and only then.
	it := &Scope{kind: KindIteration, id: "i", number: 3, parent: wf, wf: wf, startTime: "2026-11-29T02:12:52.000000592Z"}
	ia := &Scope{kind: KindInteraction, id: "a", name: "agent" + odd, parent: it, wf: wf, startTime: "2000-01-01T00:00:00.000000000Z"}
	for _, ev := range []*scopeEvent{
		{scope: wf}, {scope: it}, {scope: ia}, {scope: ia, end: true, status: StatusFailed}, {scope: wf, end: true, status: StatusCompleted},
	} {
		r := slog.NewRecord(at, slog.LevelInfo, "m", 0)
		r.AddAttrs(slog.String(InputKey, odd), slog.Any(OutputKey, nil), slog.Any(ErrorKey, errors.New(odd)),
			slog.String("k"+odd, odd), Tokens(10, 2), Model("m"+odd), Cost(0.001), slog.Bool(SemanticKey, true))
		var live tree.Event
		line := appendScopeLine(nil, ev, &r, nil, tree.Loss{Dropped: 1, Truncated: 2, Redacted: 3}, &live)
		e, err := tree.Decode(line)
		require.NoError(t, err, "%s", line)
		assert.Equal(t, e, &live, "%s", line)
	}
}

// Scopes nested past the depth where the tree cuts them (100) give the
// live tree from their journal read leaf first, as a child process's
// journal that sorts before its parent's is, or in any order.
func TestDeepScopesGiveTheLiveTreeReadLeafFirst(t *testing.T) {
	for _, depth := range []int{150, 10001} {
		t.Run(fmt.Sprint(depth, " levels"), func(t *testing.T) {
			dir := t.TempDir()
			h, err := New(&Options{Dir: dir, Console: io.Discard})
			require.NoError(t, err)
			l := slog.New(h)
			ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "deep")
			scopes := make([]*Scope, depth)
			for i := range scopes {
				ctx, scopes[i] = StartAction(ctx, "a")
				l.InfoContext(ctx, "in", "i", i, Tokens(1, 1))
			}
			for i := depth - 1; i >= 0; i-- {
				if i%7 != 3 { // the others end with their parents, incomplete
					scopes[i].End()
				}
			}
			wf.End()
			require.NoError(t, h.Close())

			live, err := os.ReadFile(h.TreeFile(wf))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(live, new(any)), "a JSON reader reads it")
			leafFirst := replay(t, dir, slices.Reverse[[]journalLine])
			require.True(t, bytes.Equal(live, leafFirst), "read leaf first, the journal gives the live tree")
			for i := range 3 {
				shuffled := replay(t, dir, func(lines []journalLine) {
					rand.New(rand.NewPCG(uint64(i), 3)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
				})
				require.True(t, bytes.Equal(live, shuffled), "in any order, the journal gives the live tree")
			}
		})
	}
}

// A new segment is locked even when another process (slogwf ls, looking)
// holds its lock the moment it is created: ls and prune then tell that it
// is written.
func TestANewSegmentIsLockedAfterAnotherLetsItGo(t *testing.T) {
	if !flock.Supported {
		t.Skip("files are not locked here")
	}
	name := filepath.Join(t.TempDir(), "segment.jsonl")
	f, err := os.Create(name)
	require.NoError(t, err)
	defer f.Close()
	look, err := os.Open(name)
	require.NoError(t, err)
	ok, err := flock.TryLock(look)
	require.NoError(t, err)
	require.True(t, ok)
	done := make(chan error, 1)
	go func() { done <- lockNew(f) }()
	time.Sleep(10 * time.Millisecond) // lockNew tries for 100 ms
	require.NoError(t, look.Close())
	require.NoError(t, <-done)
	again, err := os.Open(name)
	require.NoError(t, err)
	defer again.Close()
	ok, err = flock.TryLock(again)
	require.NoError(t, err)
	assert.False(t, ok, "the writer holds the segment's lock")
}

// A panic while the tree takes a record, recovered by the caller as
// net/http does, leaves the workflow's lock free: logging goes on.
func TestAPanicInTheTreeLeavesTheWorkflowUnlocked(t *testing.T) {
	h, err := New(&Options{Dir: t.TempDir(), Console: io.Discard})
	require.NoError(t, err)
	defer h.Close()
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "w")
	f := h.sink.flow(wf.ID())
	func() {
		defer func() { require.NotNil(t, recover()) }()
		e := tree.Event{Type: tree.Record, Workflow: wf.ID(), Scope: wf.ID(), Time: "2026-01-01T00:00:00.000000000Z"}
		f.add([]byte("{}\n"), &e, nil, func(*tree.Tree, bool) { panic("in the tree") })
	}()
	done := make(chan struct{})
	go func() {
		l.InfoContext(ctx, "after the panic")
		wf.End()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a hang, not a measure
		require.Fail(t, "the workflow stayed locked")
	}
}

// The segments of a process all name it alike, by its pid and a token of
// its own, so that another process tells which segments a live process
// wrote, though it rotated away from them, and the segments of a crashed
// process of the same pid apart.
func TestTheSegmentsOfAProcessNameItAlike(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, SegmentSize: minSegmentSize, MaxValue: -1})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "w")
	for range 3 {
		l.InfoContext(ctx, "r", "pad", strings.Repeat("x", minSegmentSize)) // fills a segment
	}
	wf.End()
	require.NoError(t, h.Close())
	other, err := New(&Options{Dir: dir, Console: io.Discard})
	require.NoError(t, err)
	_, o := StartWorkflow(ContextWithLogger(context.Background(), slog.New(other)), "o")
	o.End()
	require.NoError(t, other.Close())

	names, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	writers := map[string]int{}
	for _, name := range names {
		p, ok := tree.JournalProcess(name)
		require.True(t, ok, name)
		assert.True(t, strings.HasPrefix(p, fmt.Sprint(os.Getpid(), "-")), name)
		writers[p]++
	}
	counts := slices.Sorted(maps.Values(writers))
	require.Len(t, counts, 2, "two journals, two writers: %v", names)
	assert.Equal(t, 1, counts[0], "the other handler's")
	assert.Greater(t, counts[1], 2, "the first handler's, rotated")
}

// A segment's name has the time it began, to the millisecond, and a later
// time than its last segment's, at once: though that one began in the same
// millisecond, or the clock stepped back.
func TestSegmentNamesGoForwardWithoutWaiting(t *testing.T) {
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, tt := range []struct {
		name      string
		now, last time.Time
		want      time.Time
	}{
		{"the first", at.Add(1500 * time.Microsecond), time.Time{}, at.Add(ms)},
		{"a later millisecond", at.Add(5*ms + 300*time.Microsecond), at.Add(ms), at.Add(5 * ms)},
		{"the same millisecond", at.Add(ms + 900*time.Microsecond), at.Add(ms), at.Add(2 * ms)},
		{"the clock stepped back", at, at.Add(7 * ms), at.Add(8 * ms)},
	} {
		assert.Equal(t, tt.want, nameTime(tt.now, tt.last), tt.name)
	}
}

// A record's time is kept when it is after the zero time and has a place
// in a fixed-width RFC 3339 time, in UTC, whatever its location says.
func TestRecordTimesWithoutAFixedWidthPlaceBecomeNow(t *testing.T) {
	east := time.FixedZone("east", 3600)
	for _, tc := range []struct {
		name string
		t    time.Time
		kept bool
	}{
		{"zero", time.Time{}, false},
		{"just after zero", time.Time{}.Add(time.Nanosecond), true},
		{"year 0", time.Date(0, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{"a negative year", time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"now", time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC), true},
		{"the last nanosecond of 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"year 10000 east, 9999 in UTC", time.Date(10000, 1, 1, 0, 30, 0, 0, east), true},
		{"year 1 east, zero in UTC", time.Date(1, 1, 1, 1, 0, 0, 0, east), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := validTime(tc.t)
			if tc.kept {
				assert.True(t, got.Equal(tc.t), "%v became %v", tc.t, got)
			} else {
				assert.WithinDuration(t, time.Now(), got, time.Minute)
			}
		})
	}
}
