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
	"time"
)

// sink is the tree side of a Handler, shared by all its clones: the live
// workflows under one directory, each with its journal and tree file.
type sink struct {
	root     *os.Root
	interval time.Duration
	errOut   io.Writer
	pid      string
	prices   Prices

	flows  sync.Map // workflow ID → *flow
	scopes sync.Map // scope ID → *flow, to route records named by attribute

	pending sync.WaitGroup // scheduled snapshots

	// mu is held while a workflow starts, so that Close sees it whole.
	mu        sync.Mutex
	closed    bool
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
		interval: o.SnapshotInterval,
		errOut:   o.ErrorOutput,
		pid:      strconv.Itoa(os.Getpid()),
		prices:   maps.Clone(o.Prices),
		faults:   map[string]bool{},
	}, nil
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
	if f, ok := s.scopes.Load(scope); ok {
		return f.(*flow)
	}
	return nil
}

// record adds a record, logged in scope sc (or none), to its workflow: the
// one its attributes name, else the one of sc.
func (s *sink) record(h *Handler, sc *Scope, r slog.Record) {
	var m meta
	r.Attrs(func(a slog.Attr) bool {
		if reserved(a.Key) {
			a.Value = a.Value.Resolve()
			m.read(a)
		}
		return true
	})
	s.prices.fill(&m.usage)
	x := m.ids
	x.merge(&h.ids)
	wf, scope := x.innermost()
	var f *flow
	if scope != "" {
		f = s.lookup(wf, scope)
	}
	if f == nil && sc != nil && sc.wf != nil {
		f, scope = s.flowFor(sc), sc.id
	}
	if f == nil {
		return
	}

	buf := newBuffer()
	defer buf.free()
	b := appendRecordHead(*buf, f.id, scope)
	n := len(b)
	b = append(b, `"time":`...)
	b = appendTime(b, validTime(r.Time))
	b = appendBodyHead(b, r.Level, r.Message, m.semantic, m.usage)
	b = h.appendAttrs(b, r)
	body := b[n:]
	b = append(b, '}', '\n')
	*buf = b
	f.add(b, &entry{Ev: evRecord, Scope: scope, Semantic: m.semantic, level: r.Level, body: body, use: m.usage}, nil)
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
func (s *sink) event(ev *event, r slog.Record) (extra []slog.Attr) {
	sc := ev.scope
	buf := newBuffer()
	defer buf.free()
	*buf = appendEventLine(*buf, ev, r, s.prices)
	e, err := decodeEntry(*buf)
	if err != nil {
		s.fault("event", fmt.Errorf("slogwf: encode %s event: %w", sc.kind, err))
		return nil
	}
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
		f.add(*buf, e, func(*tree, bool) { s.scopes.Store(sc.id, f) })
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
	return f
}

// openJournal creates the journal <base>.<pid>.jsonl, or, when a process
// of another machine or container with the same pid has one, the first free
// <base>.<pid>-<n>.jsonl: no two processes ever write one file.
func (s *sink) openJournal(base string) (*os.File, string) {
	var err error
	for n := 1; n <= 100; n++ {
		name := base + "." + s.pid + ".jsonl"
		if n > 1 {
			name = base + "." + s.pid + "-" + strconv.Itoa(n) + ".jsonl"
		}
		var f *os.File
		f, err = s.root.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
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
		s.mu.Unlock()

		now := time.Now()
		s.flows.Range(func(_, v any) bool {
			v.(*flow).close(now)
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

	// mu is held across the journal write and the tree's update, so that
	// no line is written after finish closed the file. It costs agents no
	// parallelism: os.File serializes the writes to one file anyway.
	mu        sync.Mutex
	file      *os.File // nil when it could not be opened
	ended     bool
	t         *tree
	scheduled bool
	timer     *time.Timer
	cost      time.Duration // of the last snapshot

	finished chan struct{} // closed once the final tree is written
	wmu      sync.Mutex    // one tree file write at a time, in order
}

// add writes line to the journal and applies e to the tree, then calls
// after, if any, with the tree and whether e changed it. It reports false
// and does nothing when the workflow has ended.
func (f *flow) add(line []byte, e *entry, after func(t *tree, fresh bool)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		return false
	}
	f.write(line)
	fresh := f.t.apply(e)
	if after != nil {
		after(f.t, fresh)
	}
	if !f.scheduled && f.owner {
		f.scheduled = true
		f.s.pending.Add(1)
		// Snapshots cost time in proportion to the tree, so their pace
		// follows their cost: a long run stays linear.
		f.timer = time.AfterFunc(max(f.s.interval, 20*f.cost), f.snapshot)
	}
	return true
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
	if e != nil {
		f.write(line)
		f.t.apply(e)
	}
	if f.scheduled && f.timer.Stop() {
		f.s.pending.Done()
	}
	u := f.t.usageOf(f.id)
	if f.file != nil {
		if err := f.file.Close(); err != nil {
			f.s.fault(f.journal, fmt.Errorf("slogwf: close journal: %w", err))
		}
	}
	for id := range f.t.nodes {
		f.s.scopes.Delete(id)
	}
	f.mu.Unlock()

	if f.owner {
		f.writeTree(true)
	}
	f.s.flows.Delete(f.id)
	close(f.finished)
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
	line := append(appendEndHead(nil, f.id, id, at, StatusIncomplete, ""), '}', '\n')
	e, err := decodeEntry(line)
	if err != nil {
		f.s.fault("event", fmt.Errorf("slogwf: encode end: %w", err))
		return nil, nil
	}
	return line, e
}

func (f *flow) write(line []byte) {
	if f.file == nil {
		return
	}
	if _, err := f.file.Write(line); err != nil {
		f.s.fault(f.journal, fmt.Errorf("slogwf: write journal: %w", err))
	}
}

func (f *flow) snapshot() {
	defer f.s.pending.Done()
	f.mu.Lock()
	f.scheduled = false
	f.mu.Unlock()
	f.writeTree(false)
}

// writeTree writes the tree file: to a new temporary file, renamed over
// the old one, so a reader sees the old tree or the new, never a part.
func (f *flow) writeTree(final bool) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	start := time.Now()
	f.mu.Lock()
	if f.ended && !final {
		f.mu.Unlock()
		return
	}
	data := f.t.appendJSON(nil, final)
	f.mu.Unlock()

	name := f.base + ".json"
	tmp := name + "." + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
	file, err := f.s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = file.Write(data)
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = f.s.root.Rename(tmp, name)
		}
		if err != nil {
			_ = f.s.root.Remove(tmp)
		}
	}
	if err != nil {
		f.s.fault(name, fmt.Errorf("slogwf: write tree: %w", err))
	}
	f.mu.Lock()
	f.cost = time.Since(start)
	f.mu.Unlock()
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
