package slogwf

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// holdingFS is a Dir through which another process (slogwf ls, prune, a
// parent's look) opens the next new journal segment and holds its lock, until
// let go: the segment's writer, whose lockNew gives up after 100 ms,
// writes it unlocked.
type holdingFS struct {
	dirFS
	dir  string
	held []*os.File
}

func (h *holdingFS) openFile(name string, flag int) (journalFile, error) {
	f, err := h.dirFS.openFile(name, flag)
	if err == nil && flag&os.O_EXCL != 0 && tree.IsJournal(name) && h.held == nil {
		if g, err := os.Open(filepath.Join(h.dir, name)); err == nil {
			if ok, _ := flock.TryLock(g); ok {
				h.held = append(h.held, g)
			}
		}
	}
	return f, err
}

func (h *holdingFS) letGo() {
	for _, g := range h.held {
		g.Close()
	}
}

// A child whose new segment another process held locked while it began
// it, so that it writes the segment unlocked, loses no line to a look that
// read the segment to a whole line: its lines after that look are still
// taken in.
func TestAChildWhoseSegmentAnotherHeldLockedLosesNoLineToAnEarlierLook(t *testing.T) {
	p := newSpawner(t)
	ctx, wf := StartWorkflow(p.ctx, "held")
	child, cctx := p.child(ctx, Options{})
	d := child.sink.dir
	hold := &holdingFS{dirFS: d.current(), dir: p.dir}
	d.mu.Lock()
	d.fs = hold
	d.mu.Unlock()
	l := slog.New(child)

	l.InfoContext(cctx, "in the first segment")
	j := child.sink.journal
	j.mu.Lock()
	j.rotate() // as when the segment reaches its size
	j.mu.Unlock()
	require.Len(t, j.segments, 2, "the child began a second segment")
	require.Len(t, hold.held, 1, "its lock held by another")
	hold.letGo() // after lockNew gave up

	l.InfoContext(cctx, "first")
	p.look(wf)
	l.InfoContext(cctx, "second")
	p.look(wf)
	require.NoError(t, child.Close())
	wf.End()
	p.h.WaitTrees()
	assert.Equal(t, []string{"in the first segment", "first", "second"}, treeMsgs(t, p.h, wf))
}
