package slogwf

import (
	"context"
	"log/slog"
	"time"

	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/tree"
)

// WaitTrees waits until the final trees of the workflows that ended are
// written, and the trees that late records wait for are rebuilt.
func (h *Handler) WaitTrees() {
	h.sink.owners.Wait()
	h.sink.rebuilds.drain(false)
}

// Snapshot writes the tree file of the running workflow wf now, taking in
// what child processes appended to their journals, as a snapshot due
// then would.
func (h *Handler) Snapshot(wf *Scope) {
	if f := h.sink.flow(wf.ID()); f != nil {
		h.sink.snaps.remove(f)
		f.snapshot()
	}
}

// LogRacingEnd logs a record of msg and args in ctx, as Handle does, but
// for end, called once the record is routed and before it is added: the
// record loses the race with the End that end calls.
func (h *Handler) LogRacingEnd(ctx context.Context, end func(), msg string, args ...any) {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0)
	r.Add(args...)
	var m meta
	var lost tree.Loss
	h.clean.record(&r, &m, &lost, h.console)
	sc, _ := fromContext(ctx)
	rt := h.route(sc, &m)
	end()
	h.add(&rt, &r, &m, lost)
	_ = h.console.HandleAt(ctx, &r, rt.path, console.ScopeEvent{})
}

// KeptTrees returns how many of the workflows wfs, which ended, keep a
// tree for their late records now.
func (h *Handler) KeptTrees(wfs ...*Scope) int {
	n := 0
	for _, wf := range wfs {
		wf.flow.mu.Lock()
		defer wf.flow.mu.Unlock()
		if wf.flow.kept != nil {
			n++
		}
	}
	return n
}

// SetClockBack sets the clock the iterations take their starts from back
// by d, until the test ends.
func SetClockBack(t interface{ Cleanup(func()) }, d time.Duration) {
	clock = func() time.Time { return time.Now().Add(-d) }
	t.Cleanup(func() { clock = time.Now })
}
