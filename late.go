package slogwf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
)

// A workflow that ended keeps nothing here but a small flow without its
// tree or context: the last recentMax of them, for the records that name
// one by its ID after its end, and the one a Scope still holds. A late
// record goes to the journal before Handle returns, and to the tree file
// when the tree is rebuilt from the journal: a SnapshotInterval after the
// first late record, one workflow at a time, and at the latest at Close.
// Once retention removed the tree file or a journal segment of the
// workflow, the late record stays in the journal alone: its tree is not
// made again, nor rebuilt from what is left.

// recentMax is how many ended workflows a record can name by its ID: a
// record naming one that ended before them reaches the console alone.
const recentMax = 1024

// recent holds the workflows that ended last.
type recent struct {
	mu   sync.Mutex
	byID map[string]*flow
	ring [recentMax]*flow
	next int
}

func (r *recent) add(f *flow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string]*flow{}
	}
	if old := r.ring[r.next]; old != nil && r.byID[old.id] == old {
		delete(r.byID, old.id)
	}
	r.ring[r.next] = f
	r.byID[f.id] = f
	r.next = (r.next + 1) % recentMax
}

func (r *recent) get(id string) *flow {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// lateLocked adds a record logged after the workflow ended: to the
// journal, and to the tree, if its final tree is yet to be written, or
// else to a rebuild. It does nothing for other events, in another
// process's workflow, or once the handler is closing. f.mu is held.
func (f *flow) lateLocked(line []byte, e *tree.Event) {
	s := f.sink
	if e.Type != tree.Record || !f.owner {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	at, ok := f.write(line, false)
	switch {
	case !ok:
	case len(f.lates) < maxLates && !f.lateTail:
		f.lates = append(f.lates, at)
	default:
		f.lates, f.lateTail = nil, true
	}
	if f.tree != nil {
		f.tree.Apply(e)
	} else if !f.late {
		f.late = true
		s.rebuilds.add(f)
	}
}

// maxLates is how many late lines of a workflow a rebuild reads one by
// one; after more, it reads all the journal after the workflow's end.
const maxLates = 16

// rebuild writes the tree of a workflow that got late records after its
// final tree was written: rebuilt from its lines in the journal (from its
// first to its last before it ended, then its late ones), and from the
// journals of other processes if it was passed on, as `slogwf build`
// rebuilds it. Lines the journal missed count in its loss.
func (f *flow) rebuild() {
	s := f.sink
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	defer func() { // retention keeps its files until it is written
		f.mu.Lock()
		f.rebuilding = false
		f.mu.Unlock()
	}()
	f.mu.Lock()
	f.late, f.rebuilding = false, true
	parts := f.extents()
	spawned, gaps, pending := f.spawned, f.gaps, f.unwritten
	f.mu.Unlock()

	// A tree file written, then gone, retention removed; one that could
	// not be written the rebuild writes.
	if f.onDisk {
		if _, err := s.dir.current().lstat(tree.TreeFileName(f.name, f.id)); errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
	b := tree.NewBuilder()
	b.Workflow = f.id
	for _, x := range parts {
		err := s.readExtent(b, x)
		if errors.Is(err, errGone) || errors.Is(err, fs.ErrNotExist) {
			return // retention removed it: the tree file stays as it is
		}
		if err != nil {
			s.faults.report("late record", fmt.Errorf("slogwf: late records of workflow %s are not in its tree: %w", f.id, err))
			return
		}
	}
	if !spawned.IsZero() {
		s.others.readAll(s, b, spawned)
	}
	t := b.Tree(f.id)
	if t == nil {
		return
	}
	t.Lose(tree.Loss{Unwritten: pending})
	if gaps > 0 {
		s.faults.report("late record after a journal fault", fmt.Errorf(
			"slogwf: late records rebuilt the tree of workflow %s from a journal that missed %d of its lines: its loss counts them", f.id, gaps))
	}
	s.writeTree(f, t, true)
}

// extents returns the parts of the journal of this process that hold the
// lines of f, which ended; f.mu is held.
func (f *flow) extents() []extent {
	var parts []extent
	add := func(from, until position) {
		for seg := from.seg; seg <= until.seg; seg++ {
			x := extent{seg, 0, 1 << 62}
			if seg == from.seg {
				x.off = from.off
			}
			if seg == until.seg {
				x.end = until.off
			}
			parts = append(parts, x)
		}
	}
	add(f.from, f.until)
	if f.lateTail {
		add(f.until, f.sink.journal.at())
	}
	return append(parts, f.lates...)
}

// errGone is the error of a segment of this process that is gone: retention
// removed it, or it went with a Dir that moved.
var errGone = errors.New("its journal segment is gone")

// readExtent adds the lines of x to b.
func (s *sink) readExtent(b *tree.Builder, x extent) error {
	name, size, ok := s.journal.segment(x.seg)
	if !ok {
		return errGone
	}
	file, err := s.dir.current().open(name)
	if err != nil {
		return err
	}
	defer file.Close()
	end := min(x.end, size) // the lines written whole; more may be on their way
	return b.ReadJournal(io.NewSectionReader(file, x.off, max(0, end-x.off)), name, func(error) {})
}

// rebuilds rebuilds the trees of workflows that got late records, one at
// a time, a delay after the first is queued: more late records may come.
type rebuilds struct {
	delay time.Duration

	mu      sync.Mutex
	queue   []*flow
	timer   *time.Timer
	stopped bool
	idle    sync.WaitGroup // the timer's goroutine
}

// add queues a rebuild of f's tree.
func (r *rebuilds) add(f *flow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = append(r.queue, f)
	if r.timer == nil && !r.stopped {
		r.idle.Add(1)
		r.timer = time.AfterFunc(r.delay, func() {
			defer r.idle.Done()
			r.drain()
		})
	}
}

// drain rebuilds the queued trees, one at a time.
func (r *rebuilds) drain() {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.timer = nil
			r.mu.Unlock()
			return
		}
		f := popFront(&r.queue)
		r.mu.Unlock()
		f.rebuild()
	}
}

// stop rebuilds what is queued, and waits for a rebuild under way.
func (r *rebuilds) stop() {
	r.mu.Lock()
	r.stopped = true
	if r.timer != nil && r.timer.Stop() {
		r.idle.Done()
	}
	r.mu.Unlock()
	r.drain()
	r.idle.Wait()
}
