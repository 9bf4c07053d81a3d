package slogwf

import (
	"bytes"
	"io"
	"path"
	"sync"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
)

// The tree of a workflow passed on to child processes (Environ) takes in
// what they append to their own journals in Dir/journal: at each snapshot
// and before its final tree, so that its tree is the one `slogwf build`
// makes of all the journals. Dir/journal holds few files (segments of
// tens of MiB, which retention removes), so a look lists it, and reads
// only what was added since the last look, of the journals created since
// a workflow was first passed on: a child starts after its parent passed
// it the workflow.

// others are the journals of other processes, as far as they were read.
type others struct {
	mu    sync.Mutex
	since time.Time         // journals created before are not read
	read  map[string]readTo // journal → how far it was read
	lines *tree.LineReader  // reads them, a chunk at a time
}

// readTo is how far a journal was read: to the end of the lines taken in,
// and to where the last look stopped: its first NUL (see tree.LineReader)
// or its end.
type readTo struct{ lines, stop int64 }

// look takes into the live workflows of this process the lines that
// other processes added to their journals since the last look, for a
// workflow passed on at spawned. Partial last lines wait for the next
// look, but for those of final, a workflow whose final tree is next:
// they count as dropped, as for build.
//
// A child's journal may be live: a look takes its whole lines up to its
// first NUL, and reads it again only once a byte was copied there. A
// crashed child's journal is read no further than its first NUL.
func (o *others) look(s *sink, final *flow, spawned time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.read == nil {
		o.read = map[string]readTo{}
	}
	if o.since.IsZero() || spawned.Before(o.since) {
		o.since = spawned
	}
	seen := map[string]bool{}
	o.each(s, o.since, func(name string, file io.ReaderAt) {
		seen[name] = true
		at, ok := o.read[name]
		if ok && final == nil && !tree.Copied(file, at.stop) {
			return // nothing copied where the last look stopped
		}
		if o.lines == nil {
			o.lines = tree.NewLiveLineReader(nil, 64<<10)
		}
		lr := o.lines
		from := at.lines
		lr.Reset(io.NewSectionReader(file, from, 1<<62))
		for {
			line, err := lr.Next()
			if err != nil {
				if len(line) > 0 && final != nil && tree.WorkflowOf(line) == final.id {
					final.mu.Lock()
					final.tree.Drop(1)
					final.mu.Unlock()
				}
				at.stop = from + lr.Offset() + int64(len(line))
				break
			}
			at.lines = from + lr.Offset()
			// A workflow that ended takes them until its final tree is
			// written.
			wf := tree.WorkflowOf(line)
			f := s.flow(wf)
			if f == nil {
				f = s.recent.get(wf)
			}
			if f != nil && f.owner {
				f.merge(line)
			}
		}
		o.read[name] = at
	})
	for name := range o.read {
		if !seen[name] {
			delete(o.read, name) // removed
		}
	}
}

// readAll adds to b the lines of other processes' journals created since
// spawned, whole, up to their first NUL as look reads them: for the
// rebuild of a workflow passed on then.
func (o *others) readAll(s *sink, b *tree.Builder, spawned time.Time) {
	o.each(s, spawned, func(name string, file io.ReaderAt) {
		_ = b.ReadLiveJournal(io.NewSectionReader(file, 0, 1<<62), name, func(error) {})
	})
}

// each calls f with each journal of another process created since since,
// open: each file named as a journal (see tree.IsJournal), not any other
// that shares the directory.
func (o *others) each(s *sink, since time.Time, f func(name string, file io.ReaderAt)) {
	d := s.dir.current()
	dir, err := d.open(tree.JournalDir)
	if err != nil {
		return
	}
	entries, _ := dir.ReadDir(-1)
	dir.Close()
	for _, e := range entries {
		name := path.Join(tree.JournalDir, e.Name())
		if !e.Type().IsRegular() || !tree.IsJournal(name) || s.journal.own(name) {
			continue
		}
		if t, ok := tree.JournalTime(name); ok && t.Before(since.Add(-2*time.Second)) {
			continue // older than the workflow passed on: no child's
		}
		file, err := d.open(name)
		if err != nil {
			f(name, bytes.NewReader(nil)) // gone, or not readable for now: empty
			continue
		}
		f(name, file)
		file.Close()
	}
}

// merge applies a line of another process's journal to the tree: the tree
// file shows it, the exporter does not take it (see tree.Tree.Merge).
func (f *flow) merge(line []byte) {
	e, err := tree.Decode(line)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.tree == nil:
	case err != nil:
		f.tree.Drop(1)
	case f.tree.Merge(e) && e.Type == tree.Start && !f.ended:
		f.index(e.ID)
	}
}
