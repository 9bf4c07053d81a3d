package slogwf_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/tree"
)

// printJournals prints the journals in dir, in time order, through a
// Printer with the console's default widths, and returns what it printed.
func printJournals(t *testing.T, dir string, color bool, show func(*console.Event) bool) string {
	t.Helper()
	var out bytes.Buffer
	printJournalsTo(t, dir, console.NewPrinter(&out, color, console.ValueWidth, console.LineWidth), show)
	return out.String()
}

// printJournalsTo prints the journals in dir, in time order, through p.
func printJournalsTo(t *testing.T, dir string, p *console.Printer, show func(*console.Event) bool) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
	require.NoError(t, err)
	var evs []*console.Event
	for _, path := range paths {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		for line := range tree.Lines(data) {
			ev, err := p.Decode(line, path)
			require.NoError(t, err)
			evs = append(evs, ev)
		}
	}
	slices.SortStableFunc(evs, func(a, b *console.Event) int { return strings.Compare(a.Time, b.Time) })
	for _, ev := range evs {
		require.NoError(t, p.Print(ev, show))
	}
}

func TestPrinterPrintsTheJournalAsTheConsoleDid(t *testing.T) {
	for _, color := range []slogwf.ColorMode{slogwf.ColorNever, slogwf.ColorAlways} {
		s := newSetup(t, &slogwf.Options{Color: color, Level: slogwf.LevelTrace})
		ctx, wf := slogwf.StartWorkflow(s.ctx, "research", "user", "ana")
		ctx, it := slogwf.StartIteration(ctx)
		iaCtx, ia := slogwf.StartInteraction(ctx, "planner", slogwf.InputKey, "plan\na trip", "attempt", 1)
		s.log.InfoContext(iaCtx, "calling model", slogwf.Model("m"), slogwf.Tokens(10, 2), slogwf.Cost(0.5), "ok", true)
		s.log.WithGroup("g").With("a", 1).Log(iaCtx, slogwf.LevelTrace, "grouped", "f", 2.5, slog.Group("h", "x", "y"))
		slogwf.Semantic(iaCtx, "contradiction\x1b[31m")
		_, act := slogwf.StartAction(iaCtx, "tool")
		act.Fail(errors.New("broke"))
		ia.End(slogwf.OutputKey, []string{"fly", "walk"}, "note", strings.Repeat("cut\n", 30))
		s.log.InfoContext(iaCtx, "after its end")
		_, open := slogwf.StartInteraction(ctx, "worker")
		it.End()
		open.End()
		wf.End()

		printed := printJournals(t, s.dir, color == slogwf.ColorAlways, nil)
		assert.Equal(t, s.console.String(), printed, "color %v", color)
		assert.Contains(t, printed, `"cut\ncut\ncut`)
		assert.NotContains(t, printed, strings.Repeat(`cut\n`, 30), "the long value is cut alike")
	}
}

func TestPrinterFilters(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "filters")
	a, ia := slogwf.StartInteraction(ctx, "a")
	b, ib := slogwf.StartInteraction(ctx, "b")
	s.log.InfoContext(a, "from a")
	s.log.InfoContext(b, "from b")
	slogwf.Semantic(b, "odd")
	ia.End()
	ib.End()
	wf.End()

	var kinds []string
	out := printJournals(t, s.dir, false, func(ev *console.Event) bool {
		assert.Equal(t, wf.ID(), ev.Workflow)
		assert.Equal(t, "filters", ev.WorkflowName)
		kinds = append(kinds, ev.Type)
		return ev.Agent == "b" && ev.Type == "record"
	})
	assert.Equal(t, []string{"INF [filters b] from b", "WRN SEMANTIC [filters b] odd"}, trimTimes(strings.Split(strings.TrimSpace(out), "\n")))
	assert.Equal(t, []string{"start", "start", "start", "record", "record", "record", "end", "end", "end"}, kinds)
}
