package slogwf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sink is the tree side of a Handler, shared by all its clones: the live
// workflows under one directory, each with its journal and tree file.
type sink struct {
	root     *os.Root
	dir      dirFS // writes in root
	interval time.Duration
	errOut   io.Writer
	sync     SyncMode
	pid      string
	prices   Prices

	flows  sync.Map // workflow ID → *flow
	done   sync.Map // workflow ID → *flow that ended, for late records
	routes sync.Map // scope ID → *flow, of the records a scope ID alone named

	pending sync.WaitGroup // scheduled snapshots

	// mu is held while a workflow starts, so that Close sees it whole.
	mu        sync.Mutex
	closed    bool
	closing   atomic.Bool // closed, read without mu
	closeOnce sync.Once
	closeErr  error

	faultMu sync.Mutex
	faults  map[string]bool // files whose fault was reported
	errs    []error
}

// openSink opens the tree side of o, whose defaults are filled in.
func openSink(o *Options) (*sink, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("slogwf: create dir: %w", err)
	}
	root, err := os.OpenRoot(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("slogwf: open dir: %w", err)
	}
	return &sink{
		root:     root,
		dir:      rootFS{root},
		interval: o.SnapshotInterval,
		errOut:   o.ErrorOutput,
		sync:     o.Sync,
		pid:      strconv.Itoa(os.Getpid()),
		prices:   maps.Clone(o.Prices),
		faults:   map[string]bool{},
	}, nil
}

// SyncMode says when slogwf asks the operating system to put journals and
// tree files on stable storage (fsync).
type SyncMode uint8

// Sync modes. Every journal line is written before Handle returns, so
// that it survives a crash of the process in any mode; a crash of the
// machine keeps what was synced.
const (
	SyncNone   SyncMode = iota // never
	SyncEnd                    // journals at each scope's end; tree files, and their directory, at each rewrite
	SyncAlways                 // as SyncEnd, and journals after every line
)

// dirFS is how a sink writes its directory: through an os.Root, or in
// tests through one that fails on purpose.
type dirFS interface {
	openFile(name string, flag int) (journalFile, error)
	rename(from, to string) error
	remove(name string) error
	syncDir() error
}

// journalFile is a file a sink writes: an *os.File.
type journalFile interface {
	io.Writer
	Sync() error
	Close() error
	Truncate(size int64) error
}

type rootFS struct{ root *os.Root }

func (r rootFS) openFile(name string, flag int) (journalFile, error) {
	f, err := r.root.OpenFile(name, flag, 0o600)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r rootFS) rename(from, to string) error { return r.root.Rename(from, to) }
func (r rootFS) remove(name string) error     { return r.root.Remove(name) }

func (r rootFS) syncDir() error {
	d, err := r.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fault reports err about file once, and keeps it for Close.
func (s *sink) fault(file string, err error) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.faults[file] {
		return
	}
	s.faults[file] = true
	s.errs = append(s.errs, err)
	fmt.Fprintln(s.errOut, err)
}

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
	// Found once by a search of all live workflows, then remembered.
	if v, ok := s.routes.Load(scope); ok {
		if f := v.(*flow); s.flow(f.id) == f {
			return f
		}
		s.routes.Delete(scope) // stored as its workflow ended
	}
	var found *flow
	s.flows.Range(func(_, v any) bool {
		if f := v.(*flow); f.started(scope) {
			found = f
		}
		return found == nil
	})
	if found != nil {
		s.routes.Store(scope, found)
	}
	return found
}

// route is where a record goes. It is decided once, by sink.route, and
// the journal, the tree and the console all follow it.
type route struct {
	flow  *flow  // nil: the console only
	scope string // ID of the node
	in    *Scope // the node, when this process holds it; else nil
	path  path   // of the node on the console
	late  bool   // logged after the node or a scope above it had ended
}

// route returns where a record logged in scope sc (or none) goes that
// names the scopes x by their IDs. The IDs win over the context: a
// record goes to the scope they name in a live workflow; else to the
// innermost scope of sc that is open, late if sc had ended; else, late, to
// the workflow they name after its end.
func (s *sink) route(sc *Scope, x *ids) route {
	in, late := sc.open()
	wf, scope := x.innermost()
	if scope != "" {
		if f := s.lookup(wf, scope); f != nil {
			return f.routeTo(scope, sc, false)
		}
	}
	if in != nil && in.wf != nil {
		f := s.flowFor(in)
		if f == nil && late && in == in.wf {
			f = s.ended(in.id)
		}
		if f != nil {
			return route{flow: f, scope: in.id, in: in, path: in.path, late: late}
		}
	}
	if wf != "" {
		// Named by its ID after its end, with no live scope around: the
		// workflow takes it late. (Of a scope ID alone, the workflow is
		// not known once it ended: it keeps no tree.)
		if f := s.ended(wf); f != nil {
			return f.routeTo(scope, sc, true)
		}
	}
	rt := route{late: late}
	if in != nil {
		rt.path = in.path
	}
	return rt
}

// ended returns the workflow id that ended, if it has.
func (s *sink) ended(id string) *flow {
	if f, ok := s.done.Load(id); ok {
		return f.(*flow)
	}
	return nil
}

// validTime returns t, or now when t is zero or has no place in a
// fixed-width RFC 3339 time.
func validTime(t time.Time) time.Time {
	if y := t.UTC().Year(); t.IsZero() || y < 1 || y > 9999 {
		return time.Now()
	}
	return t
}

// event adds a scope's start or end to its workflow. For an end it returns
// attributes for the console: the usage of the scope's subtree, and late
// when the scope had been ended already, by its parent.
func (s *sink) event(ev *event, r slog.Record, lost loss) (extra []slog.Attr) {
	sc := ev.scope
	buf := newBuffer()
	defer buf.free()
	var e *entry
	*buf, e = appendEventLine(*buf, ev, r, s.prices, lost)
	if sc.kind == KindWorkflow && !ev.end {
		s.startFlow(sc, *buf, e)
		return nil
	}
	f := s.flowFor(sc)
	switch {
	case f == nil && ev.end:
		return usageAttrs(usage{}, false) // the workflow is over
	case f == nil:
		return nil
	case sc.kind == KindWorkflow:
		return usageAttrs(f.finish(*buf, e), true)
	case !ev.end:
		f.start(sc, *buf, e)
		return nil
	}
	f.add(*buf, e, func(t *tree, fresh bool) { extra = usageAttrs(t.usageOf(sc.id), fresh) })
	return extra
}

func usageAttrs(u usage, fresh bool) []slog.Attr {
	var as []slog.Attr
	if u.in+u.out > 0 {
		as = append(as, slog.Int64("total_tokens", u.in+u.out))
	}
	if u.cost != 0 {
		as = append(as, slog.Float64(CostKey, u.cost.usd()))
	}
	if !fresh {
		as = append(as, slog.Bool("late", true))
	}
	return as
}

// startFlow starts the live state of workflow sc with its start line.
func (s *sink) startFlow(sc *Scope, line []byte, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	base := fileBase(sc.name, sc.id)
	f := s.newFlow(sc.id, base, true)
	f.wf = sc
	f.add(line, e, nil)
	s.flows.Store(f.id, f)
}

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
	f = s.newFlow(sc.wf.id, fileBase(s.nameOf(sc.wf.id), sc.wf.id), false)
	s.flows.Store(f.id, f)
	return f
}

// nameOf returns the name of workflow id from the files of another process
// in the directory, or "" when there are none.
func (s *sink) nameOf(id string) string {
	matches, _ := fs.Glob(s.root.FS(), "*-"+id8(id)+".*")
	for _, m := range matches {
		if name := nameIn(m, id); name != "" {
			return name
		}
	}
	return ""
}

// newFlow returns the live state of workflow id with its journal open. An
// owner started the workflow and writes its tree file.
func (s *sink) newFlow(id, base string, owner bool) *flow {
	f := &flow{s: s, id: id, base: base, owner: owner, t: newTree(id), finished: make(chan struct{})}
	f.file, f.journal = s.openJournal(base)
	f.failed = f.file == nil
	return f
}

// openJournal creates the journal <base>.<pid>.jsonl, or, when a process
// of another machine or container with the same pid has one, the first free
// <base>.<pid>-<n>.jsonl: no two processes ever write one file.
func (s *sink) openJournal(base string) (journalFile, string) {
	var err error
	for n := 1; n <= 100; n++ {
		name := base + "." + s.pid + ".jsonl"
		if n > 1 {
			name = base + "." + s.pid + "-" + strconv.Itoa(n) + ".jsonl"
		}
		var f journalFile
		f, err = s.dir.openFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL)
		if err == nil {
			return f, name
		}
		if !errors.Is(err, fs.ErrExist) {
			s.fault(name, fmt.Errorf("slogwf: open journal: %w", err))
			return nil, name
		}
	}
	s.fault(base, fmt.Errorf("slogwf: open journal: %w", err))
	return nil, base
}

// close ends every live workflow as incomplete and writes its final tree.
func (s *sink) close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.closing.Store(true)
		s.mu.Unlock()

		now := time.Now()
		s.flows.Range(func(_, v any) bool {
			v.(*flow).close(now)
			return true
		})
		s.done.Range(func(_, v any) bool {
			v.(*flow).closeLate()
			return true
		})
		s.pending.Wait()
		if err := s.root.Close(); err != nil {
			s.fault("dir", fmt.Errorf("slogwf: close dir: %w", err))
		}
		s.faultMu.Lock()
		defer s.faultMu.Unlock()
		s.closeErr = errors.Join(s.errs...)
	})
	return s.closeErr
}

// flow is the live state of one workflow.
type flow struct {
	s       *sink
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
	revived   bool  // ended, then given late records
	t         *tree // nil once ended, until revived
	scheduled bool
	timer     *time.Timer
	cost      time.Duration    // of the last snapshot
	merged    map[string]int64 // journals of other processes: bytes read
	paths     map[string]path  // of the scopes started here, until the end

	finished chan struct{} // closed once the final tree is written
	wmu      sync.Mutex    // one tree file write at a time, in order
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

// started reports whether scope id of the workflow started here.
func (f *flow) started(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		return false
	}
	n := f.t.nodes[id]
	return n != nil && n.started
}

// start adds the start of scope sc, and keeps its path for the records
// its ID alone routes.
func (f *flow) start(sc *Scope, line []byte, e *entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addLocked(line, e, nil) {
		if f.paths == nil {
			f.paths = map[string]path{}
		}
		f.paths[sc.id] = sc.path
	}
}

// add writes line to the journal and applies e to the tree, then calls
// after, if any, with the tree and whether e changed it. It reports false
// and does nothing when the workflow has ended, but for a record, which
// revives the workflow of an owner (see revive).
func (f *flow) add(line []byte, e *entry, after func(t *tree, fresh bool)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(line, e, after)
}

func (f *flow) addLocked(line []byte, e *entry, after func(t *tree, fresh bool)) bool {
	if f.ended && (e.Ev != evRecord || !f.revive()) {
		return false
	}
	f.write(line, e.Ev == evEnd)
	fresh := f.t.apply(e)
	if after != nil {
		after(f.t, fresh)
	}
	f.schedule()
	return true
}

// schedule schedules a snapshot of the tree of an owner, if none is.
func (f *flow) schedule() {
	if !f.scheduled && f.owner {
		f.scheduled = true
		f.s.pending.Add(1)
		// Snapshots cost time in proportion to the tree, so their pace
		// follows their cost: a long run stays linear.
		f.timer = time.AfterFunc(max(f.s.interval, 20*f.cost), f.snapshot)
	}
}

// revive readies a workflow that has ended for a late record: its tree,
// rebuilt from its journal, and its journal, opened again. It reports
// false when it cannot: the handler is closed, or the journal misses
// lines and so would not give back the tree.
func (f *flow) revive() bool {
	if !f.owner || f.failed || f.s.closing.Load() {
		return false
	}
	if f.t == nil {
		t, err := f.rebuild()
		if err != nil {
			f.s.fault(f.journal, fmt.Errorf("slogwf: read journal %s: %w", f.journal, err))
			f.failed = true
			return false
		}
		f.t, f.merged = t, nil
	}
	if f.file == nil {
		file, err := f.s.dir.openFile(f.journal, os.O_WRONLY|os.O_APPEND)
		if err != nil {
			f.s.fault(f.journal, fmt.Errorf("slogwf: open journal: %w", err))
			f.failed = true
			return false
		}
		f.file = file
	}
	f.revived = true
	return true
}

// rebuild returns the tree of the workflow from its journal, and notes
// whether the journal ends in a partial line.
func (f *flow) rebuild() (*tree, error) {
	data, err := f.s.root.ReadFile(f.journal)
	if err != nil {
		return nil, err
	}
	b := NewBuilder()
	if err := b.ReadJournal(bytes.NewReader(data), f.journal, func(error) {}); err != nil {
		return nil, err
	}
	f.size = int64(len(data))
	f.torn = len(data) > 0 && data[len(data)-1] != '\n'
	if t := b.trees[f.id]; t != nil {
		return t, nil
	}
	return newTree(f.id), nil
}

// finish adds the workflow's end, if any, closes its journal and writes
// its final tree. It returns the workflow's usage. When the workflow is
// ending already, it waits for that.
func (f *flow) finish(line []byte, e *entry) usage {
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		<-f.finished
		return usage{}
	}
	f.ended = true
	f.over.Store(true)
	if e != nil {
		f.write(line, true)
		f.t.apply(e)
	}
	if f.scheduled && f.timer.Stop() {
		f.s.pending.Done()
		f.scheduled = false
	}
	u := f.t.usageOf(f.id)
	f.closeJournal()
	f.mu.Unlock()

	if f.owner {
		f.writeTree()
		f.s.done.Store(f.id, f)
	}
	f.s.flows.Delete(f.id)
	f.s.routes.Range(func(id, v any) bool {
		if v == f {
			f.s.routes.Delete(id)
		}
		return true
	})
	f.mu.Lock()
	if !f.revived {
		f.t = nil // the journal keeps it, for late records
	}
	f.paths = nil
	f.mu.Unlock()
	close(f.finished)
	return u
}

// closeJournal closes the journal file, synced first if syncing.
func (f *flow) closeJournal() {
	if f.file == nil {
		return
	}
	var err error
	if f.s.sync != SyncNone {
		err = f.file.Sync()
	}
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.s.fault(f.journal, fmt.Errorf("slogwf: close journal %s: %w", f.journal, err))
	}
	f.file = nil
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
		f.s.pending.Done()
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
	var open []string
	for id, n := range f.t.nodes {
		if n.started && !n.ended {
			open = append(open, id)
		}
	}
	f.mu.Unlock()
	slices.Sort(open)
	for _, id := range open {
		if line, e := f.incomplete(id, now); e != nil {
			f.add(line, e, nil)
		}
	}
	f.finish(nil, nil)
}

// incomplete returns the journal line, and its entry, that ends scope id
// as incomplete at time at; nil for both if that line does not decode,
// which only a bug here could cause.
func (f *flow) incomplete(id string, at time.Time) ([]byte, *entry) {
	line, _ := appendEndHead(nil, f.id, id, at, StatusIncomplete, "")
	line = append(line, '}', '\n')
	e, err := decodeEntry(line)
	if err != nil {
		f.s.fault("event", fmt.Errorf("slogwf: encode end: %w", err))
		return nil, nil
	}
	return line, e
}

// write appends line to the journal, in one write. A line the write cuts
// short it takes back, or when it cannot, ends before the next line, so
// that a partial line never runs into a whole one.
func (f *flow) write(line []byte, end bool) {
	if f.file == nil {
		return
	}
	if f.torn {
		line = append([]byte{'\n'}, line...)
	}
	n, err := f.file.Write(line)
	f.size += int64(n)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err == nil && (f.s.sync == SyncAlways || f.s.sync == SyncEnd && end) {
		err = f.file.Sync()
	}
	if err == nil {
		f.torn = false
		return
	}
	f.failed = true
	if 0 < n && n < len(line) {
		if f.file.Truncate(f.size-int64(n)) == nil {
			f.size -= int64(n)
		} else {
			f.torn = true
		}
	}
	f.s.fault(f.journal, fmt.Errorf("slogwf: write journal %s: %w", f.journal, err))
}

func (f *flow) snapshot() {
	defer f.s.pending.Done()
	f.mu.Lock()
	f.scheduled = false
	f.mu.Unlock()
	f.writeTree()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wf != nil && f.wf.spawned.Load() && !f.ended && !f.s.closing.Load() {
		f.schedule() // the journals of child processes may grow
	}
}

// writeTree writes the tree file: to a new temporary file, renamed over
// the old one, so a reader sees the old tree or the new, never a part.
// The tree of a workflow that ended is final. It is written from a clone,
// so that logging goes on meanwhile.
func (f *flow) writeTree() {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	start := time.Now()
	if f.wf != nil && f.wf.spawned.Load() {
		f.mergeOthers()
	}
	f.mu.Lock()
	if f.t == nil {
		f.mu.Unlock()
		return
	}
	t, final := f.t.clone(), f.ended
	f.mu.Unlock()

	name := f.base + ".json"
	write := func(w io.Writer) error {
		if !final {
			w = giveWay{w, &f.over}
		}
		return t.writeJSON(w, final)
	}
	if err := f.s.writeFile(name, write); err != nil && !errors.Is(err, errOver) {
		f.s.fault(name, fmt.Errorf("slogwf: write tree %s: %w", name, err))
	}
	f.mu.Lock()
	f.cost = time.Since(start)
	f.mu.Unlock()
}

// writeFile writes the file name atomically, with write: to a new
// temporary file, renamed over name. When syncing, the file reaches the
// disk before the rename, and the rename reaches it before writeFile
// returns.
func (s *sink) writeFile(name string, write func(io.Writer) error) error {
	tmp := name + "." + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
	file, err := s.dir.openFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	err = write(file)
	if err == nil && s.sync != SyncNone {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.dir.rename(tmp, name)
	}
	if err != nil {
		_ = s.dir.remove(tmp)
		return err
	}
	if s.sync != SyncNone {
		return s.dir.syncDir()
	}
	return nil
}

var errOver = errors.New("slogwf: workflow ended")

// giveWay writes a snapshot until its workflow ends, so that the final
// tree need not wait for the snapshot of a large tree to be written out.
type giveWay struct {
	w    io.Writer
	over *atomic.Bool
}

func (g giveWay) Write(p []byte) (int, error) {
	if g.over.Load() {
		return 0, errOver
	}
	return g.w.Write(p)
}

// mergeOthers adds to the tree what other processes, children the
// workflow was passed to, appended to their journals of it since the last
// time: so the tree of the workflow is the one that `slogwf build` makes
// of all its journals. Partial last lines wait for the next time, unless
// the workflow has ended: then they count as dropped, as for build.
func (f *flow) mergeOthers() {
	names, _ := fs.Glob(f.s.root.FS(), f.base+".*.jsonl")
	for _, name := range names {
		if name != f.journal {
			f.mergeJournal(name)
		}
	}
}

func (f *flow) mergeJournal(name string) {
	f.mu.Lock()
	off, final := f.merged[name], f.ended
	f.mu.Unlock()
	file, err := f.s.root.Open(name)
	if err != nil {
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.NewSectionReader(file, off, 1<<62))
	if err != nil {
		return
	}
	end := len(data)
	if !final {
		end = bytes.LastIndexByte(data, '\n') + 1
	}
	var es []*entry
	var dropped int64
	for line := range bytes.Lines(data[:end]) {
		e, err := decodeEntry(line)
		switch {
		case err != nil:
			dropped++
		case e.Wf == f.id:
			es = append(es, e)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.t == nil {
		return
	}
	if f.merged == nil {
		f.merged = map[string]int64{}
	}
	f.merged[name] = off + int64(end)
	for _, e := range es {
		f.t.apply(e)
	}
	f.t.loss.dropped += dropped
}

// fileBase returns the start of the file names of a workflow: its name,
// made safe as a file name, and the random end of its ID.
func fileBase(name, id string) string {
	return safeName(name, 64, "workflow") + "-" + id8(id)
}

// id8 returns the end of the ID of a workflow that its file names hold.
func id8(id string) string {
	return safeName(id[max(0, len(id)-8):], 8, "id")
}

// nameIn returns the workflow name in file, a file name of workflow id,
// or "" when file is not one.
func nameIn(file, id string) string {
	base := filepath.Base(file)
	if i := strings.LastIndex(base, "-"+id8(id)+"."); i > 0 {
		return base[:i]
	}
	return ""
}

// safeName keeps the bytes of s that are safe in a file name anywhere,
// replaces the others with '_' and cuts the result at n bytes. The result
// never starts with a dot, so it is never "..", nor hidden.
func safeName(s string, n int, empty string) string {
	b := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(b) < n; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.' && len(b) > 0:
		default:
			c = '_'
		}
		b = append(b, c)
	}
	if len(bytes.Trim(b, "_")) == 0 {
		return empty
	}
	return string(b)
}

// buffer is a pooled byte slice, as in log/slog.
type buffer []byte

var bufPool = sync.Pool{New: func() any { b := make(buffer, 0, 1024); return &b }}

func newBuffer() *buffer { return bufPool.Get().(*buffer) }

func (b *buffer) free() {
	if cap(*b) <= 16<<10 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}
