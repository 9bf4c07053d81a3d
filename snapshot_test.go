package slogwf

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf/internal/tree"
)

// Snapshots are paced per process: 50 running workflows whose trees take
// 20 ms each to write, all changing all the time, take 1/20 of the time,
// on a fake clock; paced per workflow, once a second each, they took all
// of it.
func TestSnapshotsOfManyWorkflowsTakeABoundedShareOfTheTime(t *testing.T) {
	const (
		workflows = 50
		cost      = 20 * time.Millisecond
		interval  = time.Second
		run       = 100 * time.Second
	)
	var p pacer
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	now := start
	for range workflows {
		p.add(&flow{queuedAt: -1}, now.Add(interval))
	}
	var busy time.Duration
	snapshots := map[*flow]int{}
	for now.Before(start.Add(run)) {
		f, wait := p.take(now)
		if f == nil {
			require.Positive(t, wait)
			now = now.Add(wait)
			continue
		}
		began := now
		now = now.Add(cost)
		busy += cost
		p.done(began, now)
		snapshots[f]++
		p.add(f, began.Add(interval)) // it changed meanwhile
	}
	elapsed := now.Sub(start)
	assert.LessOrEqual(t, busy, elapsed/share+cost, "%v of %v writing snapshots", busy, elapsed)
	assert.Len(t, snapshots, workflows, "every workflow gets its turn")
	for f, n := range snapshots {
		assert.InDelta(t, float64(busy/cost)/workflows, n, 1, "in turn: %p", f)
	}
	t.Logf("%v of %v writing snapshots (%d each), where once a second each would be %v", busy, elapsed, int(busy/cost)/workflows, workflows*cost*time.Duration(run/interval))
}

// A snapshot is due an interval after the workflow's last, and no sooner:
// a single workflow whose tree is quick to write is refreshed every
// interval.
func TestASnapshotWaitsForItsInterval(t *testing.T) {
	var p pacer
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	f := &flow{queuedAt: -1}
	p.add(f, now.Add(time.Second))
	got, wait := p.take(now)
	assert.Nil(t, got)
	assert.Equal(t, time.Second, wait)
	got, _ = p.take(now.Add(time.Second))
	assert.Equal(t, f, got)
	p.done(now.Add(time.Second), now.Add(time.Second+time.Millisecond))
	p.add(f, now.Add(2*time.Second))
	got, _ = p.take(now.Add(2 * time.Second))
	assert.Equal(t, f, got, "1 ms of writing a second is within the budget")
}

// slowFile holds the write of a line holding "slow" until release closes.
type slowFile struct {
	journalFile
	entered, release chan struct{}
}

func (f slowFile) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("slow")) {
		close(f.entered)
		<-f.release
	}
	return f.journalFile.Write(p)
}

// A snapshot taken while a record's line is being written waits for that
// write: a tree file holds no record that its journal does not.
func TestASnapshotHoldsNoRecordItsJournalLacks(t *testing.T) {
	dir := t.TempDir()
	h, err := New(&Options{Dir: dir, Console: io.Discard, SnapshotInterval: time.Hour})
	require.NoError(t, err)
	l := slog.New(h)
	ctx, wf := StartWorkflow(ContextWithLogger(context.Background(), l), "snap")
	sf := slowFile{entered: make(chan struct{}), release: make(chan struct{})}
	j := h.sink.journal
	j.mu.Lock()
	sf.journalFile = j.file
	j.file = sf
	j.mu.Unlock()
	logged := make(chan struct{})
	go func() { l.InfoContext(ctx, "slow"); close(logged) }()
	<-sf.entered // the line is being written
	snapped := make(chan struct{})
	go func() { h.sink.flow(wf.ID()).snapshot(); close(snapped) }()
	time.Sleep(20 * time.Millisecond) // time for a snapshot that would not wait
	treeFile := filepath.Join(dir, tree.TreeFileName("snap", wf.ID()))
	data, _ := os.ReadFile(treeFile)
	assert.NotContains(t, string(data), `"msg":"slow"`, "a tree file before its journal has the line")
	close(sf.release)
	<-logged
	<-snapped
	data, err = os.ReadFile(treeFile)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"msg":"slow"`)
	wf.End()
	require.NoError(t, h.Close())
}
