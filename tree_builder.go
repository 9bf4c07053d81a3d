package slogwf

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"
)

// Schema names the tree file format.
const Schema = "slogwf.tree/v1"

// tree builds the tree of one workflow from its events. The live handler
// and a replay of journals feed it the same entries, so they build the same
// tree; and the tree it writes does not depend on the order the events
// came in, so journals of several processes merge in any order.
type tree struct {
	id        string
	nodes     map[string]*node
	last      []byte // time of the latest event
	slab      []byte // record bodies are copied into it, to keep few large blocks
	scratch   []byte // the body of a decoded record, before it is kept
	kept      int    // bytes of the bodies kept
	unstarted int    // nodes referenced by records or children but not started
	counting  bool   // keep the counts and usage of records, not the records
	loss      loss   // of the whole workflow
}

type node struct {
	kind       Kind
	id, parent string
	name       string
	number     int64
	started    bool
	start      string
	attrs      []byte // of the start, a JSON object
	input      []byte // a JSON value
	records    [][]byte
	children   []*node
	usage      usage  // of its start and records
	counts     counts // of its records

	// Its own end, the earliest if it has several. A parent that ends
	// first ends it as incomplete: see treeWriter.rollup.
	ended            bool
	end, status, err string
	endAttrs, output []byte
	endUsage         usage
}

type counts struct {
	records, warnings, semantic, errors int64
}

func (c *counts) add(d counts) {
	c.records += d.records
	c.warnings += d.warnings
	c.semantic += d.semantic
	c.errors += d.errors
}

func newTree(id string) *tree {
	t := &tree{id: id, nodes: map[string]*node{}}
	t.node(id).kind = KindWorkflow
	return t
}

// node returns the node of id, creating it unstarted if it is new.
func (t *tree) node(id string) *node {
	n := t.nodes[id]
	if n == nil {
		n = &node{id: id}
		t.nodes[id] = n
		t.unstarted++
	}
	return n
}

// apply adds one event to the tree. It reports false when the event
// changed nothing: a scope started or ended again.
func (t *tree) apply(e *entry) bool {
	t.loss.add(e.loss())
	switch e.Ev {
	case evStart:
		t.seen([]byte(e.Time))
		return t.start(e)
	case evEnd:
		t.seen([]byte(e.Time))
		return t.end(e)
	}
	if e.body != nil {
		t.seen(recordTime(e.body))
	} else {
		t.seen([]byte(e.Time))
	}
	t.record(e)
	return true
}

func (t *tree) seen(time []byte) {
	if bytes.Compare(time, t.last) > 0 {
		t.last = append(t.last[:0], time...)
	}
}

// recordTime returns the time of a record body, which starts "time":"….
func recordTime(body []byte) []byte {
	const head = len(`"time":"`)
	if i := bytes.IndexByte(body[head:], '"'); i >= 0 {
		return body[head : head+i]
	}
	return nil
}

// usageOf returns the usage of the subtree of the node id.
func (t *tree) usageOf(id string) usage {
	var sum func(n *node) usage
	sum = func(n *node) usage {
		u := n.usage
		u.add(n.endUsage)
		for _, c := range n.children {
			u.add(sum(c))
		}
		return u
	}
	if n := t.nodes[id]; n != nil {
		return sum(n)
	}
	return usage{}
}

func (t *tree) start(e *entry) bool {
	n := t.node(e.ID)
	if n.started {
		return false
	}
	n.started = true
	t.unstarted--
	if k, ok := parseKind(e.Kind); ok && (k == KindWorkflow) == (e.ID == t.id) {
		n.kind = k
	} else if e.ID != t.id {
		n.kind = KindAction
	}
	n.name, n.number, n.start = e.Name, e.Number, e.Time
	if n.kind == KindInteraction {
		n.name = e.Agent
	}
	n.attrs, n.input = e.Attrs, e.Input
	n.usage.add(e.usage())
	if e.ID == t.id {
		return true
	}
	// A scope without a parent, or whose parent would close a loop (only a
	// damaged journal says so), hangs under the workflow; so does one more
	// than maxDepth scopes deep, which keeps every walk up the tree short.
	n.parent = e.Parent
	depth := 0
	for p := t.nodes[n.parent]; p != nil; p = t.nodes[p.parent] {
		if depth++; p == n || depth > maxDepth {
			n.parent = ""
			break
		}
	}
	if n.parent == "" {
		n.parent = t.id
	}
	p := t.node(n.parent)
	p.children = append(p.children, n)
	return true
}

func (t *tree) end(e *entry) bool {
	n := t.node(e.ID)
	if n.ended && (n.end < e.Time || n.end == e.Time && n.status+"\x00"+n.err <= e.Status+"\x00"+e.Error) {
		return false // the earliest end stands; between two at once, the same one whatever their order
	}
	n.ended, n.end, n.status, n.err = true, e.Time, e.Status, e.Error
	n.endAttrs, n.output, n.endUsage = e.Attrs, e.Output, e.usage()
	return !t.closedBefore(n, e.Time)
}

// closedBefore reports whether a scope above n ended before time at, and
// so ended n first.
func (t *tree) closedBefore(n *node, at string) bool {
	for p := t.nodes[n.parent]; p != nil; p = t.nodes[p.parent] {
		if p.ended && p.end < at {
			return true
		}
	}
	return false
}

func (t *tree) record(e *entry) {
	n := t.node(e.Scope)
	if !t.counting {
		body := e.body
		if body == nil {
			t.scratch = appendBody(t.scratch[:0], e)
			body = t.scratch
		}
		n.records = append(n.records, t.keep(body))
	}
	n.counts.records++
	switch {
	case e.level >= slog.LevelError:
		n.counts.errors++
	case e.level >= slog.LevelWarn:
		n.counts.warnings++
	}
	if e.Semantic {
		n.counts.semantic++
	}
	n.usage.add(e.usage())
}

// keep copies b into the slab.
func (t *tree) keep(b []byte) []byte {
	if len(b) > cap(t.slab)-len(t.slab) {
		t.slab = make([]byte, 0, max(64<<10, len(b)))
	}
	n := len(t.slab)
	t.slab = append(t.slab, b...)
	t.kept += len(b)
	return t.slab[n:len(t.slab):len(t.slab)]
}

// appendJSON appends the tree as a tree file. A final tree shows scopes
// that never ended as incomplete; a live one shows them running.
func (t *tree) appendJSON(b []byte, final bool) []byte {
	b = slices.Grow(b, t.kept+t.kept/16+1024*len(t.nodes)) // about its size
	w := treeWriter{t: t, final: final, b: b}
	w.tree()
	return w.b
}

// writeJSON writes the tree as appendJSON appends it, a part at a time.
func (t *tree) writeJSON(out io.Writer, final bool) error {
	buf := newBuffer()
	defer buf.free()
	w := treeWriter{t: t, final: final, b: *buf, out: out}
	w.tree()
	w.flush(true)
	*buf = w.b
	return w.err
}

// clone returns a copy of t that a snapshot writes while t goes on. They
// share the bytes of records, which never change, and the arrays of
// records, to which t only appends.
func (t *tree) clone() *tree {
	c := *t
	c.last = slices.Clone(t.last)
	c.nodes = make(map[string]*node, len(t.nodes))
	for id, n := range t.nodes {
		cn := *n
		cn.records = slices.Clip(n.records)
		c.nodes[id] = &cn
	}
	for _, n := range c.nodes {
		children := make([]*node, len(n.children))
		for i, ch := range n.children {
			children[i] = c.nodes[ch.id]
		}
		n.children = children
	}
	return &c
}

func (w *treeWriter) tree() {
	t := w.t
	root := t.nodes[t.id]
	w.rolled = make(map[*node]rolled, len(t.nodes))
	// Records and children of scopes never started have no place of their
	// own: they go to the workflow, so that nothing is lost.
	var orphans *node
	if t.unstarted > 0 {
		orphans = &node{}
		for _, n := range t.nodes {
			if n.started || n == root {
				continue
			}
			orphans.records = append(orphans.records, n.records...)
			orphans.counts.add(n.counts)
			orphans.usage.add(n.usage)
			for _, c := range n.children {
				if c.started {
					orphans.children = append(orphans.children, c)
				}
			}
		}
	}
	w.rollup(root, orphans, "")
	w.node(root, orphans)
}

type treeWriter struct {
	t      *tree
	final  bool
	b      []byte
	rolled map[*node]rolled
	out    io.Writer // if any, b goes there a part at a time
	err    error     // of out
}

// flush writes b out when it holds enough to be worth a write, or when
// all is written.
func (w *treeWriter) flush(all bool) {
	if w.out == nil || w.err != nil || !all && len(w.b) < 32<<10 {
		return
	}
	_, w.err = w.out.Write(w.b)
	w.b = w.b[:0]
}

// rolled is a node as the tree shows it: how it ended, and the usage and
// counts of its subtree.
type rolled struct {
	ended       bool // end holds a time
	end, status string
	u           usage
	c           counts
}

// rollup computes how n and the nodes of its subtree ended, and their
// rolled-up usage and counts. A scope ends when it says so, unless a scope
// above it ended first, at closeAt: then it ended there, incomplete. extra,
// if any, holds what the node takes in from scopes never started.
func (w *treeWriter) rollup(n, extra *node, closeAt string) rolled {
	s := rolled{status: StatusRunning, u: n.usage, c: n.counts}
	switch {
	case n.ended && (closeAt == "" || n.end <= closeAt):
		s.ended, s.end, s.status = true, n.end, n.status
		closeAt = n.end
	case closeAt != "":
		s.ended, s.end, s.status = true, closeAt, StatusIncomplete
	case w.final:
		s.status = StatusIncomplete
	}
	s.u.add(n.endUsage)
	if s.status == StatusFailed {
		s.c.errors++
	}
	children := n.children
	if extra != nil {
		s.u.add(extra.usage)
		s.c.add(extra.counts)
		children = slices.Concat(children, extra.children)
	}
	for _, c := range children {
		cs := w.rollup(c, nil, closeAt)
		s.u.add(cs.u)
		s.c.add(cs.c)
	}
	w.rolled[n] = s
	return s
}

func (w *treeWriter) node(n *node, extra *node) {
	b := append(w.b, '{')
	if n.id == w.t.id {
		b = append(b, `"schema":"`+Schema+`",`...)
	}
	b = append(b, `"kind":"`...)
	b = append(b, n.kind.String()...)
	b = append(b, `","id":`...)
	b = appendString(b, n.id)
	switch n.kind {
	case KindIteration:
		b = append(b, `,"number":`...)
		b = strconv.AppendInt(b, n.number, 10)
	case KindInteraction:
		b = append(b, `,"agent":`...)
		b = appendString(b, n.name)
	default:
		b = append(b, `,"name":`...)
		b = appendString(b, n.name)
	}
	s := w.rolled[n]
	b = append(b, `,"status":`...)
	b = appendString(b, s.status)
	if n.start != "" {
		b = append(b, `,"start":`...)
		b = appendString(b, n.start)
		last := string(w.t.last)
		if s.ended {
			b = append(b, `,"end":`...)
			b = appendString(b, s.end)
			last = s.end
		}
		b = append(b, `,"duration_ms":`...)
		b = strconv.AppendFloat(b, durationMS(n.start, last), 'f', -1, 64)
	}
	if attrs := mergeObjects(n.attrs, n.endAttrs); attrs != nil {
		b = append(b, `,"attrs":`...)
		b = append(b, attrs...)
	}
	if n.input != nil {
		b = append(b, `,"input":`...)
		b = append(b, n.input...)
	}
	if n.output != nil {
		b = append(b, `,"output":`...)
		b = append(b, n.output...)
	}
	if n.err != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, n.err)
	}
	b = append(b, `,"usage":`...)
	b = appendUsage(b, s.u)
	b = append(b, `,"counts":{"records":`...)
	b = strconv.AppendInt(b, s.c.records, 10)
	b = append(b, `,"warnings":`...)
	b = strconv.AppendInt(b, s.c.warnings, 10)
	b = append(b, `,"semantic":`...)
	b = strconv.AppendInt(b, s.c.semantic, 10)
	b = append(b, `,"errors":`...)
	b = strconv.AppendInt(b, s.c.errors, 10)
	b = append(b, '}')
	if n.id == w.t.id {
		b = append(b, `,"loss":`...)
		b = appendLoss(b, w.t.loss)
	}
	b = append(b, `,"records":[`...)
	records, children := n.records, n.children
	if extra != nil {
		records = slices.Concat(records, extra.records)
		children = slices.Concat(children, extra.children)
	}
	// Records sort by time, which leads their bytes; ties by the rest, so
	// that the order never depends on which goroutine won a race. They
	// mostly come sorted; the array may be a live tree's (see clone).
	if !slices.IsSortedFunc(records, bytes.Compare) {
		records = slices.Clone(records)
		slices.SortFunc(records, bytes.Compare)
	}
	for i, r := range records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = append(b, r...)
		b = append(b, '}')
		if len(b) >= 32<<10 {
			w.b = b
			w.flush(false)
			b = w.b
		}
	}
	b = append(b, ']')
	w.b = b
	slices.SortFunc(children, func(x, y *node) int {
		return cmp.Or(cmp.Compare(x.start, y.start), cmp.Compare(x.id, y.id))
	})
	for k := KindIteration; k < nKinds; k++ {
		w.children(n, k, children)
	}
	w.b = append(w.b, '}')
	w.flush(false)
}

// children appends the array of n's children of kind k: always for the
// kinds n usually holds, otherwise only when there are some.
func (w *treeWriter) children(n *node, k Kind, children []*node) {
	usual := k == KindIteration && n.kind == KindWorkflow ||
		k == KindInteraction && n.kind != KindAction ||
		k == KindAction
	i := slices.IndexFunc(children, func(c *node) bool { return c.kind == k })
	if i < 0 && !usual {
		return
	}
	w.b = append(w.b, `,"`...)
	w.b = append(w.b, k.String()...)
	w.b = append(w.b, `s":[`...)
	first := true
	for _, c := range children {
		if c.kind != k {
			continue
		}
		if !first {
			w.b = append(w.b, ',')
		}
		first = false
		w.node(c, nil)
	}
	w.b = append(w.b, ']')
}

func appendUsage(b []byte, u usage) []byte {
	b = append(b, `{"llm_calls":`...)
	b = strconv.AppendInt(b, u.calls, 10)
	b = append(b, `,"input_tokens":`...)
	b = strconv.AppendInt(b, u.in, 10)
	b = append(b, `,"cached_input_tokens":`...)
	b = strconv.AppendInt(b, u.cached, 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, u.out, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, u.in+u.out, 10)
	b = append(b, `,"cost_usd":`...)
	b = strconv.AppendFloat(b, u.cost.usd(), 'g', -1, 64)
	if u.model != "" {
		b = append(b, `,"model":`...)
		b = appendString(b, u.model)
	}
	return append(b, '}')
}

func durationMS(from, to string) float64 {
	a, err1 := time.Parse(time.RFC3339Nano, from)
	b, err2 := time.Parse(time.RFC3339Nano, to)
	if err1 != nil || err2 != nil || b.Before(a) {
		return 0
	}
	return float64(b.Sub(a)) / float64(time.Millisecond)
}

// mergeObjects returns the JSON object a with the members of b added, a
// member of b replacing a member of a with the same key.
func mergeObjects(a, b []byte) []byte {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	var later map[string]json.RawMessage
	if json.Unmarshal(b, &later) != nil {
		return a
	}
	out := []byte{'{'}
	err := decodeMembers(a, func(k string, v json.RawMessage) {
		if _, ok := later[k]; !ok {
			out = appendString(out, k)
			out = append(out, ':')
			out = append(out, v...)
			out = append(out, ',')
		}
	})
	if err != nil {
		return b
	}
	if inner := bytes.TrimSpace(b); len(inner) > 2 {
		return append(out, inner[1:]...)
	}
	out[len(out)-1] = '}' // a trailing comma, or the '{' of an empty object
	if len(out) == 1 {
		return []byte("{}")
	}
	return out
}

// decodeMembers calls f on each member of the JSON object j, in order.
func decodeMembers(j []byte, f func(k string, v json.RawMessage)) error {
	d := json.NewDecoder(bytes.NewReader(j))
	if _, err := d.Token(); err != nil {
		return err
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return err
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return err
		}
		f(k.(string), v)
	}
	return nil
}
