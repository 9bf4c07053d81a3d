package slogwf

import (
	"cmp"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"time"

	"github.com/slogwf/slogwf/internal/flock"
	"github.com/slogwf/slogwf/internal/tree"
)

// The tree of a workflow passed on to child processes (Environ) takes in
// what they append to their own journals in Dir/journal: at each snapshot
// and before its final tree, so that its tree is the one `slogwf build`
// makes of all the journals. A look lists Dir/journal, and reads only
// what was added since the last look, of the journals created since the
// earliest of the workflows still looking was first passed on: a child
// starts after its parent passed it the workflow. A journal whose process
// let it go (its lock, see journal.go) and that was read to its end is
// not opened again: a service that runs a short-lived child per workflow
// makes a journal per workflow, which later workflows have no need to
// read.

// others are the journals of other processes, as far as they were read.
type others struct {
	mu      sync.Mutex
	looking map[*flow]time.Time // the workflows passed on, until their final look → when first
	read    map[string]readTo   // journal → how far it was read
	looks   int                 // looks so far
	lines   *tree.LineReader    // reads them, a chunk at a time
	opened  int                 // journals the looks opened, in all: what they cost (tests count it)
}

// readTo is how far a journal was read: to the end of the lines taken in,
// and to where the last look stopped: its first NUL (see tree.LineReader)
// or its end.
type readTo struct {
	lines, stop int64
	done        bool // its process let it go and it was read to its end: nothing comes after
	listed      int  // the last look that found it in Dir/journal
}

// look takes into the live workflows of this process the lines that
// other processes added to their journals since the last look, for f,
// passed on at spawned. Partial last lines wait for the next look, but
// for those of f when final, its last look before its final tree: they
// count as dropped, as for build.
//
// A child's journal may be live: a look takes its whole lines up to its
// first NUL, and reads it again only once a byte was copied there. A
// crashed child's journal is read no further than its first NUL.
func (o *others) look(s *sink, f *flow, spawned time.Time, final bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.read == nil {
		o.read, o.looking = map[string]readTo{}, map[*flow]time.Time{}
	}
	o.looking[f] = spawned
	since := spawned
	for _, t := range o.looking {
		if t.Before(since) {
			since = t
		}
	}
	if final {
		delete(o.looking, f)
	}
	o.looks++
	d, names := o.list(s)
	for _, name := range names {
		at, ok := o.read[name]
		child := childOf(name, since)
		if !ok && !child {
			continue
		}
		if child && !at.done {
			at = o.take(s, d, name, at, ok, f, final)
		}
		at.listed = o.looks
		o.read[name] = at
	}
	for name, at := range o.read {
		if at.listed != o.looks {
			delete(o.read, name) // removed
		}
	}
}

// take reads journal name of d on from at, which an earlier look left
// if seen, and returns how far it read.
func (o *others) take(s *sink, d dirFS, name string, at readTo, seen bool, f *flow, final bool) readTo {
	o.opened++
	file, err := openRegular(d, name)
	if err != nil {
		return at // gone, or not readable for now
	}
	defer file.Close()
	// Its lock is tried before it is read: once free, what is read is all
	// its process wrote. A segment is locked before its first line.
	over := false
	if flock.Supported {
		over, _ = flock.TryLock(file)
	}
	if !seen || final || tree.Copied(file, at.stop) { // else nothing was copied where the last look stopped
		at = o.readOn(s, file, at, f, final)
	}
	at.done = over && at.lines > 0 && at.stop == at.lines
	return at
}

// readOn reads file on from at, and returns how far it read.
func (o *others) readOn(s *sink, file io.ReaderAt, at readTo, f *flow, final bool) readTo {
	if o.lines == nil {
		o.lines = tree.NewLiveLineReader(nil, 64<<10)
	}
	lr := o.lines
	from := at.lines
	lr.Reset(io.NewSectionReader(file, from, 1<<62))
	for {
		line, err := lr.Next()
		if err != nil {
			if len(line) > 0 && final && tree.WorkflowOf(line) == f.id {
				f.mu.Lock()
				f.tree.Drop(1)
				f.mu.Unlock()
			}
			at.stop = from + lr.Offset() + int64(len(line))
			return at
		}
		at.lines = from + lr.Offset()
		// A workflow that ended takes them until its final tree is
		// written.
		wf := tree.WorkflowOf(line)
		to := s.flow(wf)
		if to == nil {
			to = s.recent.get(wf)
		}
		if to != nil && to.owner {
			to.merge(line)
		}
	}
}

// readAll adds to b the lines of other processes' journals created since
// spawned, whole, up to their first NUL as look reads them: for the
// rebuild of a workflow passed on then.
func (o *others) readAll(s *sink, b *tree.Builder, spawned time.Time) {
	d, names := o.list(s)
	for _, name := range names {
		if !childOf(name, spawned) {
			continue
		}
		file, err := openRegular(d, name)
		if err != nil {
			continue // gone, or not readable for now: empty
		}
		_ = b.ReadLiveJournal(io.NewSectionReader(file, 0, 1<<62), name, func(error) {})
		file.Close()
	}
}

// list returns the directory now at Dir's path, and the names of the
// journals of other processes in it, unchecked: each file named as a
// journal (see tree.IsJournal), not any other that shares the directory,
// but maybe not a regular file, which openRegular tells of the few that
// are read. (A listing with types makes an lstat(2) of each name where the
// file system does not say: every journal, every look.)
func (o *others) list(s *sink) (dirFS, []string) {
	d := s.dir.current()
	dir, err := d.open(tree.JournalDir)
	if err != nil {
		return d, nil
	}
	names, _ := dir.Readdirnames(-1)
	dir.Close()
	kept := names[:0]
	for _, name := range names {
		name = path.Join(tree.JournalDir, name)
		if tree.IsJournal(name) && !s.journal.own(name) {
			kept = append(kept, name)
		}
	}
	return d, kept
}

// openRegular opens journal name of d if it is a regular file: a link planted
// there is not followed.
func openRegular(d dirFS, name string) (*os.File, error) {
	if fi, err := d.lstat(name); err != nil || !fi.Mode().IsRegular() {
		return nil, cmp.Or(err, fs.ErrInvalid)
	}
	return d.open(name)
}

// childOf reports whether journal name may be of a child process of a
// workflow passed on at since: it was not created before.
func childOf(name string, since time.Time) bool {
	t, ok := tree.JournalTime(name)
	return !ok || !t.Before(since.Add(-2*time.Second))
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
