package main

import (
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/retention"
	"github.com/slogwf/slogwf/internal/tree"
)

// runningIn returns a func that reports whether a process that wrote a
// line of workflow id, in the journals that b read, writes now: it holds
// the newest of them locked (see retention.Live). Unlike ls, build does
// not take a process that wrote in the last minute for live: build is
// what is run after a crash, and the lock tells. Where files are not
// locked, that minute is all there is.
func runningIn(b *tree.Builder) func(id string) bool {
	segments := map[string][]retention.Segment{} // by process
	seen, dirs := map[string]bool{}, map[string]bool{}
	note := func(journal string) {
		if seen[journal] {
			return
		}
		seen[journal] = true
		if st, err := os.Stat(journal); err == nil {
			p := retention.Writer(journal)
			segments[p] = append(segments[p], retention.Segment{Name: journal, Mod: st.ModTime()})
		}
	}
	for _, id := range b.Workflows() {
		for _, journal := range b.Journals(id) {
			note(journal)
			// Its process's newer segments, which build may not have
			// been named, tell whether it still writes.
			if _, layout := tree.JournalProcess(journal); !layout {
				continue
			}
			if dir := filepath.Dir(journal); !dirs[dir] {
				dirs[dir] = true
				others, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
				for _, other := range others {
					if tree.IsJournal(other) { // not another program's file there
						note(other)
					}
				}
			}
		}
	}
	now := time.Now()
	told := map[string]bool{} // by process
	live := func(journal string) bool {
		p := retention.Writer(journal)
		l, ok := told[p]
		if !ok {
			writing, lately := retention.Live(os.Open, segments[p], now)
			l = writing != "" || !flock.Supported && lately
			told[p] = l
		}
		return l
	}
	return func(id string) bool { return slices.ContainsFunc(b.Journals(id), live) }
}
