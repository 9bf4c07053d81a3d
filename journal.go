package slogwf

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A journal holds one event per line, append-only:
//
//	{"ev":"start","wf":W,"id":ID,"parent":P,"kind":K,"time":T,"name"|"number"|"agent":…,"attrs":{…},"input":…,"usage":{…}}
//	{"ev":"record","wf":W,"scope":ID,"loss":{…},"time":T,"level":L,"msg":M,"semantic":true,"late":true,"usage":{…},"attrs":{…}}
//	{"ev":"end","wf":W,"id":ID,"time":T,"status":S,"error":E,"attrs":{…},"output":…,"usage":{…},"loss":{…}}
//
// Optional members are left out when empty. "loss" counts what cleaning
// took from the line (see loss). A record line ends with the
// record as the tree holds it (from "time" on), so the handler encodes a
// record once for both.

const (
	evStart  = "start"
	evRecord = "record"
	evEnd    = "end"
)

// entry is one journal line, decoded.
type entry struct {
	Ev       string          `json:"ev"`
	Wf       string          `json:"wf"`
	ID       string          `json:"id"`
	Scope    string          `json:"scope"`
	Parent   string          `json:"parent"`
	Kind     string          `json:"kind"`
	Time     string          `json:"time"`
	Name     string          `json:"name"`
	Agent    string          `json:"agent"`
	Number   int64           `json:"number"`
	Status   string          `json:"status"`
	Error    string          `json:"error"`
	Level    string          `json:"level"`
	Msg      string          `json:"msg"`
	Semantic bool            `json:"semantic"`
	Late     bool            `json:"late"`
	Attrs    json.RawMessage `json:"attrs"`
	Input    json.RawMessage `json:"input"`
	Output   json.RawMessage `json:"output"`
	Usage    *usageJSON      `json:"usage"`
	Loss     *lossJSON       `json:"loss"`

	level slog.Level // of a record
	body  []byte     // of a live record: the tree's record without its braces
	use   usage      // of a live record
	lost  loss       // of a live line
}

type lossJSON struct {
	Dropped   int64 `json:"dropped"`
	Truncated int64 `json:"truncated"`
	Redacted  int64 `json:"redacted"`
}

func (e *entry) loss() loss {
	if l := e.Loss; l != nil {
		return loss{dropped: l.Dropped, truncated: l.Truncated, redacted: l.Redacted}
	}
	return e.lost
}

// appendLoss appends l as a JSON object.
func appendLoss(b []byte, l loss) []byte {
	b = append(b, `{"dropped":`...)
	b = strconv.AppendInt(b, l.dropped, 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendInt(b, l.truncated, 10)
	b = append(b, `,"redacted":`...)
	b = strconv.AppendInt(b, l.redacted, 10)
	return append(b, '}')
}

// appendLossMember appends l as the member "loss" when it counts anything.
func appendLossMember(b []byte, l loss) []byte {
	if l == (loss{}) {
		return b
	}
	b = append(b, `,"loss":`...)
	return appendLoss(b, l)
}

type usageJSON struct {
	Calls  int64   `json:"llm_calls"`
	In     int64   `json:"input_tokens"`
	Cached int64   `json:"cached_input_tokens"`
	Out    int64   `json:"output_tokens"`
	Cost   float64 `json:"cost_usd"`
	Model  string  `json:"model"`
}

func (e *entry) usage() usage {
	if u := e.Usage; u != nil {
		return usage{calls: u.Calls, in: u.In, cached: u.Cached, out: u.Out, cost: toNano(u.Cost), model: u.Model}
	}
	return e.use
}

// decodeEntry decodes one journal line.
func decodeEntry(line []byte) (*entry, error) {
	e := new(entry)
	if err := e.decode(line); err != nil {
		return nil, err
	}
	return e, nil
}

// decode decodes one journal line into e, whatever e held before.
func (e *entry) decode(line []byte) error {
	*e = entry{}
	if err := json.Unmarshal(line, e); err != nil {
		return err
	}
	if e.Wf == "" {
		return errors.New(`no "wf"`)
	}
	t, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return fmt.Errorf(`bad "time": %w`, err)
	}
	if len(e.Time) != len(timeLayout)-len("Z07:00")+1 || e.Time[len(e.Time)-1] != 'Z' {
		e.Time = t.UTC().Format(timeLayout) // the tree sorts times as strings
	}
	switch {
	case string(e.Attrs) == "null":
		e.Attrs = nil
	case len(e.Attrs) > 0 && e.Attrs[0] != '{':
		return errors.New(`"attrs" is not an object`)
	}
	switch e.Ev {
	case evStart, evEnd:
		if e.ID == "" {
			return errors.New(`no "id"`)
		}
	case evRecord:
		if e.Scope == "" {
			return errors.New(`no "scope"`)
		}
		l, err := ParseLevel(e.Level)
		if err != nil {
			return err
		}
		e.level = l
	default:
		return fmt.Errorf(`unknown "ev" %q`, e.Ev)
	}
	return nil
}

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
// the attributes that only route the record.
func (p *preformat) appendAttrs(b []byte, r slog.Record) []byte {
	n := len(b)
	b = append(b, `,"attrs":{`...)
	e := attrEncoder{b: append(b, p.attrs...), groups: p.groups, open: p.open, sep: len(p.attrs) > 0}
	r.Attrs(func(a slog.Attr) bool {
		if !routes(a) {
			e.attr(a)
		}
		return true
	})
	e.closeAll()
	if len(e.b) == n+len(`,"attrs":{`) {
		return e.b[:n]
	}
	return append(e.b, '}')
}

// appendRecordLine appends the journal line of record r, going by route
// rt, with what m read of its attributes, those of pre, and what cleaning
// lost of it; and returns its entry.
func appendRecordLine(b []byte, rt *route, r slog.Record, m *meta, pre *preformat, lost loss) ([]byte, entry) {
	if rt.in != nil && lost == (loss{}) {
		b = append(b, rt.in.head...)
	} else {
		b = appendRecordHead(b, rt.flow.id, rt.scope, lost)
	}
	n := len(b)
	b = append(b, `"time":`...)
	b = appendTime(b, validTime(r.Time))
	b = appendBodyHead(b, r.Level, r.Message, m.semantic, rt.late, m.usage)
	b = pre.appendAttrs(b, r)
	body := b[n:]
	b = append(b, '}', '\n')
	return b, entry{Ev: evRecord, Scope: rt.scope, Semantic: m.semantic, Late: rt.late, level: r.Level, body: body, use: m.usage, lost: lost}
}

// appendBody appends the record of e as the handler wrote it.
func appendBody(b []byte, e *entry) []byte {
	b = append(b, `"time":`...)
	b = appendString(b, e.Time)
	b = appendBodyHead(b, e.level, e.Msg, e.Semantic, e.Late, e.usage())
	if len(e.Attrs) > 0 {
		b = append(b, `,"attrs":`...)
		b = append(b, e.Attrs...)
	}
	return b
}

// appendBodyHead appends the members of a record after its time and
// before its attrs.
func appendBodyHead(b []byte, l slog.Level, msg string, semantic, late bool, u usage) []byte {
	b = append(b, `,"level":`...)
	b = appendString(b, LevelName(l))
	b = append(b, `,"msg":`...)
	b = appendString(b, msg)
	if semantic {
		b = append(b, `,"semantic":true`...)
	}
	if late {
		b = append(b, `,"late":true`...)
	}
	return appendUsageMember(b, u)
}

// appendRecordHead appends a record line up to its body.
func appendRecordHead(b []byte, wf, scope string, l loss) []byte {
	b = append(b, `{"ev":"record","wf":`...)
	b = appendString(b, wf)
	b = append(b, `,"scope":`...)
	b = appendString(b, scope)
	b = appendLossMember(b, l)
	return append(b, ',')
}

func appendUsageMember(b []byte, u usage) []byte {
	if u == (usage{}) {
		return b
	}
	b = append(b, `,"usage":`...)
	return appendUsage(b, u)
}

// appendEndHead appends an end line up to its status and error, and
// returns where its time starts.
func appendEndHead(b []byte, wf, id string, t time.Time, status, errText string) ([]byte, int) {
	b = append(b, `{"ev":"end","wf":`...)
	b = appendString(b, wf)
	b = append(b, `,"id":`...)
	b = appendString(b, id)
	b = append(b, `,"time":`...)
	at := len(b)
	b = appendTime(b, t)
	b = append(b, `,"status":`...)
	b = appendString(b, status)
	if errText != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, errText)
	}
	return b, at
}

// appendEventLine appends the journal line of a scope's start or end, with
// the attributes of its record r, the cost of its usage at prices, and
// what was lost of it; and returns the line's entry as decodeEntry would
// decode it.
func appendEventLine(b []byte, ev *event, r slog.Record, prices Prices, l loss) ([]byte, *entry) {
	s := ev.scope
	e := &entry{Wf: s.wf.id, ID: s.id}
	var errText string
	var input, output *slog.Value
	var m meta
	enc := attrEncoder{}
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
			enc.attr(a)
		}
		return true
	})
	var t int // where the time starts in b
	if ev.end {
		e.Ev, e.Status, e.Error = evEnd, ev.status, errText
		b, t = appendEndHead(b, s.wf.id, s.id, r.Time, ev.status, errText)
	} else {
		e.Ev, e.Kind = evStart, s.kind.String()
		b = append(b, `{"ev":"start","wf":`...)
		b = appendString(b, s.wf.id)
		b = append(b, `,"id":`...)
		b = appendString(b, s.id)
		if s.parent != nil {
			e.Parent = s.parent.id
			b = append(b, `,"parent":`...)
			b = appendString(b, s.parent.id)
		}
		b = append(b, `,"kind":"`...)
		b = append(b, e.Kind...)
		b = append(b, `","time":`...)
		t = len(b)
		b = appendTime(b, r.Time)
		switch s.kind {
		case KindIteration:
			e.Number = s.number
			b = append(b, `,"number":`...)
			b = strconv.AppendInt(b, s.number, 10)
		case KindInteraction:
			e.Agent = s.name
			b = append(b, `,"agent":`...)
			b = appendString(b, s.name)
		default:
			e.Name = s.name
			b = append(b, `,"name":`...)
			b = appendString(b, s.name)
		}
	}
	e.Time = string(b[t+1 : t+1+bytes.IndexByte(b[t+1:], '"')])
	if len(enc.b) > 0 {
		b = append(b, `,"attrs":`...)
		n := len(b)
		b = append(b, '{')
		b = append(b, enc.b...)
		b = append(b, '}')
		e.Attrs = bytes.Clone(b[n:])
	}
	if input != nil {
		b = append(b, `,"input":`...)
		n := len(b)
		b = appendValue(b, *input)
		e.Input = bytes.Clone(b[n:])
	}
	if output != nil {
		b = append(b, `,"output":`...)
		n := len(b)
		b = appendValue(b, *output)
		e.Output = bytes.Clone(b[n:])
	}
	prices.fill(&m.usage)
	e.use, e.lost = m.usage, l
	b = appendUsageMember(b, m.usage)
	b = appendLossMember(b, l)
	// What the line gives back when decoded: strings as appendString
	// writes them, so that the tree is the one a replay builds.
	e.Name, e.Agent, e.Error, e.use.model = decoded(e.Name), decoded(e.Agent), decoded(e.Error), decoded(e.use.model)
	return append(b, '}', '\n'), e
}

// decoded returns s as JSON decodes appendString(s): with each byte of
// invalid UTF-8 a U+FFFD.
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
		return anyText(v.Any())
	}
	return v.String()
}

// Builder rebuilds the trees of workflows from their journals, with the
// tree builder of the live handler: the tree of a workflow comes out byte
// for byte as the handler wrote it last. Lines may come in any order, and
// from the journals of any number of processes.
type Builder struct {
	e        entry // the line being added
	trees    map[string]*tree
	names    map[string]string // workflow ID → name from a journal's file name
	counting bool              // see tree.counting
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{trees: map[string]*tree{}, names: map[string]string{}}
}

// Add adds one journal line.
func (b *Builder) Add(line []byte) error {
	if err := b.e.decode(line); err != nil {
		return err
	}
	b.apply(&b.e)
	return nil
}

func (b *Builder) apply(e *entry) bool {
	t := b.trees[e.Wf]
	if t == nil {
		t = newTree(e.Wf)
		t.counting = b.counting
		b.trees[e.Wf] = t
	}
	return t.apply(e)
}

// ReadJournal adds the lines of the journal r, whose file is named name. A
// line that is not an event is skipped, and so is a torn last line (the
// process died writing it); each is reported to warn, with its number.
// ReadJournal returns only an error reading r.
//
// The trees of the workflows of the journal count the lines skipped as
// dropped in their loss.
func (b *Builder) ReadJournal(r io.Reader, name string, warn func(error)) error {
	br := bufio.NewReader(r)
	var dropped int64
	wfs := map[string]bool{}
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			derr := b.e.decode(line)
			switch {
			case derr == nil:
				b.apply(&b.e)
				b.nameFrom(b.e.Wf, name)
				wfs[b.e.Wf] = true
			case err == io.EOF:
				dropped++
				warn(fmt.Errorf("%s:%d: torn last line skipped: %w", name, n, derr))
			default:
				dropped++
				warn(fmt.Errorf("%s:%d: line skipped: %w", name, n, derr))
			}
		}
		if err == io.EOF {
			for wf := range wfs {
				b.trees[wf].loss.dropped += dropped
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("slogwf: read journal %s: %w", name, err)
		}
	}
}

// nameFrom keeps the workflow name in the journal file name of workflow
// wf, <name>-<id8>.<pid>.jsonl, for when no start line says it.
func (b *Builder) nameFrom(wf, file string) {
	if _, ok := b.names[wf]; !ok {
		if name := nameIn(file, wf); name != "" {
			b.names[wf] = name
		}
	}
}

// Workflows returns the IDs of the workflows seen, in the order they
// started (UUIDv7 IDs sort by time).
func (b *Builder) Workflows() []string {
	return slices.Sorted(maps.Keys(b.trees))
}

// Name returns the name of workflow id.
func (b *Builder) Name(id string) string {
	if t := b.trees[id]; t != nil && t.nodes[id].started {
		return t.nodes[id].name
	}
	return b.names[id]
}

// FileName returns the name of the tree file of workflow id, as the
// handler names it.
func (b *Builder) FileName(id string) string {
	return fileBase(b.Name(id), id) + ".json"
}

// Tree returns the tree of workflow id as a tree file holds it. Scopes
// that never ended are incomplete, open until the last event seen. A
// workflow whose start no journal holds has the name of its journals.
func (b *Builder) Tree(id string) []byte {
	t := b.trees[id]
	if t == nil {
		return nil
	}
	if root := t.nodes[id]; !root.started {
		root.name = b.names[id]
	}
	return t.appendJSON(nil, true)
}
