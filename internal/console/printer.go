package console

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/slogwf/slogwf/internal/tree"
)

// Printer prints journal events as the console of slogwf.New printed the
// records and scope starts and ends that made them: `slogwf tail` is a
// Printer. The values come back from the journal's JSON, so a few show
// otherwise than they did live: a duration in nanoseconds, a time as RFC
// 3339, a byte slice in base64, a map as a group.
type Printer struct {
	console *Handler
	b       *tree.Builder     // for the usage of ended scopes: it keeps no records
	scopes  map[string]*scope // by ID, from the start events seen
}

// NewPrinter returns a Printer that writes to w, in color or not, every
// event it is given, whatever its level, with string values cut at
// valueWidth characters and lines at lineWidth columns as the console shows
// them (0 or less: whole).
func NewPrinter(w io.Writer, color bool, valueWidth, lineWidth int) *Printer {
	b := tree.NewBuilder()
	b.Counting = true
	c := New(w, Options{Color: color, Level: slog.Level(math.MinInt), TimeFormat: TimeFormat,
		Width: valueWidth, LineWidth: lineWidth})
	return &Printer{console: c, b: b, scopes: map[string]*scope{}}
}

// TimeFormat is the default time format of the console.
const TimeFormat = "15:04:05.000"

// ValueWidth is the default width of the console's string values.
const ValueWidth = 80

// LineWidth is the default width of the console's lines, in columns.
const LineWidth = 160

// Event is a journal event as tail filters and prints it.
type Event struct {
	*tree.Event

	// Set by Printer.Print, from the events seen before.
	WorkflowName string
	Agent        string // of the innermost interaction, if any
}

// Decode decodes one line of the journal file named file.
func (p *Printer) Decode(line []byte, file string) (*Event, error) {
	e, err := tree.Decode(line)
	if err != nil {
		return nil, err
	}
	p.b.NameFrom(e.Workflow, file)
	return &Event{Event: e}, nil
}

// scope is a scope as the Printer knows it, from its start event.
type scope struct {
	kind     tree.Kind
	id, name string // name: of a workflow or action, or an interaction's agent
	parent   *scope
	wf       *scope
	start    time.Time
	path     Path
	remote   bool // a workflow whose start was not seen
}

// Print takes ev into account, events being best given in time order, and
// prints it when show, given ev with its workflow and agent, says so.
func (p *Printer) Print(ev *Event, show func(*Event) bool) error {
	e := ev.Event
	fresh := p.b.Apply(e)
	at, _ := time.Parse(time.RFC3339Nano, e.Time) // Decode checked it
	at = at.Local()
	var s *scope
	if e.Type == tree.Start {
		s = p.begin(e, at)
	} else {
		id := e.Scope
		if e.Type == tree.End {
			id = e.ID
		}
		if s = p.scopes[id]; s == nil {
			s = p.root(e.Workflow)
		}
	}
	ev.WorkflowName = s.wf.name
	for a := s; a != nil; a = a.parent {
		if a.kind == tree.Interaction && !a.remote {
			ev.Agent = a.name
			break
		}
	}
	if show != nil && !show(ev) {
		return nil
	}

	ctx := context.Background()
	r := slog.NewRecord(at, e.Level, e.Message, 0)
	if e.Semantic {
		r.AddAttrs(slog.Bool(semanticKey, true))
	}
	if e.Type == tree.Record {
		r.AddAttrs(jsonAttrs(e.Attrs)...)
		if e.Late {
			r.AddAttrs(slog.Bool("late", true))
		}
		return p.console.HandleAt(ctx, &r, s.path, ScopeEvent{})
	}
	// The journal keeps input and output apart from the attrs; they come
	// first, as callers (and Interact) most often put them.
	if e.Input != nil {
		r.AddAttrs(jsonAttr("input", e.Input))
	}
	if e.Output != nil {
		r.AddAttrs(jsonAttr("output", e.Output))
	}
	r.AddAttrs(jsonAttrs(e.Attrs)...)
	if e.Error != "" {
		r.AddAttrs(slog.String("error", e.Error))
	}
	sev := ScopeEvent{Kind: s.kind, End: e.Type == tree.End, Status: e.Status}
	if sev.End {
		r = EndRecord(r, s.start, EndAttrs(p.b.Tree(e.Workflow).UsageOf(s.id), fresh))
	}
	return p.console.HandleAt(ctx, &r, s.path, sev)
}

// begin returns the scope that the start event e begins at time at.
func (p *Printer) begin(e *tree.Event, at time.Time) *scope {
	s := &scope{kind: e.ScopeKind(), id: e.ID, name: e.Name, start: at}
	if s.kind == tree.Interaction {
		s.name = e.Agent
	}
	if e.ID != e.Workflow {
		s.parent = p.scopes[e.Parent]
		if s.parent == nil {
			s.parent = p.root(e.Workflow)
		}
	}
	s.place(e.Number)
	p.scopes[s.id] = s
	return s
}

// root returns the scope of workflow id, known by name only when its start
// has not been seen.
func (p *Printer) root(id string) *scope {
	if s := p.scopes[id]; s != nil {
		return s
	}
	s := &scope{kind: tree.Workflow, id: id, name: p.b.Name(id), remote: true}
	if s.name == "" {
		s.name = id[max(0, len(id)-8):]
	}
	s.place(0)
	p.scopes[id] = s
	return s
}

// place sets the workflow and the path of s, an iteration numbered number,
// from its parent.
func (s *scope) place(number int64) {
	if p := s.parent; p == nil {
		s.wf = s
		s.path = Path{}.Child(0, tree.Workflow, s.name, 0)
	} else {
		s.wf = p.wf
		s.path = p.path.Child(p.kind, s.kind, s.name, number)
	}
}

// jsonAttrs returns the members of the JSON object j as attributes.
func jsonAttrs(j []byte) []slog.Attr {
	var as []slog.Attr
	_ = tree.DecodeMembers(j, func(k string, v json.RawMessage) { as = append(as, jsonAttr(k, v)) })
	return as
}

// jsonAttr returns the JSON value v as an attribute: an object as a group.
// A key longer than tree.MaxName is cut.
func jsonAttr(key string, v json.RawMessage) slog.Attr {
	key, _ = tree.CutName(key)
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
