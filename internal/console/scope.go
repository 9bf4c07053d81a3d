package console

import (
	"hash/fnv"
	"log/slog"
	"strconv"
	"time"

	"github.com/slogwf/slogwf/internal/jsonenc"
	"github.com/slogwf/slogwf/internal/tree"
)

// Path is the path of a scope on the console, escaped, and the color it is
// drawn in; the zero Path is none.
type Path struct {
	Text  string
	Color uint8 // index in the palette
	Set   bool

	depth   uint8 // of the scope below the workflow: jsonenc.MaxDepth at most
	wfColor uint8 // of the workflow's path
	wf      int32 // bytes of Text that are the workflow's path
}

// Child returns the path of a scope of kind k, named name or numbered
// number, under a scope of kind parent whose path is p; of a workflow when
// p is the zero Path. A path stays short however long names are and
// however deep scopes nest: a name is cut at tree.MaxName, and a scope
// more than jsonenc.MaxDepth scopes below the workflow has its path start
// again under the workflow, as the tree hangs it there.
func (p Path) Child(parent, k tree.Kind, name string, number int64) Path {
	b, c := p.AppendChild(nil, parent, k, name, number)
	c.Text = string(b)
	return c
}

// AppendChild appends the Text of p.Child(parent, k, name, number) to b,
// and returns that Path without it: the caller sets Text to what it
// appended, from an allocation it may share.
func (p Path) AppendChild(b []byte, parent, k tree.Kind, name string, number int64) ([]byte, Path) {
	name, _ = tree.CutName(name)
	if !p.Set {
		n := len(b)
		b = append(b, Message(name)...)
		return b, Path{Color: agentColor(name), Set: true, wf: int32(len(b) - n)}
	}
	if p.depth >= jsonenc.MaxDepth {
		p = Path{Text: p.Text[:p.wf], Color: p.wfColor, Set: true, wf: p.wf, wfColor: p.wfColor}
		parent = tree.Workflow
	}
	if p.depth == 0 {
		p.wfColor = p.Color
	}
	p.depth++
	b = append(b, p.Text...)
	switch {
	case k == tree.Iteration:
		b = strconv.AppendInt(append(b, " it"...), number, 10)
	case parent >= tree.Interaction:
		b = append(append(b, '>'), Message(name)...)
	default:
		b = append(append(b, ' '), Message(name)...)
	}
	if k == tree.Interaction {
		p.Color = agentColor(name)
	}
	p.Text = ""
	return b, p
}

// palette holds the colors of scope paths on the console, each with the
// path's opening bracket: 256-color codes readable on dark and light
// backgrounds.
var palette = [...]string{
	"\x1b[38;5;39m[", "\x1b[38;5;208m[", "\x1b[38;5;141m[", "\x1b[38;5;78m[",
	"\x1b[38;5;203m[", "\x1b[38;5;220m[", "\x1b[38;5;45m[", "\x1b[38;5;171m[",
	"\x1b[38;5;114m[", "\x1b[38;5;215m[", "\x1b[38;5;75m[", "\x1b[38;5;179m[",
}

// agentColor returns the palette index of name: the same for the same
// name in every run.
func agentColor(name string) uint8 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return uint8(h.Sum32() % uint32(len(palette)))
}

// ScopeEvent is the start or end of a scope, whose record the console
// shows as a mark and the scope's kind; the zero ScopeEvent is none.
type ScopeEvent struct {
	Kind   tree.Kind
	End    bool
	Status string // of an end
}

// EndRecord returns r, the record of the end of a scope that started at
// start, as the console shows it: the summary a person scans for first
// (the scope's duration, the extra attributes, its error), then r's other
// attributes in their order, so that a line cut at the console's width
// loses the least.
func EndRecord(r slog.Record, start time.Time, extra []slog.Attr) slog.Record {
	end := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	if !start.IsZero() {
		// Wall clock, as in the journal, whose replay shows the same.
		d := r.Time.Round(0).Sub(start.Round(0))
		end.AddAttrs(slog.Duration("dur", RoundDuration(d)))
	}
	end.AddAttrs(extra...)
	for _, isErr := range []bool{true, false} {
		r.Attrs(func(a slog.Attr) bool {
			if (a.Key == errorKey) == isErr {
				end.AddAttrs(a)
			}
			return true
		})
	}
	return end
}

// errorKey is slogwf.ErrorKey.
const errorKey = "error"

// EndAttrs returns the attributes the end of a scope shows: the usage u
// of its subtree, and late when it had been ended already, by a scope
// above it.
func EndAttrs(u tree.Usage, fresh bool) []slog.Attr {
	var as []slog.Attr
	if total := u.Total(); total > 0 {
		as = append(as, slog.Int64("total_tokens", total))
	}
	if u.Cost != 0 {
		as = append(as, slog.Float64(costKey, u.Cost.USD()))
	}
	if !fresh {
		as = append(as, slog.Bool("late", true))
	}
	return as
}

// costKey is slogwf.CostKey.
const costKey = "cost_usd"

// RoundDuration rounds d to about 4 significant digits, as a person reads
// it: 2.11s, 177.7ms. The tree keeps the exact duration.
func RoundDuration(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for d/unit >= 10000 {
		unit *= 10
	}
	return d.Round(unit)
}
