package slogwf

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogwf/slogwf/internal/buffer"
	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/tree"
)

// sink is the tree side of a Handler, shared by all its clones: the
// workflows under one directory, the journal of this process, and the
// work done off the callers' goroutines (snapshots, final trees, rebuilds
// for late records, retention).
type sink struct {
	dir      *directory
	journal  *journal
	interval time.Duration
	sync     SyncMode
	prices   Prices
	exporter ScopeExporter
	faults   faults

	flows    sync.Map     // workflow ID → *flow that runs here
	live     atomic.Int64 // workflows started here that have not ended
	saidLive atomic.Int64 // the most live workflows said; see newMost
	scopes   scopeIndex   // of the scopes the live workflows started: for the records a scope ID alone names
	recent   recent       // the workflows that ended last
	snaps    snapshots
	finals   writers
	rebuilds rebuilds
	others   others
	retain   *retainer // nil without MaxAge or MaxBytes

	owners sync.WaitGroup // workflows started here whose final tree is not written yet

	// mu is held while a workflow starts, so that Close sees it whole.
	mu             sync.Mutex
	closed         bool
	closing        atomic.Bool // closed, read without mu
	saidAfterClose atomic.Bool // that a workflow logged after Close
	closeOnce      sync.Once
	closeErr       error
}

// openSink opens the tree side of o, whose defaults are filled in: its
// directory, and the journal, which proves that files can be made there.
func openSink(o *Options) (*sink, error) {
	dir, err := openDirectory(o.Dir)
	if err != nil {
		return nil, err
	}
	s := &sink{
		dir:      dir,
		interval: o.SnapshotInterval,
		sync:     o.Sync,
		prices:   maps.Clone(o.Prices),
		exporter: o.Exporter,
		faults:   faults{out: o.ErrorOutput},
		rebuilds: rebuilds{delay: o.SnapshotInterval},
		scopes:   newScopeIndex(),
	}
	s.finals.written.L = &s.finals.mu
	if s.journal, err = openJournal(dir, o.SegmentSize, o.Sync, s.faults.report); err != nil {
		dir.close()
		return nil, err
	}
	if o.MaxAge > 0 || o.MaxBytes > 0 {
		s.retain = newRetainer(s, o)
	}
	return s, nil
}

// SyncMode says when slogwf asks the operating system to put journals and
// tree files on stable storage (fsync).
type SyncMode uint8

// Sync modes. Every journal line is written before Handle returns, so
// that it survives a crash of the process in any mode; a crash of the
// machine keeps what was synced.
const (
	SyncNone   SyncMode = iota // never
	SyncEnd                    // the journal at each scope's end; tree files, and their directory, at each rewrite
	SyncAlways                 // as SyncEnd, and the journal after every line
)

// maxFaults is how many faults Close returns; it counts the others.
const maxFaults = 16

// faults are the faults met after New: each cause is reported once to
// ErrorOutput, and the first maxFaults are kept for Close.
type faults struct {
	out io.Writer

	mu     sync.Mutex
	causes map[string]bool
	errs   []error
	more   int
}

// note says msg, which is no fault: Close does not return it.
func (f *faults) note(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintln(f.out, msg)
}

// report reports err, a fault of operation op, unless a fault of the same
// operation with the same underlying error was reported already.
func (f *faults) report(op string, err error) {
	cause := op
	for e := err; e != nil; e = errors.Unwrap(e) {
		cause = op + ": " + e.Error() // the innermost: the system's error, without a file
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.causes[cause] {
		return
	}
	if f.causes == nil {
		f.causes = map[string]bool{}
	}
	if len(f.causes) >= 4*maxFaults {
		f.more++ // causes stay few: an error's text names no file
		return
	}
	f.causes[cause] = true
	if len(f.errs) == maxFaults {
		f.more++
		return
	}
	f.errs = append(f.errs, err)
	fmt.Fprintln(f.out, err)
}

// err returns the faults kept, joined.
func (f *faults) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	errs := f.errs
	if f.more > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("slogwf: %d more faults", f.more))
	}
	return errors.Join(errs...)
}

// checkDir checks that Dir is where it was, and moves the files to the
// directory now there if it moved: the journal, and the trees of running
// workflows at their next snapshot.
func (s *sink) checkDir() {
	moved, err := s.dir.check()
	if err != nil {
		s.faults.report("dir", err)
	}
	if !moved {
		return
	}
	s.journal.moved()
	s.flows.Range(func(_, v any) bool {
		f := v.(*flow)
		f.mu.Lock()
		f.schedule()
		f.mu.Unlock()
		return true
	})
}

// flow returns the live workflow id, or nil.
func (s *sink) flow(id string) *flow {
	if f, ok := s.flows.Load(id); ok {
		return f.(*flow)
	}
	return nil
}

// lookup returns the live workflow a record named by attributes belongs to.
func (s *sink) lookup(wf, scope string) *flow {
	if wf != "" {
		return s.flow(wf)
	}
	// The index of the scopes the live workflows started, rather than a
	// search of them: naming a scope that ended, or one of another
	// process, costs no more than naming a live one, however many run.
	if f := s.scopes.get(scope); f != nil && f.started(scope) {
		return f
	}
	return nil
}

// scopeIndex maps the ID of each scope that a live workflow's tree
// started to the workflow that started it first. It is in shards, each a
// map under its own lock: a start stores its ID without an allocation
// (sync.Map boxes each key), and starts in parallel seldom wait for each
// other.
type scopeIndex struct {
	seed   maphash.Seed
	shards [64]scopeShard
}

type scopeShard struct {
	mu sync.Mutex
	m  map[string]*flow
	// more holds, by ID, the other live workflows that started it, in the
	// order they did: IDs are UUIDv7, so only a crafted or damaged journal
	// line of another process starts one in two workflows. When the first
	// ends, the next takes its place, so that the ID stays found while one
	// runs it; and the common start pays nothing for it.
	more map[string][]*flow
}

func newScopeIndex() scopeIndex { return scopeIndex{seed: maphash.MakeSeed()} }

// shard returns the shard of id, locked.
func (x *scopeIndex) shard(id string) *scopeShard {
	sh := &x.shards[maphash.String(x.seed, id)%uint64(len(x.shards))]
	sh.mu.Lock()
	return sh
}

func (x *scopeIndex) get(id string) *flow {
	sh := x.shard(id)
	defer sh.mu.Unlock()
	return sh.m[id]
}

func (x *scopeIndex) put(id string, f *flow) {
	sh := x.shard(id)
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = map[string]*flow{}
	}
	switch first, ok := sh.m[id]; {
	case !ok: // the first start of an ID, as the tree keeps it
		sh.m[id] = f
	case first != f:
		if sh.more == nil {
			sh.more = map[string][]*flow{}
		}
		sh.more[id] = append(sh.more[id], f)
	}
}

// remove removes f's mapping of id: the next workflow that started id, if
// any, takes its place.
func (x *scopeIndex) remove(id string, f *flow) {
	sh := x.shard(id)
	defer sh.mu.Unlock()
	more := sh.more[id] // nil but for an ID that two workflows started
	switch i := slices.Index(more, f); {
	case sh.m[id] == f && len(more) == 0:
		delete(sh.m, id)
		return
	case sh.m[id] == f:
		sh.m[id], more = more[0], more[1:]
	case i >= 0:
		more = slices.Delete(more, i, i+1)
	default:
		return
	}
	if len(more) == 0 {
		delete(sh.more, id)
	} else {
		sh.more[id] = more
	}
}

// route is where a record goes. It is decided once, by sink.route, and
// the journal, the tree and the console all follow it.
type route struct {
	flow  *flow        // nil: the console only
	scope string       // ID of the node
	in    *Scope       // the node, when this process holds it (also without flow); else nil
	kind  Kind         // of the node, when in is nil and the IDs name it
	path  console.Path // of the node on the console
	late  bool         // logged after the node or a scope above it had ended
	named bool         // by the IDs of the record, not by its context
}

// route returns where a record logged in scope sc (or none) goes that
// names the scopes x by their IDs. The IDs win over the context: a
// record goes to the scope they name in a live workflow; else to the
// innermost scope of sc that is open, late if sc had ended; else, late, to
// the workflow they name after its end.
func (s *sink) route(sc *Scope, x *ids) route {
	in, late := sc.open()
	wf, scope, kind := x.innermost()
	if scope != "" {
		if f := s.lookup(wf, scope); f != nil {
			return f.routeTo(scope, kind, sc, false)
		}
	}
	if in != nil && in.wf != nil {
		f := in.wf.flow // its state, when it started here: no lookup
		if f == nil || f.sink != s || f.over.Load() {
			f = s.flowFor(in)
		}
		if f == nil && late && in == in.wf {
			// Its Scope holds it, but another Handler's may have taken its
			// place there.
			f = in.flow
			if f == nil || f.sink != s {
				f = s.recent.get(in.id)
			}
		}
		if f != nil {
			return route{flow: f, scope: in.id, in: in, path: in.path, late: late}
		}
	}
	if wf != "" {
		// Named by its ID after its end, with no live scope around: the
		// workflow takes it late, if it is among the last that ended.
		// (Of a scope ID alone, the workflow is not known once it
		// ended: it keeps no tree.)
		if f := s.recent.get(wf); f != nil {
			return f.routeTo(scope, kind, sc, true)
		}
	}
	rt := route{in: in, late: late}
	if in != nil {
		rt.path = in.path
		if in.wf != nil && s.closing.Load() {
			s.afterClose(in.wf.name, in.wf.id)
		}
	}
	return rt
}

// afterClose says once, on ErrorOutput, that workflow name id logged
// after Close, or, without an id, started then: what a workflow logs then
// reaches the console alone, which a service that closes its handler
// before its requests are done would not see otherwise.
func (s *sink) afterClose(name, id string) {
	if s.saidAfterClose.CompareAndSwap(false, true) {
		what := fmt.Sprintf("%q %s logged", name, id)
		if id == "" {
			what = fmt.Sprintf("%q started", name)
		}
		s.faults.note(fmt.Sprintf("slogwf: workflow %s after Close: what is logged after Close "+
			"reaches the console only, not the journal nor the tree (close the handler once the work that logs is done)", what))
	}
}

// scopeEvent adds a scope's start or end to its workflow. For an end it returns
// attributes for the console: the usage of the scope's subtree, and late
// when the scope had been ended already, by its parent.
func (s *sink) scopeEvent(ev *scopeEvent, r slog.Record, lost tree.Loss) (extra []slog.Attr) {
	sc := ev.scope
	buf := buffer.New()
	defer buf.Free()
	var e tree.Event
	*buf = appendScopeLine(*buf, ev, &r, s.prices, lost, &e)
	if sc.kind == KindWorkflow && !ev.end {
		s.startFlow(sc, *buf, &e)
		return nil
	}
	f := s.flowFor(sc)
	if f == nil && s.closing.Load() {
		s.afterClose(sc.wf.name, sc.wf.id)
	}
	switch {
	case f == nil && !sc.wf.remote && sc.wf.flow == nil:
		return nil // started after Close (through a handler that wraps this one, or as Close ran): it has no tree
	case f == nil && ev.end:
		return console.EndAttrs(tree.Usage{}, false) // the workflow is over
	case f == nil:
		return nil
	case sc.kind == KindWorkflow:
		return console.EndAttrs(f.finish(*buf, &e), true)
	case !ev.end:
		f.start(sc, *buf, &e)
		return nil
	}
	f.add(*buf, &e, nil, func(t *tree.Tree, fresh bool) { extra = console.EndAttrs(t.UsageOf(sc.id), fresh) })
	return extra
}

// startFlow starts the live state of workflow sc with its start line.
func (s *sink) startFlow(sc *Scope, line []byte, e *tree.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	f := s.newFlow(sc.id, sc.name, sc.path, true)
	f.wf, sc.flow = sc, f
	f.add(line, e, nil, nil)
	s.flows.Store(f.id, f)
	if n := s.live.Add(1); s.newMost(n) {
		s.faults.note(fmt.Sprintf("slogwf: %d workflows are running at once: one never ended keeps its tree in memory, "+
			"and the journal segments with its lines from retention (end each one: defer wf.End())", n))
	}
}

// newMost reports whether n workflows running at once are to be said:
// manyRunning, or a doubling of it, that was not said before.
func (s *sink) newMost(n int64) bool {
	if n < manyRunning || n&(n-1) != 0 {
		return false
	}
	for said := s.saidLive.Load(); said < n; said = s.saidLive.Load() {
		if s.saidLive.CompareAndSwap(said, n) {
			return true
		}
	}
	return false
}

// manyRunning is the number of running workflows, and its doublings, at
// which the handler says so, once each: workflows whose End was forgotten
// grow memory and disk without another sign.
const manyRunning = 1024

// flowFor returns the live workflow of sc. The workflow of a parent
// process (see ContextFromEnv) goes live here with its first event.
func (s *sink) flowFor(sc *Scope) *flow {
	f := s.flow(sc.wf.id)
	if f != nil || !sc.wf.remote {
		return f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f = s.flow(sc.wf.id); f != nil || s.closed {
		return f
	}
	f = s.newFlow(sc.wf.id, "", sc.wf.path, false)
	s.flows.Store(f.id, f)
	return f
}

// close ends every live workflow as incomplete, writes the final trees
// and the trees that late records wait for, and closes the journal.
func (s *sink) close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.closing.Store(true)
		s.mu.Unlock()

		if s.retain != nil {
			s.retain.stop()
		}
		now := time.Now()
		s.flows.Range(func(_, v any) bool {
			v.(*flow).close(now) // a snapshot being written gives way
			return true
		})
		s.snaps.stop()
		s.owners.Wait()
		s.rebuilds.stop()
		s.journal.close()
		if err := s.dir.close(); err != nil {
			s.faults.report("close dir", fmt.Errorf("slogwf: close dir: %w", err))
		}
		s.closeErr = s.faults.err()
	})
	return s.closeErr
}
