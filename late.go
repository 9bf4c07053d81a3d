package slogwf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
)

// A workflow that ended keeps nothing here but a small flow without its
// tree (but see below) or context: the last recentMax of them, for the
// records that name one by its ID after its end, and the one a Scope
// still holds. A late record goes to the journal before Handle returns,
// and to the tree file when the tree is rebuilt from the journal: a
// SnapshotInterval after the first late record, one workflow at a time,
// and at the latest at Close.
// Once retention removed the tree file or a journal segment of the
// workflow, the late record stays in the journal alone: its tree is not
// made again, nor rebuilt from what is left.
//
// A workflow with more than maxLates late lines keeps the tree its rebuild
// made, and its next late records go to that tree as they come: its next
// rebuilds write it, and read no journal, which otherwise they would read
// all of since the workflow ended (a poller that outlives its request logs
// late records for as long as the service runs). Such trees are kept for
// the keptMax workflows last rebuilt, and as long as they hold keptBytes
// in all; a workflow past these rebuilds its tree from the journal again,
// and keeps it in place of the one rebuilt least recently.

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
// process's workflow, or once the handler is closing (but say so once).
// f.mu is held.
func (f *flow) lateLocked(line []byte, e *tree.Event) {
	s := f.sink
	if e.Type != tree.Record || !f.owner {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.afterClose(f.name, f.id)
		return
	}
	at, ok := f.write(line, false)
	switch {
	case !ok:
		f.kept = nil // the journal missed it: a rebuild counts it lost
	case len(f.lates) < maxLates && !f.lateTail:
		f.lates = append(f.lates, at)
	default:
		f.lates, f.lateTail = nil, true
	}
	if ok {
		f.lateEnd = position{at.seg, at.end}
	}
	if f.tree != nil {
		f.tree.Apply(e)
		return
	}
	if f.kept != nil {
		f.kept.Apply(e)
		if !s.rebuilds.grew(f, f.kept.Size()) {
			f.kept = nil // the next rebuild reads the journal
		}
	}
	if !f.late {
		f.late = true
		s.rebuilds.add(f)
	}
}

// maxLates is how many late lines of a workflow a rebuild reads one by
// one; after more, it reads all the journal after the workflow's end,
// once: the workflow then keeps its tree (see above).
const maxLates = 16

// keptMax is how many workflows keep the tree of their late records, and
// keptBytes how large those trees are at most, all together: about 8 MiB
// of memory.
const (
	keptMax   = 8
	keptBytes = 8 << 20
)

// rebuild writes the tree of a workflow that got late records after its
// final tree was written: the tree it kept, or else rebuilt from its lines
// in the journal (from its first to its last before it ended, then its
// late ones), and from the journals of other processes if it was passed
// on, as `slogwf build` rebuilds it. Lines the journal missed count in its
// loss.
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
	kept, upTo, lateEnd := f.kept, s.journal.at(), f.lateEnd
	if kept != nil {
		kept = kept.Clone() // more late records may come while it is written
	}
	parts, tail := f.extents(upTo), f.lateTail
	spawned, gaps, pending := f.spawned, f.gaps, f.unwritten
	f.mu.Unlock()

	// A tree file written, then gone, retention removed; one that could
	// not be written the rebuild writes.
	if f.onDisk {
		if _, err := s.dir.current().lstat(tree.TreeFileName(f.name, f.id)); errors.Is(err, fs.ErrNotExist) {
			s.rebuilds.keep(f, 0)
			return
		}
	}
	if kept != nil {
		if !s.journalHolds(f.from, lateEnd) {
			s.rebuilds.keep(f, 0) // retention removed it: the tree file stays as it is
			return
		}
		s.writeTree(f, kept, true)
		s.rebuilds.keep(f, kept.Size())
		return
	}
	b := tree.NewBuilder()
	b.Workflow = f.id
	if !f.read(b, parts) {
		return
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
	// A child process may add to the tree of a workflow it passed on: such
	// a tree is rebuilt from the journals each time.
	if tail && spawned.IsZero() && pending == 0 && s.rebuilds.keep(f, t.Size()) && !f.catchUp(b, upTo, gaps) {
		s.rebuilds.keep(f, 0)
	}
}

// read adds the lines of parts to b, and reports whether it could: a part
// that retention removed leaves the tree file as it is.
func (f *flow) read(b *tree.Builder, parts []extent) bool {
	s := f.sink
	for _, x := range parts {
		err := s.readExtent(b, x)
		if errors.Is(err, errGone) || errors.Is(err, fs.ErrNotExist) {
			return false
		}
		if err != nil {
			s.faults.report("late record", fmt.Errorf("slogwf: late records of workflow %s are not in its tree: %w", f.id, err))
			return false
		}
	}
	return true
}

// catchUp makes the tree b rebuilt from the journal up to upTo f's kept
// tree, and reports whether it did: the late lines written since are added
// first without f.mu, then with it, so that none comes between them and
// the tree. A line the journal missed since (more than gaps) leaves the
// tree to the next rebuild, which counts it lost.
func (f *flow) catchUp(b *tree.Builder, upTo position, gaps int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for try := 0; f.gaps == gaps; try++ {
		if !upTo.before(f.lateEnd) {
			t := b.Tree(f.id)
			if !f.sink.rebuilds.grew(f, t.Size()) {
				return false
			}
			f.kept = t
			return true
		}
		now := f.sink.journal.at()
		parts := span(upTo, now)
		upTo = now
		if try == 0 { // the lines written during the rebuild: many
			f.mu.Unlock()
		}
		ok := f.read(b, parts)
		if try == 0 {
			f.mu.Lock()
		}
		if !ok {
			return false
		}
	}
	return false
}

// drop lets f's tree of late records go.
func (f *flow) drop() {
	f.mu.Lock()
	f.kept = nil
	f.mu.Unlock()
}

// journalHolds reports whether the segments of this process from p to
// end are all still there: retention removes the first of them first in
// another process, which only the file tells.
func (s *sink) journalHolds(p, end position) bool {
	for seg := p.seg + 1; seg <= end.seg; seg++ {
		if _, _, ok := s.journal.segment(seg); !ok {
			return false
		}
	}
	name, _, ok := s.journal.segment(p.seg)
	if !ok {
		return false
	}
	_, err := s.dir.current().lstat(name)
	return err == nil
}

// extents returns the parts of the journal of this process that hold the
// lines of f, which ended, up to now; f.mu is held.
func (f *flow) extents(now position) []extent {
	parts := span(f.from, f.until)
	if f.lateTail {
		parts = append(parts, span(f.until, now)...)
	}
	return append(parts, f.lates...)
}

// span returns the parts of the journal from one position until another.
func span(from, until position) []extent {
	var parts []extent
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
	return parts
}

// before reports whether p comes before q in the journal.
func (p position) before(q position) bool {
	return p.seg < q.seg || p.seg == q.seg && p.off < q.off
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
	kept    []keptTree     // the last rebuilt last
}

// keptTree is a workflow that keeps the tree of its late records, and
// the size of that tree at its last rebuild.
type keptTree struct {
	f    *flow
	size int
	at   time.Time // of its last rebuild
}

// keep notes that f keeps a tree of size bytes after its rebuild, or lets
// it go if 0, and makes the workflows rebuilt least recently let theirs go
// while the trees kept are more than keptMax or keptBytes, first; it
// reports whether f may keep its tree.
func (r *rebuilds) keep(f *flow, size int) bool {
	r.mu.Lock()
	now := time.Now()
	was := len(r.kept)
	r.kept = slices.DeleteFunc(r.kept, func(k keptTree) bool { return k.f == f })
	incumbent := len(r.kept) < was
	var gone []*flow
	total := 0
	for _, k := range r.kept {
		total += k.size
	}
	// A newcomer takes the place of a tree whose workflow logged nothing
	// late for two rebuild delays, not of one whose rebuilds go on: else
	// one workflow more than keptMax makes every rebuild read the journal.
	for size > 0 && !r.stopped && !incumbent && len(r.kept) > 0 && (len(r.kept) >= keptMax || total+size > keptBytes) && now.Sub(r.kept[0].at) > 2*r.delay {
		total -= r.kept[0].size
		gone = append(gone, r.kept[0].f)
		r.kept = slices.Delete(r.kept, 0, 1)
	}
	if size > 0 && !r.stopped && (incumbent || len(r.kept) < keptMax && total+size <= keptBytes) {
		r.kept = append(r.kept, keptTree{f, size, now})
		total += size
	} else {
		gone = append(gone, f)
	}
	for len(r.kept) > keptMax || total > keptBytes {
		total -= r.kept[0].size
		gone = append(gone, r.kept[0].f)
		r.kept = slices.Delete(r.kept, 0, 1)
	}
	r.mu.Unlock()
	for _, g := range gone {
		g.drop()
	}
	return !slices.Contains(gone, f)
}

// grew notes that the tree f keeps is of size bytes now, and reports
// whether the trees kept still hold keptBytes at most; f.mu is held.
func (r *rebuilds) grew(f *flow, size int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	total, in := 0, false
	for i := range r.kept {
		if r.kept[i].f == f {
			r.kept[i].size, in = size, true
		}
		total += r.kept[i].size
	}
	if in && total > keptBytes {
		r.kept = slices.DeleteFunc(r.kept, func(k keptTree) bool { return k.f == f })
	}
	return in && total <= keptBytes
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
			r.drain(true)
		})
	}
}

// drain rebuilds the queued trees, one at a time: in the timer's
// goroutine, or in another, which leaves the timer to run.
func (r *rebuilds) drain(timer bool) {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			if timer {
				r.timer = nil
			}
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
	r.drain(false)
	r.idle.Wait()
	r.mu.Lock()
	kept := r.kept
	r.kept = nil
	r.mu.Unlock()
	for _, k := range kept {
		k.f.drop()
	}
}
