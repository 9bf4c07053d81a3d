package slogwf_test

import (
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/slogwf/slogwf"
)

// hostile carries what an LLM's output may hold to forge or hide log lines
// or take over a terminal.
const hostile = "a\x1b[31mRED\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]52;c;Y2xpcA==\x07" +
	"\u009b31m\r\b\x00\x7f\u2028\u2029\u202eevil\u2066\nINF forged line \\x1b[2J\xff\ufffdend"

// sgr matches the color sequences the console writes itself.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestConsoleEscapesUntrustedText(t *testing.T) {
	for _, color := range []slogwf.ColorMode{slogwf.ColorAlways, slogwf.ColorNever} {
		s := newSetup(t, &slogwf.Options{Color: color})
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
			assert.True(t, strings.Contains(plain, "end") || !strings.Contains(plain, "forged"), "never cut short: %q", l)
		}
		assert.Contains(t, out, `\x1b[31mRED`, "messages show escapes")
		assert.Contains(t, out, `␛[31mRED`, "values show a stand-in")
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
