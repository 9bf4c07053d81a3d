package slogwf_test

// Hostile input: huge values, invalid UTF-8, escape sequences, values that
// panic, hold themselves or never end, names and links that try to leave
// Dir. Nothing crashes or hangs, no output lets text forge a line or
// rewrite a terminal, and the journal gives back what was logged.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/tree"
)

// bigMessage is the size of the message and attribute of
// TestHugeValuesAreCutWithAMarkerAndMemoryStaysBounded.
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

// 100 records with a 10 MiB message and a 10 MiB attribute are cut at
// MaxValue, with a marker, and memory stays bounded.
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

// Invalid UTF-8 in every field stays visible, and every output valid.
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

// escapes is the escape corpus: terminal sequences, controls, separators
// and bidi overrides, and a forged console line; valid UTF-8, so that the journal
// gives it back exactly.
const escapes = "CSI\x1b[31mRED OSC0\x1b]0;title\x07 OSC8\x1b]8;;http://x\x1b\\link OSC52\x1b]52;c;Y2xpcA==\x07" +
	" C1\u009b31m CR\r BS\b BEL\a NUL\x00 DEL\x7f LS\u2028 PS\u2029 RLO\u202eevil\u202c LRI\u2066x\u2069" +
	"\n02:12:52.592 INF [research] forged line TAIL"

// The escape corpus, in every field, reaches the journal and the tree
// escaped, and comes back exactly. The console is checked by
// TestConsoleEscapesUntrustedText, the CLI by TestCLIOutputEscapesUntrustedText
// in cmd/slogwf.
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

// Hostile values: they panic, or hold themselves.
type (
	panicValuer  struct{}
	selfValuer   struct{}
	panicString  struct{ X int }
	panicError   struct{}
	panicMarshal struct{}
)

func (panicValuer) LogValue() slog.Value { panic("LogValue boom") }

func (s selfValuer) LogValue() slog.Value { return slog.AnyValue(s) }

func (panicString) String() string { panic("String boom") }

func (panicError) Error() string { panic("Error boom") }

func (panicMarshal) MarshalJSON() ([]byte, error) { panic("MarshalJSON boom") }

// Values that panic, hold themselves, or nest without end neither crash
// nor hang the program.
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

// Symbolic links planted where the files will go are not followed (names
// that try to leave Dir are TestUnsafeWorkflowNamesStayInDir).
func TestPlantedSymlinksAreNotFollowed(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "logs")
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.WriteFile(outside, []byte("precious"), 0o600))
	s := newSetup(t, &slogwf.Options{Dir: dir})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "linked")
	treeFile := s.h.TreeFile(wf)
	require.NoError(t, os.Symlink(outside, treeFile))
	s.log.InfoContext(ctx, "r")
	wf.End()
	s.h.TreeFile(wf) // once written

	got, err := os.ReadFile(outside)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(got), "the link's target is untouched")
	st, err := os.Lstat(treeFile)
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular(), "the tree replaced the link")
	assert.Equal(t, slogwf.StatusCompleted, readTree(t, treeFile).Status)

	// A link where the journals go is replaced by a directory.
	elsewhere := filepath.Join(parent, "elsewhere")
	require.NoError(t, os.Mkdir(elsewhere, 0o700))
	other := filepath.Join(parent, "other")
	require.NoError(t, os.Mkdir(other, 0o700))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(other, tree.JournalDir)))
	o := newSetup(t, &slogwf.Options{Dir: other})
	_, wf2 := slogwf.StartWorkflow(o.ctx, "linked")
	wf2.End()
	require.NoError(t, o.h.Close())
	assert.Empty(t, files(t, elsewhere), "nothing written through the link")
	st, err = os.Lstat(filepath.Join(other, tree.JournalDir))
	require.NoError(t, err)
	assert.True(t, st.IsDir())
	assert.Len(t, files(t, other), 2, "the tree, and the journal in a directory of its own")
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

// truncated is the marker of a name cut at tree.MaxName bytes.
var truncated = regexp.MustCompile(`…\[truncated ([0-9]+) bytes\]$`)

// requireName checks that got is name as the journal gives it back: whole
// if that takes tree.MaxName bytes at most, else cut there: the start of
// name, as JSON gives it back, and the number of bytes of name cut.
func requireName(t *testing.T, name, got string) {
	t.Helper()
	whole := asJSON(name)
	if len(whole) <= tree.MaxName {
		require.Equal(t, whole, got)
		return
	}
	require.LessOrEqual(t, len(got), tree.MaxName, "%q", got)
	m := truncated.FindStringSubmatchIndex(got)
	require.NotNil(t, m, "cut and marked: %q", got)
	n, err := strconv.Atoi(got[m[2]:m[3]])
	require.NoError(t, err)
	require.True(t, 0 < n && n <= len(name), "%d bytes of %d cut", n, len(name))
	require.Equal(t, asJSON(name[:len(name)-n]), got[:m[0]], "the start of the name")
}

// The rules of TestJournalEscapesUntrustedTextAndGivesItBack hold for any
// message, key, value and name, and the journal gives them back, a name
// cut at tree.MaxName bytes. The seed corpus, in testdata/fuzz/FuzzHandle,
// holds invalid UTF-8, the escape corpus and hostile values.
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
				requireName(t, name, e.Name)
			case e.Agent != "":
				requireName(t, name, e.Agent)
			}
		}
		require.Equal(t, 2, msgs)
		live, err := os.ReadFile(h.TreeFile(wf))
		require.NoError(t, err)
		require.Equal(t, string(buildTree(t, dir, wf.ID())), string(live), "the journal round-trips to the tree")
	})
}

// A journal of a million scopes, each in the one before, read leaf first,
// builds a tree that JSON readers read: nothing recurses as deep as the
// scopes nest. (A tenth of it under the race detector.)
func TestAJournalOfAMillionNestedScopesBuildsATree(t *testing.T) {
	n := 1_000_000
	if raceDetector {
		n = 100_000
	}
	b := tree.NewBuilder()
	var line []byte
	for i := n; i > 0; i-- {
		parent := "w"
		if i > 1 {
			parent = strconv.Itoa(i - 1)
		}
		line = fmt.Appendf(line[:0], `{"ev":"start","wf":"w","id":"%d","parent":%q,"kind":"action","time":"2026-01-01T00:00:01Z","name":"a"}`, i, parent)
		require.NoError(t, b.Add(line))
	}
	require.NoError(t, b.Add([]byte(`{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"deep"}`)))
	out := b.JSON("w")
	assert.True(t, json.Valid(out), "a JSON reader reads it")
	assert.Equal(t, n, strings.Count(string(out), `"kind":"action"`))
}

// Usage logged out of bounds is bounded per record (at most one call,
// 0 to 10¹² tokens of each kind, ±$1,000,000), alike in the console's
// totals, the journal and the tree, and counted as clamped; no total
// wraps.
func TestUsageOutOfBoundsIsClampedPerRecordAndCounted(t *testing.T) {
	type usage struct {
		calls, in, cached, cacheWrite, out int64
		cost                               float64
	}
	// What a record of math.MaxInt tokens counts for, and is clamped for:
	// on 32 bits, an int is within the bound.
	maxInt, maxIntClamped := min(int64(math.MaxInt), 1e12), int64(0)
	if math.MaxInt > 1e12 {
		maxIntClamped = 1
	}
	tests := []struct {
		name    string
		prices  slogwf.Prices
		records [][]any // the attributes of each
		want    usage
		clamped int64
	}{
		{"two records of the most tokens an int holds", nil,
			[][]any{{slogwf.Tokens(math.MaxInt, 0)}, {slogwf.Tokens(math.MaxInt, 0)}},
			usage{calls: 2, in: 2 * maxInt}, 2 * maxIntClamped},
		{"negative counts", nil, [][]any{{slogwf.Tokens(-5, 3), slogwf.CachedTokens(-1), slogwf.CacheWriteTokens(-1)}},
			usage{calls: 1, out: 3}, 3},
		{"two records of the most cache writes an int holds", nil,
			[][]any{{slogwf.CacheWriteTokens(math.MaxInt)}, {slogwf.CacheWriteTokens(math.MaxInt)}},
			usage{cacheWrite: 2 * maxInt}, 2 * maxIntClamped},
		{"NaN and infinite counts", nil,
			[][]any{{slog.Group(slogwf.TokensKey, slog.Float64("input", math.NaN()), slog.Float64("output", math.Inf(1)))}},
			usage{calls: 1, out: 1e12}, 2},
		{"a count past what an int64 holds", nil,
			[][]any{{slog.Group(slogwf.TokensKey, slog.Uint64("input", math.MaxUint64))}},
			usage{calls: 1, in: 1e12}, 1},
		{"NaN and huge costs", nil, [][]any{{slogwf.Cost(math.NaN())}, {slogwf.Cost(1e300)}, {slogwf.Cost(-1e300)}, {slogwf.Cost(0.25)}},
			usage{cost: 0.25}, 3},
		{"a cost from prices past the bound", slogwf.Prices{"m": {Input: 1e6}},
			[][]any{{slogwf.Model("m"), slogwf.Tokens(math.MaxInt, 0)}},
			usage{calls: 1, in: maxInt, cost: 1e6}, 1 + maxIntClamped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Prices: tt.prices})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "usage")
			for _, attrs := range tt.records {
				s.log.InfoContext(ctx, "call", attrs...)
			}
			wf.End()
			tree := s.tree(t, wf)
			u := tree.Usage
			assert.Equal(t, tt.want, usage{u.LLMCalls, u.InputTokens, u.CachedTokens, u.CacheWriteTokens, u.OutputTokens, u.CostUSD})
			assert.Equal(t, tt.want.in+tt.want.out, u.TotalTokens)
			assert.Equal(t, &loss{Clamped: tt.clamped}, tree.Loss)
			live, err := os.ReadFile(s.h.TreeFile(wf))
			require.NoError(t, err)
			assert.Equal(t, string(live), string(buildTree(t, s.dir, wf.ID())), "the journal gives the live tree")
			if total := tt.want.in + tt.want.out; total > 0 {
				lines := s.console.Lines()
				assert.Contains(t, lines[len(lines)-1], "total_tokens="+strconv.FormatInt(total, 10))
			}
		})
	}
}

// Keys, group names and scope names longer than 256 bytes (agent and tool
// names can come from an LLM's tool call) are cut there, with the marker
// of MaxValue, alike on the console, in the journal, the tree, file names
// and tail, and counted in loss.truncated.
func TestLongNamesAreCutWithAMarkerEverywhere(t *testing.T) {
	long := strings.Repeat("n", 4<<20)
	cut := strings.Repeat("n", 228) + "…[truncated 4194076 bytes]"
	require.Len(t, cut, 256)
	tests := []struct {
		name string
		log  func(ctx context.Context, l *slog.Logger) *slogwf.Scope // returns the workflow
	}{
		{"a workflow name", func(ctx context.Context, l *slog.Logger) *slogwf.Scope {
			ctx, wf := slogwf.StartWorkflow(ctx, long)
			l.InfoContext(ctx, "in it")
			return wf
		}},
		{"an agent name", func(ctx context.Context, l *slog.Logger) *slogwf.Scope {
			ctx, wf := slogwf.StartWorkflow(ctx, "w")
			ctx, ia := slogwf.StartInteraction(ctx, long)
			l.InfoContext(ctx, "in it")
			ia.End()
			return wf
		}},
		{"an action name", func(ctx context.Context, l *slog.Logger) *slogwf.Scope {
			ctx, wf := slogwf.StartWorkflow(ctx, "w")
			_, err := slogwf.Act(ctx, long, func(ctx context.Context) (int, error) {
				l.InfoContext(ctx, "in it")
				return 1, nil
			})
			require.NoError(t, err)
			return wf
		}},
		{"a key", func(ctx context.Context, l *slog.Logger) *slogwf.Scope {
			ctx, wf := slogwf.StartWorkflow(ctx, "w")
			l.InfoContext(ctx, "in it", long, 1)
			return wf
		}},
		{"a key of WithAttrs", func(ctx context.Context, l *slog.Logger) *slogwf.Scope {
			ctx, wf := slogwf.StartWorkflow(ctx, "w")
			l.With(long, 1).InfoContext(ctx, "in it")
			return wf
		}},
		{"a group name of WithGroup", func(ctx context.Context, l *slog.Logger) *slogwf.Scope {
			ctx, wf := slogwf.StartWorkflow(ctx, "w")
			l.WithGroup(long).InfoContext(ctx, "in it", "k", 1)
			return wf
		}},
		{"a group name of slog.Group", func(ctx context.Context, l *slog.Logger) *slogwf.Scope {
			ctx, wf := slogwf.StartWorkflow(ctx, "w")
			l.InfoContext(ctx, "in it", slog.Group("g", slog.Group(long, "k", 1)))
			return wf
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{LineWidth: -1}) // lines whole, names as they are cut
			wf := tt.log(s.ctx, s.log)
			wf.End()
			require.NoError(t, s.h.Close())

			var tail bytes.Buffer
			printJournalsTo(t, s.dir, console.NewPrinter(&tail, false, console.ValueWidth, -1), nil)
			outputs := map[string]string{"console": s.console.String(), "tail": tail.String()}
			for _, line := range journalLines(t, s.dir) {
				outputs["journal"] += line
			}
			live, err := os.ReadFile(s.h.TreeFile(wf))
			require.NoError(t, err)
			outputs["tree"] = string(live)
			for what, out := range outputs {
				assert.Contains(t, out, cut, what)
				assert.NotContains(t, out, long[:300], what)
			}
			for _, line := range s.console.Lines() {
				assert.Less(t, len(line), 1024, "a console line")
				if strings.Contains(line, "in it") {
					assert.Contains(t, line, cut, "the record's line")
				}
			}
			assert.Equal(t, &loss{Truncated: 1}, s.tree(t, wf).Loss)
			assert.Equal(t, string(live), string(buildTree(t, s.dir, wf.ID())), "the journal gives the live tree")
		})
	}
}

// The names of a journal written elsewhere are cut as the handler cuts
// them, by the tree builder and by tail.
func TestLongNamesOfAnyJournalAreCut(t *testing.T) {
	long := strings.Repeat("n", 1<<20)
	cut := strings.Repeat("n", 228) + "…[truncated 1048348 bytes]"
	dir := t.TempDir()
	lines := `{"ev":"start","wf":"w","id":"w","kind":"workflow","time":"2026-01-01T00:00:00Z","name":"w"}` + "\n" +
		`{"ev":"start","wf":"w","id":"a","parent":"w","kind":"interaction","time":"2026-01-01T00:00:01Z","agent":"` + long + `"}` + "\n" +
		`{"ev":"record","wf":"w","scope":"a","time":"2026-01-01T00:00:02Z","level":"INFO","msg":"in it","attrs":{"` + long + `":1}}` + "\n"
	require.NoError(t, os.Mkdir(filepath.Join(dir, tree.JournalDir), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, tree.JournalDir, "w-w.1.jsonl"), []byte(lines), 0o600))
	built := string(buildTree(t, dir, "w"))
	assert.Contains(t, built, `"agent":"`+cut+`"`)
	assert.Contains(t, built, `"truncated":1,`)
	var tail bytes.Buffer // lines whole, names as they are cut
	printJournalsTo(t, dir, console.NewPrinter(&tail, false, console.ValueWidth, -1), nil)
	printed := tail.String()
	assert.Contains(t, printed, "[w "+cut+"] in it "+strconv.Quote(cut)+"=1\n")
	assert.NotContains(t, printed, long[:300])
}
