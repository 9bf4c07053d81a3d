package slogwf_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

func TestLevelNamesRoundTrip(t *testing.T) {
	tests := []struct {
		level slog.Level
		name  string
	}{
		{slogwf.LevelTrace - 2, "TRACE-2"},
		{slogwf.LevelTrace, "TRACE"},
		{slogwf.LevelTrace + 1, "TRACE+1"},
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelInfo + 1, "INFO+1"},
		{slogwf.LevelNotice, "NOTICE"},
		{slogwf.LevelNotice + 1, "NOTICE+1"},
		{slog.LevelWarn, "WARN"},
		{slog.LevelError, "ERROR"},
		{slog.LevelError + 4, "ERROR+4"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.name, slogwf.LevelName(tt.level))
		l, err := slogwf.ParseLevel(tt.name)
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.level, l, tt.name)
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
		err  bool
	}{
		{"trace", slogwf.LevelTrace, false},
		{"Notice", slogwf.LevelNotice, false},
		{" warning ", slog.LevelWarn, false},
		{"info+2", slogwf.LevelNotice, false},
		{"-8", slogwf.LevelTrace, false},
		{"3", 3, false},
		{"loud", 0, true},
		{"info+", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := slogwf.ParseLevel(tt.in)
		if tt.err {
			assert.Error(t, err, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestLevelNamesInJSONTextAndTint(t *testing.T) {
	var js, txt bytes.Buffer
	for _, l := range []*slog.Logger{
		slog.New(slog.NewJSONHandler(&js, &slog.HandlerOptions{Level: slogwf.LevelTrace, ReplaceAttr: slogwf.ReplaceLevel})),
		slog.New(slog.NewTextHandler(&txt, &slog.HandlerOptions{Level: slogwf.LevelTrace, ReplaceAttr: slogwf.ReplaceLevel})),
	} {
		l.Log(t.Context(), slogwf.LevelTrace, "t")
		l.Log(t.Context(), slogwf.LevelNotice, "n")
	}
	assert.Contains(t, js.String(), `"level":"TRACE"`)
	assert.Contains(t, js.String(), `"level":"NOTICE"`)
	assert.Contains(t, txt.String(), "level=TRACE")
	assert.Contains(t, txt.String(), "level=NOTICE")

	s := newSetup(t, &slogwf.Options{Level: slogwf.LevelTrace})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "levels")
	for _, l := range []slog.Level{slogwf.LevelTrace, slog.LevelDebug, slog.LevelInfo, slogwf.LevelNotice, slog.LevelWarn, slog.LevelError} {
		s.log.Log(ctx, l, "m")
	}
	wf.End()
	lines := trimTimes(s.console.Lines())
	assert.Equal(t, []string{"TRC [levels] m", "DBG [levels] m", "INF [levels] m", "NTC [levels] m", "WRN [levels] m", "ERR [levels] m"}, lines[1:7])
	var names []string
	for _, r := range s.tree(t, wf).Records {
		names = append(names, r.Level)
	}
	assert.Equal(t, []string{"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR"}, names)
}

func TestSemantic(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "sem")
	ctx, ia := slogwf.StartInteraction(ctx, "planner")
	slogwf.Semantic(ctx, "plan contradicts the constraint", "constraint", "budget")
	slogwf.SemanticLog(ctx, slog.LevelError, "answer is made up")
	slogwf.SemanticLog(ctx, slog.LevelDebug, "below the level: dropped")
	s.log.WarnContext(ctx, "plain warning")
	ia.End()
	wf.End()

	tree := s.tree(t, wf)
	assert.EqualValues(t, 2, tree.Counts.Semantic)
	assert.EqualValues(t, 2, tree.Counts.Warnings)
	assert.EqualValues(t, 1, tree.Counts.Errors)
	recs := tree.Interactions[0].Records
	require.Len(t, recs, 3)
	assert.Equal(t, record{Time: recs[0].Time, Level: "WARN", Msg: "plan contradicts the constraint", Semantic: true,
		Attrs: map[string]any{"constraint": "budget"}}, recs[0])
	assert.True(t, recs[1].Semantic)
	assert.Equal(t, "ERROR", recs[1].Level)
	assert.False(t, recs[2].Semantic)

	lines := trimTimes(s.console.Lines())
	assert.Contains(t, lines, "WRN SEMANTIC [sem planner] plan contradicts the constraint constraint=budget")
	assert.Contains(t, lines, "ERR SEMANTIC [sem planner] answer is made up")
	assert.Contains(t, lines, "WRN [sem planner] plain warning")
}

func FuzzParseLevel(f *testing.F) {
	for _, s := range []string{"TRACE", "info+2", "warning", "-8", "NOTICE-1", "ERROR+100", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := slogwf.ParseLevel(s)
		if err != nil {
			return
		}
		back, err := slogwf.ParseLevel(slogwf.LevelName(l))
		require.NoError(t, err)
		require.Equal(t, l, back, "%q", s)
	})
}
