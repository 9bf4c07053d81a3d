package slogwf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
)

// replay rebuilds the one workflow of the journals in dir through the tree
// builder, as `slogwf build` does, with their lines in the order shuffle
// puts them in.
func replay(t *testing.T, dir string, shuffle ...func([][]byte)) []byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	var lines [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		lines = slices.AppendSeq(lines, bytes.Lines(data))
	}
	for _, f := range shuffle {
		f(lines)
	}
	trees := map[string]*tree{}
	for _, line := range lines {
		e, err := decodeEntry(line)
		require.NoError(t, err, "%s", line)
		if trees[e.Wf] == nil {
			trees[e.Wf] = newTree(e.Wf)
		}
		trees[e.Wf].apply(e)
	}
	require.Len(t, trees, 1)
	for _, tr := range trees {
		return tr.appendJSON(nil, true)
	}
	return nil
}

func TestReplayingTheJournalGivesTheLiveTreeByteForByte(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, SnapshotInterval: time.Millisecond})
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
				l.InfoContext(ctx, "call", Model("m"), Tokens(10, 2), CachedTokens(4), Cost(0.001))
				Semantic(ctx, "odd", "why", "because")
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
		shuffled := replay(t, dir, func(lines [][]byte) {
			rand.New(rand.NewPCG(uint64(i), 0)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		})
		require.Equal(t, string(live), string(shuffled), "journal lines in any order build the same tree")
	}
}

func TestJournalWriteFaultIsReportedOnce(t *testing.T) {
	var errs, console bytes.Buffer
	h, err := New(&Options{Dir: t.TempDir(), Console: &console, ErrorOutput: &errs})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "fault")
	f := h.sink.flow(wf.ID())
	require.NoError(t, f.file.Close()) // the disk goes away under the journal
	for range 10 {
		l.InfoContext(ctx, "still here")
	}
	wf.End()

	err = h.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "slogwf: write journal")
	assert.Contains(t, err.Error(), f.journal)
	assert.Equal(t, 1, strings.Count(errs.String(), "write journal"), errs.String())
	assert.Equal(t, 10, strings.Count(console.String(), "still here"))
	assert.FileExists(t, h.TreeFile(wf), "the tree is written all the same")
}

func TestDecodeEntryRejectsBadLines(t *testing.T) {
	for _, line := range []string{
		``,
		`{"ev":"start"`,
		`{"ev":"start","time":"2026-01-01T00:00:00Z","id":"a"}`,
		`{"ev":"start","wf":"w","time":"2026-01-01T00:00:00Z"}`,
		`{"ev":"record","wf":"w","time":"2026-01-01T00:00:00Z","level":"INFO"}`,
		`{"ev":"record","wf":"w","scope":"s","time":"2026-01-01T00:00:00Z","level":"LOUD"}`,
		`{"ev":"record","wf":"w","scope":"s","time":"yesterday","level":"INFO"}`,
		`{"ev":"other","wf":"w","id":"s","time":"2026-01-01T00:00:00Z"}`,
		`{"ev":"start","wf":"w","id":"s","time":"2026-01-01T00:00:00Z","attrs":"oops"}`,
	} {
		_, err := decodeEntry([]byte(line))
		assert.Error(t, err, line)
	}
}

func TestTreeHangsScopesWithoutAPlaceUnderTheWorkflow(t *testing.T) {
	tr := newTree("w")
	for _, line := range []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"n"}`,
		`{"ev":"start","wf":"w","id":"a","parent":"b","kind":"interaction","time":"2026-01-01T00:00:01.000000000Z","agent":"a"}`,
		`{"ev":"start","wf":"w","id":"b","parent":"a","kind":"interaction","time":"2026-01-01T00:00:02.000000000Z","agent":"b"}`,
		`{"ev":"start","wf":"w","id":"c","parent":"c","kind":"action","time":"2026-01-01T00:00:03.000000000Z","name":"c"}`,
		`{"ev":"start","wf":"w","id":"d","parent":"nowhere","kind":"action","time":"2026-01-01T00:00:04.000000000Z","name":"d"}`,
		`{"ev":"record","wf":"w","scope":"ghost","time":"2026-01-01T00:00:05.000000000Z","level":"INFO","msg":"lost?"}`,
		`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:06.000000000Z","status":"completed"}`,
	} {
		e, err := decodeEntry([]byte(line))
		require.NoError(t, err, line)
		tr.apply(e)
	}
	out := string(tr.appendJSON(nil, true))
	for _, id := range []string{`"id":"a"`, `"id":"b"`, `"id":"c"`, `"id":"d"`, `"msg":"lost?"`} {
		assert.Contains(t, out, id, "nothing is lost")
	}
	assert.Contains(t, out, `"counts":{"records":1,`)
}

func TestMergeObjects(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{``, `{"x":1}`, `{"x":1}`},
		{`{"x":1}`, ``, `{"x":1}`},
		{`{"x":1,"y":2}`, `{"y":3}`, `{"x":1,"y":3}`},
		{`{"x":1}`, `{"x":2}`, `{"x":2}`},
		{`{"x":1}`, `{}`, `{"x":1}`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(mergeObjects([]byte(tt.a), []byte(tt.b))), "%s + %s", tt.a, tt.b)
	}
}

func TestAppendStringRoundTrips(t *testing.T) {
	for _, s := range []string{"plain", "q\"\\", "\x00\x1b\x7f\u0085\u2028\u202e\u2066", "\xff\xfe", "\ufffd", "日本"} {
		enc := appendString(nil, s)
		e, err := decodeEntry(fmt.Appendf(nil, `{"ev":"record","wf":"w","scope":"s","time":"2026-01-01T00:00:00Z","level":"INFO","msg":%s}`, enc))
		require.NoError(t, err)
		assert.Equal(t, string(enc), string(appendString(nil, e.Msg)), "decoding and encoding again is stable: %q", s)
		assert.NotRegexp(t, "[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]", string(enc))
		if strings.ToValidUTF8(s, "") == s {
			assert.Equal(t, s, e.Msg, "valid text decodes back exactly")
		}
	}
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
	var tree struct {
		Usage struct {
			Cost float64 `json:"cost_usd"`
		}
		Records []struct{ Time string }
	}
	require.NoError(t, json.Unmarshal(live, &tree), "the tree is JSON a reader can read")
	assert.Equal(t, 2*maxCost, tree.Usage.Cost, "NaN counts for nothing, the rest is bounded")
	require.Len(t, tree.Records, 4)
	assert.Contains(t, string(live), "groups nested too deep")
	assert.Equal(t, string(live), string(replay(t, dir)))
}

// selfValuer is a LogValuer whose value holds itself.
type selfValuer struct{}

func (selfValuer) LogValue() slog.Value { return slog.GroupValue(slog.Any("again", selfValuer{})) }

func FuzzDecodeEntry(f *testing.F) {
	for _, line := range []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00.000000000Z","name":"n","attrs":{"a":1}}`,
		`{"ev":"start","wf":"w","id":"i","parent":"w","kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"a","input":[1]}`,
		`{"ev":"record","wf":"w","scope":"i","usage":{"llm_calls":1,"input_tokens":5,"cost_usd":0.1},"time":"2026-01-01T00:00:02.5+02:00","level":"WARN","msg":"m\u001b","semantic":true,"attrs":{"g":{"k":"v"}}}`,
		`{"ev":"end","wf":"w","id":"i","time":"2026-01-01T00:00:03.000000000Z","status":"failed","error":"e","attrs":{"b":2},"output":"o"}`,
		`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:04.000000000Z","status":"completed"}`,
		`{"ev":"start","wf":"w","id":"x","parent":"x","kind":"action","time":"2026-01-01T00:00:00Z","attrs":[1]}`,
	} {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := newTree("w")
		for line := range bytes.Lines(data) {
			e, err := decodeEntry(line)
			if err != nil {
				continue
			}
			e.Wf = "w" // one tree takes every line, to mix them more
			tr.apply(e)
		}
		for _, final := range []bool{false, true} {
			out := tr.appendJSON(nil, final)
			require.True(t, json.Valid(out), "%s", out)
		}
	})
}

// FuzzReadJournal feeds the journal reader anything: it never panics, and
// whatever it keeps builds trees that are JSON. The seed corpus is in
// testdata/fuzz/FuzzReadJournal: a real journal, and journals torn in the
// ways a crash tears them (a partial line, split UTF-8, NUL padding, no
// final newline).
func FuzzReadJournal(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b := NewBuilder()
		require.NoError(t, b.ReadJournal(bytes.NewReader(data), "fuzz.jsonl", func(error) {}))
		for _, id := range b.Workflows() {
			out := b.Tree(id)
			require.True(t, json.Valid(out), "%s", out)
		}
	})
}

func TestDeepScopesStayFastAndReadable(t *testing.T) {
	b := NewBuilder()
	line := func(format string, args ...any) {
		require.NoError(t, b.Add(fmt.Appendf(nil, format, args...)))
	}
	line(`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"deep"}`)
	parent := "w"
	for i := range 20000 {
		id := fmt.Sprint("s", i)
		line(`{"ev":"start","wf":"w","id":%q,"parent":%q,"kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"a"}`, id, parent)
		parent = id
	}
	for i := range 20000 {
		line(`{"ev":"end","wf":"w","id":"s%d","time":"2026-01-01T00:00:02Z","status":"completed"}`, i)
	}
	var tree map[string]any
	require.NoError(t, json.Unmarshal(b.Tree("w"), &tree), "a JSON reader reads it: nesting stays bounded")
}

func TestEndsAtOneTimeGiveOneTreeInAnyOrder(t *testing.T) {
	lines := []string{
		`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"tie"}`,
		`{"ev":"start","wf":"w","id":"a","parent":"w","kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"a"}`,
		`{"ev":"end","wf":"w","id":"a","time":"2026-01-01T00:00:02Z","status":"completed","output":"ok"}`,
		`{"ev":"end","wf":"w","id":"a","time":"2026-01-01T00:00:02Z","status":"failed","error":"e"}`,
		`{"ev":"end","wf":"w","id":"w","time":"2026-01-01T00:00:02Z","status":"completed"}`,
	}
	var first string
	for i := range 20 {
		b := NewBuilder()
		order := slices.Clone(lines)
		rand.New(rand.NewPCG(uint64(i), 1)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, l := range order {
			require.NoError(t, b.Add([]byte(l)))
		}
		if i == 0 {
			first = string(b.Tree("w"))
		}
		require.Equal(t, first, string(b.Tree("w")), "%v", order)
	}
	assert.Contains(t, first, `"status":"completed","start":"2026-01-01T00:00:01.000000000Z"`, "a scope that ends with its parent keeps its own end")
}

func TestAppendTimeIsTheFixedLayout(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 29, 2, 12, 52, 592_000_000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("x", -7*3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Now(),
	} {
		assert.Equal(t, `"`+tm.UTC().Format(timeLayout)+`"`, string(appendTime(nil, tm)), "%v", tm)
	}
}

// The handler builds the entry of a scope's start or end with its line;
// it is the entry a replay decodes from the line.
func TestEventEntryIsItsLineDecoded(t *testing.T) {
	const odd = "a\x1b\xff\ufffd\u2028\"\\z"
	wf := &Scope{kind: KindWorkflow, id: "w", name: "wf" + odd}
	wf.wf = wf
	it := &Scope{kind: KindIteration, id: "i", number: 3, parent: wf, wf: wf}
	ia := &Scope{kind: KindInteraction, id: "a", name: "agent" + odd, parent: it, wf: wf}
	at := time.Date(2026, 11, 29, 2, 12, 52, 592, time.UTC)
	for _, ev := range []*event{
		{scope: wf}, {scope: it}, {scope: ia}, {scope: ia, end: true, status: StatusFailed}, {scope: wf, end: true, status: StatusCompleted},
	} {
		r := slog.NewRecord(at, slog.LevelInfo, "m", 0)
		r.AddAttrs(slog.String(InputKey, odd), slog.Any(OutputKey, nil), slog.Any(ErrorKey, errors.New(odd)),
			slog.String("k"+odd, odd), Tokens(10, 2), Model("m"+odd), Cost(0.001), slog.Bool(SemanticKey, true))
		line, live := appendEventLine(nil, ev, r, nil, loss{dropped: 1, truncated: 2, redacted: 3})
		e, err := decodeEntry(line)
		require.NoError(t, err, "%s", line)
		assert.Equal(t, e.usage(), live.usage(), "%s", line)
		assert.Equal(t, e.loss(), live.loss(), "%s", line)
		e.Usage, live.use, e.Loss, live.lost = nil, usage{}, nil, loss{}
		assert.Equal(t, e, live, "%s", line)
	}
}
