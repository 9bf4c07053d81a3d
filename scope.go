package slogwf

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/jsonenc"
	"github.com/slogwf/slogwf/internal/tree"
)

// Kind is the kind of a scope: a node of the tree. The zero Kind is none:
// the kind of a nil *Scope.
type Kind uint8

// Scope kinds, outermost first.
const (
	KindWorkflow Kind = iota + 1
	KindIteration
	KindInteraction
	KindAction
	nKinds // one past the last kind
)

// String returns the kind's name in the tree: "workflow", "iteration",
// "interaction" or "action"; "none" for the zero Kind.
func (k Kind) String() string { return tree.Kind(k).String() }

// Status is the status of a node in the tree.
type Status string

// Node statuses.
const (
	StatusRunning    Status = "running"
	StatusCompleted  Status = "completed"
	StatusFailed     Status = "failed"
	StatusIncomplete Status = "incomplete" // ended by its parent, or never ended
)

// Scope is one open node of a workflow: the workflow itself, an iteration,
// an interaction (one agent's turn) or an action. It is carried by the
// context that its Start function returns; records logged with that context
// land in it. A Scope is safe for use by many goroutines.
//
// Start functions return a nil *Scope when there is nothing to record (the
// tree is off, the Handler is closed, or there is no workflow around); its
// methods are then no-ops.
type Scope struct {
	kind    Kind
	id      string
	name    string // workflow name, agent or action name; see tree.CutName
	nameCut bool   // name was longer
	number  int64  // iteration number
	parent  *Scope
	wf      *Scope
	start   time.Time

	// End logs through the logger and, for the values it holds, the
	// context the scope started with.
	ctx    context.Context
	logger *slog.Logger

	// The contexts a Scope makes, held here so that a scope costs no more
	// allocations: the one Start returns, ctx (for a scope of this
	// process), and those of its start and end records.
	inside   scopeContext
	detached detachedContext
	events   [2]scopeEvent

	path      console.Path                  // on the console
	nexts     [2]atomic.Pointer[placedNext] // next handlers whose lines carry its IDs; see Handler.nextFor
	startTime string                        // start, as its journal line has it; "" for a scope of another process

	// begun is the usage its start's attributes say, as given, and
	// costGiven whether they give a cost: a scope is one LLM call, though
	// its start and its end each say part of it (see meta.settleEnd).
	begun     tree.Usage
	costGiven bool

	ended, warned atomic.Bool
	// iterations is the number of the workflow's iterations, and lastIteration
	// the start of the last: workflow only, under iterationMu.
	iterationMu   sync.Mutex
	iterations    int64
	lastIteration time.Time
	spawned       atomic.Int64 // workflow only: when Environ first passed it on, in Unix nanoseconds

	// remote is set on a scope of another process, known here by its ID
	// from the environment (see ContextFromEnv).
	remote bool

	flow *flow // workflow only: its state, when it started here
}

// spawnedAt returns when Environ first passed the workflow s on to a child
// process, or the zero Time.
func (s *Scope) spawnedAt() time.Time {
	if ns := s.spawned.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// ID returns the scope's ID, a UUIDv7, or "" for a nil Scope.
func (s *Scope) ID() string {
	if s == nil {
		return ""
	}
	return s.id
}

// Kind returns the scope's kind, or the zero Kind for a nil Scope.
func (s *Scope) Kind() Kind {
	if s == nil {
		return 0
	}
	return s.kind
}

type ctxKey struct{}
type loggerKey struct{}

// scopeContext is its parent with the scope.
type scopeContext struct {
	context.Context
	scope *Scope
}

func (c *scopeContext) Value(key any) any {
	if key == (ctxKey{}) {
		return c.scope
	}
	return c.Context.Value(key)
}

// detachedContext is as context.WithoutCancel of its scopeContext: its
// values, never canceled.
type detachedContext struct{ scopeContext }

func (detachedContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (detachedContext) Done() <-chan struct{}       { return nil }
func (detachedContext) Err() error                  { return nil }

// scopeEvent is the start or end of a scope: the context of the scope's
// record, whose parent is the scope's detached context.
type scopeEvent struct {
	context.Context
	scope  *Scope
	end    bool
	status Status
}

func (e *scopeEvent) Value(key any) any {
	if key == (ctxKey{}) {
		return e
	}
	return e.Context.Value(key)
}

// fromContext returns the innermost scope of ctx, and the scope event when
// ctx is that of a scope's start or end record. A scope and its events
// share one context key so that the hot path looks the context up once.
func fromContext(ctx context.Context) (*Scope, *scopeEvent) {
	switch v := ctx.Value(ctxKey{}).(type) {
	case *Scope:
		return v, nil
	case *scopeEvent:
		return v.scope, v
	}
	return nil, nil
}

// FromContext returns the innermost scope of ctx, or nil.
func FromContext(ctx context.Context) *Scope {
	if ctx == nil {
		return nil
	}
	s, _ := fromContext(ctx)
	return s
}

// ContextWithLogger returns a context whose scope starts and ends, and
// semantic warnings, are logged through l instead of [slog.Default]. A nil
// ctx is [context.Background].
func ContextWithLogger(ctx context.Context, l *slog.Logger) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, loggerKey{}, l)
}

func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

// StartWorkflow starts a workflow named name and returns a context under
// it. args are attributes of the workflow, as in [slog.Logger.Log].
func StartWorkflow(ctx context.Context, name string, args ...any) (context.Context, *Scope) {
	return start(ctx, KindWorkflow, name, args, caller())
}

// StartIteration starts the next iteration of the context's workflow,
// numbered 1, 2, … per workflow in the order they start, even when started
// from parallel goroutines. It is a child of the workflow, whichever scope
// of it ctx is in, but in a child process (see [ContextFromEnv]), where it
// is a child of the scope its parent passed it. The tree numbers the
// iterations of each parent in the order they started, whichever process
// started them: a child process numbers its own from 1, as its console and
// journal show them.
func StartIteration(ctx context.Context, args ...any) (context.Context, *Scope) {
	return start(ctx, KindIteration, "", args, caller())
}

// StartInteraction starts one turn of agent under the innermost scope of
// ctx; interactions nest when an agent calls another. The arguments
// [InputKey] and, at End, [OutputKey] fill the node's input and output.
func StartInteraction(ctx context.Context, agent string, args ...any) (context.Context, *Scope) {
	return start(ctx, KindInteraction, agent, args, caller())
}

// StartAction starts an action (a tool call, a model call) named name under
// the innermost scope of ctx.
func StartAction(ctx context.Context, name string, args ...any) (context.Context, *Scope) {
	return start(ctx, KindAction, name, args, caller())
}

// caller returns the program counter of the caller of an exported function,
// for the source position of the records it logs.
func caller() uintptr {
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // skip Callers, caller and the exported function
	return pcs[0]
}

func start(ctx context.Context, kind Kind, name string, args []any, pc uintptr) (context.Context, *Scope) {
	if ctx == nil {
		ctx = context.Background()
	}
	l := loggerFrom(ctx)
	if h, ok := l.Handler().(*Handler); ok && (h.sink == nil || h.sink.closing.Load()) {
		if h.sink != nil { // closed: say so, once
			switch p := FromContext(ctx); {
			case kind == KindWorkflow:
				name, _ := tree.CutName(name)
				h.sink.afterClose(name, "")
			case p != nil && p.wf != nil:
				h.sink.afterClose(p.wf.name, p.wf.id)
			}
		}
		return ctx, nil // the tree is off, or closed: nothing to record
	}
	s := &Scope{kind: kind, logger: l, start: time.Now()}
	s.name, s.nameCut = tree.CutName(name)
	if kind != KindWorkflow {
		p := FromContext(ctx)
		if p == nil || p.wf == nil {
			return ctx, nil
		}
		s.parent = p
		if kind == KindIteration {
			// An iteration is the workflow's, wherever in it it starts; in
			// a child process, under the scope its parent passed it, which
			// numbers its own.
			s.parent = p.wf
			for q := p; p.wf.remote && q != nil; q = q.parent {
				if q.remote { // the scope ContextFromEnv gave
					s.parent = q
					break
				}
			}
			s.number, s.start = p.wf.nextIteration()
		}
	}
	s.place()
	s.inside = scopeContext{ctx, s}
	s.detached = detachedContext{scopeContext{ctx, s}}
	s.ctx = &s.detached
	ctx = &s.inside
	s.log(s.start, false, "", slog.LevelInfo, args, nil, pc)
	return ctx, s
}

// nextIteration returns the number of the next iteration of the workflow
// w, and its start: numbers in the order of the start times, from any
// number of goroutines, as the tree file numbers the iterations of a
// parent (see tree.Tree.AppendJSON). A clock set back does not start an
// iteration before the last one: it starts as the last did, and the tree
// orders the two by their numbers.
func (w *Scope) nextIteration() (int64, time.Time) {
	w.iterationMu.Lock()
	defer w.iterationMu.Unlock()
	now := clock()
	if now.Round(0).Before(w.lastIteration) { // by wall times: a monotonic one never goes back
		now = w.lastIteration
	}
	w.iterations++
	w.lastIteration = now
	return w.iterations, now
}

// clock is time.Now, but for the tests that set the clock back.
var clock = time.Now

// place sets what follows from the scope's parent: its workflow, and its
// path on the console; and, for a new scope of this process, its ID and
// the text of its start time. The three texts take one allocation.
func (s *Scope) place() {
	var buf [512]byte
	b, idEnd, timeEnd := buf[:0], 0, 0
	if s.id == "" {
		b = appendUUID(b, newID())
		idEnd = len(b)
		b = jsonenc.AppendTime(b, s.start)
		timeEnd = len(b)
	}
	if p := s.parent; p == nil {
		s.wf = s
		b, s.path = console.Path{}.AppendChild(b, 0, tree.Workflow, s.name, 0)
	} else {
		s.wf = p.wf
		b, s.path = p.path.AppendChild(b, tree.Kind(p.kind), tree.Kind(s.kind), s.name, s.number)
	}
	texts := string(b)
	if idEnd > 0 {
		s.id, s.startTime = texts[:idEnd], texts[idEnd+1:timeEnd-1] // without its quotes
	}
	s.path.Text = texts[timeEnd:]
}

// newID returns a new scope ID. Tests replace it.
var newID = defaultNewID

// defaultNewID returns a UUIDv7.
func defaultNewID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	return id
}

// appendUUID appends id as uuid.UUID.String writes it.
func appendUUID(b []byte, id uuid.UUID) []byte {
	b = hex.AppendEncode(b, id[:4])
	for _, part := range [...][]byte{id[4:6], id[6:8], id[8:10], id[10:]} {
		b = hex.AppendEncode(append(b, '-'), part)
	}
	return b
}

// End ends the scope as completed. args are attributes of the node;
// [OutputKey] fills its output. Open scopes under it end as incomplete.
// Ending a scope again does nothing but log one DEBUG note.
func (s *Scope) End(args ...any) {
	s.end(StatusCompleted, nil, args, caller())
}

// Fail ends the scope as failed with err, or with the error "failed" when
// err is nil; else it is as End.
func (s *Scope) Fail(err error, args ...any) {
	s.fail(err, args, caller())
}

func (s *Scope) fail(err error, args []any, pc uintptr) {
	if err == nil {
		err = errors.New("failed")
	}
	s.end(StatusFailed, err, args, pc)
}

func (s *Scope) end(status Status, err error, args []any, pc uintptr) {
	if s == nil {
		return
	}
	if s.remote || !s.ended.CompareAndSwap(false, true) {
		if !s.warned.Swap(true) {
			why := "slogwf: scope ended twice"
			if s.remote {
				why = "slogwf: a scope of the parent process ends there, not here"
			}
			s.logger.DebugContext(s.ctx, why, "kind", s.kind.String(), "id", s.id)
		}
		return
	}
	level := slog.LevelInfo
	if status == StatusFailed {
		level = slog.LevelError
	}
	s.log(time.Now(), true, status, level, args, err, pc)
}

// log sends the scope's start or end record through its logger. A slogwf
// Handler is enabled for it whatever its level, so the tree gets it.
func (s *Scope) log(now time.Time, end bool, status Status, level slog.Level, args []any, err error, pc uintptr) {
	ev := &s.events[0]
	if end {
		ev = &s.events[1]
	}
	*ev = scopeEvent{Context: s.ctx, scope: s, end: end, status: status}
	h := s.logger.Handler()
	if !h.Enabled(ev, level) {
		return
	}
	// A Handler makes the message when it needs it: its console shows
	// the scope's mark and kind instead, and its journal neither.
	msg := ""
	if _, ok := h.(*Handler); !ok {
		msg = ev.message()
	}
	r := slog.NewRecord(now, level, msg, pc)
	r.Add(args...)
	if !end {
		// Read once, before any handler and before Start returns: each
		// handler's End settles it as its start's line did, whichever
		// goroutine ends it.
		var m meta
		r.Attrs(func(a slog.Attr) bool { m.read(a); return true })
		s.begun, s.costGiven = m.usage, m.usage.Cost != 0
	}
	if err != nil {
		r.AddAttrs(slog.Any(ErrorKey, err))
	}
	_ = h.Handle(ev, r)
}

// message returns the message of the event's record: "start interaction
// planner", "end iteration 2", "fail action search".
func (e *scopeEvent) message() string {
	s, verb := e.scope, "start"
	switch {
	case e.status == StatusFailed:
		verb = "fail"
	case e.end:
		verb = "end"
	}
	what := s.name
	if s.kind == KindIteration {
		what = strconv.FormatInt(s.number, 10)
	}
	return verb + " " + s.kind.String() + " " + what
}

// Interact runs fn as one turn of agent, in an interaction under the
// innermost scope of ctx: its output becomes the interaction's output, its
// error a failure, and a panic a failure before the panic goes on.
func Interact[T any](ctx context.Context, agent string, fn func(context.Context) (T, error), args ...any) (T, error) {
	pc := caller()
	ctx, s := start(ctx, KindInteraction, agent, args, pc)
	return run(ctx, s, fn, pc)
}

// Act runs fn as an action named name, as [Interact] runs an interaction.
func Act[T any](ctx context.Context, name string, fn func(context.Context) (T, error), args ...any) (T, error) {
	pc := caller()
	ctx, s := start(ctx, KindAction, name, args, pc)
	return run(ctx, s, fn, pc)
}

func run[T any](ctx context.Context, s *Scope, fn func(context.Context) (T, error), pc uintptr) (out T, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		p := recover()
		if p == nil {
			s.fail(errors.New("runtime.Goexit"), nil, pc)
			return
		}
		s.fail(fmt.Errorf("panic: %v", p), nil, pc)
		panic(p)
	}()
	out, err = fn(ctx)
	returned = true
	if err != nil {
		s.fail(err, nil, pc)
	} else {
		s.end(StatusCompleted, nil, []any{OutputKey, out}, pc)
	}
	return out, err
}

// open returns the scope that a record logged in s goes to, and whether
// the record is late: s itself while it is open; after s or a scope above
// it ended, the scope just above the outermost that ended, or the workflow
// if that ended.
func (s *Scope) open() (*Scope, bool) {
	in, late := s, false
	for p := s; p != nil; p = p.parent {
		if p.ended.Load() {
			in, late = cmp.Or(p.parent, p), true
		}
	}
	return in, late
}
