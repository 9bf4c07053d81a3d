//go:build !race

package slogwf_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slogwf/slogwf"
)

// A record costs slogwf's hot paths no more allocations than what a user
// would run instead makes: slog's JSON handler outside a workflow, and
// inside one behind the JSON console or NewHandler; a fan-out to a console
// and a file inside one (the tree's blocks, taken every few hundred
// records, aside). A scope, which prints two lines and
// writes two, as a user logs its start and end, costs at most seven more:
// the Scope, its ID, its texts, its node and the time of its end.
func TestHotPathsAllocateAsSlogDoes(t *testing.T) {
	ctx := context.Background()
	base := slog.New(slog.NewJSONHandler(io.Discard, nil))
	slogJSON := testing.AllocsPerRun(1000, func() { logCall(ctx, base) })
	slogJSONProse := testing.AllocsPerRun(1000, func() { proseCall(ctx, base) })
	plain := fanout(t)
	fanout := testing.AllocsPerRun(1000, func() { logCall(ctx, plain) })

	h, err := slogwf.New(&slogwf.Options{Console: io.Discard, Color: slogwf.ColorAlways, Dir: t.TempDir()})
	require.NoError(t, err)
	defer h.Close()
	l := slog.New(h)
	inScope := benchInteraction(h)
	with := l.With("user", "ana", "run", 7, "region", "eu-west")
	ph := slogwf.NewHandler(slog.NewJSONHandler(io.Discard, nil), &slogwf.Options{Dir: t.TempDir()})
	defer ph.Close()
	passthrough := slog.New(ph)
	inPassthrough := benchInteraction(ph)
	hj, err := slogwf.New(&slogwf.Options{Console: io.Discard, Format: slogwf.FormatJSON, Dir: t.TempDir()})
	require.NoError(t, err)
	defer hj.Close()
	inJSON, lj := benchInteraction(hj), slog.New(hj)
	// No snapshot is due while the scopes are counted.
	hs, err := slogwf.New(&slogwf.Options{Console: io.Discard, Color: slogwf.ColorAlways, Dir: t.TempDir(), SnapshotInterval: time.Hour})
	require.NoError(t, err)
	defer hs.Close()
	iteration, _ := benchIteration(hs)

	for _, c := range []struct {
		name string
		log  func()
		max  float64
	}{
		{"passthrough", func() { logCall(ctx, passthrough) }, slogJSON},
		{"passthrough of prose", func() { proseCall(ctx, passthrough) }, slogJSONProse},
		{"in scope", func() { logCall(inScope, l) }, fanout},
		{"in scope, the JSON console", func() { logCall(inJSON, lj) }, slogJSON},
		{"in scope, passed on by NewHandler", func() { logCall(inPassthrough, passthrough) }, slogJSON},
		{"in scope with attrs", func() { logCall(inScope, with) }, fanout},
		{"scope", func() { _, ia := slogwf.StartInteraction(iteration, "worker"); ia.End() }, fanout + 7},
		{"disabled", func() { l.DebugContext(inScope, benchMsg, "attempt", 3) }, 0},
	} {
		assert.LessOrEqual(t, testing.AllocsPerRun(1000, c.log), c.max, c.name)
	}
}
