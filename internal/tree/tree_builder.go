package tree

import (
	"bytes"
	"log/slog"
	"slices"

	"github.com/slogwf/slogwf/internal/jsonenc"
)

// Tree builds the tree of one workflow from its events. The live handler
// and a replay of journals feed it the same events, so they build the same
// tree; and the tree it writes does not depend on the order the events
// came in, so journals of several processes merge in any order.
type Tree struct {
	id        string
	nodes     map[string]*node
	last      []byte // time of the latest event
	slab      []byte // record bodies are copied into it, to keep few large blocks
	scratch   []byte // the body of a decoded record, before it is kept
	kept      int    // bytes of the bodies kept
	unstarted int    // nodes referenced by records or children but not started
	counting  bool   // keep the counts and usage of records, not the records
	loss      Loss   // of the whole workflow
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
	usage      Usage  // of its start and records
	counts     counts // of its records

	// Its own end, the earliest if it has several. A parent that ends
	// first ends it as incomplete: see treeWriter.rollup.
	ended            bool
	end, status, err string
	endAttrs, output []byte
	endUsage         Usage
}

// NewTree returns the tree of workflow id, with no events yet.
func NewTree(id string) *Tree {
	t := &Tree{id: id, nodes: map[string]*node{}}
	t.node(id).kind = Workflow
	return t
}

// node returns the node of id, creating it unstarted if it is new.
func (t *Tree) node(id string) *node {
	n := t.nodes[id]
	if n == nil {
		n = &node{id: id}
		t.nodes[id] = n
		t.unstarted++
	}
	return n
}

// Apply adds one event to the tree. It reports false when the event
// changed nothing: a scope started or ended again.
func (t *Tree) Apply(e *Event) bool {
	t.loss.Add(e.Loss)
	switch e.Type {
	case Start:
		t.seen([]byte(e.Time))
		return t.start(e)
	case End:
		t.seen([]byte(e.Time))
		return t.end(e)
	}
	if e.Body != nil {
		t.seen(recordTime(e.Body))
	} else {
		t.seen([]byte(e.Time))
	}
	t.record(e)
	return true
}

func (t *Tree) seen(time []byte) {
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

// UsageOf returns the usage of the subtree of the node id.
func (t *Tree) UsageOf(id string) Usage {
	var sum func(n *node) Usage
	sum = func(n *node) Usage {
		u := n.usage
		u.Add(n.endUsage)
		for _, c := range n.children {
			u.Add(sum(c))
		}
		return u
	}
	if n := t.nodes[id]; n != nil {
		return sum(n)
	}
	return Usage{}
}

func (t *Tree) start(e *Event) bool {
	n := t.node(e.ID)
	if n.started {
		return false
	}
	n.started = true
	t.unstarted--
	n.kind = e.ScopeKind()
	n.name, n.number, n.start = e.Name, e.Number, e.Time
	if n.kind == Interaction {
		n.name = e.Agent
	}
	n.attrs, n.input = e.Attrs, e.Input
	n.usage.Add(e.Usage)
	if e.ID == t.id {
		return true
	}
	// A scope without a parent, or whose parent would close a loop (only a
	// damaged journal says so), hangs under the workflow; so does one more
	// than jsonenc.MaxDepth scopes deep, which keeps every walk up the tree short.
	n.parent = e.Parent
	depth := 0
	for p := t.nodes[n.parent]; p != nil; p = t.nodes[p.parent] {
		if depth++; p == n || depth > jsonenc.MaxDepth {
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

func (t *Tree) end(e *Event) bool {
	n := t.node(e.ID)
	if n.ended && (n.end < e.Time || n.end == e.Time && n.status+"\x00"+n.err <= e.Status+"\x00"+e.Error) {
		return false // the earliest end stands; between two at once, the same one whatever their order
	}
	n.ended, n.end, n.status, n.err = true, e.Time, e.Status, e.Error
	n.endAttrs, n.output, n.endUsage = e.Attrs, e.Output, e.Usage
	return !t.closedBefore(n, e.Time)
}

// closedBefore reports whether a scope above n ended before time at, and
// so ended n first.
func (t *Tree) closedBefore(n *node, at string) bool {
	for p := t.nodes[n.parent]; p != nil; p = t.nodes[p.parent] {
		if p.ended && p.end < at {
			return true
		}
	}
	return false
}

func (t *Tree) record(e *Event) {
	n := t.node(e.Scope)
	if !t.counting {
		body := e.Body
		if body == nil {
			t.scratch = AppendBody(t.scratch[:0], e)
			body = t.scratch
		}
		n.records = append(n.records, t.keep(body))
	}
	n.counts.records++
	switch {
	case e.Level >= slog.LevelError:
		n.counts.errors++
	case e.Level >= slog.LevelWarn:
		n.counts.warnings++
	}
	if e.Semantic {
		n.counts.semantic++
	}
	n.usage.Add(e.Usage)
}

// keep copies b into the slab.
func (t *Tree) keep(b []byte) []byte {
	if len(b) > cap(t.slab)-len(t.slab) {
		t.slab = make([]byte, 0, max(64<<10, len(b)))
	}
	n := len(t.slab)
	t.slab = append(t.slab, b...)
	t.kept += len(b)
	return t.slab[n:len(t.slab):len(t.slab)]
}

// Clone returns a copy of t that a snapshot writes while t goes on. They
// share the bytes of records, which never change, and the arrays of
// records, to which t only appends.
func (t *Tree) Clone() *Tree {
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

// Started reports whether scope id has started.
func (t *Tree) Started(id string) bool {
	n := t.nodes[id]
	return n != nil && n.started
}

// Open returns the IDs of the scopes that started and did not end, in no
// order.
func (t *Tree) Open() []string {
	var open []string
	for id, n := range t.nodes {
		if n.started && !n.ended {
			open = append(open, id)
		}
	}
	return open
}

// Drop counts n events lost to the tree: journal lines that could not be
// read.
func (t *Tree) Drop(n int64) { t.loss.Dropped += n }
