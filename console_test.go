package slogwf_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/console"
)

// hostile carries what an LLM's output may hold to forge or hide log lines
// or take over a terminal.
const hostile = "a\x1b[31mRED\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]52;c;Y2xpcA==\x07" +
	"\u009b31m\r\b\x00\x7f\u2028\u2029\u202eevil\u2066\nINF forged line \\x1b[2J\xff\ufffdTAIL"

// sgr matches the color sequences the console writes itself.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// The escape corpus, logged in every field, reaches the console escaped:
// one line per record, no control character, no sequence but the console's
// own colors; values cut at the default width or whole.
func TestConsoleEscapesUntrustedText(t *testing.T) {
	replace := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == "replaced" {
			return slog.String(hostile, hostile)
		}
		return a
	}
	// Without a ReplaceAttr of the user's, plain records skip slogwf's.
	for _, o := range []slogwf.Options{
		{Color: slogwf.ColorAlways, ReplaceAttr: replace}, {Color: slogwf.ColorNever, ReplaceAttr: replace},
		{Color: slogwf.ColorAlways}, {Color: slogwf.ColorNever},
		{Color: slogwf.ColorAlways, ValueWidth: -1}, {Color: slogwf.ColorNever, ValueWidth: -1},
	} {
		color := o.Color
		o.LineWidth = -1 // whole: TestConsoleCutsHostileLinesWithinTheWidth cuts them
		s := newSetup(t, &o)
		ctx, wf := slogwf.StartWorkflow(s.ctx, "wf"+hostile)
		ctx, ia := slogwf.StartInteraction(ctx, "agent"+hostile)
		logs := []func(){
			func() { s.log.InfoContext(ctx, hostile) },
			func() { s.log.InfoContext(ctx, "value", "k", hostile) },
			func() { s.log.InfoContext(ctx, "key", hostile, 1) },
			func() { s.log.InfoContext(ctx, "msg key", "msg", hostile) },
			func() { s.log.With("msg", hostile).InfoContext(ctx, "msg key with") },
			func() { s.log.InfoContext(ctx, "group", slog.Group(hostile, "k", 1)) },
			func() { s.log.WithGroup(hostile).InfoContext(ctx, "with group", "k", 1) },
			func() { s.log.With(hostile, hostile).InfoContext(ctx, "with attrs") },
			func() { s.log.InfoContext(ctx, "error", "err", errors.New(hostile)) },
			func() { s.log.InfoContext(ctx, "any", "v", struct{ S string }{hostile}) },
			func() { s.log.InfoContext(ctx, "bytes", "b", []byte(hostile)) },
			func() { slogwf.Semantic(ctx, hostile) },
			func() { s.log.InfoContext(ctx, "inline group", slog.Group("", "msg", hostile)) },
			func() { s.log.With(slog.Group("", "msg", hostile)).InfoContext(ctx, "inline group with") },
			func() { s.log.InfoContext(ctx, "valuer string", "msg", valueOf{slog.StringValue(hostile)}) },
			func() {
				s.log.InfoContext(ctx, "valuer group", "v", valueOf{slog.GroupValue(slog.Group(hostile, slog.Group(hostile, "k", 1)))})
			},
			func() {
				s.log.With("v", valueOf{slog.GroupValue(slog.Group(hostile, "k", 1))}).InfoContext(ctx, "valuer group with")
			},
			func() { s.log.InfoContext(ctx, "source", slog.Any("source", &slog.Source{File: hostile, Line: 1})) },
			func() { s.log.InfoContext(ctx, "user replace", "replaced", 1) },
		}
		for _, log := range logs {
			log()
		}
		ia.Fail(errors.New(hostile))
		wf.End()

		out := s.console.String()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		assert.Len(t, lines, len(logs)+4, "one line per record, with color %v", color)
		for _, l := range lines {
			plain := sgr.ReplaceAllString(l, "")
			if color == slogwf.ColorNever {
				assert.Equal(t, l, plain, "no color sequences at all")
			}
			assert.NotContains(t, plain, "\x1b", "only slogwf's own color sequences: %q", l)
			assert.NotRegexp(t, "[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]", plain, "%q", l)
			if o.ValueWidth < 0 {
				assert.Equal(t, strings.Count(plain, "forged"), strings.Count(plain, "TAIL"), "never cut short: %q", l)
			}
		}
		assert.Contains(t, out, `\u001b[31mRED`, "messages show escapes")
		assert.Contains(t, out, `␛[31mRED`, "values show a stand-in")
	}
}

// A record that needs nothing of the console's ReplaceAttr skips it; its
// line is the same as with it, in a scope or in none.
func TestConsolePlainRecordsLookTheSameWithoutReplaceAttr(t *testing.T) {
	keep := func(_ []string, a slog.Attr) slog.Attr { return a }
	at := time.Date(2026, 11, 29, 2, 12, 52, 592_000_000, time.UTC)
	for _, color := range []slogwf.ColorMode{slogwf.ColorAlways, slogwf.ColorNever} {
		fast := newSetup(t, &slogwf.Options{Color: color})
		slow := newSetup(t, &slogwf.Options{Color: color, ReplaceAttr: keep})
		for _, s := range []*setup{fast, slow} {
			ctx, wf := slogwf.StartWorkflow(s.ctx, "wf")
			ctx, ia := slogwf.StartInteraction(ctx, "agent", slogwf.InputKey, "in")
			l := s.log.With("user", "ana", slog.Group("g", "n", 1)).WithGroup("call")
			for _, level := range []slog.Level{slogwf.LevelTrace, slog.LevelDebug, slog.LevelInfo, slog.LevelInfo + 1,
				slogwf.LevelNotice, slog.LevelWarn, slog.LevelError + 2} {
				r := slog.NewRecord(at, level, "calling model", 0)
				r.AddAttrs(slog.String("prompt", "say \"hi\"\tplease ünïcode"), slog.Int("attempt", -3),
					slog.Uint64("u", 7), slog.Float64("temperature", 0.7), slog.Bool("stream", true),
					slog.Duration("latency", 1500*time.Millisecond), slog.Time("at", at),
					slog.Group("tokens", "input", 812, "output", 95), slog.String("needs quotes", ""),
					slog.String("fits", strings.Repeat("x", 80)), slog.String("cut", strings.Repeat("x", 81)))
				_ = l.Handler().Handle(ctx, r)
				logCall(ctx, s.log.With("user", "ana"))
				// In no scope, a message that needs no escape goes to
				// tint as it is.
				for _, msg := range []string{"calling model", "calling \x1b[31mmodel\u202e", `say "hi"`} {
					r := slog.NewRecord(at, level, msg, 0)
					r.AddAttrs(slog.Int("attempt", 3))
					_ = s.log.Handler().Handle(context.Background(), r)
				}
			}
			ia.End(slogwf.OutputKey, "out")
			wf.End()
		}
		dur := regexp.MustCompile(`dur=\S+`) // of the scopes' ends, which differ
		want := dur.ReplaceAllString(slow.console.String(), "dur=")
		assert.Equal(t, trimTimes(strings.Split(want, "\n")), trimTimes(strings.Split(dur.ReplaceAllString(fast.console.String(), "dur="), "\n")), "color %v", color)
	}
}

func TestConsoleLines(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Level: slog.LevelDebug})
	s.log.Info("outside", "a", 1)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "research", "user", "ana")
	ctx, it := slogwf.StartIteration(ctx)
	ctx, ia := slogwf.StartInteraction(ctx, "planner")
	_, act := slogwf.StartAction(ctx, "search")
	act.End()
	s.log.InfoContext(ctx, "calling model", slogwf.Model("gpt-4o"), slogwf.Tokens(800, 100), slogwf.Cost(0.5))
	ia.End()
	it.End()
	wf.End()

	dur := regexp.MustCompile(`dur=[0-9.]+[µmn]?s`)
	var got []string
	for _, l := range trimTimes(s.console.Lines()) {
		got = append(got, dur.ReplaceAllString(l, "dur=D"))
	}
	assert.Equal(t, []string{
		"INF outside a=1",
		"INF [research] ▶ workflow user=ana",
		"INF [research it1] ▶ iteration",
		"INF [research it1 planner] ▶ interaction",
		"INF [research it1 planner>search] ▶ action",
		"INF [research it1 planner>search] ✔ action dur=D",
		"INF [research it1 planner] calling model model=gpt-4o tokens.input=800 tokens.output=100 cost_usd=0.5",
		"INF [research it1 planner] ✔ interaction dur=D total_tokens=900 cost_usd=0.5",
		"INF [research it1] ✔ iteration dur=D total_tokens=900 cost_usd=0.5",
		"INF [research] ✔ workflow dur=D total_tokens=900 cost_usd=0.5",
	}, got)
}

func TestConsoleColorsAgentsStably(t *testing.T) {
	label := func(agent string) string {
		s := newSetup(t, &slogwf.Options{Color: slogwf.ColorAlways})
		ctx, wf := slogwf.StartWorkflow(s.ctx, "c")
		ctx, ia := slogwf.StartInteraction(ctx, agent)
		s.log.InfoContext(ctx, "m")
		ia.End()
		wf.End()
		line := s.console.Lines()[2]
		return line[strings.Index(line, "\x1b[38;5;"):strings.Index(line, "[c "+agent+"]")]
	}
	assert.Equal(t, label("planner"), label("planner"))
	assert.NotEqual(t, label("planner"), label("worker-1"))
}

// valueOf is a LogValuer of v.
type valueOf struct{ v slog.Value }

func (v valueOf) LogValue() slog.Value { return v.v }

func TestConsoleDropsOnlyTheTopLevelSemanticFlag(t *testing.T) {
	s := newSetup(t, nil)
	s.log.Info("m", slog.Group("check", "semantic", false, "other", 1))
	assert.Equal(t, []string{"INF m check.semantic=false check.other=1"}, trimTimes(s.console.Lines()))
}

func TestConsoleReplaceAttrSeesAllButTheMessage(t *testing.T) {
	var keys []string
	s := newSetup(t, &slogwf.Options{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		keys = append(keys, a.Key)
		if a.Key == slog.MessageKey || a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	s.log.Info("kept", "a", 1)
	assert.Equal(t, []string{"INF kept a=1"}, s.console.Lines())
	assert.Equal(t, []string{slog.TimeKey, slog.LevelKey, "a"}, keys)
}

// The console serializes its writes, whichever way a record goes, so that
// a plain io.Writer gets whole lines from parallel goroutines; an
// *os.File, which serializes its writes itself, too.
func TestConsoleWritesWholeLinesFromParallelGoroutines(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "console"))
	require.NoError(t, err)
	defer f.Close()
	var buf bytes.Buffer
	long := strings.Repeat("x", 700) // lines of about 5,000 bytes
	for _, out := range []io.Writer{&buf, f} {
		s := newSetup(t, &slogwf.Options{Console: out, ValueWidth: -1, LineWidth: -1})
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 100 {
					s.log.Info("plain", "g", g, "i", i)
					s.log.Info("escaped", "v", "\x1b", "i", i)
					s.log.Info("long", "a", long, "b", long, "c", long, "d", long, "e", long, "f", long, "g", long)
				}
			})
		}
		wg.Wait()
	}
	data, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	for _, out := range []string{buf.String(), string(data)} {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		assert.Len(t, lines, 1200)
		for _, l := range lines {
			l = sgr.ReplaceAllString(l, "")
			assert.Regexp(t, `^\S+ INF (plain g=\d i=\d+|escaped v=\S+ i=\d+|long( \w=x+){7})$`, l)
			if strings.Contains(l, " long ") {
				assert.Equal(t, 7, strings.Count(l, long))
			}
		}
	}
}

// The tint console cuts a string value wider than ValueWidth: it shows
// width characters, the last one "…". An escape counts as the characters
// it shows and is never split; runes count, not bytes; quotes do not
// count; keys, group names and the message are never cut.
func TestConsoleCutsValuesWiderThanValueWidth(t *testing.T) {
	at := time.Date(2026, 11, 29, 2, 12, 52, 592_000_000, time.UTC)
	for _, tc := range []struct {
		name  string
		width int
		msg   string
		attr  slog.Attr
		want  string
	}{
		{"a value as wide as the width is whole", 10, "m", slog.String("k", "0123456789"), "k=0123456789"},
		{"a wider one ends with …", 10, "m", slog.String("k", "0123456789a"), "k=012345678…"},
		{"quotes do not count", 10, "m", slog.String("k", "01234 6789a"), `k="01234 678…"`},
		{"runes count, not bytes", 5, "m", slog.String("k", "ünïcödé"), "k=ünïc…"},
		{"an escape counts as it shows", 6, "m", slog.String("k", "abc\ndef"), `k="abc\n…"`},
		{"an escape that does not fit is left out whole", 5, "m", slog.String("k", "abc\ndef"), "k=abc…"},
		{"invalid UTF-8 counts as its escape quoted", 8, "m", slog.String("k", "ab\xffcdef"), `k=ab\xff…`},
		{"a terminal escape shows as its stand-in", 4, "m", slog.String("k", "\x1b[31mred"), "k=␛[3…"},
		{"a bidi control counts as its escape", 9, "m", slog.String("k", "ab\u202ecdef"), `k="ab\u202e…"`},
		{"the values of a group, not its name", 5, "m", slog.Group("a_long_group", "a_long_key", "abcdefgh"), "a_long_group.a_long_key=abcd…"},
		{"an error by its message", 5, "m", slog.Any("err", errors.New("abcdefgh")), "err=abcd…"},
		{"any value by its text", 8, "m", slog.Any("v", []string{"a", "b", "c", "d", "e"}), `v="[a b c …"`},
		{"numbers are never cut", 2, "m", slog.Int("n", 123456), "n=123456"},
		{"the message is never cut", 2, "a long message", slog.String("k", "v"), "k=v"},
		{"a width of 1 leaves …", 1, "m", slog.String("k", "ab"), "k=…"},
		{"a negative width is no limit", -1, "m", slog.String("k", strings.Repeat("x", 200)), "k=" + strings.Repeat("x", 200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []slog.Value
			keep := func(_ []string, a slog.Attr) slog.Attr {
				seen = append(seen, a.Value)
				return a
			}
			want := "02:12:52.592 INF " + tc.msg + " " + tc.want
			// The record goes by tint alone, or by slogwf's ReplaceAttr;
			// its attribute is the record's or the logger's.
			for _, replace := range []func([]string, slog.Attr) slog.Attr{nil, keep} {
				for _, with := range []bool{false, true} {
					s := newSetup(t, &slogwf.Options{ValueWidth: tc.width, LineWidth: -1, ReplaceAttr: replace})
					h := s.log.Handler()
					r := slog.NewRecord(at, slog.LevelInfo, tc.msg, 0)
					if with {
						h = h.WithAttrs([]slog.Attr{tc.attr})
					} else {
						r.AddAttrs(tc.attr)
					}
					require.NoError(t, h.Handle(s.ctx, r))
					assert.Equal(t, []string{want}, s.console.Lines(), "ReplaceAttr %v, WithAttrs %v", replace != nil, with)
				}
			}
			if v := tc.attr.Value; v.Kind() == slog.KindString {
				assert.Contains(t, seen, v, "the user's ReplaceAttr sees the value whole")
			}
		})
	}
}

// Cut at any width, the escape corpus shows in at most that width, and
// never loses more than the widest escape (\U0010ffff) to the cut.
func TestConsoleCutsEscapedValuesWithinTheWidth(t *testing.T) {
	value := regexp.MustCompile(`k=(?:"((?:[^"\\]|\\.)*)"|(\S*))$`)
	shown := func(color slogwf.ColorMode, width int) string {
		s := newSetup(t, &slogwf.Options{Color: color, ValueWidth: width, LineWidth: -1})
		s.log.Info("m", "k", hostile)
		line := sgr.ReplaceAllString(s.console.String(), "")
		m := value.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		require.NotNil(t, m, "%q", line)
		return m[1] + m[2]
	}
	for _, color := range []slogwf.ColorMode{slogwf.ColorNever, slogwf.ColorAlways} {
		whole := shown(color, -1)
		for width := 1; width <= utf8.RuneCountInString(whole)+1; width++ {
			v := shown(color, width)
			n := utf8.RuneCountInString(v)
			assert.LessOrEqual(t, n, width, "width %d: %s", width, v)
			if cut, ok := strings.CutSuffix(v, "…"); ok {
				assert.Greater(t, n, width-10, "width %d: %s", width, v)
				// A backslash cut off the `\x1b` after it shows as itself.
				same := strings.NewReplacer("⧵", `\\`)
				assert.True(t, strings.HasPrefix(same.Replace(whole), same.Replace(cut)), "width %d: %s", width, v)
			} else {
				assert.Equal(t, whole, v)
			}
		}
	}
}

// A scope more than 100 scopes deep starts its path again under the
// workflow, where the tree hangs it, so that lines stay short however deep
// scopes nest.
func TestConsolePathsOfDeepScopesStartAgainUnderTheWorkflow(t *testing.T) {
	s := newSetup(t, &slogwf.Options{LineWidth: -1}) // lines whole, paths as they are
	ctx, wf := slogwf.StartWorkflow(s.ctx, "deep")
	for i := 1; i <= 250; i++ {
		ctx, _ = slogwf.StartAction(ctx, "a")
		s.log.InfoContext(ctx, "in", "depth", i)
	}
	wf.End()
	lines := map[string]string{} // by depth
	for _, l := range trimTimes(s.console.Lines()) {
		if _, depth, ok := strings.Cut(l, " in depth="); ok {
			lines[depth] = l
		}
	}
	for _, depth := range []int{1, 2, 100, 101, 102, 200, 201, 250} {
		path := "a" + strings.Repeat(">a", (depth-1)%100)
		assert.Equal(t, "INF [deep "+path+"] in depth="+strconv.Itoa(depth), lines[strconv.Itoa(depth)])
	}
}

// The end line of a scope shows first what a person scans for: its
// duration, tokens and cost, and its error, then the other attributes in
// their order; colors change nothing of it.
func TestConsoleEndLinesPutTheSummaryFirst(t *testing.T) {
	for _, tc := range []struct {
		color slogwf.ColorMode
		want  []string
	}{
		{slogwf.ColorNever, []string{
			`INF [research planner>llm.chat] ✔ action dur=D total_tokens=900 cost_usd=0.0075 http_status=200 model=gpt-4o tokens.input=800 tokens.output=100 output="a plan"`,
			`ERR [research planner>search] ✗ action failed dur=D error=timeout attempt=2`,
			`INF [research planner] ✔ interaction dur=D total_tokens=900 cost_usd=0.0075 output=done`,
			`INF [research] ✔ workflow dur=D total_tokens=900 cost_usd=0.0075`,
			`ERR [research worker] ✗ interaction failed dur=D late=true error="too late" attempt=1`,
		}},
		{slogwf.ColorAlways, []string{
			"\x1b[92mINF\x1b[0m \x1b[38;5;171m[research planner>llm.chat]\x1b[0m \x1b[32m✔\x1b[0m action \x1b[2mdur=\x1b[0mD " +
				"\x1b[2mtotal_tokens=\x1b[0m900 \x1b[2mcost_usd=\x1b[0m0.0075 \x1b[2mhttp_status=\x1b[0m200 \x1b[2mmodel=\x1b[0mgpt-4o " +
				"\x1b[2mtokens.input=\x1b[0m800 \x1b[2mtokens.output=\x1b[0m100 \x1b[2moutput=\x1b[0m\"a plan\"",
			"\x1b[91mERR\x1b[0m \x1b[38;5;171m[research planner>search]\x1b[0m \x1b[91m✗\x1b[0m action failed \x1b[2mdur=\x1b[0mD " +
				"\x1b[2merror=\x1b[0mtimeout \x1b[2mattempt=\x1b[0m2",
			"\x1b[92mINF\x1b[0m \x1b[38;5;171m[research planner]\x1b[0m \x1b[32m✔\x1b[0m interaction \x1b[2mdur=\x1b[0mD " +
				"\x1b[2mtotal_tokens=\x1b[0m900 \x1b[2mcost_usd=\x1b[0m0.0075 \x1b[2moutput=\x1b[0mdone",
			"\x1b[92mINF\x1b[0m \x1b[38;5;203m[research]\x1b[0m \x1b[32m✔\x1b[0m workflow \x1b[2mdur=\x1b[0mD " +
				"\x1b[2mtotal_tokens=\x1b[0m900 \x1b[2mcost_usd=\x1b[0m0.0075",
			"\x1b[91mERR\x1b[0m \x1b[38;5;179m[research worker]\x1b[0m \x1b[91m✗\x1b[0m interaction failed \x1b[2mdur=\x1b[0mD " +
				"\x1b[2mlate=\x1b[0mtrue \x1b[2merror=\x1b[0m\"too late\" \x1b[2mattempt=\x1b[0m1",
		}},
	} {
		s := newSetup(t, &slogwf.Options{Color: tc.color, LineWidth: -1, Prices: slogwf.Prices{"gpt-4o": {Input: 5, Output: 35}}})
		ctx, wf := slogwf.StartWorkflow(s.ctx, "research")
		iaCtx, ia := slogwf.StartInteraction(ctx, "planner")
		_, call := slogwf.StartAction(iaCtx, "llm.chat")
		call.End("http_status", 200, slogwf.Model("gpt-4o"), slogwf.Tokens(800, 100), slogwf.OutputKey, "a plan")
		_, tool := slogwf.StartAction(iaCtx, "search")
		tool.Fail(errors.New("timeout"), "attempt", 2)
		ia.End(slogwf.OutputKey, "done")
		_, late := slogwf.StartInteraction(ctx, "worker")
		wf.End()
		late.Fail(errors.New("too late"), "attempt", 1)

		dur := regexp.MustCompile(`dur=(\x1b\[0m)?[0-9.]+[µmn]?s`)
		var ends []string
		for _, l := range trimTimes(s.console.Lines()) {
			if !strings.Contains(l, "▶") {
				ends = append(ends, dur.ReplaceAllString(l, "dur=${1}D"))
			}
		}
		assert.Equal(t, tc.want, ends, "color %v", tc.color)
	}
}

// The tint console cuts a line wider than LineWidth: it shows width
// columns, the last one "…". Runes count, not bytes; an escape counts as
// its characters and is never split; colors count nothing, are never
// split, and a cut colored line ends with a reset.
func TestConsoleCutsLinesWiderThanLineWidth(t *testing.T) {
	at := time.Date(2026, 11, 29, 2, 12, 52, 592_000_000, time.UTC)
	const head = "02:12:52.592 INF " // 17 columns
	const cHead = "\x1b[2m02:12:52.592\x1b[0m \x1b[92mINF\x1b[0m "
	long := strings.Repeat("0123456789", 20)
	for _, tc := range []struct {
		name  string
		width int
		color bool
		msg   string
		attrs []slog.Attr
		want  string
	}{
		{"a line as wide as the width is whole", 28, false, "message", []slog.Attr{slog.Int("n", 1)}, head + "message n=1"},
		{"a wider one ends with …", 27, false, "message", []slog.Attr{slog.Int("n", 1)}, head + "message n…"},
		{"keys, values and quotes count", 30, false, "m", []slog.Attr{slog.String("k", "a b"), slog.Int("n", 1)}, head + `m k="a b" n=1`},
		{"runes count, not bytes", 22, false, "ünïcödé", nil, head + "ünïc…"},
		{"an escape counts as its characters", 24, false, "ab\ncd", nil, head + `ab\ncd`},
		{"an escape is never split", 21, false, "ab\ncd", nil, head + "ab…"},
		{"a long escape is never split", 25, false, "ab\u202ecd", nil, head + "ab…"},
		{"a long escape that fits is kept", 26, false, "ab\u202ecd", nil, head + `ab\u202e…`},
		{"an escape in a value is never split", 22, false, "m", []slog.Attr{slog.String("k", "\x1b")}, head + "m k=␛"},
		{"a quoted escape is never split", 25, false, "m", []slog.Attr{slog.String("k", "a\tb")}, head + `m k="a…`},
		{"a width of 1 leaves …", 1, false, "m", nil, "…"},
		{"the default is 160 columns", 0, false, long, nil, head + long[:160-len(head)-1] + "…"},
		{"a negative width is no limit", -1, false, long, nil, head + long},
		{"colors count nothing", 28, true, "message", []slog.Attr{slog.Int("n", 1)},
			cHead + "message \x1b[2mn=\x1b[0m1"},
		{"a cut colored line ends with a reset", 27, true, "message", []slog.Attr{slog.Int("n", 1)},
			cHead + "message \x1b[2mn…\x1b[0m"},
		{"a color sequence is never split", 18, true, "message", nil, cHead + "…\x1b[0m"},
		{"a colored line cut in its time", 5, true, "message", nil, "\x1b[2m02:1…\x1b[0m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			color := slogwf.ColorNever
			if tc.color {
				color = slogwf.ColorAlways
			}
			// The record goes by tint alone, or by slogwf's ReplaceAttr.
			for _, replace := range []func([]string, slog.Attr) slog.Attr{nil, func(_ []string, a slog.Attr) slog.Attr { return a }} {
				s := newSetup(t, &slogwf.Options{Color: color, LineWidth: tc.width, ReplaceAttr: replace})
				r := slog.NewRecord(at, slog.LevelInfo, tc.msg, 0)
				r.AddAttrs(tc.attrs...)
				require.NoError(t, s.log.Handler().Handle(s.ctx, r))
				assert.Equal(t, tc.want+"\n", s.console.String(), "ReplaceAttr %v", replace != nil)
			}
		})
	}
}

// The text and JSON consoles are never cut.
func TestConsoleCutsOnlyTheTintConsole(t *testing.T) {
	long := strings.Repeat("0123456789", 20)
	for _, f := range []slogwf.Format{slogwf.FormatText, slogwf.FormatJSON} {
		s := newSetup(t, &slogwf.Options{Format: f, LineWidth: 20})
		s.log.Info(long, "k", long)
		assert.Equal(t, 2, strings.Count(s.console.String(), long), "format %s", f)
		assert.NotContains(t, s.console.String(), "…")
	}
}

// unit matches one escape, or one rune, of a console line without colors.
var unit = regexp.MustCompile(`(?s)\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|.`)

// The escape corpus, in scope paths, messages, keys, values, group names
// and errors, cut at any width, colored or not: a line is never wider
// than the width, and cut only when wider; what it keeps is the whole
// line's start, less than the widest escape short of the width, with no
// escape or color sequence split; a cut colored line ends with a reset.
// The lines are the journal's, printed as the console printed them, so
// that their times do not change from one width to the next.
func TestConsoleCutsHostileLinesWithinTheWidth(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "wf"+hostile)
	ctx, ia := slogwf.StartInteraction(ctx, hostile, slogwf.InputKey, hostile)
	s.log.InfoContext(ctx, hostile, hostile, hostile, slog.Group(hostile, "k", hostile))
	s.log.WarnContext(ctx, "m", "k", hostile)
	slogwf.Semantic(ctx, hostile)
	ia.Fail(errors.New(hostile), hostile, 1)
	wf.End()
	require.NoError(t, s.h.Close())
	lines := func(color bool, width int) []string {
		var out bytes.Buffer
		printJournalsTo(t, s.dir, console.NewPrinter(&out, color, -1, width), nil)
		return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	}

	for _, color := range []bool{false, true} {
		whole := lines(color, -1)
		require.Len(t, whole, 7)
		widest := 0
		boundaries := make([]map[int]bool, len(whole)) // where a line may be cut
		for i, l := range whole {
			plain := sgr.ReplaceAllString(l, "")
			widest = max(widest, utf8.RuneCountInString(plain))
			boundaries[i] = map[int]bool{0: true}
			for _, m := range unit.FindAllStringIndex(plain, -1) {
				boundaries[i][m[1]] = true
			}
		}
		for width := 1; width <= widest+1; width++ {
			for i, l := range lines(color, width) {
				plain, wholePlain := sgr.ReplaceAllString(l, ""), sgr.ReplaceAllString(whole[i], "")
				n := utf8.RuneCountInString(plain)
				require.LessOrEqual(t, n, width, "width %d: %q", width, l)
				require.NotContains(t, plain, "\x1b", "no color sequence split, width %d: %q", width, l)
				if utf8.RuneCountInString(wholePlain) <= width {
					require.Equal(t, whole[i], l, "width %d", width)
					continue
				}
				kept, ok := strings.CutSuffix(plain, "…")
				require.True(t, ok, "width %d: %q", width, l)
				require.Greater(t, n, width-10, "no more lost than the widest escape, width %d: %q", width, l)
				require.True(t, strings.HasPrefix(wholePlain, kept) && boundaries[i][len(kept)], "no escape split, width %d: %q", width, l)
				if color {
					raw, ok := strings.CutSuffix(l, "…\x1b[0m")
					require.True(t, ok, "ends with a reset, width %d: %q", width, l)
					require.True(t, strings.HasPrefix(whole[i], raw), "width %d: %q", width, l)
				}
			}
		}
	}
}
