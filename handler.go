package slogwf

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slogwf/slogwf/internal/buffer"
	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/jsonenc"
	"github.com/slogwf/slogwf/internal/tree"
)

// Format is the format of the console that [New] builds.
type Format string

// Console formats.
const (
	FormatTint Format = "tint" // colored, for people (github.com/lmittmann/tint)
	FormatText Format = "text" // slog.TextHandler
	FormatJSON Format = "json" // slog.JSONHandler
)

// ColorMode says when the tint console is colored.
type ColorMode int

// Color modes.
const (
	ColorAuto   ColorMode = iota // when Console is a terminal and NO_COLOR is unset
	ColorAlways                  // always, as for a terminal behind a pipe
	ColorNever                   // never
)

// Options configure [New] and [NewHandler]. A zero Options consists entirely
// of default values; nil means the zero Options.
type Options struct {
	// Directory of the tree files and journals, created 0o700 when missing
	// (Default: $SLOGWF_DIR, else "logs").
	Dir string

	// Turn the tree off: no files, scopes become no-ops; the console goes on
	// (Default: true when $SLOGWF_DISABLE is 1, true, yes or on).
	Disabled bool

	// How often the tree file of a running workflow is rewritten at most
	// (Default: 1s). Writing takes time in proportion to the tree, so
	// trees are rewritten less often when they are large or many: the
	// snapshots of all running workflows take at most 1/20 of the time.
	SnapshotInterval time.Duration

	// The size at which the journal of the process gives way to a new
	// segment: 1 MiB at least, the step by which a segment's file grows
	// (Default: 16 MiB). On Linux the segment being written is mapped:
	// this much address space, and the pages written so far and up to
	// 2 MiB ahead of them.
	SegmentSize int64

	// Remove the tree files and journal segments last written longer ago
	// than this, at New and then periodically: never the tree file of a
	// running workflow, nor a segment that holds a line of one or that a
	// process still writes (Default: 0, keep them).
	MaxAge time.Duration

	// Remove the oldest of those files, at New and then periodically,
	// while Dir holds more than this many bytes of tree files and journals
	// (Default: 0, no limit). A journal segment being written, or left by
	// a process that crashed, counts with the NUL padding it grows by, up
	// to 2 MiB: what it takes on disk.
	MaxBytes int64

	// Where faults of the journal and tree files are reported, each cause
	// once, and what a program should know: how many workflows run at once,
	// past 1,024, and the first that logs after Close (Default: os.Stderr).
	ErrorOutput io.Writer

	// Prices of models, to cost the LLM calls logged without a [Cost]
	// (Default: none, no cost). A model name with a date or a version at
	// its end, such as gpt-4o-2024-08-06 or gemini-2.0-flash-001, without
	// a price of its own has the price of the name without it.
	Prices Prices

	// When journals and tree files reach stable storage (Default: SyncNone).
	Sync SyncMode

	// Which secrets are hidden from the console, the journals and the
	// trees (Default: nil, the built-in keys and patterns; see Redaction).
	Redact *Redaction

	// The longest message or string value kept, in bytes, in the console,
	// the journals and the trees; a longer one is cut and ends with
	// "…[truncated N bytes]" (Default: 64 KiB; negative: no limit).
	MaxValue int

	// Where each scope goes as it ends, besides the tree: an OpenTelemetry
	// backend, through slogwfotel.New (Default: nowhere). Close hands it
	// the scopes still open: shut the exporter down after Close.
	Exporter ScopeExporter

	// The following configure the console that New builds; NewHandler,
	// whose console is the handler it is given, ignores them.

	// Console output (Default: os.Stderr). New only.
	Console io.Writer

	// Console format (Default: FormatTint). New only. The lines of
	// workflows of FormatText and FormatJSON carry WorkflowIDKey and the
	// innermost scope's ID under its kind's key, as NewHandler's next gets
	// them (see NewHandler).
	Format Format

	// When the tint console is colored (Default: ColorAuto). New only.
	Color ColorMode

	// Minimum level of the console and the tree
	// (Default: $SLOGWF_LEVEL, else slog.LevelInfo). New only: with
	// NewHandler, the next handler's Enabled decides.
	Level slog.Leveler

	// Add the source position to console lines (Default: false). New only.
	AddSource bool

	// Time format of the tint console (Default: "15:04:05.000"). New only.
	TimeFormat string

	// The widest string value of the tint console, in characters as shown
	// (escapes count, quotes do not); a longer one is cut and ends with "…",
	// so that a line does not wrap for a prompt (Default: 80; negative: no
	// limit). Messages, keys and group names are never cut, and the
	// journals and trees keep every value whole. New only.
	ValueWidth int

	// The widest line of the tint console, in columns as shown (a rune
	// or an escape's characters each take one, colors none); a wider line
	// is cut and ends with "…", and with a color reset when colored. The
	// end of a scope shows its duration, tokens, cost and error first, so
	// that what is cut matters least (Default: 160; negative: no limit). The
	// text and JSON consoles are never cut. New only.
	LineWidth int

	// ReplaceAttr rewrites the console's attributes, time, level and
	// source, as in slog.HandlerOptions; not the message, which slogwf
	// builds from the scope path and the record's. slogwf escapes what it
	// returns. New only.
	ReplaceAttr func(groups []string, a slog.Attr) slog.Attr
}

// minSegmentSize is the least Options.SegmentSize: the step by which a
// segment's file grows. A smaller one is a mistake (16 for 16 MiB), which
// would make a segment of every line or two.
const minSegmentSize = 1 << 20

// fix returns an error naming each option of the tree whose value cannot
// be meant, and puts its default in its place. Zero values, which stand
// for the defaults, and the negative values documented pass.
func (o *Options) fix() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("slogwf: Options."+format, args...))
	}
	if o.SnapshotInterval < 0 {
		bad("SnapshotInterval %v: want 0 (1s) or more", o.SnapshotInterval)
		o.SnapshotInterval = 0
	}
	if o.SegmentSize != 0 && o.SegmentSize < minSegmentSize {
		bad("SegmentSize %d: want 0 (16 MiB) or %d (1 MiB) or more", o.SegmentSize, minSegmentSize)
		o.SegmentSize = 0
	}
	if o.MaxAge < 0 {
		bad("MaxAge %v: want 0 (keep all) or more", o.MaxAge)
		o.MaxAge = 0
	}
	if o.MaxBytes < 0 {
		bad("MaxBytes %d: want 0 (no limit) or more", o.MaxBytes)
		o.MaxBytes = 0
	}
	if o.Sync > SyncAlways {
		bad("Sync %d: want SyncNone, SyncEnd or SyncAlways", o.Sync)
		o.Sync = SyncNone
	}
	if r := o.Redact; r != nil && slices.Contains(r.Patterns, nil) {
		bad("Redact.Patterns[%d] nil: want a pattern", slices.Index(r.Patterns, nil))
		fixed := *r // the caller's stays as it is
		fixed.Patterns = slices.DeleteFunc(slices.Clone(r.Patterns), func(re *regexp.Regexp) bool { return re == nil })
		o.Redact = &fixed
	}
	for _, model := range slices.Sorted(maps.Keys(o.Prices)) { // in the same order every time
		p := o.Prices[model]
		for _, f := range [...]struct {
			name  string
			price float64
		}{{"Input", p.Input}, {"Output", p.Output}, {"CachedInput", p.CachedInput}, {"CacheWrite", p.CacheWrite}} {
			if !(f.price >= 0) || math.IsInf(f.price, 1) { // NaN too
				bad("Prices[%q].%s %v: want 0 or more dollars per million tokens", model, f.name, f.price)
				o.Prices = maps.Clone(o.Prices) // the caller's stays as it is
				delete(o.Prices, model)
				break
			}
		}
	}
	return errors.Join(errs...)
}

// treeDefaults fills in the defaults and environment of the tree options.
func (o *Options) treeDefaults() error {
	if o.ErrorOutput == nil {
		o.ErrorOutput = os.Stderr
	}
	if o.Dir == "" {
		o.Dir = cmp.Or(os.Getenv("SLOGWF_DIR"), "logs")
	}
	if o.SnapshotInterval <= 0 {
		o.SnapshotInterval = time.Second
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = 16 << 20
	}
	v := os.Getenv("SLOGWF_DISABLE")
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "on":
		o.Disabled = true
	case "", "0", "f", "false", "no", "off":
	default:
		return fmt.Errorf("slogwf: SLOGWF_DISABLE=%q: want 1, t, true, yes or on; or 0, f, false, no, off or nothing", v)
	}
	return nil
}

// consoleDefaults fills in the defaults and environment of the console
// options.
func (o *Options) consoleDefaults() error {
	if o.Console == nil {
		o.Console = os.Stderr
	}
	switch o.Format {
	case "":
		o.Format = FormatTint
	case FormatTint, FormatText, FormatJSON:
	default:
		return fmt.Errorf("slogwf: Options.Format %q: want FormatTint, FormatText or FormatJSON", o.Format)
	}
	if o.Color > ColorNever || o.Color < ColorAuto {
		return fmt.Errorf("slogwf: Options.Color %d: want ColorAuto, ColorAlways or ColorNever", o.Color)
	}
	if o.TimeFormat == "" {
		o.TimeFormat = console.TimeFormat
	}
	if o.ValueWidth == 0 {
		o.ValueWidth = console.ValueWidth
	}
	if o.LineWidth == 0 {
		o.LineWidth = console.LineWidth
	}
	if o.Level == nil {
		o.Level = slog.LevelInfo
		if v := os.Getenv("SLOGWF_LEVEL"); v != "" {
			l, err := ParseLevel(v)
			if err != nil {
				return fmt.Errorf("slogwf: SLOGWF_LEVEL=%q: want TRACE, DEBUG, INFO, NOTICE, WARN or ERROR, in any case, with an offset such as INFO+2, or a number", v)
			}
			o.Level = l
		}
	}
	return nil
}

// newConsole returns the console of New, as o, whose defaults are filled
// in, says.
func newConsole(o *Options) slog.Handler {
	switch o.Format {
	case FormatJSON, FormatText:
		replace := ReplaceLevel
		if user := o.ReplaceAttr; user != nil {
			replace = func(groups []string, a slog.Attr) slog.Attr { return ReplaceLevel(groups, user(groups, a)) }
		}
		ho := &slog.HandlerOptions{AddSource: o.AddSource, Level: o.Level, ReplaceAttr: replace}
		if o.Format == FormatJSON {
			return slog.NewJSONHandler(o.Console, ho)
		}
		return slog.NewTextHandler(o.Console, ho)
	}
	color := o.Color == ColorAlways || o.Color == ColorAuto && console.IsTerminal(o.Console) && os.Getenv("NO_COLOR") == ""
	return console.New(o.Console, console.Options{Color: color, Level: o.Level, AddSource: o.AddSource,
		TimeFormat: o.TimeFormat, ReplaceAttr: o.ReplaceAttr, Width: o.ValueWidth, LineWidth: o.LineWidth})
}

// copyOf returns a copy of opts, the zero Options for nil.
func copyOf(opts *Options) Options {
	if opts == nil {
		return Options{}
	}
	return *opts
}

// Handler is a [slog.Handler] that passes every record on to the next
// handler (the console) and adds the records of workflows to their trees.
// Build it with [New] or [NewHandler]; it is safe for concurrent use, and
// all handlers derived from it with WithAttrs and WithGroup share one set of
// trees.
type Handler struct {
	next  slog.Handler
	level slog.Leveler // of next, when New built it; else next says
	sink  *sink        // nil when the tree is off
	clean *cleaner     // shared by all clones

	console *console.Handler // next, when New built a tint console; else nil

	// Without a tint console, next's lines carry the scopes' IDs (see
	// nextids.go): flat is next before its first WithGroup, after the
	// WithGroup and WithAttrs calls since, and keyed the scope-ID keys
	// that WithAttrs and WithGroup gave it at the top of its lines.
	flat       slog.Handler
	after      []link
	keyed      keyed
	placedNext atomic.Pointer[placedNext] // for records that name their scope; see nextFor

	pre   preformat // by WithAttrs and WithGroup, for the journal and the tree
	ids   ids       // scope IDs named by WithAttrs
	named bool      // ids names one: told once here, not per record
	lost  tree.Loss // in cleaning the attributes from WithAttrs
}

var _ slog.Handler = (*Handler)(nil)

// New returns a Handler that writes a console (tint on os.Stderr unless
// opts say otherwise) and the trees and journals of workflows under
// opts.Dir. Close it when the program is done.
func New(opts *Options) (*Handler, error) {
	o := copyOf(opts)
	if err := errors.Join(o.fix(), o.treeDefaults(), o.consoleDefaults()); err != nil {
		return nil, err
	}
	h := &Handler{next: newConsole(&o), level: o.Level, clean: newCleaner(&o)}
	h.console, _ = h.next.(*console.Handler)
	h.flat = h.next
	var err error
	if !o.Disabled {
		if h.sink, err = openSink(&o); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// NewHandler returns a Handler that passes every record on to next and
// writes the trees and journals of workflows under opts.Dir. A record of a
// workflow, and the start and end of a scope, reach next with the IDs of
// where they went, at the top of the line: WorkflowIDKey, and the
// innermost scope's ID under its kind's key (IterationIDKey,
// InteractionIDKey or ActionIDKey), but for the keys that the record or
// its logger has already there. What New would
// return as an error it says on opts.ErrorOutput: a bad option, or
// environment variable, has its default; when the directory cannot be
// used, the tree is off; a nil next is taken for a handler that shows
// nothing, enabled at INFO and above.
func NewHandler(next slog.Handler, opts *Options) *Handler {
	o := copyOf(opts)
	if err := errors.Join(o.fix(), o.treeDefaults()); err != nil {
		fmt.Fprintln(o.ErrorOutput, err)
	}
	if next == nil {
		fmt.Fprintln(o.ErrorOutput, "slogwf: NewHandler: next is nil: records reach no console, and the tree takes them at INFO and above")
		next = slog.NewTextHandler(io.Discard, nil)
	}
	h := &Handler{next: next, flat: next, clean: newCleaner(&o)}
	if !o.Disabled {
		var err error
		if h.sink, err = openSink(&o); err != nil {
			fmt.Fprintln(o.ErrorOutput, err)
		}
	}
	return h
}

// Close ends the workflows still running as incomplete, writes their final
// trees and closes the journal. It returns the faults of the files met
// since New, each cause once (the first 16, and how many more), as
// reported on Options.ErrorOutput. It is idempotent. After Close the
// Handler is as one whose tree is off: records still reach the console; a
// workflow started then has no tree (its Start function returns a nil
// *Scope). The first workflow that logs after Close, a record or a scope's
// start or end, or that starts then, is named once on Options.ErrorOutput:
// close the Handler once the work that logs is done (an HTTP server's
// Shutdown has returned).
func (h *Handler) Close() error {
	if h.sink == nil {
		return nil
	}
	return h.sink.close()
}

// TreeFile returns the path of the tree file of the workflow of s, or ""
// when it has none: the tree is off, or the workflow started after Close.
// The final tree of a workflow is written off the goroutine that ends it:
// once the workflow has ended, TreeFile returns when it is written.
func (h *Handler) TreeFile(s *Scope) string {
	if h.sink == nil || s == nil || s.wf == nil || !s.wf.remote && s.wf.flow == nil {
		return ""
	}
	if f := s.wf.flow; f != nil && f.sink == h.sink && f.over.Load() {
		h.sink.finals.wait(f)
	}
	return filepath.Join(h.sink.dir.given, tree.TreeFileName(s.wf.name, s.wf.id))
}

// Enabled reports whether the next handler is enabled for l, and is always
// enabled for the start and end of scopes, so that they reach the tree.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	if h.level != nil {
		if l >= h.level.Level() {
			return true
		}
	} else if h.next.Enabled(ctx, l) {
		return true
	}
	if l != slog.LevelInfo && l != slog.LevelError || h.sink == nil || ctx == nil {
		return false // not a scope event
	}
	_, ev := fromContext(ctx)
	return ev != nil
}

// Handle passes r, cleaned (see [Redaction] and Options.MaxValue), to the
// next handler and adds it to the innermost scope of ctx, or to the scope
// its attributes name. A record in a scope that has ended goes to the
// nearest scope above it that is open, or to its workflow, marked late.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		ctx = context.Background()
	}
	sc, ev := fromContext(ctx)
	if sc == nil && h.console == nil && !h.named && h.clean.quiet(&r) {
		// Nowhere to add it, nothing to clean: most records of a
		// program that logs outside its workflows. slogwf's own console
		// takes such records by HandlePlain, below.
		return h.next.Handle(ctx, r)
	}
	var m meta
	var lost tree.Loss
	plain := h.clean.record(&r, &m, &lost, h.console)
	if ev != nil {
		return h.handleScopeEvent(ctx, ev, r, lost, m.keyed)
	}
	var rt route
	if sc != nil || h.sink != nil && (h.named || m.named()) {
		// Else route has nowhere to send it: most records of a program
		// that logs outside its workflows.
		rt = h.route(sc, &m)
		h.add(&rt, &r, &m, lost)
	}
	if h.console != nil {
		if plain {
			return h.console.HandlePlain(ctx, &r, rt.path)
		}
		return h.console.HandleAt(ctx, &r, rt.path, console.ScopeEvent{})
	}
	if p, ok := h.placedAt(&rt, &m); ok {
		return h.nextFor(rt.in, p).Handle(ctx, r)
	}
	return h.next.Handle(ctx, r)
}

// add adds r, whose own attributes said m, to the tree it goes to by rt,
// which route decided, if any, and updates rt if an End moved it; a
// record that came late it marks so for the console. lost is what
// cleaning r lost.
func (h *Handler) add(rt *route, r *slog.Record, m *meta, lost tree.Loss) {
	if rt.flow != nil {
		if h.lost != (tree.Loss{}) {
			lost.Add(h.lost)
		}
		lost.Clamped += m.clamped
		buf := buffer.New()
		var e tree.Event
		*buf = appendRecordLine(*buf, rt, r, m, &h.pre, lost, &e)
		for !rt.flow.add(*buf, &e, rt, nil) {
			// It lost the race with an End, which moved it.
			*buf = appendRecordLine((*buf)[:0], rt, r, m, &h.pre, lost, &e)
		}
		buf.Free()
	}
	if rt.late {
		*r = r.Clone()
		r.AddAttrs(slog.Bool("late", true))
	}
}

// route returns where a record logged in scope sc goes, whose own
// attributes said m.
func (h *Handler) route(sc *Scope, m *meta) route {
	if h.sink == nil || sc == nil && !h.named && !m.named() {
		in, late := sc.open()
		if in == nil {
			return route{}
		}
		return route{in: in, path: in.path, late: late}
	}
	x := m.ids
	x.merge(&h.ids)
	rt := h.sink.route(sc, &x)
	if rt.flow != nil {
		m.settle(h.sink.prices)
	}
	return rt
}

// handleScopeEvent adds the start or end of a scope to its workflow, and
// passes its record on to next: an end with the scope's duration and the
// usage of its subtree. keyed are the scope-ID keys of its attributes.
func (h *Handler) handleScopeEvent(ctx context.Context, ev *scopeEvent, r slog.Record, lost tree.Loss, keyed keyed) error {
	var extra []slog.Attr
	if h.sink != nil && ev.scope.wf != nil {
		if ev.scope.nameCut && !ev.end {
			lost.Truncated++
		}
		extra = h.sink.scopeEvent(ev, r, lost)
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	if ev.end {
		r = console.EndRecord(r, ev.scope.start, extra)
	}
	if h.console != nil {
		sev := console.ScopeEvent{Kind: tree.Kind(ev.scope.kind), End: ev.end, Status: string(ev.status)}
		return h.console.HandleAt(ctx, &r, ev.scope.path, sev)
	}
	if r.Message == "" {
		r.Message = ev.message() // left to the Handler by Scope.log
	}
	sc := ev.scope
	return h.nextFor(sc, placed{wf: sc.wf.id, id: sc.id, kind: sc.kind, keyed: h.atTop(keyed)}).Handle(ctx, r)
}

func (h *Handler) clone() *Handler {
	return &Handler{
		next:    h.next,
		level:   h.level,
		sink:    h.sink, // shared among all clones
		clean:   h.clean,
		console: h.console,
		flat:    h.flat,
		after:   slices.Clip(h.after),
		keyed:   h.keyed,
		pre:     h.pre.clip(),
		ids:     h.ids,
		named:   h.named,
		lost:    h.lost,
	}
}

// WithAttrs returns a Handler whose records carry attrs, in the console and
// in the tree. Attributes that name scopes route its records.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := h.clone()
	attrs = h.clean.attrs(attrs, &h2.lost)
	h2.next = h.next.WithAttrs(attrs)
	if h.console != nil {
		h2.console = h2.next.(*console.Handler)
	}
	h.chain(h2, "", attrs)
	if h.sink == nil {
		return h2
	}
	e := jsonenc.AttrEncoder{B: h2.pre.attrs, Groups: h2.pre.groups, Open: h.pre.open, Sep: len(h.pre.attrs) > 0}
	for _, a := range attrs {
		// Scope IDs route the records; other reserved keys are read from
		// the records' own attributes only.
		var m meta
		if m.read(a) && m.ids != (ids{}) {
			for k, id := range m.ids {
				if id != "" {
					h2.ids[k], h2.named = id, true
				}
			}
			continue
		}
		e.Attr(a)
	}
	h2.pre.attrs, h2.pre.open = e.B, e.Open
	return h2
}

// WithGroup returns a Handler that puts the attributes of its records in
// group name, in the console and in the tree.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.clone()
	if h.clean.redactor.secretKey(name) {
		h2.clean = h.clean.hidingAll()
	}
	if cut, ok := tree.CutName(name); ok {
		name = cut
		h2.lost.Truncated++ // of each record
	}
	h2.next = h.next.WithGroup(name)
	if h.console != nil {
		h2.console = h2.next.(*console.Handler)
	}
	h.chain(h2, name, nil)
	if len(h.pre.groups) < jsonenc.MaxDepth {
		// Deeper groups the tree leaves out, as it cuts groups of
		// attributes: JSON readers give up at 10,000 levels.
		h2.pre.groups = append(h2.pre.groups, name)
	}
	return h2
}
