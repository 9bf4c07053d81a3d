package slogwf

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/tree"
)

// flow is the state of one workflow in this process: live until it ends,
// then, without its tree, what late records need (see late.go).
type flow struct {
	sink  *sink
	id    string
	name  string       // of an owner's workflow, for its tree file
	path  console.Path // of the workflow on the console
	owner bool         // the workflow started here, which writes its tree file
	born  time.Time

	// mu is held while the tree takes a line, and until the journal's
	// lock is taken to write it, so that the journal has the lines in the
	// order the tree took them (see add).
	mu         sync.Mutex
	wf         *Scope     // of an owner, until the end: it holds the caller's context
	tree       *tree.Tree // nil once its final tree has it
	ended      bool
	spawned    time.Time               // when Environ passed it on to child processes, as seen at its end
	from       position                // of its first line in the journal
	until      position                // past its last line, once it ended
	lates      []extent                // its late records' lines, up to maxLates
	lateTail   bool                    // more: they are after until
	lateEnd    position                // past its last late line
	kept       *tree.Tree              // its tree, kept for more late records (see late.go)
	unwritten  int64                   // its lines the journal missed since it wrote one; changed under the journal's lock
	gaps       int64                   // all its lines the journal missed; changed under the journal's lock
	paths      map[string]console.Path // of the scopes started here, until the end
	indexed    []string                // scope IDs sink.scopes maps to it
	indexedIn  [4]string               // indexed's first, without an allocation
	asked      int                     // times sink.lookup asked whether a scope started here: the work routing by ID does (tests count it)
	queued     bool                    // a snapshot is queued
	queuedAt   int                     // its place in the snapshots' queue, under its lock
	last       time.Time               // of its last snapshot, or its start
	late       bool                    // late records wait for a rebuild of its tree
	rebuilding bool                    // and one is under way
	sparing    bool                    // a spare slab for its tree is being made (see spare)

	writeMu sync.Mutex  // one tree file write at a time, in order
	over    atomic.Bool // ended: a snapshot being written gives way
	written bool        // an owner's final tree is, under sink.finals' lock
	onDisk  bool        // its final tree, or a rebuilt one, is in its tree file (not to be made again once gone); under writeMu
}

// newFlow returns the state of workflow id, whose first line goes to the
// journal next. An owner started the workflow and writes its tree file.
func (s *sink) newFlow(id, name string, path console.Path, owner bool) *flow {
	now := time.Now()
	f := &flow{sink: s, id: id, name: name, path: path, owner: owner, born: now, last: now,
		tree: tree.NewTree(id), from: s.journal.at(), queuedAt: -1}
	f.indexed = f.indexedIn[:0]
	if owner {
		s.owners.Add(1)
	}
	return f
}

// routeTo returns the route to scope id of f, of the kind its ID's key
// says, of a record logged in scope sc: the Scope of id is sc's or one
// above it, or else only its path is known, from its start in this
// process; of a scope it does not know, the console shows the workflow's
// path.
func (f *flow) routeTo(id string, kind Kind, sc *Scope, late bool) route {
	for p := sc; p != nil; p = p.parent {
		if p.id == id && p.wf.id == f.id {
			return route{flow: f, scope: id, in: p, path: p.path, late: late, named: true}
		}
	}
	rt := route{flow: f, scope: id, kind: kind, late: late, path: f.path, named: true}
	f.mu.Lock()
	if p, ok := f.paths[id]; ok {
		rt.path = p
	}
	f.mu.Unlock()
	return rt
}

// started reports whether scope id of the live workflow has started.
func (f *flow) started(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	return !f.ended && f.tree.Started(id)
}

// index maps scope id, which the tree just started, to f in sink.scopes,
// until f ends; f.mu is held.
func (f *flow) index(id string) {
	f.sink.scopes.put(id, f)
	f.indexed = append(f.indexed, id)
}

// start adds the start of scope sc, and keeps its path for the records
// its ID alone routes.
func (f *flow) start(sc *Scope, line []byte, e *tree.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		return
	}
	f.apply(e, nil)
	f.write(line, false)
	if f.paths == nil {
		f.paths = map[string]console.Path{}
	}
	f.paths[sc.id] = sc.path
}

// add applies e to the tree, then calls after, if any, with the tree and
// whether e changed it, and writes line to the journal. When the workflow
// has ended, it does nothing but for a record of an owner's: a late
// record, which goes to the journal, and to the tree in time (see
// late.go). A record goes by rt, which route decided before f.mu was
// taken: if it lost the race with an End since (see moved), add sets rt
// to its new route and reports false, doing nothing: its line is made
// again for it.
//
// The tree takes e first, and the journal is taken before the flow is let
// go: the journal has the flow's lines in the order the tree took them,
// and the next line of the flow goes to the tree during this one's write,
// as parallel agents of one workflow log.
func (f *flow) add(line []byte, e *tree.Event, rt *route, after func(t *tree.Tree, fresh bool)) bool {
	f.mu.Lock()
	held := true
	defer func() {
		if held { // a panic in apply, which a caller (net/http) may recover
			f.mu.Unlock()
		}
	}()
	if rt != nil && f.moved(rt) {
		return false
	}
	if f.ended {
		f.lateLocked(line, e)
		return true
	}
	f.apply(e, after)
	size := f.wantSpare()
	j := f.sink.journal
	j.mu.Lock()
	held = false
	f.mu.Unlock()
	if size > 0 {
		defer f.spare(size) // after the journal's lock is let go
	}
	defer j.mu.Unlock()
	f.writeLocked(line, e.Type == tree.End)
	return true
}

// moved reports whether a record going by rt lost the race with an End:
// a scope of its context, or its workflow, ended after route decided rt.
// It then sets rt to the route of a record logged now: late, to the
// nearest open scope above, or to the workflow; named by its IDs, to the
// scope they name. A Scope is marked ended before its end reaches f, so
// that the ends f applied are among those Scope.open sees. f.mu is held.
func (f *flow) moved(rt *route) bool {
	if rt.named {
		if !f.ended || rt.late {
			return false // the IDs win over the ends of a live workflow
		}
		rt.late = true
		return true
	}
	in, late := rt.in.open()
	if !late || in == rt.in && rt.late {
		return false
	}
	rt.scope, rt.in, rt.path, rt.late = in.id, in, in.path, true
	return true
}

// apply applies e to the tree of the live workflow, then calls after, if
// any, as add says; f.mu is held.
func (f *flow) apply(e *tree.Event, after func(t *tree.Tree, fresh bool)) {
	fresh := f.tree.Apply(e)
	if e.Type == tree.Start && fresh {
		f.index(e.ID)
	}
	if e.Type == tree.End {
		f.export(e.ID, false)
	}
	if after != nil {
		after(f.tree, fresh)
	}
	f.schedule()
}

// wantSpare returns the size of the spare slab that the tree wants, or 0
// when it wants none or one is being made; f.mu is held.
func (f *flow) wantSpare() int {
	if f.sparing {
		return 0
	}
	size := f.tree.SpareWanted()
	f.sparing = size > 0
	return size
}

// spare makes the tree a spare slab of size bytes (see tree.Spare), with
// no lock held, where its pages' first faults keep no one waiting.
func (f *flow) spare(size int) {
	slab := tree.NewSlab(size)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tree != nil && !f.ended {
		f.tree.Spare(slab)
	}
	f.sparing = false
}

// write writes line to the journal, and counts the workflow's lines that
// it misses.
func (f *flow) write(line []byte, end bool) (extent, bool) {
	j := f.sink.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	return f.writeLocked(line, end)
}

// writeLocked is write with the journal's lock held: the flow's counts of
// missed lines are the journal's to change, under its lock.
func (f *flow) writeLocked(line []byte, end bool) (extent, bool) {
	at, n, ok := f.sink.journal.writeLocked(line, end, &f.unwritten)
	if !ok {
		f.gaps++
	}
	return extent{at.seg, at.off, at.off + n}, ok
}

// schedule queues a snapshot of the tree of an owner, if none is.
func (f *flow) schedule() {
	if !f.queued && f.owner && !f.ended {
		f.queued = true
		f.sink.snaps.add(f, f.last.Add(f.sink.interval))
	}
}

// finish adds the workflow's end, if any, and hands its final tree to the
// writers. It returns the workflow's usage. From then on the flow keeps
// neither the caller's context nor, once written, the tree.
func (f *flow) finish(line []byte, e *tree.Event) tree.Usage {
	return f.end(func() {
		if e != nil {
			f.write(line, true)
			f.tree.Apply(e)
		}
	})
}

// end is finish, with last adding the flow's last lines: under the lock
// that marks the flow ended, so that a record logged meanwhile comes
// before them, or after them late (see add).
func (f *flow) end(last func()) tree.Usage {
	s := f.sink
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		return tree.Usage{}
	}
	f.ended = true
	f.over.Store(true)
	last()
	f.export(f.id, true)
	f.until = s.journal.at()
	u := f.tree.UsageOf(f.id)
	if f.wf != nil {
		f.spawned = f.wf.spawnedAt()
	}
	f.wf, f.paths = nil, nil
	indexed, queued := f.indexed, f.queued
	f.indexed = nil
	f.mu.Unlock()

	if queued {
		s.snaps.remove(f)
	}
	if f.owner {
		// Among those that ended before it leaves the live ones, so that
		// a look or a record naming it finds it at every moment.
		s.recent.add(f)
		s.live.Add(-1)
	}
	s.flows.Delete(f.id)
	for _, id := range indexed {
		s.scopes.remove(id, f)
	}
	if f.owner && !s.finals.push(f) {
		f.writeFinal()
	}
	return u
}

// close ends the workflow as incomplete at time now. The workflow of
// another process it leaves to that process: it ends only the scopes that
// started here.
func (f *flow) close(now time.Time) {
	if f.owner {
		f.finish(f.incomplete(f.id, now))
		return
	}
	f.end(func() {
		open := f.tree.Open()
		slices.Sort(open)
		for _, id := range open {
			if line, e := f.incomplete(id, now); e != nil {
				f.apply(e, nil)
				f.write(line, false)
			}
		}
	})
}

// incomplete returns the journal line, and its event, that ends scope id
// as incomplete at time at; nil for both if that line does not decode,
// which only a bug here could cause.
func (f *flow) incomplete(id string, at time.Time) ([]byte, *tree.Event) {
	line, _ := tree.AppendEndHead(nil, f.id, id, seq.Add(1), at, tree.StatusIncomplete, "")
	line = append(line, '}', '\n')
	e, err := tree.Decode(line)
	if err != nil {
		f.sink.faults.report("encode end", fmt.Errorf("slogwf: encode end: %w", err))
		return nil, nil
	}
	return line, e
}
