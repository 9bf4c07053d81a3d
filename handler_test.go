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
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// jsonLines parses the last line of a JSON console for slogtest.
func lastJSONLine(t *testing.T, buf *bytes.Buffer) map[string]any {
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(lines[len(lines)-1], &m))
	return m
}

func TestSlogtestNewHandler(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		buf.Reset()
		return slogwf.NewHandler(slog.NewJSONHandler(&buf, nil), &slogwf.Options{Dir: t.TempDir()})
	}, func(t *testing.T) map[string]any { return lastJSONLine(t, &buf) })
}

func TestSlogtestNew(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		buf.Reset()
		h, err := slogwf.New(&slogwf.Options{Dir: t.TempDir(), Console: &buf, Format: slogwf.FormatJSON})
		require.NoError(t, err)
		return h
	}, func(t *testing.T) map[string]any { return lastJSONLine(t, &buf) })
}

// The tree keeps the attributes of records as slog's JSON handler writes
// them: WithAttrs, WithGroup, inline and empty groups, LogValuers.
func TestTreeAttrsMatchJSONHandler(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *slog.Logger, ctx context.Context)
	}{
		{"record attrs", func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "a", 1, "b", "two") }},
		{"with attrs", func(l *slog.Logger, ctx context.Context) { l.With("a", 1).InfoContext(ctx, "m", "b", 2) }},
		{"with group", func(l *slog.Logger, ctx context.Context) { l.WithGroup("g").InfoContext(ctx, "m", "a", 1) }},
		{"with group, no attrs", func(l *slog.Logger, ctx context.Context) { l.WithGroup("g").InfoContext(ctx, "m") }},
		{"attrs then group", func(l *slog.Logger, ctx context.Context) {
			l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").InfoContext(ctx, "m", "c", 3)
		}},
		{"nested groups, last empty", func(l *slog.Logger, ctx context.Context) {
			l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").InfoContext(ctx, "m")
		}},
		{"inline group", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", slog.Group("", "a", 1), slog.Group("g", "b", 2, slog.Group("h", "c", 3)))
		}},
		{"empty group and attr", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", slog.Group("g"), slog.Attr{}, "a", 1)
		}},
		{"log valuer", func(l *slog.Logger, ctx context.Context) { l.InfoContext(ctx, "m", "v", valuer{}) }},
		{"kinds", func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", "d", 1500*time.Millisecond, "f", 2.5, "b", true, "u", uint64(7),
				"t", time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "e", io.EOF, "s", []string{"x"}, "nil", nil)
		}},
		{"deep groups", func(l *slog.Logger, ctx context.Context) {
			d := l
			for i := range 40 {
				d = d.WithGroup(fmt.Sprint("g", i))
			}
			d.InfoContext(ctx, "m", "a", 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			h := slogwf.NewHandler(slog.NewJSONHandler(&buf, nil), &slogwf.Options{Dir: t.TempDir()})
			l := slog.New(h)
			ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "attrs")
			buf.Reset()
			tt.log(l, ctx)
			want := lastJSONLine(t, &buf)
			// The workflow's ID places the line; the tree holds it as the
			// record's node.
			assert.Equal(t, wf.ID(), want[slogwf.WorkflowIDKey])
			for _, k := range []string{"time", "level", "msg", slogwf.WorkflowIDKey} {
				delete(want, k)
			}
			wf.End()

			tree := readTree(t, h.TreeFile(wf))
			require.Len(t, tree.Records, 1)
			got := tree.Records[0].Attrs
			if len(want) == 0 {
				assert.Nil(t, got)
			} else {
				assert.Equal(t, want, got)
			}
		})
	}
}

type valuer struct{}

func (valuer) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("x", 1), slog.String("y", "z"))
}

func TestRecordsOutsideWorkflowsReachOnlyTheConsole(t *testing.T) {
	s := newSetup(t, nil)
	s.log.Info("outside", "a", 1)
	require.NoError(t, s.h.Close())
	assert.Contains(t, s.console.String(), "outside")
	assert.Empty(t, files(t, s.dir))
}

func TestScopeEventsReachTheTreeWhateverTheLevel(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Level: slog.LevelError})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "quiet")
	_, ia := slogwf.StartInteraction(ctx, "a")
	ia.Fail(io.EOF)
	wf.End()

	tree := s.tree(t, wf)
	assert.Equal(t, slogwf.StatusCompleted, tree.Status)
	require.Len(t, tree.Interactions, 1)
	assert.Equal(t, slogwf.StatusFailed, tree.Interactions[0].Status)
	lines := s.console.Lines()
	require.Len(t, lines, 1, "only the failure is at the console's level")
	assert.Regexp(t, `ERR \[quiet a\] ✗ interaction failed dur=\S+ error=EOF$`, lines[0])
}

func TestHandlerBehindAFanOutStillSeesScopes(t *testing.T) {
	dir := t.TempDir()
	tree := slogwf.NewHandler(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}), &slogwf.Options{Dir: dir})
	var console bytes.Buffer
	l := slog.New(slog.NewMultiHandler(tree, slog.NewTextHandler(&console, nil)))
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "fan")
	l.ErrorContext(ctx, "boom")
	wf.End()

	n := readTree(t, tree.TreeFile(wf))
	assert.Equal(t, slogwf.StatusCompleted, n.Status)
	assert.Equal(t, []string{"boom"}, n.msgs())
	assert.Contains(t, console.String(), "msg=\"start workflow fan\"")
}

func TestScopeEventsGoThroughSlogDefault(t *testing.T) {
	s := newSetup(t, nil)
	old := slog.Default()
	slog.SetDefault(s.log)
	t.Cleanup(func() { slog.SetDefault(old) })

	ctx, wf := slogwf.StartWorkflow(context.Background(), "default")
	slog.InfoContext(ctx, "hi")
	wf.End()
	assert.Equal(t, []string{"hi"}, s.tree(t, wf).msgs())
}

func TestAttributesPlaceRecords(t *testing.T) {
	for _, format := range []slogwf.Format{slogwf.FormatTint, slogwf.FormatJSON} {
		t.Run(string(format), func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Format: format})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "attrs")
			ctx, it := slogwf.StartIteration(ctx)
			ctxA, a := slogwf.StartInteraction(ctx, "a")
			_, b := slogwf.StartInteraction(ctx, "b")

			s.log.With(slogwf.WorkflowID(wf.ID()), slogwf.InteractionID(a.ID())).Info("with both")
			s.log.Info("record attr only", slogwf.InteractionID(b.ID()))
			s.log.With(slogwf.IterationID(it.ID())).Info("iteration")
			s.log.InfoContext(ctxA, "attrs win over context", slogwf.InteractionID(b.ID()))
			s.log.With(slogwf.WorkflowID(wf.ID())).WithGroup("g").Info("workflow", "k", 1)
			s.log.Info("unknown scope", slogwf.InteractionID("nope"))
			wf.End()

			tree := s.tree(t, wf)
			assert.Equal(t, []string{"with both"}, tree.find(a.ID()).msgs())
			assert.Equal(t, []string{"record attr only", "attrs win over context"}, tree.find(b.ID()).msgs())
			assert.Equal(t, []string{"iteration"}, tree.find(it.ID()).msgs())
			assert.Equal(t, []string{"workflow"}, tree.msgs())
			assert.Equal(t, map[string]any{"g": map[string]any{"k": 1.0}}, tree.Records[0].Attrs, "IDs route, they are not attrs")
			assert.Contains(t, s.console.String(), "unknown scope")
		})
	}
}

func TestCloseEndsOpenScopesAsIncomplete(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "open")
	ctx, _ = slogwf.StartIteration(ctx)
	ctx, _ = slogwf.StartInteraction(ctx, "a")
	s.log.InfoContext(ctx, "before")

	require.NoError(t, s.h.Close())
	require.NoError(t, s.h.Close(), "Close is idempotent")
	s.log.InfoContext(ctx, "after close")
	_, late := slogwf.StartWorkflow(s.ctx, "after close")
	late.End()

	tree := s.tree(t, wf)
	assert.Equal(t, slogwf.StatusIncomplete, tree.Status)
	assert.Equal(t, slogwf.StatusIncomplete, tree.Iterations[0].Status)
	ia := tree.Iterations[0].Interactions[0]
	assert.Equal(t, slogwf.StatusIncomplete, ia.Status)
	assert.Equal(t, []string{"before"}, ia.msgs())
	assert.Contains(t, s.console.String(), "after close")
	assert.Len(t, files(t, s.dir), 2, "one tree, one journal: nothing after Close")
}

// After Close the Handler is as one whose tree is off: records still reach
// the console, but a workflow started then has no tree file, promised by
// TreeFile or not, and nothing of it is said to come late.
func TestAfterCloseRecordsReachTheConsoleAndNoTreeIsPromised(t *testing.T) {
	for _, tt := range []struct {
		name     string
		wrap     func(slog.Handler) slog.Handler
		nilScope bool // the Handler itself makes no scope, as with the tree off
	}{
		{"the Handler", func(h slog.Handler) slog.Handler { return h }, true},
		{"a handler that wraps it", func(h slog.Handler) slog.Handler { return wrapper{h} }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil)
			require.NoError(t, s.h.Close())
			l := slog.New(tt.wrap(s.h))
			ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "after")
			assert.Equal(t, tt.nilScope, wf == nil)
			ctx, ia := slogwf.StartInteraction(ctx, "a")
			l.InfoContext(ctx, "after close")
			ia.End()
			wf.End()

			assert.Empty(t, s.h.TreeFile(wf), "no tree file")
			assert.Empty(t, files(t, s.dir), "no file at all")
			assert.Contains(t, s.console.String(), "after close")
			assert.NotContains(t, s.console.String(), "late")
		})
	}
}

func TestEndingAWorkflowWritesItsFinalTree(t *testing.T) {
	s := newSetup(t, &slogwf.Options{SnapshotInterval: time.Hour})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "final")
	s.log.InfoContext(ctx, "r")
	assert.NoFileExists(t, s.h.TreeFile(wf), "no snapshot within the interval")
	wf.End()
	assert.Equal(t, slogwf.StatusCompleted, s.tree(t, wf).Status)
	s.log.InfoContext(ctx, "late")
	assert.Equal(t, []string{"r"}, s.tree(t, wf).msgs(), "a late record waits for the next snapshot")
	require.NoError(t, s.h.Close())
	tree := s.tree(t, wf)
	assert.Equal(t, []string{"r", "late"}, tree.msgs(), "or for Close")
	assert.True(t, tree.Records[1].Late)
	assert.Equal(t, slogwf.StatusCompleted, tree.Status)
}

func TestTreeIsRefreshedWhileRunningAndAlwaysWholeJSON(t *testing.T) {
	s := newSetup(t, &slogwf.Options{SnapshotInterval: time.Millisecond})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "live")
	path := s.h.TreeFile(wf)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Microsecond):
				s.log.InfoContext(ctx, "r", "i", i, "pad", strings.Repeat("x", 200))
			}
		}
	})
	reads := 0
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		require.True(t, json.Valid(b), "a reader never sees a partial tree")
		reads++
		var n node
		require.NoError(t, json.Unmarshal(b, &n))
		assert.Equal(t, slogwf.StatusRunning, n.Status)
		return reads >= 50 && n.Counts.Records > 0
	}, 10*time.Second, time.Millisecond)
	close(stop)
	wg.Wait()
	wf.End()

	assert.Equal(t, slogwf.StatusCompleted, s.tree(t, wf).Status)
	for _, f := range files(t, s.dir) {
		assert.True(t, strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".jsonl"), "stray file %s", f)
	}
}

func TestFaultsAreReportedOnceAndLoggingGoesOn(t *testing.T) {
	var errs lockedBuffer
	s := newSetup(t, &slogwf.Options{ErrorOutput: &errs, SnapshotInterval: time.Hour})
	_, wf := slogwf.StartWorkflow(s.ctx, "fault")
	// A directory where the tree file goes makes its rename fail.
	require.NoError(t, os.Mkdir(s.h.TreeFile(wf), 0o700))
	wf.End()
	_, wf2 := slogwf.StartWorkflow(s.ctx, "fault")
	require.NoError(t, os.Mkdir(s.h.TreeFile(wf2), 0o700))
	wf2.End()
	s.log.Info("still logging")

	err := s.h.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "slogwf: write tree")
	assert.Regexp(t, filepath.Base(s.h.TreeFile(wf))+"|"+filepath.Base(s.h.TreeFile(wf2)), err.Error())
	assert.Equal(t, 1, strings.Count(errs.String(), "\n"), "one line per cause")
	assert.Contains(t, s.console.String(), "still logging")
	for _, f := range files(t, s.dir) {
		assert.NotContains(t, f, ".tmp", "no temporary file outlives a failed write")
	}
}

func TestUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))

	_, err := slogwf.New(&slogwf.Options{Dir: filepath.Join(file, "logs"), Console: io.Discard})
	require.ErrorContains(t, err, "slogwf: create dir")

	var errs, console bytes.Buffer
	h := slogwf.NewHandler(slog.NewTextHandler(&console, nil), &slogwf.Options{Dir: filepath.Join(file, "logs"), ErrorOutput: &errs})
	assert.Contains(t, errs.String(), "slogwf: create dir")
	l := slog.New(h)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "x")
	assert.Nil(t, wf, "the tree is off")
	l.InfoContext(ctx, "console goes on")
	assert.Contains(t, console.String(), "console goes on")
}

// A Dir in which no file can be made (here /proc/self, which takes no new
// entries, even from root) is refused at New, by its name; NewHandler says
// so and turns the tree off.
func TestNewRefusesADirItCannotCreateAFileIn(t *testing.T) {
	const dir = "/proc/self"
	_, err := slogwf.New(&slogwf.Options{Dir: dir, Console: io.Discard})
	require.ErrorContains(t, err, "slogwf: dir "+dir+": cannot create a file")

	var errs bytes.Buffer
	h := slogwf.NewHandler(slog.NewTextHandler(io.Discard, nil), &slogwf.Options{Dir: dir, ErrorOutput: &errs})
	assert.Contains(t, errs.String(), "slogwf: dir "+dir+": cannot create a file")
	_, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "x")
	assert.Nil(t, wf, "the tree is off")
	require.NoError(t, h.Close())
}

func TestDisabled(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts slogwf.Options
		env  string
	}{
		{"option", slogwf.Options{Disabled: true}, ""},
		{"environment", slogwf.Options{}, "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLOGWF_DISABLE", tt.env)
			dir := filepath.Join(t.TempDir(), "logs")
			tt.opts.Dir = dir
			s := newSetup(t, &tt.opts)
			ctx, wf := slogwf.StartWorkflow(s.ctx, "off")
			assert.Nil(t, wf)
			_, ia := slogwf.StartInteraction(ctx, "a")
			ia.End()
			wf.End()
			out, err := slogwf.Interact(ctx, "b", func(context.Context) (int, error) { return 7, nil })
			require.NoError(t, err)
			assert.Equal(t, 7, out)
			s.log.InfoContext(ctx, "console goes on")

			assert.NoDirExists(t, dir)
			assert.Equal(t, []string{"INF console goes on"}, trimTimes(s.console.Lines()))
		})
	}
}

func TestEnvironmentConfiguresNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "env")
	t.Setenv("SLOGWF_DIR", dir)
	t.Setenv("SLOGWF_LEVEL", "trace")
	var console bytes.Buffer
	h, err := slogwf.New(&slogwf.Options{Console: &console})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), l), "env")
	l.Log(ctx, slogwf.LevelTrace, "deep")
	wf.End()
	require.NoError(t, h.Close())

	assert.FileExists(t, h.TreeFile(wf))
	assert.Equal(t, dir, filepath.Dir(h.TreeFile(wf)))
	assert.Contains(t, console.String(), "TRC [env] deep")

	t.Setenv("SLOGWF_LEVEL", "loud")
	_, err = slogwf.New(&slogwf.Options{Console: &console})
	assert.ErrorContains(t, err, "SLOGWF_LEVEL")
}

func TestDirAndFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "logs")
	s := newSetup(t, &slogwf.Options{Dir: dir})
	_, wf := slogwf.StartWorkflow(s.ctx, "perm")
	wf.End()
	s.h.TreeFile(wf) // the final tree is written: no temporary file is left to list

	for _, d := range []string{dir, filepath.Join(dir, tree.JournalDir)} {
		st, err := os.Stat(d)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), d)
	}
	for _, f := range files(t, dir) {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
}

// Names that try to leave Dir stay in it; TestPlantedSymlinksAreNotFollowed
// plants links.
func TestUnsafeWorkflowNamesStayInDir(t *testing.T) {
	tests := []struct {
		name, want string // want: the name as JSON decodes it
	}{
		{"../x", "../x"},
		{"a/b", "a/b"},
		{"", ""},
		{"..", ".."},
		{"/etc/passwd", "/etc/passwd"},
		{"nul\x00byte", "nul\x00byte"},
		{"\x00", "\x00"},
		{strings.Repeat("long", 75), strings.Repeat("long", 58) + "…[truncated 68 bytes]"},
		{"bad\xff\xfeutf8", "bad\ufffd\ufffdutf8"},
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "logs")
	s := newSetup(t, &slogwf.Options{Dir: dir})
	for _, tt := range tests {
		_, wf := slogwf.StartWorkflow(s.ctx, tt.name)
		wf.End()
		path := s.h.TreeFile(wf)
		assert.Equal(t, dir, filepath.Dir(path), "%q", tt.name)
		assert.LessOrEqual(t, len(filepath.Base(path)), 80)
		assert.Equal(t, tt.want, readTree(t, path).Name, "the name is kept verbatim, up to 256 bytes")
	}
	for _, f := range files(t, parent) {
		assert.True(t, strings.HasPrefix(f, "logs"+string(filepath.Separator)), f)
	}
	assert.Len(t, files(t, dir), len(tests)+1, "a tree each, and the journal")
}

// 64 agents in parallel, each its own interaction in one workflow: every
// record lands under its own agent.
func TestParallelAgentsKeepTheirRecords(t *testing.T) {
	const agents, records = 64, 1000
	s := newSetup(t, &slogwf.Options{Console: io.Discard, SnapshotInterval: 10 * time.Millisecond})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "parallel")
	var wg sync.WaitGroup
	for g := range agents {
		wg.Go(func() {
			ctx, ia := slogwf.StartInteraction(ctx, fmt.Sprint("agent-", g))
			l := s.log.With("agent", g)
			for i := range records {
				l.InfoContext(ctx, "r", "i", i)
			}
			ia.End()
		})
	}
	wg.Wait()
	wf.End()

	tree := s.tree(t, wf)
	assert.EqualValues(t, agents*records, tree.Counts.Records)
	require.Len(t, tree.Interactions, agents)
	for _, ia := range tree.Interactions {
		require.Len(t, ia.Records, records, ia.Agent)
		for i, r := range ia.Records {
			require.Equal(t, ia.Agent, fmt.Sprint("agent-", r.Attrs["agent"]), "no record of one agent under another")
			require.EqualValues(t, i, r.Attrs["i"], "records in time order")
		}
	}
}

// trimTimes drops the time that starts each tint line.
func trimTimes(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		_, out[i], _ = strings.Cut(l, " ")
	}
	return out
}

func TestBadEnvironment(t *testing.T) {
	t.Setenv("SLOGWF_DIR", t.TempDir())
	t.Setenv("SLOGWF_DISABLE", "bogus")
	t.Setenv("SLOGWF_LEVEL", "verbose")

	_, err := slogwf.New(nil)
	require.ErrorContains(t, err, "SLOGWF_DISABLE")

	var errs bytes.Buffer
	h := slogwf.NewHandler(slog.NewJSONHandler(io.Discard, nil), &slogwf.Options{ErrorOutput: &errs})
	assert.Contains(t, errs.String(), `SLOGWF_DISABLE="bogus"`)
	assert.NotContains(t, errs.String(), "SLOGWF_LEVEL", "NewHandler has no level of its own")
	_, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "on")
	assert.NotNil(t, wf, "the tree stays on")
	wf.End()
	require.NoError(t, h.Close())

	assert.NotPanics(t, func() {
		t.Setenv("SLOGWF_DIR", t.TempDir()) // nil options: errors go to stderr
		_ = slogwf.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil).Close()
	})

	t.Setenv("SLOGWF_DISABLE", "yes")
	h = slogwf.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil)
	_, wf = slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), slog.New(h)), "off")
	assert.Nil(t, wf)
}

func TestStaleAttributeIDsFallBackToTheContext(t *testing.T) {
	s := newSetup(t, nil)
	_, old := slogwf.StartWorkflow(s.ctx, "old")
	old.End()
	ctx, wf := slogwf.StartWorkflow(s.ctx, "new")
	ctx, ia := slogwf.StartInteraction(ctx, "a")
	s.log.With(slogwf.WorkflowID(old.ID())).InfoContext(ctx, "ended workflow")
	s.log.InfoContext(ctx, "unknown interaction", slogwf.InteractionID("nope"))
	ia.End()
	wf.End()
	assert.Equal(t, []string{"ended workflow", "unknown interaction"}, s.tree(t, wf).Interactions[0].msgs())
}

func TestLateEndIsMarkedOnTheConsole(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "late")
	_, ia := slogwf.StartInteraction(ctx, "a")
	wf.End()
	ia.End()
	assert.Contains(t, s.console.String(), "✔ interaction dur=")
	assert.Contains(t, s.console.String(), "late=true")
}

func TestPricesCostTheCallsLoggedWithoutACost(t *testing.T) {
	prices := slogwf.Prices{
		"gpt-4o":          {Input: 2.5, Output: 10, CachedInput: 1.25},
		"claude-sonnet-4": {Input: 3, Output: 15},
		"claude-opus-4":   {Input: 15, Output: 75, CachedInput: 1.5, CacheWrite: 18.75},
	}
	tests := []struct {
		name  string
		attrs []any
		want  float64
	}{
		{"exact name", []any{slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100)}, (1000*2.5 + 100*10) / 1e6},
		{"dated name", []any{slogwf.Model("gpt-4o-2024-08-06"), slogwf.Tokens(1000, 100)}, (1000*2.5 + 100*10) / 1e6},
		{"dated name without dashes", []any{slogwf.Model("claude-sonnet-4-20250514"), slogwf.Tokens(1000, 100)}, (1000*3 + 100*15) / 1e6},
		{"dated name after @", []any{slogwf.Model("claude-sonnet-4@20250514"), slogwf.Tokens(1000, 100)}, (1000*3 + 100*15) / 1e6},
		{"cached input", []any{slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100), slogwf.CachedTokens(800)}, (200*2.5 + 800*1.25 + 100*10) / 1e6},
		{"cached input without its own price", []any{slogwf.Model("claude-sonnet-4"), slogwf.Tokens(1000, 0), slogwf.CachedTokens(800)}, 1000 * 3 / 1e6},
		{"cache writes", []any{slogwf.Model("claude-opus-4"), slogwf.Tokens(1000, 100), slogwf.CacheWriteTokens(600)}, (400*15 + 600*18.75 + 100*75) / 1e6},
		{"cache writes without their own price", []any{slogwf.Model("claude-sonnet-4"), slogwf.Tokens(1000, 0), slogwf.CacheWriteTokens(600)}, 1000 * 3 / 1e6},
		{"cache reads and writes", []any{slogwf.Model("claude-opus-4"), slogwf.Tokens(1000, 100), slogwf.CachedTokens(300), slogwf.CacheWriteTokens(600)}, (100*15 + 300*1.5 + 600*18.75 + 100*75) / 1e6},
		{"reads and writes beyond the input are priced, plain input is none", []any{slogwf.Model("claude-opus-4"), slogwf.Tokens(500, 0), slogwf.CachedTokens(300), slogwf.CacheWriteTokens(600)}, (300*1.5 + 600*18.75) / 1e6},
		{"an explicit cost wins", []any{slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100), slogwf.Cost(0.5)}, 0.5},
		{"unknown model", []any{slogwf.Model("gpt-4o-mini"), slogwf.Tokens(1000, 100)}, 0},
		{"a longer name is another model", []any{slogwf.Model("gpt-4o-2024-08-06-x"), slogwf.Tokens(1000, 100)}, 0},
		{"snapshot number", []any{slogwf.Model("gpt-4o-0613"), slogwf.Tokens(1000, 100)}, (1000*2.5 + 100*10) / 1e6},
		{"version number", []any{slogwf.Model("gpt-4o-001"), slogwf.Tokens(1000, 100)}, (1000*2.5 + 100*10) / 1e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Prices: prices})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
			ctx, a := slogwf.StartAction(ctx, "call")
			s.log.InfoContext(ctx, "record", tt.attrs...)
			a.End(tt.attrs...) // a scope's end is costed the same way
			wf.End()
			tree := s.tree(t, wf)
			assert.InDelta(t, tt.want, tree.Actions[0].Records[0].Usage["cost_usd"], 1e-12)
			assert.InDelta(t, 2*tt.want, tree.Usage.CostUSD, 1e-12)
		})
	}
}

// A scope is one LLM call, whether its start or its end names the model
// and the tokens: its tokens, of both halves, cost what the model the end
// names costs, or else the start's; a cost given on either half is the
// call's.
func TestAScopeIsOneCallThoughItsStartAndEndSayPartsOfIt(t *testing.T) {
	prices := slogwf.Prices{"gpt-4o": {Input: 2.5, Output: 10}, "o3": {Input: 2, Output: 8}, "claude-opus-4": {Input: 15, Output: 75, CacheWrite: 18.75}}
	tests := []struct {
		name       string
		start, end []any
		calls      int64
		in         int64
		cost       float64
	}{
		{"model at the start, tokens at the end", []any{slogwf.Model("gpt-4o")}, []any{slogwf.Tokens(1000, 100)},
			1, 1000, (1000*2.5 + 100*10) / 1e6},
		{"both at the end", nil, []any{slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100)},
			1, 1000, (1000*2.5 + 100*10) / 1e6},
		{"both at the start", []any{slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100)}, nil,
			1, 1000, (1000*2.5 + 100*10) / 1e6},
		{"tokens at both", []any{slogwf.Model("gpt-4o"), slogwf.Tokens(100, 0)}, []any{slogwf.Tokens(1000, 100)},
			1, 1100, (1100*2.5 + 100*10) / 1e6},
		{"the model that answered, at the end", []any{slogwf.Model("gpt-4o")}, []any{slogwf.Model("o3"), slogwf.Tokens(1000, 100)},
			1, 1000, (1000*2 + 100*8) / 1e6},
		{"an explicit cost at the end", []any{slogwf.Model("gpt-4o")}, []any{slogwf.Tokens(1000, 100), slogwf.Cost(0.5)},
			1, 1000, 0.5},
		{"cache writes at the end", []any{slogwf.Model("claude-opus-4")}, []any{slogwf.Tokens(1000, 100), slogwf.CacheWriteTokens(600)},
			1, 1000, (400*15 + 600*18.75 + 100*75) / 1e6},
		{"the model alone", []any{slogwf.Model("gpt-4o")}, nil, 1, 0, 0},
		{"tokens at the start, the model at the end", []any{slogwf.Tokens(1000, 100)}, []any{slogwf.Model("gpt-4o")},
			1, 1000, (1000*2.5 + 100*10) / 1e6},
		{"a cost at the start, tokens at the end", []any{slogwf.Model("gpt-4o"), slogwf.Cost(0.5)}, []any{slogwf.Tokens(1000, 100)},
			1, 1000, 0.5},
		{"tokens at the start, a cost at the end", []any{slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100)}, []any{slogwf.Cost(0.5)},
			1, 1000, 0.5},
		{"the end names a model without a price", []any{slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100)}, []any{slogwf.Model("llama")},
			1, 1000, (1000*2.5 + 100*10) / 1e6},
		{"a cost at each half", []any{slogwf.Model("gpt-4o"), slogwf.Cost(0.5)}, []any{slogwf.Tokens(1000, 100), slogwf.Cost(0.25)},
			1, 1000, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Prices: prices})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
			_, a := slogwf.StartAction(ctx, "call", tt.start...)
			a.End(tt.end...)
			wf.End()
			tree := s.tree(t, wf)
			for _, n := range []*node{tree, tree.Actions[0]} {
				assert.Equal(t, tt.calls, n.Usage.LLMCalls)
				assert.Equal(t, tt.in, n.Usage.InputTokens)
				assert.InDelta(t, tt.cost, n.Usage.CostUSD, 1e-12)
			}
		})
	}
}

// A record that a scope ID alone places is found again without a search,
// and after its workflow ended no longer is.
func TestScopeIDsAlonePlaceRecordsAgain(t *testing.T) {
	s := newSetup(t, nil)
	ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
	_, ia := slogwf.StartInteraction(ctx, "a")
	l := s.log.With(slogwf.InteractionID(ia.ID()))
	l.Info("first")
	l.Info("second")
	ia.End()
	wf.End()
	l.Info("after the end")
	assert.Equal(t, []string{"first", "second"}, s.tree(t, wf).Interactions[0].msgs())
}

// A Cost given on a scope's start is the call's cost also when the start
// names no model or tokens: the tokens its end names add nothing to it.
func TestACostAloneOnAScopesStartIsTheCallsCost(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Prices: slogwf.Prices{"gpt-4o": {Input: 2.5, Output: 10}}})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
	_, a := slogwf.StartAction(ctx, "call", slogwf.Cost(0.5))
	a.End(slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100))
	wf.End()
	tree := s.tree(t, wf)
	assert.EqualValues(t, 1, tree.Usage.LLMCalls)
	assert.InDelta(t, 0.5, tree.Usage.CostUSD, 1e-12)
}

// Two slogwf handlers behind one MultiHandler, one with prices and one
// without, each cost a scope as it alone would: what one saw of the start
// does not change what the other writes of the end.
func TestTwoTreeHandlersEachCostAScopeAsItAloneWould(t *testing.T) {
	const cost = (1000*2.5 + 100*10) / 1e6
	for _, pricedFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "priced first", false: "priced second"}[pricedFirst], func(t *testing.T) {
			priced, err := slogwf.New(&slogwf.Options{Dir: t.TempDir(), Prices: slogwf.Prices{"gpt-4o": {Input: 2.5, Output: 10}},
				Console: &lockedBuffer{}, Color: slogwf.ColorNever})
			require.NoError(t, err)
			plain, err := slogwf.New(&slogwf.Options{Dir: t.TempDir(), Console: &lockedBuffer{}, Color: slogwf.ColorNever})
			require.NoError(t, err)
			hs := []slog.Handler{priced, plain}
			if !pricedFirst {
				hs = []slog.Handler{plain, priced}
			}
			ctx := slogwf.ContextWithLogger(context.Background(), slog.New(slog.NewMultiHandler(hs...)))
			ctx, wf := slogwf.StartWorkflow(ctx, "w")
			_, a := slogwf.StartAction(ctx, "call", slogwf.Model("gpt-4o"), slogwf.Tokens(1000, 100))
			a.End()
			wf.End()
			require.NoError(t, priced.Close())
			require.NoError(t, plain.Close())
			assert.InDelta(t, cost, readTree(t, priced.TreeFile(wf)).Usage.CostUSD, 1e-12, "priced")
			assert.InDelta(t, 0, readTree(t, plain.TreeFile(wf)).Usage.CostUSD, 1e-12, "without prices")
		})
	}
}

// A call's cost is bounded (±$1,000,000) whichever half of its scope
// says its usage, as a record's is: the end does not add back what the
// start's bound took.
func TestACallsCostIsBoundedWhicheverHalfSaysIt(t *testing.T) {
	usage := []any{slogwf.Model("m"), slogwf.Tokens(0, 150_000_000)} // $1.5 million, at $10,000 per million
	for _, tt := range []struct {
		name       string
		start, end []any
	}{
		{"at the start", usage, nil},
		{"at the end", nil, usage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Prices: slogwf.Prices{"m": {Input: 1, Output: 10_000}}})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "w")
			_, a := slogwf.StartAction(ctx, "call", tt.start...)
			a.End(tt.end...)
			wf.End()
			tree := s.tree(t, wf)
			assert.InDelta(t, 1e6, tree.Usage.CostUSD, 1e-3)
			assert.EqualValues(t, 1, tree.Loss.Clamped)
		})
	}
}
