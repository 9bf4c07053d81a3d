package slogwf

import (
	"bytes"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slogwf/slogwf/internal/console"
	"github.com/slogwf/slogwf/internal/jsonenc"
	"github.com/slogwf/slogwf/internal/tree"
)

// The events of a workflow (scope starts, records, scope ends) as journal
// lines: each is encoded once, and its line and its tree.Event, the event
// as tree.Decode would decode the line, go to the flow together. The
// format is tree's; see tree.Event.

// preformat is what WithAttrs and WithGroup preformatted of the
// attributes of a Handler's records, for the journal and the tree, as
// log/slog's commonHandler does.
type preformat struct {
	groups []string // all groups from WithGroup
	open   int      // how many of them attrs has opened
	attrs  []byte   // attributes from WithAttrs, as JSON members
}

// clip returns p for a clone of its Handler, whose appends must not reach
// the arrays p holds.
func (p preformat) clip() preformat {
	return preformat{groups: slices.Clip(p.groups), open: p.open, attrs: slices.Clip(p.attrs)}
}

// appendAttrs appends the attributes of r, after those of p, as the
// "attrs" member of a record; nothing when there are none. It leaves out
// the attributes that only route the record, if routing says there are.
func (p *preformat) appendAttrs(b []byte, r *slog.Record, routing bool) []byte {
	n := len(b)
	b = append(b, `,"attrs":{`...)
	e := jsonenc.AttrEncoder{B: append(b, p.attrs...), Groups: p.groups, Open: p.open, Sep: len(p.attrs) > 0}
	r.Attrs(func(a slog.Attr) bool {
		if !routing || !routes(a) {
			e.Attr(a)
		}
		return true
	})
	e.CloseAll()
	if len(e.B) == n+len(`,"attrs":{`) {
		return e.B[:n]
	}
	return append(e.B, '}')
}

// appendRecordLine appends the journal line of record r, going by route
// rt, with what m read of its attributes, those of pre, and what cleaning
// lost of it; and sets e to its event.
func appendRecordLine(b []byte, rt *route, r *slog.Record, m *meta, pre *preformat, lost tree.Loss, e *tree.Event) []byte {
	if rt.in != nil && lost == (tree.Loss{}) {
		// The IDs of a Scope and its workflow's, which need no escape:
		// UUIDs made here, or as validID checks them.
		b = tree.AppendRecordHeadOf(b, rt.flow.id, rt.scope)
	} else {
		b = tree.AppendRecordHead(b, rt.flow.id, rt.scope, lost)
	}
	sq := seq.Add(1)
	b = tree.AppendSeq(b, sq)
	n := len(b)
	b = append(b, `"time":`...)
	b = jsonenc.AppendTime(b, validTime(r.Time))
	b = tree.AppendBodyHead(b, r.Level, r.Message, m.semantic, rt.late, m.usage)
	b = pre.appendAttrs(b, r, m.routing)
	*e = tree.Event{Type: tree.Record, Scope: rt.scope, Semantic: m.semantic, Late: rt.late,
		Level: r.Level, Body: b[n:], Usage: m.usage, Loss: lost, Seq: sq}
	return append(b, '}', '\n')
}

// validTime returns t, or now when t is zero or has no place in a
// fixed-width RFC 3339 time.
func validTime(t time.Time) time.Time {
	// Compared as instants, not by Year, which works out the date: the
	// journal's time encoding works it out once more.
	if !t.After(time.Time{}) || !t.Before(year10000) {
		return time.Now()
	}
	return t
}

var year10000 = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

// appendScopeLine appends the journal line of ev, a scope's start or end,
// with the attributes of its record r, the cost of its usage at prices,
// and what was lost of it; and sets e to its event.
func appendScopeLine(b []byte, ev *scopeEvent, r *slog.Record, prices Prices, l tree.Loss, e *tree.Event) []byte {
	s := ev.scope
	*e = tree.Event{Workflow: s.wf.id, ID: s.id, Level: slog.LevelInfo, Seq: seq.Add(1)}
	var errText string
	var input, output *slog.Value
	var m meta
	enc := jsonenc.AttrEncoder{}
	r.Attrs(func(a slog.Attr) bool {
		a.Value = a.Value.Resolve()
		switch a.Key {
		case InputKey:
			input = &a.Value
			return true
		case OutputKey:
			output = &a.Value
			return true
		case ErrorKey:
			errText = valueText(a.Value) // a start has none
			return true
		}
		if !m.read(a) {
			enc.Attr(a)
		}
		return true
	})
	var t int // where the time starts in b
	if ev.end {
		e.Type, e.Status, e.Error = tree.End, string(ev.status), errText
		if ev.status == StatusFailed {
			e.Level = slog.LevelError
		}
		b, t = tree.AppendEndHead(b, s.wf.id, s.id, e.Seq, r.Time, e.Status, errText)
	} else {
		e.Type, e.Kind = tree.Start, tree.Kind(s.kind)
		if s.parent != nil {
			e.Parent = s.parent.id
		}
		b, t = tree.AppendStartHead(b, s.wf.id, s.id, e.Parent, e.Kind, e.Seq, r.Time)
		switch s.kind {
		case KindIteration:
			e.Number = s.number
			b = append(b, `,"number":`...)
			b = strconv.AppendInt(b, s.number, 10)
		case KindInteraction:
			e.Agent = s.name
			b = append(b, `,"agent":`...)
			b = jsonenc.AppendString(b, s.name)
		default:
			e.Name = s.name
			b = append(b, `,"name":`...)
			b = jsonenc.AppendString(b, s.name)
		}
	}
	e.Time = s.startTime // the time of its start record, made with the scope's other texts
	if at := b[t+1 : t+1+bytes.IndexByte(b[t+1:], '"')]; ev.end || string(at) != e.Time {
		e.Time = string(at)
	}
	if len(enc.B) > 0 {
		b = append(b, `,"attrs":`...)
		n := len(b)
		b = append(b, '{')
		b = append(b, enc.B...)
		b = append(b, '}')
		e.Attrs = bytes.Clone(b[n:])
	}
	if input != nil {
		b = append(b, `,"input":`...)
		n := len(b)
		b = jsonenc.AppendValue(b, *input)
		e.Input = bytes.Clone(b[n:])
	}
	if output != nil {
		b = append(b, `,"output":`...)
		n := len(b)
		b = jsonenc.AppendValue(b, *output)
		e.Output = bytes.Clone(b[n:])
	}
	if ev.end && (s.begun.Calls > 0 || s.costGiven) {
		m.settleEnd(prices, s.begun, s.costGiven)
	} else {
		m.settle(prices)
	}
	l.Clamped += m.clamped
	e.Usage, e.Loss = m.usage, l
	b = tree.AppendUsageMember(b, m.usage)
	b = tree.AppendLossMember(b, l)
	// What the line gives back when decoded: strings as AppendString
	// writes them, so that the tree is the one a replay builds.
	e.Name, e.Agent, e.Error, e.Usage.Model = decoded(e.Name), decoded(e.Agent), decoded(e.Error), decoded(e.Usage.Model)
	return append(b, '}', '\n')
}

// decoded returns s as JSON decodes jsonenc.AppendString(s): with each
// byte of invalid UTF-8 a U+FFFD.
func decoded(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// valueText returns v as text: an error's message, a string as is.
func valueText(v slog.Value) string {
	if v.Kind() == slog.KindAny {
		return console.AnyText(v.Any())
	}
	return v.String()
}
