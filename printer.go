package slogwf

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"
)

// Printer prints journal events as the console of New printed the records
// and scope starts and ends that made them: `slogwf tail` is a Printer.
// The values come back from the journal's JSON, so a few show otherwise
// than they did live: a duration in nanoseconds, a time as RFC 3339, a byte
// slice in base64, a map as a group.
type Printer struct {
	console slog.Handler
	b       *Builder          // for the usage of ended scopes: it keeps no records
	scopes  map[string]*Scope // by ID, from the start events seen
}

// NewPrinter returns a Printer that writes to opts.Console in the form
// New's console would have, as the console options of opts say.
func NewPrinter(opts *Options) (*Printer, error) {
	o := copyOf(opts)
	if err := o.consoleDefaults(); err != nil {
		return nil, err
	}
	b := NewBuilder()
	b.counting = true
	return &Printer{console: newConsole(&o), b: b, scopes: map[string]*Scope{}}, nil
}

// Event is one journal event.
type Event struct {
	Time     time.Time
	Kind     string // "start", "record" or "end"
	Level    slog.Level
	Semantic bool

	// Set by Printer.Print, from the events seen before.
	Workflow     string // ID
	WorkflowName string
	Agent        string // of the innermost interaction, if any

	e *entry
}

// Decode decodes one line of the journal file named file.
func (p *Printer) Decode(line []byte, file string) (*Event, error) {
	e, err := decodeEntry(line)
	if err != nil {
		return nil, err
	}
	p.b.nameFrom(e.Wf, file)
	t, _ := time.Parse(time.RFC3339Nano, e.Time) // decodeEntry checked it
	ev := &Event{Time: t.Local(), Kind: e.Ev, Level: e.level, Semantic: e.Semantic, Workflow: e.Wf, e: e}
	switch {
	case e.Ev == evEnd && e.Status == StatusFailed:
		ev.Level = slog.LevelError
	case e.Ev != evRecord:
		ev.Level = slog.LevelInfo
	}
	return ev, nil
}

// Print takes e into account, events being best given in time order, and
// prints it when show, given e with its workflow and agent, says so.
func (p *Printer) Print(ev *Event, show func(*Event) bool) error {
	e := ev.e
	fresh := p.b.apply(e)
	var s *Scope
	if e.Ev == evStart {
		s = p.start(e, ev.Time)
	} else {
		id := e.Scope
		if e.Ev == evEnd {
			id = e.ID
		}
		if s = p.scopes[id]; s == nil {
			s = p.root(e.Wf)
		}
	}
	ev.WorkflowName = s.wf.name
	for a := s; a != nil; a = a.parent {
		if a.kind == KindInteraction && !a.remote {
			ev.Agent = a.name
			break
		}
	}
	if show != nil && !show(ev) {
		return nil
	}

	ctx := context.Background()
	r := slog.NewRecord(ev.Time, ev.Level, e.Msg, 0)
	if ev.Semantic {
		r.AddAttrs(slog.Bool(SemanticKey, true))
	}
	if e.Ev == evRecord {
		r.AddAttrs(jsonAttrs(e.Attrs)...)
		if e.Late {
			r.AddAttrs(slog.Bool("late", true))
		}
		if c, ok := p.console.(*console); ok {
			return c.handle(ctx, r, s.path, nil)
		}
		return p.console.Handle(ctx, r)
	}
	// The journal keeps input and output apart from the attrs; they come
	// first, as callers (and Interact) most often put them.
	if e.Input != nil {
		r.AddAttrs(jsonAttr(InputKey, e.Input))
	}
	if e.Output != nil {
		r.AddAttrs(jsonAttr(OutputKey, e.Output))
	}
	r.AddAttrs(jsonAttrs(e.Attrs)...)
	if e.Error != "" {
		r.AddAttrs(slog.String(ErrorKey, e.Error))
	}
	sev := &event{scope: s, end: e.Ev == evEnd, status: e.Status}
	var extra []slog.Attr
	if sev.end {
		extra = usageAttrs(p.b.trees[e.Wf].usageOf(s.id), fresh)
	}
	r = endRecord(r, sev, extra)
	if c, ok := p.console.(*console); ok {
		return c.handle(ctx, r, s.path, sev)
	}
	return p.console.Handle(ctx, r)
}

// start returns the scope that the start event e begins.
func (p *Printer) start(e *entry, at time.Time) *Scope {
	kind, _ := parseKind(e.Kind)
	s := &Scope{kind: kind, id: e.ID, name: e.Name, number: e.Number, start: at}
	if kind == KindInteraction {
		s.name = e.Agent
	}
	if e.ID != e.Wf {
		s.parent = p.scopes[e.Parent]
		if s.parent == nil {
			s.parent = p.root(e.Wf)
		}
	}
	s.place()
	p.scopes[s.id] = s
	return s
}

// root returns the scope of workflow id, known by name only when its start
// has not been seen.
func (p *Printer) root(id string) *Scope {
	if s := p.scopes[id]; s != nil {
		return s
	}
	s := &Scope{kind: KindWorkflow, id: id, name: p.b.Name(id), remote: true}
	if s.name == "" {
		s.name = id[max(0, len(id)-8):]
	}
	s.place()
	p.scopes[id] = s
	return s
}

// jsonAttrs returns the members of the JSON object j as attributes.
func jsonAttrs(j []byte) []slog.Attr {
	var as []slog.Attr
	_ = decodeMembers(j, func(k string, v json.RawMessage) { as = append(as, jsonAttr(k, v)) })
	return as
}

// jsonAttr returns the JSON value v as an attribute: an object as a group.
func jsonAttr(key string, v json.RawMessage) slog.Attr {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '{' {
		return slog.Attr{Key: key, Value: slog.GroupValue(jsonAttrs(v)...)}
	}
	var x any
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if d.Decode(&x) != nil {
		return slog.String(key, string(v))
	}
	if n, ok := x.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return slog.Int64(key, i)
		}
		if u, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
			return slog.Uint64(key, u)
		}
		f, _ := n.Float64()
		return slog.Float64(key, f)
	}
	return slog.Any(key, x)
}
