package slogwf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lmittmann/tint"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// The benchmarks compare slogwf with what a user would run instead, in one
// run: scripts/bench.sh prints their ratios against the targets of the
// README's Performance section. Every record is the same call.

const benchMsg = "calling model"

// logCall is the call every benchmark makes: five attributes, one of each
// common kind. Constant values box without allocating.
func logCall(ctx context.Context, l *slog.Logger) {
	l.InfoContext(ctx, benchMsg, "prompt", "summarize the notes", "attempt", 3,
		"temperature", 0.7, "stream", true, "latency", 1500*time.Millisecond)
}

// newBenchHandler returns the full product: a colored tint console (as in a
// terminal) to io.Discard, and trees and journals in dir.
func newBenchHandler(b *testing.B, dir string, interval time.Duration) *slogwf.Handler {
	return benchHandler(b, &slogwf.Options{Dir: dir, SnapshotInterval: interval})
}

// benchHandler returns the full product with the options o besides.
func benchHandler(b *testing.B, o *slogwf.Options) *slogwf.Handler {
	b.Helper()
	o.Console, o.Color = io.Discard, slogwf.ColorAlways
	h, err := slogwf.New(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close() })
	return h
}

// benchIteration returns a context inside an iteration of a new workflow
// of h, and the workflow.
func benchIteration(h *slogwf.Handler) (context.Context, *slogwf.Scope) {
	ctx := slogwf.ContextWithLogger(context.Background(), slog.New(h))
	ctx, wf := slogwf.StartWorkflow(ctx, "bench")
	ctx, _ = slogwf.StartIteration(ctx)
	return ctx, wf
}

// benchInteraction returns a context inside an interaction of a new
// workflow of h.
func benchInteraction(h *slogwf.Handler) context.Context {
	ctx, _ := benchIteration(h)
	ctx, _ = slogwf.StartInteraction(ctx, "planner")
	return ctx
}

func BenchmarkSlogJSON(b *testing.B) {
	l := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

// fanout returns what a user builds without slogwf: a colored tint
// console to io.Discard and JSON lines to a file.
func fanout(tb testing.TB) *slog.Logger {
	f, err := os.Create(filepath.Join(tb.TempDir(), "log.json"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return slog.New(slog.NewMultiHandler(
		tint.NewTextHandler(io.Discard, &tint.Options{TimeFormat: "15:04:05.000"}),
		slog.NewJSONHandler(f, nil),
	))
}

func BenchmarkFanout(b *testing.B) {
	l := fanout(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

// BenchmarkFanoutParallel is Fanout from parallel goroutines, as agents
// log without slogwf.
func BenchmarkFanoutParallel(b *testing.B) {
	l := fanout(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			logCall(ctx, l)
		}
	})
}

// BenchmarkTint is Fanout's console alone: tint, colored, to io.Discard.
func BenchmarkTint(b *testing.B) {
	l := slog.New(tint.NewTextHandler(io.Discard, &tint.Options{TimeFormat: "15:04:05.000"}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

// BenchmarkConsole is slogwf with the tree off: the cleaner, Handle and
// the console around tint, against BenchmarkTint.
func BenchmarkConsole(b *testing.B) {
	l := slog.New(benchHandler(b, &slogwf.Options{Dir: b.TempDir(), Disabled: true}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

// passthrough returns slogwf in front of slog's JSON handler to io.Discard.
func passthrough(b *testing.B) *slog.Logger {
	h := slogwf.NewHandler(slog.NewJSONHandler(io.Discard, nil), &slogwf.Options{Dir: b.TempDir()})
	b.Cleanup(func() { _ = h.Close() })
	return slog.New(h)
}

// forward is the least a handler in front of another can do: pass each
// call on. BenchmarkForward is the floor of Passthrough against SlogJSON
// (a record is handed on by value, through one more interface call).
type forward struct{ next slog.Handler }

func (f forward) Enabled(ctx context.Context, l slog.Level) bool  { return f.next.Enabled(ctx, l) }
func (f forward) Handle(ctx context.Context, r slog.Record) error { return f.next.Handle(ctx, r) }
func (f forward) WithAttrs(as []slog.Attr) slog.Handler           { return forward{f.next.WithAttrs(as)} }
func (f forward) WithGroup(name string) slog.Handler              { return forward{f.next.WithGroup(name)} }

// BenchmarkForward is BenchmarkSlogJSON behind forward.
func BenchmarkForward(b *testing.B) {
	l := slog.New(forward{slog.NewJSONHandler(io.Discard, nil)})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

func BenchmarkPassthrough(b *testing.B) {
	l := passthrough(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

// proseCall logs what an agent logs of a model call: prose, a message
// and a prompt of 1 KiB, whose pairs of letters are those of any text.
func proseCall(ctx context.Context, l *slog.Logger) {
	l.InfoContext(ctx, "waiting for the model to write its answer", "prompt", prosePrompt, "attempt", 3)
}

var prosePrompt = strings.Repeat("Read the notes of each meeting, then write a short list of what was agreed. ", 14)[:1024]

// BenchmarkSlogJSONProse is BenchmarkSlogJSON of proseCall.
func BenchmarkSlogJSONProse(b *testing.B) {
	l := slog.New(slog.NewJSONHandler(io.Discard, nil))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		proseCall(ctx, l)
	}
}

// BenchmarkPassthroughProse is BenchmarkPassthrough of proseCall.
func BenchmarkPassthroughProse(b *testing.B) {
	l := passthrough(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		proseCall(ctx, l)
	}
}

func BenchmarkInScope(b *testing.B) {
	m := retained() // first, while no other workflow is live
	h := newBenchHandler(b, b.TempDir(), 0)
	ctx := benchInteraction(h)
	l := slog.New(h)
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
	b.ReportMetric(m.heap, "B/record")
	b.ReportMetric(m.journal, "journal-B/record")
}

// BenchmarkInScopeJSON is BenchmarkInScope with the JSON console.
func BenchmarkInScopeJSON(b *testing.B) {
	h := benchHandler(b, &slogwf.Options{Dir: b.TempDir(), Format: slogwf.FormatJSON})
	ctx := benchInteraction(h)
	l := slog.New(h)
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

// BenchmarkInScopeOTel is BenchmarkInScope with the live export on.
func BenchmarkInScopeOTel(b *testing.B) {
	h := otelBenchHandler(b)
	ctx := benchInteraction(h)
	l := slog.New(h)
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

func BenchmarkInScopeWith(b *testing.B) {
	h := newBenchHandler(b, b.TempDir(), 0)
	ctx := benchInteraction(h)
	l := slog.New(h).With("user", "ana", "run", 7, "region", "eu-west")
	b.ReportAllocs()
	for b.Loop() {
		logCall(ctx, l)
	}
}

// BenchmarkRouteByScopeID logs through logger.With(InteractionID(id)),
// with no scoped context, while 1,000 workflows are live.
func BenchmarkRouteByScopeID(b *testing.B) {
	h := newBenchHandler(b, b.TempDir(), 0)
	for i := range 1000 {
		slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), fmt.Sprint("w", i))
	}
	_, ia := slogwf.StartInteraction(benchInteraction(h), "routed")
	l := slog.New(h).With(slogwf.InteractionID(ia.ID()))
	b.ReportAllocs()
	for b.Loop() {
		logCall(context.Background(), l)
	}
}

// BenchmarkRouteByGoneScopeID is BenchmarkRouteByScopeID naming an
// interaction whose workflow ended: a miss, which the console alone takes.
func BenchmarkRouteByGoneScopeID(b *testing.B) {
	h := newBenchHandler(b, b.TempDir(), 0)
	for i := range 1000 {
		slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), fmt.Sprint("w", i))
	}
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "gone")
	_, ia := slogwf.StartInteraction(ctx, "routed")
	ia.End()
	wf.End()
	l := slog.New(h).With(slogwf.InteractionID(ia.ID()))
	b.ReportAllocs()
	for b.Loop() {
		logCall(context.Background(), l)
	}
}

func BenchmarkInScopeParallel(b *testing.B) {
	h := newBenchHandler(b, b.TempDir(), 0)
	ctx, _ := benchIteration(h)
	l := slog.New(h)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx, ia := slogwf.StartInteraction(ctx, "worker")
		defer ia.End()
		for pb.Next() {
			logCall(ctx, l)
		}
	})
}

// BenchmarkScope starts and ends interactions, in workflows of a
// thousand: a tree keeps its nodes, and the benchmark measures a scope,
// not a tree of millions.
func BenchmarkScope(b *testing.B) {
	benchScopes(b, newBenchHandler(b, b.TempDir(), 0))
}

func benchScopes(b *testing.B, h *slogwf.Handler) {
	ctx, wf := benchIteration(h)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 999 {
			b.StopTimer()
			wf.End()
			h.TreeFile(wf) // written off the caller's goroutine: not a scope's cost
			ctx, wf = benchIteration(h)
			b.StartTimer()
		}
		_, ia := slogwf.StartInteraction(ctx, "worker")
		ia.End()
	}
}

// BenchmarkScopeOTel is BenchmarkScope with the live export on.
func BenchmarkScopeOTel(b *testing.B) {
	benchScopes(b, otelBenchHandler(b))
}

// shortWorkflow is a service's request: a workflow, one interaction, two
// records. It returns the workflow.
func shortWorkflow(ctx context.Context, l *slog.Logger) *slogwf.Scope {
	ctx, wf := slogwf.StartWorkflow(ctx, "request")
	ictx, ia := slogwf.StartInteraction(ctx, "agent")
	logCall(ictx, l)
	logCall(ictx, l)
	ia.End()
	wf.End()
	return wf
}

// BenchmarkShortWorkflow measures the caller's cost of a short workflow:
// six lines, two files. The final trees, written off the caller's
// goroutine, are waited for every 100 workflows with the timer stopped,
// as a service's requests leave time for them.
func BenchmarkShortWorkflow(b *testing.B) {
	h := newBenchHandler(b, keptDir(b), 0)
	l := slog.New(h)
	ctx := slogwf.ContextWithLogger(context.Background(), l)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		wf := shortWorkflow(ctx, l)
		if i%100 == 99 {
			b.StopTimer()
			h.TreeFile(wf)
			b.StartTimer()
		}
	}
}

// BenchmarkShortWorkflowClose measures all the work of short workflows,
// until Close returns with their final trees on disk.
func BenchmarkShortWorkflowClose(b *testing.B) {
	h := newBenchHandler(b, keptDir(b), 0)
	l := slog.New(h)
	ctx := slogwf.ContextWithLogger(context.Background(), l)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		shortWorkflow(ctx, l)
	}
	if err := h.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkShortWorkflowJSON writes the six lines of a short workflow
// through slog.JSONHandler to a file: what a service logs without slogwf.
func BenchmarkShortWorkflowJSON(b *testing.B) {
	benchShortWorkflowJSON(b, keptDir(b), nil)
}

// BenchmarkShortWorkflowFile is BenchmarkShortWorkflowJSON with a file of
// its own per workflow, of the size of a short tree, written as slogwf
// writes one (a new temporary file renamed into place, in one directory):
// the least that a file per workflow costs on the file system at hand,
// measured in the same run.
func BenchmarkShortWorkflowFile(b *testing.B) {
	dir := keptDir(b)
	root, err := os.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	tree := bytes.Repeat([]byte("x"), 1300)
	benchShortWorkflowJSON(b, dir, func(i int) error {
		name := "request-" + strconv.Itoa(i) + ".json"
		f, err := root.OpenFile(name+".tmp", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = f.Write(tree)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return root.Rename(name+".tmp", name)
	})
}

// benchDirs holds the directories of the ShortWorkflow benchmarks, which
// make a file per op. They are removed when the test binary exits (see
// TestMain), not after each round as b.TempDir's are: on ext4 without a
// journal, creating a file passes by, one by one, every inode of its group
// freed in the last minute (six, until written back; recently_deleted in
// fs/ext4/ialloc.c), so removing one round's tens of thousands of files
// made each create of the next round cost 0.4-0.9 ms: a cost of the
// benchmark's own clean-up, not of the code measured. scripts/bench.sh
// runs the binary once a round, so it names in $SLOGWF_BENCH_DIR a
// directory that outlives the rounds, and removes it itself.
var benchDirs struct {
	sync.Mutex
	root string
	own  bool // root is the binary's to remove
}

// keptDir returns a new directory in benchDirs.
func keptDir(b *testing.B) string {
	benchDirs.Lock()
	defer benchDirs.Unlock()
	var err error
	if benchDirs.root == "" {
		benchDirs.root, err = os.MkdirTemp(os.Getenv("SLOGWF_BENCH_DIR"), "slogwf-bench-")
		benchDirs.own = os.Getenv("SLOGWF_BENCH_DIR") == ""
	}
	if err == nil {
		var dir string
		if dir, err = os.MkdirTemp(benchDirs.root, b.Name()+"-"); err == nil {
			return dir
		}
	}
	b.Fatal(err)
	return ""
}

// removeBenchDirs removes benchDirs, unless $SLOGWF_BENCH_DIR holds them.
func removeBenchDirs() {
	benchDirs.Lock()
	defer benchDirs.Unlock()
	if benchDirs.own {
		os.RemoveAll(benchDirs.root)
	}
}

// benchShortWorkflowJSON logs the six lines of a short workflow through
// slog.JSONHandler to a file in dir, then calls each, if given, with the
// workflow's number.
func benchShortWorkflowJSON(b *testing.B, dir string, each func(i int) error) {
	f, err := os.Create(filepath.Join(dir, "log.json"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	l := slog.New(slog.NewJSONHandler(f, nil))
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.InfoContext(ctx, "start workflow request")
		l.InfoContext(ctx, "start interaction agent")
		logCall(ctx, l)
		logCall(ctx, l)
		l.InfoContext(ctx, "end interaction agent", "dur", time.Millisecond)
		l.InfoContext(ctx, "end workflow request", "dur", time.Millisecond)
		if each != nil {
			if err := each(i); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkDisabled(b *testing.B) {
	h := newBenchHandler(b, b.TempDir(), 0)
	ctx := benchInteraction(h)
	l := slog.New(h)
	b.ReportAllocs()
	for b.Loop() {
		l.DebugContext(ctx, benchMsg, "prompt", "summarize the notes", "attempt", 3,
			"temperature", 0.7, "stream", true, "latency", 1500*time.Millisecond)
	}
}

func BenchmarkDisabledSlog(b *testing.B) {
	h := newBenchHandler(b, b.TempDir(), 0)
	ctx := benchInteraction(h)
	l := slog.New(slog.NewJSONHandler(io.Discard, nil))
	b.ReportAllocs()
	for b.Loop() {
		l.DebugContext(ctx, benchMsg, "prompt", "summarize the notes", "attempt", 3,
			"temperature", 0.7, "stream", true, "latency", 1500*time.Millisecond)
	}
}

// perRecord is what a record costs beyond its logging.
type perRecord struct {
	heap    float64 // bytes of heap the live tree keeps
	journal float64 // bytes of its journal line
}

// retainedRecords is the number of records of the workflow whose retained
// memory BenchmarkInScope reports.
const retainedRecords = 100_000

// retained measures, once per process, the heap in use after a GC held by
// a workflow of retainedRecords records that is still open, per record,
// and the mean length of their journal lines.
var retained = sync.OnceValue(func() perRecord {
	dir, err := os.MkdirTemp("", "slogwf-bench")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	h, err := slogwf.New(&slogwf.Options{Console: io.Discard, Color: slogwf.ColorAlways, Dir: dir})
	if err != nil {
		panic(err)
	}
	ctx := benchInteraction(h)
	l := slog.New(h)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range retainedRecords {
		logCall(ctx, l)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(h)
	_, size := readJournal(dir, evRecordPrefix)
	if err := h.Close(); err != nil {
		panic(err)
	}
	return perRecord{
		heap:    float64(after.HeapInuse-before.HeapInuse) / retainedRecords,
		journal: float64(size) / retainedRecords,
	}
})

const evRecordPrefix = `{"ev":"record"`

// readJournal returns the lines of the journal segments in dir, and the
// bytes of those that start with prefix.
func readJournal(dir, prefix string) (lines [][]byte, size int) {
	paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	if err != nil || len(paths) == 0 {
		panic(fmt.Sprint("want journals: ", paths, err))
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			panic(err)
		}
		for line := range bytes.Lines(data) {
			lines = append(lines, line)
			if bytes.HasPrefix(line, []byte(prefix)) {
				size += len(line)
			}
		}
	}
	return lines, size
}

// logWorkflow logs a workflow of records records, spread over
// interactions of perInteraction records, ten interactions an iteration,
// and returns it open.
func logWorkflow(h *slogwf.Handler, records, perInteraction int) *slogwf.Scope {
	ctx := slogwf.ContextWithLogger(context.Background(), slog.New(h))
	ctx, wf := slogwf.StartWorkflow(ctx, "bench")
	l := slog.New(h)
	var it, ia *slogwf.Scope
	var ictx, actx context.Context
	for i := range records {
		if i%perInteraction == 0 {
			if ia != nil {
				ia.End()
			}
			if i%(10*perInteraction) == 0 {
				if it != nil {
					it.End()
				}
				ictx, it = slogwf.StartIteration(ctx)
			}
			actx, ia = slogwf.StartInteraction(ictx, "worker", slogwf.InputKey, "read the notes")
		}
		logCall(actx, l)
	}
	ia.End(slogwf.OutputKey, "6 items")
	it.End()
	return wf
}

// benchJournal is the journal of a workflow of about 100,000 events.
var benchJournal = sync.OnceValue(func() [][]byte {
	dir, err := os.MkdirTemp("", "slogwf-bench")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	h, err := slogwf.New(&slogwf.Options{Console: io.Discard, Dir: dir})
	if err != nil {
		panic(err)
	}
	logWorkflow(h, 98_000, 49).End() // 2,000 interactions, 200 iterations
	if err := h.Close(); err != nil {
		panic(err)
	}
	lines, _ := readJournal(dir, "")
	return lines
})

// BenchmarkBuild replays a journal through the tree builder and writes
// the tree; its figures are per event.
func BenchmarkBuild(b *testing.B) {
	lines := benchJournal()
	perEvent(b, len(lines), func() {
		bld := tree.NewBuilder()
		for _, line := range lines {
			if err := bld.Add(line); err != nil {
				b.Fatal(err)
			}
		}
		for _, id := range bld.Workflows() {
			if len(bld.JSON(id)) == 0 {
				b.Fatal("no tree")
			}
		}
	})
}

// BenchmarkBuildUnmarshal decodes the lines of BenchmarkBuild's journal
// into maps, the least a reader of the journal does.
func BenchmarkBuildUnmarshal(b *testing.B) {
	lines := benchJournal()
	perEvent(b, len(lines), func() {
		for _, line := range lines {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// perEvent runs replay, which handles n events, as the operation of b,
// and reports its figures per event.
func perEvent(b *testing.B, n int, replay func()) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		replay()
	}
	runtime.ReadMemStats(&after)
	events := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/op")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/events, "allocs/op")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/events, "B/op")
}
