package slogwf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogwf/slogwf/internal/buffer"
	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/tree"
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
	exporter ScopeExporter

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
		exporter: o.Exporter,
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
	flow  *flow        // nil: the console only
	scope string       // ID of the node
	in    *Scope       // the node, when this process holds it; else nil
	path  console.Path // of the node on the console
	late  bool         // logged after the node or a scope above it had ended
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

// scopeEvent adds a scope's start or end to its workflow. For an end it returns
// attributes for the console: the usage of the scope's subtree, and late
// when the scope had been ended already, by its parent.
func (s *sink) scopeEvent(ev *scopeEvent, r slog.Record, lost tree.Loss) (extra []slog.Attr) {
	sc := ev.scope
	buf := buffer.New()
	defer buf.Free()
	var e *tree.Event
	*buf, e = appendScopeLine(*buf, ev, r, s.prices, lost)
	if sc.kind == KindWorkflow && !ev.end {
		s.startFlow(sc, *buf, e)
		return nil
	}
	f := s.flowFor(sc)
	switch {
	case f == nil && ev.end:
		return console.EndAttrs(tree.Usage{}, false) // the workflow is over
	case f == nil:
		return nil
	case sc.kind == KindWorkflow:
		return console.EndAttrs(f.finish(*buf, e), true)
	case !ev.end:
		f.start(sc, *buf, e)
		return nil
	}
	f.add(*buf, e, func(t *tree.Tree, fresh bool) { extra = console.EndAttrs(t.UsageOf(sc.id), fresh) })
	return extra
}

// startFlow starts the live state of workflow sc with its start line.
func (s *sink) startFlow(sc *Scope, line []byte, e *tree.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	base := tree.FileBase(sc.name, sc.id)
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
	f = s.newFlow(sc.wf.id, tree.FileBase(s.nameOf(sc.wf.id), sc.wf.id), false)
	s.flows.Store(f.id, f)
	return f
}

// nameOf returns the name of workflow id from the files of another process
// in the directory, or "" when there are none.
func (s *sink) nameOf(id string) string {
	matches, _ := fs.Glob(s.root.FS(), "*-"+tree.ID8(id)+".*")
	for _, m := range matches {
		if name := tree.NameIn(m, id); name != "" {
			return name
		}
	}
	return ""
}

// newFlow returns the live state of workflow id with its journal open. An
// owner started the workflow and writes its tree file.
func (s *sink) newFlow(id, base string, owner bool) *flow {
	f := &flow{sink: s, id: id, base: base, owner: owner, tree: tree.NewTree(id), finished: make(chan struct{})}
	f.file, f.journal = s.openJournal(base)
	f.failed = f.file == nil
	return f
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
