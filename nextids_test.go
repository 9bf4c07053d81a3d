package slogwf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// idKeys are the keys that place a record, which the text and JSON lines
// carry.
var idKeys = []string{slogwf.WorkflowIDKey, slogwf.IterationIDKey, slogwf.InteractionIDKey, slogwf.ActionIDKey}

// textPair is a key and its value on a line of slog's text handler.
var textPair = regexp.MustCompile(`(?:^| )([^ =]+)=("(?:[^"\\]|\\.)*"|[^ ]*)`)

// lineIDs returns the scope IDs at the top of line, a line of a text or
// JSON handler, and fails the test if it has a key twice there.
func lineIDs(t *testing.T, format slogwf.Format, line string) map[string]string {
	t.Helper()
	values := map[string]string{}
	seen := map[string]bool{}
	add := func(k, v string) {
		require.False(t, seen[k], "%s twice in %s", k, line)
		seen[k] = true
		if slices.Contains(idKeys, k) {
			values[k] = v
		}
	}
	if format == slogwf.FormatText {
		for _, m := range textPair.FindAllStringSubmatch(line, -1) {
			v := m[2]
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			add(m[1], v)
		}
		return values
	}
	d := json.NewDecoder(bytes.NewReader([]byte(line)))
	_, err := d.Token() // {
	require.NoError(t, err, line)
	for d.More() {
		k, err := d.Token()
		require.NoError(t, err, line)
		var v any
		require.NoError(t, d.Decode(&v), line)
		s, _ := v.(string)
		add(k.(string), s)
	}
	return values
}

// scoped is a scope and the context inside it.
type scoped struct {
	ctx context.Context
	*slogwf.Scope
}

// nested is a workflow with a scope of each kind open: an iteration, an
// interaction in it, an interaction in that, and an action in the inner
// one.
type nested struct{ wf, it, ia, sub, act scoped }

func newNested(s *setup) nested {
	var n nested
	n.wf.ctx, n.wf.Scope = slogwf.StartWorkflow(s.ctx, "research")
	n.it.ctx, n.it.Scope = slogwf.StartIteration(n.wf.ctx)
	n.ia.ctx, n.ia.Scope = slogwf.StartInteraction(n.it.ctx, "planner")
	n.sub.ctx, n.sub.Scope = slogwf.StartInteraction(n.ia.ctx, "critic")
	n.act.ctx, n.act.Scope = slogwf.StartAction(n.sub.ctx, "search")
	return n
}

// The text and JSON consoles say, on each line of a workflow, where it
// went: the workflow, and the innermost scope under its kind's key; the
// start and end of a scope name the scope. A line outside any workflow
// names none.
func TestTextAndJSONConsolesNameTheWorkflowAndScopeOfEachLine(t *testing.T) {
	for _, format := range []slogwf.Format{slogwf.FormatJSON, slogwf.FormatText} {
		t.Run(string(format), func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Format: format})
			n := newNested(s)
			endedCtx, ended := slogwf.StartAction(n.ia.ctx, "read")
			ended.End()
			var started *slogwf.Scope
			ids := func(scope *slogwf.Scope) map[string]string {
				m := map[string]string{slogwf.WorkflowIDKey: n.wf.ID()}
				if scope != n.wf.Scope {
					m[scope.Kind().String()+"_id"] = scope.ID()
				}
				return m
			}
			for _, c := range []struct {
				name string
				log  func()
				want func() map[string]string
			}{
				{"a record in the workflow names the workflow", func() { s.log.InfoContext(n.wf.ctx, "in workflow") },
					func() map[string]string { return ids(n.wf.Scope) }},
				{"a record in an iteration names the iteration", func() { s.log.InfoContext(n.it.ctx, "in iteration") },
					func() map[string]string { return ids(n.it.Scope) }},
				{"a record in an interaction names the interaction", func() { s.log.WarnContext(n.ia.ctx, "in interaction", "k", 1) },
					func() map[string]string { return ids(n.ia.Scope) }},
				{"a record in an interaction in an interaction names the inner one only", func() { s.log.InfoContext(n.sub.ctx, "in sub") },
					func() map[string]string { return ids(n.sub.Scope) }},
				{"a record in an action names the action only", func() { s.log.ErrorContext(n.act.ctx, "in action") },
					func() map[string]string { return ids(n.act.Scope) }},
				{"a record of a logger with a group names its scope at the top", func() {
					s.log.WithGroup("g").With("a", 1).InfoContext(n.act.ctx, "grouped", "b", 2)
				}, func() map[string]string { return ids(n.act.Scope) }},
				{"a record in an ended scope names the open scope above, which took it", func() { s.log.InfoContext(endedCtx, "late") },
					func() map[string]string { return ids(n.ia.Scope) }},
				{"a record placed by the scope ID of its own names the workflow too", func() {
					s.log.Info("by its ID", slogwf.ActionID(n.act.ID()))
				}, func() map[string]string { return ids(n.act.Scope) }},
				{"a record placed by its logger's scope ID names the workflow too", func() {
					s.log.With(slogwf.IterationID(n.it.ID())).Info("by the logger's ID")
				}, func() map[string]string { return ids(n.it.Scope) }},
				{"the start of a scope names the scope", func() { _, started = slogwf.StartAction(n.ia.ctx, "write") },
					func() map[string]string { return ids(started) }},
				{"the end of a scope names the scope", func() { started.Fail(errors.New("disk full")) },
					func() map[string]string { return ids(started) }},
				{"the end of the workflow names the workflow", func() { n.wf.End() },
					func() map[string]string { return ids(n.wf.Scope) }},
				{"a record outside any workflow names none", func() { s.log.Info("outside", "k", 1) },
					func() map[string]string { return map[string]string{} }},
			} {
				t.Run(c.name, func(t *testing.T) {
					c.log()
					lines := s.console.Lines()
					assert.Equal(t, c.want(), lineIDs(t, format, lines[len(lines)-1]))
				})
			}
		})
	}
}

// A record outside any workflow is the line slog's own handler writes.
func TestTextAndJSONConsolesWriteARecordOutsideAWorkflowAsSlogDoes(t *testing.T) {
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}
	for _, format := range []slogwf.Format{slogwf.FormatJSON, slogwf.FormatText} {
		t.Run(string(format), func(t *testing.T) {
			s := newSetup(t, &slogwf.Options{Format: format, ReplaceAttr: noTime})
			var want bytes.Buffer
			o := &slog.HandlerOptions{ReplaceAttr: func(g []string, a slog.Attr) slog.Attr { return slogwf.ReplaceLevel(g, noTime(g, a)) }}
			slogs := slog.New(slog.NewJSONHandler(&want, o))
			if format == slogwf.FormatText {
				slogs = slog.New(slog.NewTextHandler(&want, o))
			}
			for _, l := range []*slog.Logger{s.log, slogs} {
				l.Info("outside", "k", 1)
				l.With("workflow_id", "not live").WithGroup("g").Info("named", slogwf.InteractionID("none"))
			}
			assert.Equal(t, want.String(), s.console.String())
		})
	}
}

// The handler given to NewHandler gets the IDs as New's consoles do, each
// key once: a record or a logger that has one already keeps its own.
func TestNewHandlersNextGetsEachIDOnce(t *testing.T) {
	var buf lockedBuffer
	h := slogwf.NewHandler(slog.NewJSONHandler(&buf, nil), &slogwf.Options{Dir: t.TempDir()})
	t.Cleanup(func() { _ = h.Close() })
	log := slog.New(h)
	ctx, wf := slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), log), "research")
	ctx, ia := slogwf.StartInteraction(ctx, "planner")
	both := map[string]string{slogwf.WorkflowIDKey: wf.ID(), slogwf.InteractionIDKey: ia.ID()}
	for _, c := range []struct {
		name string
		log  func()
		want map[string]string
	}{
		{"a record in a scope", func() { log.InfoContext(ctx, "plain") }, both},
		{"a record with the workflow ID of its own goes to the workflow", func() {
			log.InfoContext(ctx, "own", slogwf.WorkflowID(wf.ID()))
		}, map[string]string{slogwf.WorkflowIDKey: wf.ID()}},
		{"a record with both IDs of its own", func() {
			log.InfoContext(ctx, "own", slogwf.InteractionID(ia.ID()), slogwf.WorkflowID(wf.ID()))
		}, both},
		{"a logger with both IDs", func() {
			log.With(slogwf.WorkflowID(wf.ID()), slogwf.InteractionID(ia.ID())).InfoContext(ctx, "with")
		}, both},
		{"a record with a workflow_id that is no ID keeps it", func() { log.InfoContext(ctx, "number", slogwf.WorkflowIDKey, 7) },
			map[string]string{slogwf.WorkflowIDKey: "", slogwf.InteractionIDKey: ia.ID()}},
		{"a logger with a group", func() { log.WithGroup("g").InfoContext(ctx, "grouped", "k", 1) }, both},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.log()
			lines := buf.Lines()
			assert.Equal(t, c.want, lineIDs(t, slogwf.FormatJSON, lines[len(lines)-1]))
		})
	}
	ia.End()
	lines := buf.Lines()
	assert.Equal(t, both, lineIDs(t, slogwf.FormatJSON, lines[len(lines)-1]), "the end of the interaction")
}

// A JSON line logged again, its attributes and IDs as attributes, goes to
// the node of the tree that the line's record went to.
func TestJSONLinesLoggedAgainPlaceThemselvesAsBefore(t *testing.T) {
	s := newSetup(t, &slogwf.Options{Format: slogwf.FormatJSON})
	n := newNested(s)
	places := []struct {
		name string
		scoped
	}{
		{"workflow", n.wf}, {"iteration", n.it}, {"interaction", n.ia},
		{"interaction in an interaction", n.sub}, {"action in it", n.act},
	}
	for _, p := range places {
		s.log.InfoContext(p.ctx, "logged in "+p.name, "k", 1)
		lines := s.console.Lines()
		var line map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &line))
		var args []any
		for _, k := range slices.Sorted(maps.Keys(line)) {
			if k != slog.TimeKey && k != slog.LevelKey && k != slog.MessageKey {
				args = append(args, k, line[k])
			}
		}
		s.log.Info("again in "+p.name, args...) // without the context
	}
	n.wf.End()
	tr := s.tree(t, n.wf.Scope)
	for _, p := range places {
		assert.Equal(t, []string{"logged in " + p.name, "again in " + p.name}, tr.find(p.ID()).msgs(), p.name)
	}
}

// The IDs are attributes to a ReplaceAttr, which may drop them.
func TestReplaceAttrMayDropTheIDs(t *testing.T) {
	drop := func(groups []string, a slog.Attr) slog.Attr {
		if slices.Contains(idKeys, a.Key) {
			return slog.Attr{}
		}
		return a
	}
	s := newSetup(t, &slogwf.Options{Format: slogwf.FormatJSON, ReplaceAttr: drop})
	n := newNested(s)
	s.log.InfoContext(n.act.ctx, "in action", "k", 1)
	lines := s.console.Lines()
	assert.Empty(t, lineIDs(t, slogwf.FormatJSON, lines[len(lines)-1]))
}

// jsonNext is NewHandler with slog's JSON handler next, and an interaction
// of a workflow, both started through log.
type jsonNext struct {
	buf    *lockedBuffer
	log    *slog.Logger
	ctx    context.Context // in ia
	wf, ia *slogwf.Scope
}

func newJSONNext(t *testing.T) *jsonNext {
	n := &jsonNext{buf: &lockedBuffer{}}
	h := slogwf.NewHandler(slog.NewJSONHandler(n.buf, nil), &slogwf.Options{Dir: t.TempDir()})
	t.Cleanup(func() { _ = h.Close() })
	n.log = slog.New(h)
	n.ctx, n.wf = slogwf.StartWorkflow(slogwf.ContextWithLogger(context.Background(), n.log), "research")
	n.ctx, n.ia = slogwf.StartInteraction(n.ctx, "planner")
	return n
}

// lastIDs returns the scope IDs at the top of the last line.
func (n *jsonNext) lastIDs(t *testing.T) map[string]string {
	lines := n.buf.Lines()
	return lineIDs(t, slogwf.FormatJSON, lines[len(lines)-1])
}

// A record whose own IDs are in the group of its logger has them there, not
// at the top of its line: the line still names, at the top, where it went.
func TestARecordsOwnIDsInItsLoggersGroupLeaveTheIDsAtTheTop(t *testing.T) {
	n := newJSONNext(t)
	n.log.WithGroup("g").InfoContext(n.ctx, "grouped", slogwf.WorkflowID(n.wf.ID()))
	assert.Equal(t, map[string]string{slogwf.WorkflowIDKey: n.wf.ID()}, n.lastIDs(t))
}

// A logger whose group is named as a key that places a record writes that
// key once on a line: the group's.
func TestAGroupNamedAsAnIDKeyIsTheKeyOnce(t *testing.T) {
	n := newJSONNext(t)
	n.log.WithGroup(slogwf.WorkflowIDKey).InfoContext(n.ctx, "grouped", "k", 1)
	assert.Equal(t, map[string]string{slogwf.WorkflowIDKey: "", slogwf.InteractionIDKey: n.ia.ID()}, n.lastIDs(t))
}

// A Handler whose tree is off that logs in the scope of another Handler's
// workflow writes once the key that its logger has already.
func TestAHandlerWhoseTreeIsOffWritesEachIDOnce(t *testing.T) {
	s := newSetup(t, nil)
	var buf lockedBuffer
	off := slogwf.NewHandler(slog.NewJSONHandler(&buf, nil), &slogwf.Options{Disabled: true})
	ctx, wf := slogwf.StartWorkflow(s.ctx, "research")
	slog.New(off).With(slogwf.WorkflowID(wf.ID())).InfoContext(ctx, "with its ID")
	assert.Equal(t, map[string]string{slogwf.WorkflowIDKey: wf.ID()}, lineIDs(t, slogwf.FormatJSON, buf.Lines()[0]))
}

// A key that places a record, in a group without a key that slog writes
// inline, of the record or of its logger, is on the line once.
func TestAnIDKeyInAGroupWithoutAKeyIsWrittenOnce(t *testing.T) {
	n := newJSONNext(t)
	want := map[string]string{slogwf.WorkflowIDKey: n.wf.ID(), slogwf.InteractionIDKey: "mine"}
	n.log.InfoContext(n.ctx, "the record's", slog.Group("", slog.Group("", slogwf.InteractionIDKey, "mine")))
	assert.Equal(t, want, n.lastIDs(t), "the record's")
	n.log.With(slog.Group("", slogwf.InteractionIDKey, "mine")).InfoContext(n.ctx, "the logger's")
	assert.Equal(t, want, n.lastIDs(t), "the logger's")
}
