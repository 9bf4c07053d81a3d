package slogwf_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// Goroutines that log at once, each through many loggers (With, WithGroup
// and both) in many scopes of many workflows, while others start and end
// scopes, get on every JSON line the IDs of the scope it was logged in, and
// each key once.
func TestJSONLinesOfGoroutinesLoggingAtOnceNameTheScopeEachWasLoggedIn(t *testing.T) {
	goroutines, records := 8, 300
	if raceDetector {
		records = 60
	}
	for _, c := range []struct {
		name string
		new  func(t *testing.T, w io.Writer) *slogwf.Handler
	}{
		{"the JSON console", func(t *testing.T, w io.Writer) *slogwf.Handler {
			h, err := slogwf.New(&slogwf.Options{Console: w, Format: slogwf.FormatJSON, Dir: t.TempDir()})
			require.NoError(t, err)
			return h
		}},
		{"NewHandler", func(t *testing.T, w io.Writer) *slogwf.Handler {
			return slogwf.NewHandler(slog.NewJSONHandler(w, nil), &slogwf.Options{Dir: t.TempDir()})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf lockedBuffer
			h := c.new(t, &buf)
			t.Cleanup(func() { _ = h.Close() })
			base := slog.New(h)
			loggers := []*slog.Logger{base, base.With("a", 1), base.WithGroup("g"), base.WithGroup("g").With("b", 2),
				base.With("c", 3).WithGroup("h"), base.With("d", 4)}
			ctx := slogwf.ContextWithLogger(t.Context(), base)
			var scopes []scoped
			for w := range 4 {
				var wf, it, ia, sub, act scoped
				wf.ctx, wf.Scope = slogwf.StartWorkflow(ctx, fmt.Sprint("wf", w))
				it.ctx, it.Scope = slogwf.StartIteration(wf.ctx)
				ia.ctx, ia.Scope = slogwf.StartInteraction(it.ctx, "planner")
				sub.ctx, sub.Scope = slogwf.StartInteraction(ia.ctx, "critic")
				act.ctx, act.Scope = slogwf.StartAction(sub.ctx, "search")
				scopes = append(scopes, wf, it, ia, sub, act)
			}
			want := func(s *slogwf.Scope, wf string) map[string]string {
				m := map[string]string{slogwf.WorkflowIDKey: wf}
				if s.Kind() != slogwf.KindWorkflow {
					m[s.Kind().String()+"_id"] = s.ID()
				}
				return m
			}
			wfOf := func(i int) string { return scopes[i-i%5].ID() }
			var started sync.Map // name of an action started by a goroutine → its IDs
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for n := range records {
						i := (g*7 + n*3) % len(scopes)
						loggers[(g+n)%len(loggers)].InfoContext(scopes[i].ctx, fmt.Sprint("s", i), "n", n)
						if n%10 == g%10 {
							name := fmt.Sprintf("x%d-%d", g, n)
							_, a := slogwf.StartAction(scopes[i].ctx, name)
							started.Store(name, want(a, wfOf(i)))
							a.End()
						}
					}
				})
			}
			wg.Wait()
			checked := 0
			for _, line := range buf.Lines() {
				ids := lineIDs(t, slogwf.FormatJSON, line)
				var l struct{ Msg string }
				require.NoError(t, json.Unmarshal([]byte(line), &l))
				var i int
				if _, err := fmt.Sscanf(l.Msg, "s%d", &i); err == nil {
					assert.Equal(t, want(scopes[i].Scope, wfOf(i)), ids, line)
					checked++
				} else if f := strings.Fields(l.Msg); len(f) == 3 && strings.HasPrefix(f[2], "x") {
					w, ok := started.Load(f[2])
					require.True(t, ok, line)
					assert.Equal(t, w, ids, line)
					checked++
				}
			}
			actions := 0
			started.Range(func(any, any) bool { actions++; return true })
			assert.Equal(t, goroutines*records+2*actions, checked)
		})
	}
}
