package slogwf

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/tree"
)

// flow is the live state of one workflow.
type flow struct {
	sink    *sink
	id      string
	base    string // of the file names
	journal string // file name
	owner   bool   // the workflow started in this process
	wf      *Scope // of an owner

	// mu is held across the journal write and the tree's update, so that
	// no line is written after finish closed the file. It costs agents no
	// parallelism: os.File serializes the writes to one file anyway.
	mu        sync.Mutex
	file      journalFile // nil when it could not be opened, or is closed
	size      int64       // of the journal, to take back a partial line
	torn      bool        // the journal ends in a partial line
	failed    bool        // a journal line was lost: the journal is not the tree
	ended     bool
	revived   bool       // ended, then given late records
	tree      *tree.Tree // nil once ended, until revived
	scheduled bool
	timer     *time.Timer
	cost      time.Duration           // of the last snapshot
	merged    map[string]int64        // journals of other processes: bytes read
	paths     map[string]console.Path // of the scopes started here, until the end

	finished chan struct{} // closed once the final tree is written
	writeMu  sync.Mutex    // one tree file write at a time, in order
	over     atomic.Bool   // ended: a snapshot being written gives way
}

// routeTo returns the route to scope id of f, of a record logged in
// scope sc: the Scope of id is sc's or one above it, or else only its path
// is known, from its start in this process; of a scope it does not know,
// the console shows the workflow's path.
func (f *flow) routeTo(id string, sc *Scope, late bool) route {
	for p := sc; p != nil; p = p.parent {
		if p.id == id && p.wf.id == f.id {
			return route{flow: f, scope: id, in: p, path: p.path, late: late}
		}
	}
	rt := route{flow: f, scope: id, late: late}
	f.mu.Lock()
	p, ok := f.paths[id]
	f.mu.Unlock()
	switch {
	case ok:
		rt.path = p
	case f.wf != nil:
		rt.path = f.wf.path
	}
	return rt
}

// started reports whether scope id of the live workflow has started.
func (f *flow) started(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.ended && f.tree.Started(id)
}

// start adds the start of scope sc, and keeps its path for the records
// its ID alone routes.
func (f *flow) start(sc *Scope, line []byte, e *tree.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addLocked(line, e, nil) {
		if f.paths == nil {
			f.paths = map[string]console.Path{}
		}
		f.paths[sc.id] = sc.path
	}
}

// add writes line to the journal and applies e to the tree, then calls
// after, if any, with the tree and whether e changed it. It reports false
// and does nothing when the workflow has ended, but for a record, which
// revives the workflow of an owner (see revive).
func (f *flow) add(line []byte, e *tree.Event, after func(t *tree.Tree, fresh bool)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(line, e, after)
}

func (f *flow) addLocked(line []byte, e *tree.Event, after func(t *tree.Tree, fresh bool)) bool {
	if f.ended && (e.Type != tree.Record || !f.revive()) {
		return false
	}
	f.write(line, e.Type == tree.End)
	fresh := f.tree.Apply(e)
	if e.Type == tree.End {
		f.export(e.ID, false)
	}
	if after != nil {
		after(f.tree, fresh)
	}
	f.schedule()
	return true
}

// schedule schedules a snapshot of the tree of an owner, if none is.
func (f *flow) schedule() {
	if !f.scheduled && f.owner {
		f.scheduled = true
		f.sink.pending.Add(1)
		// Snapshots cost time in proportion to the tree, so their pace
		// follows their cost: a long run stays linear.
		f.timer = time.AfterFunc(max(f.sink.interval, 20*f.cost), f.snapshot)
	}
}

// revive readies a workflow that has ended for a late record: its tree,
// rebuilt from its journal, and its journal, opened again. It reports
// false when it cannot: the handler is closed, or the journal misses
// lines and so would not give back the tree.
func (f *flow) revive() bool {
	if !f.owner || f.failed || f.sink.closing.Load() {
		return false
	}
	if f.tree == nil {
		t, err := f.rebuild()
		if err != nil {
			f.sink.fault(f.journal, fmt.Errorf("slogwf: read journal %s: %w", f.journal, err))
			f.failed = true
			return false
		}
		f.tree, f.merged = t, nil
	}
	if f.file == nil {
		file, err := f.sink.dir.openFile(f.journal, os.O_WRONLY|os.O_APPEND)
		if err != nil {
			f.sink.fault(f.journal, fmt.Errorf("slogwf: open journal: %w", err))
			f.failed = true
			return false
		}
		f.file = file
	}
	f.revived = true
	return true
}

// finish adds the workflow's end, if any, closes its journal and writes
// its final tree. It returns the workflow's usage. When the workflow is
// ending already, it waits for that.
func (f *flow) finish(line []byte, e *tree.Event) tree.Usage {
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		<-f.finished
		return tree.Usage{}
	}
	f.ended = true
	f.over.Store(true)
	if e != nil {
		f.write(line, true)
		f.tree.Apply(e)
	}
	f.export(f.id, true)
	if f.scheduled && f.timer.Stop() {
		f.sink.pending.Done()
		f.scheduled = false
	}
	u := f.tree.UsageOf(f.id)
	f.closeJournal()
	f.mu.Unlock()

	if f.owner {
		f.writeTree()
		f.sink.done.Store(f.id, f)
	}
	f.sink.flows.Delete(f.id)
	f.sink.routes.Range(func(id, v any) bool {
		if v == f {
			f.sink.routes.Delete(id)
		}
		return true
	})
	f.mu.Lock()
	if !f.revived {
		f.tree = nil // the journal keeps it, for late records
	}
	f.paths = nil
	f.mu.Unlock()
	close(f.finished)
	return u
}

// closeLate writes the final tree of a workflow that got late records
// after it ended, and closes its journal again.
func (f *flow) closeLate() {
	f.mu.Lock()
	if !f.revived {
		f.mu.Unlock()
		return
	}
	if f.scheduled && f.timer.Stop() {
		f.sink.pending.Done()
		f.scheduled = false
	}
	f.closeJournal()
	f.mu.Unlock()
	f.writeTree()
}

// close ends the workflow as incomplete at time now. The workflow of
// another process it leaves to that process: it ends only the scopes that
// started here.
func (f *flow) close(now time.Time) {
	if f.owner {
		f.finish(f.incomplete(f.id, now))
		return
	}
	f.mu.Lock()
	open := f.tree.Open()
	f.mu.Unlock()
	slices.Sort(open)
	for _, id := range open {
		if line, e := f.incomplete(id, now); e != nil {
			f.add(line, e, nil)
		}
	}
	f.finish(nil, nil)
}

// incomplete returns the journal line, and its event, that ends scope id
// as incomplete at time at; nil for both if that line does not decode,
// which only a bug here could cause.
func (f *flow) incomplete(id string, at time.Time) ([]byte, *tree.Event) {
	line, _ := tree.AppendEndHead(nil, f.id, id, at, tree.StatusIncomplete, "")
	line = append(line, '}', '\n')
	e, err := tree.Decode(line)
	if err != nil {
		f.sink.fault("event", fmt.Errorf("slogwf: encode end: %w", err))
		return nil, nil
	}
	return line, e
}

// snapshot writes the tree file of a running workflow, when its time has
// come.
func (f *flow) snapshot() {
	defer f.sink.pending.Done()
	f.mu.Lock()
	f.scheduled = false
	f.mu.Unlock()
	f.writeTree()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wf != nil && f.wf.spawned.Load() && !f.ended && !f.sink.closing.Load() {
		f.schedule() // the journals of child processes may grow
	}
}
