package slogwf_test

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// A record routed while its scope was open, whose line comes after the End
// of that scope, of one above it or of its workflow, as it lost the race
// with that End, goes where a record logged after the End goes: late, to
// the nearest open scope above, or to the workflow; or, named by its IDs,
// late to the scope it names. The console, the journal, the tree file,
// `slogwf build` and, for a scope still open, the exporter all say so.
func TestARecordThatLosesTheRaceWithEndGoesWhereOneLoggedAfterItGoes(t *testing.T) {
	type scopes struct{ wf, it, ia, act *slogwf.Scope }
	tests := []struct {
		name  string
		end   func(s scopes)
		named bool   // the record names the workflow and the interaction by their IDs
		path  string // on the console
		want  func(s scopes) placed
		open  bool // the scope it goes to is open: its span has the record
		// The console path of the record logged after the End, when it is
		// not path: the workflow's, as an ended workflow forgot the paths of
		// its scopes.
		afterPath string
	}{
		{"its action ends", func(s scopes) { s.act.End() }, false, "[race it1 a] ",
			func(s scopes) placed { return placed{s.ia.ID(), true} }, true, ""},
		{"the interaction above it ends", func(s scopes) { s.ia.End() }, false, "[race it1] ",
			func(s scopes) placed { return placed{s.it.ID(), true} }, true, ""},
		{"its workflow ends", func(s scopes) { s.wf.End() }, false, "[race] ",
			func(s scopes) placed { return placed{s.wf.ID(), true} }, false, ""},
		{"the workflow it names ends", func(s scopes) { s.wf.End() }, true, "[race it1 a] ",
			func(s scopes) placed { return placed{s.ia.ID(), true} }, false, "[race] "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			s := newSetup(t, &slogwf.Options{Exporter: rec})
			ctx, wf := slogwf.StartWorkflow(s.ctx, "race")
			ctx, it := slogwf.StartIteration(ctx)
			ctx, ia := slogwf.StartInteraction(ctx, "a")
			ctx, act := slogwf.StartAction(ctx, "tool")
			sc := scopes{wf, it, ia, act}
			var args []any
			if tt.named {
				ctx, args = s.ctx, []any{slogwf.WorkflowID(wf.ID()), slogwf.InteractionID(ia.ID())}
			}
			s.h.LogRacingEnd(ctx, func() { tt.end(sc) }, "raced", args...)
			s.log.InfoContext(ctx, "after", args...)
			wf.End()
			require.NoError(t, s.h.Close())

			want := tt.want(sc)
			paths := map[string]string{"raced": tt.path, "after": cmp.Or(tt.afterPath, tt.path)}
			for msg, path := range paths {
				line := s.consoleLine(t, msg)
				assert.True(t, strings.HasPrefix(line, "INF "+path+msg), line)
				assert.True(t, strings.HasSuffix(line, " late=true"), line)
				assert.Equal(t, want, s.journalPlace(t, msg), msg)
				assert.Equal(t, want, treePlace(t, s.tree(t, wf), msg), msg)
			}
			live, err := os.ReadFile(s.h.TreeFile(wf))
			require.NoError(t, err)
			assert.Equal(t, string(buildTree(t, s.dir, wf.ID())), string(live))
			if tt.open {
				assertExportedAsReplayed(t, rec.byID(t), s.dir, wf)
			}
		})
	}
}

// Records logged from many goroutines while their scopes end come after
// the end of their scope, or of one above it, in the journal only late.
func TestNoRecordFollowsTheEndOfItsScopeInTheJournalButALateOne(t *testing.T) {
	rounds := 20
	if raceDetector {
		rounds = 5
	}
	for range rounds {
		s := newSetup(t, &slogwf.Options{Console: io.Discard})
		ctx, wf := slogwf.StartWorkflow(s.ctx, "race")
		ctx, it := slogwf.StartIteration(ctx)
		var wg sync.WaitGroup
		var ias []*slogwf.Scope
		for a := range 4 {
			ctx, ia := slogwf.StartInteraction(ctx, fmt.Sprint(a))
			ctx, _ = slogwf.StartAction(ctx, "tool")
			ias = append(ias, ia)
			wg.Go(func() {
				for i := range 200 {
					s.log.InfoContext(ctx, "record", "i", i)
				}
			})
		}
		for _, ia := range ias {
			ia.End()
		}
		it.End()
		wf.End()
		wg.Wait()
		require.NoError(t, s.h.Close())

		parent, ended := map[string]string{}, map[string]bool{}
		for _, line := range journalLines(t, s.dir) {
			e, err := tree.Decode([]byte(line))
			require.NoError(t, err)
			switch e.Type {
			case tree.Start:
				parent[e.ID] = e.Parent
			case tree.End:
				ended[e.ID] = true
			case tree.Record:
				for id := e.Scope; id != "" && !e.Late; id = parent[id] {
					require.False(t, ended[id], "a record of %s after the end of %s, not late", e.Scope, id)
				}
			}
		}
		live, err := os.ReadFile(s.h.TreeFile(wf))
		require.NoError(t, err)
		require.Equal(t, string(buildTree(t, s.dir, wf.ID())), string(live))
	}
}

// In a child process, Close ends the scopes that started there as
// incomplete and the workflow's flow with them, at once: a record logged
// meanwhile comes before those ends in the journal, or after them only
// late, or reaches the console alone, as one logged after Close.
func TestARecordRacingTheCloseOfAChildProcessNeverFollowsItsScopesEnd(t *testing.T) {
	parent := newSetup(t, &slogwf.Options{Console: io.Discard})
	_, wf := slogwf.StartWorkflow(parent.ctx, "parent")
	t.Setenv(slogwf.EnvParent, wf.ID()+"/"+wf.ID())
	rounds := 200
	if raceDetector {
		rounds = 50
	}
	for range rounds {
		s := newSetup(t, &slogwf.Options{Console: io.Discard})
		ctx, _ := slogwf.StartInteraction(slogwf.ContextFromEnv(s.ctx), "child")
		var wg sync.WaitGroup
		started := make(chan struct{})
		wg.Go(func() {
			close(started)
			for i := range 2000 {
				s.log.InfoContext(ctx, "record", "i", i)
			}
		})
		<-started
		require.NoError(t, s.h.Close())
		wg.Wait()

		ended := map[string]bool{}
		for _, line := range journalLines(t, s.dir) {
			e, err := tree.Decode([]byte(line))
			require.NoError(t, err)
			switch e.Type {
			case tree.End:
				ended[e.ID] = true
			case tree.Record:
				require.False(t, ended[e.Scope] && !e.Late, "a record of %s after its end, not late", e.Scope)
			}
		}
	}
}
