//go:build growth

package slogwf_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slogwf/slogwf"
	"github.com/slogwf/slogwf/internal/tree"
)

// The linear-growth benchmarks take minutes, so they are left out of
// `go test -bench .`; scripts/bench.sh runs them with -tags growth.

// BenchmarkGrowth shows that what a workflow costs grows linearly with its
// records: rebuilding its tree file from its journal as `slogwf build`
// does (build), writing its final tree at End (final), and logging it with
// live snapshots every 10ms (live, per record, up to its End).
func BenchmarkGrowth(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint("final/records=", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				h, dir := growthHandler(b, time.Second)
				wf := logWorkflow(h, n, 100)
				b.StartTimer()
				wf.End()
				h.TreeFile(wf) // once its final tree is written
				b.StopTimer()
				closeGrowth(b, h, dir)
				b.StartTimer()
			}
		})
		b.Run(fmt.Sprint("build/records=", n), func(b *testing.B) {
			h, dir := growthHandler(b, time.Second)
			logWorkflow(h, n, 100).End()
			paths, err := filepath.Glob(filepath.Join(dir, tree.JournalDir, "*.jsonl"))
			if err != nil || len(paths) == 0 {
				b.Fatal("want journals: ", paths, err)
			}
			for b.Loop() {
				bld := tree.NewBuilder()
				for _, p := range paths {
					f, err := os.Open(p)
					if err != nil {
						b.Fatal(err)
					}
					if err := bld.ReadJournal(f, p, func(err error) { b.Fatal(err) }); err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
				for _, id := range bld.Workflows() {
					if err := os.WriteFile(filepath.Join(dir, bld.FileName(id)), bld.JSON(id), 0o600); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			closeGrowth(b, h, dir)
		})
	}
	for _, n := range []int{20_000, 200_000} {
		b.Run(fmt.Sprint("live/records=", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				h, dir := growthHandler(b, 10*time.Millisecond)
				b.StartTimer()
				wf := logWorkflow(h, n, 100)
				b.StopTimer()
				wf.End() // its final tree: final, above
				closeGrowth(b, h, dir)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
		})
	}
}

func growthHandler(b *testing.B, interval time.Duration) (*slogwf.Handler, string) {
	dir, err := os.MkdirTemp("", "slogwf-growth")
	if err != nil {
		b.Fatal(err)
	}
	h, err := slogwf.New(&slogwf.Options{Console: io.Discard, Color: slogwf.ColorAlways, Dir: dir, SnapshotInterval: interval})
	if err != nil {
		b.Fatal(err)
	}
	return h, dir
}

func closeGrowth(b *testing.B, h *slogwf.Handler, dir string) {
	if err := h.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
}
