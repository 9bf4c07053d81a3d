package slogwf

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
