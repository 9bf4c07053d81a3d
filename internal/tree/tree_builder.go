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
	slab      []byte // record bodies are copied into it, to keep few blocks
	spare     []byte // the next slab, if its caller gave one (see Spare)
	scratch   []byte // the body of a decoded record, before it is kept
	kept      int    // bytes of the bodies kept
	unstarted int    // nodes referenced by records or children but not started
	merged    int    // nodes started by Merge
	counting  bool   // keep the counts and usage of records, not the records
	loss      Loss   // of the whole workflow
	recent    *node  // of the last record: the next is mostly in the same scope
}

type node struct {
	kind       Kind
	id, parent string
	name       string
	number     int64
	started    bool
	merged     bool // started by Merge: by another process
	start      string
	attrs      []byte  // of the start, a JSON object
	input      []byte  // a JSON value
	part               // what Apply added
	others     *part   // what Merge added, if anything
	children   []*node // that name it their parent; see treeWriter.place
	model      string  // the last model named in its start, records and end, by Apply
	modelProv  string  // the provider those models agree on; see nameModel
	taken      bool    // passed by Take
	unnamed    bool    // its start counts a call and names no model; see ownProvider
	named      string  // the provider its start and end name, once ownProvider read it; notOne: none

	// depth is how many scopes deep below the workflow the node starts,
	// when its parents had all started before it (as they have live):
	// else 0. It makes the walks of Apply and UsageOf short.
	depth int

	// Its own end, the earliest if it has several. A scope above that
	// ends first, while it is open, ends it as incomplete: see
	// treeWriter.rollup.
	ended            bool
	end, status, err string
	endAttrs, output []byte
	endUsage         Usage
}

// part is what the events of one process, or of the others, added to a
// node.
type part struct {
	records  records
	unsorted bool   // records are not in the tree file's order (see compareRecords)
	usage    sum    // of its start and records
	counts   counts // of its records
}

// from returns the part of n that an event of Apply, or of Merge when
// merged, adds to.
func (n *node) from(merged bool) *part {
	if !merged {
		return &n.part
	}
	if n.others == nil {
		n.others = &part{}
	}
	return n.others
}

// own reports whether n was started by Apply.
func (n *node) own() bool { return n.started && !n.merged }

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
// changed nothing: a scope started or ended again. It bounds the usage
// and the loss of e first, which anyone may have written (see
// Usage.Clamp), and counts what it changed as clamped.
func (t *Tree) Apply(e *Event) bool { return t.apply(e, false) }

// Merge adds one event of another process's journal, as Apply does: the
// tree file shows it alike. But Take passes none of it: the scopes that
// Merge started are the other process's to send, and what Merge added to
// the scopes that Apply started is not in their totals, counts and
// records, so that what Take passes does not depend on when the other
// journals were read.
func (t *Tree) Merge(e *Event) bool { return t.apply(e, true) }

func (t *Tree) apply(e *Event, merged bool) bool {
	if e.Loss != (Loss{}) || e.Usage != (Usage{}) { // most records have neither
		e.Loss.Clamped = addCount(e.Loss.Clamped, e.Loss.Clamp()+e.Usage.Clamp())
		t.loss.Add(e.Loss)
	}
	switch e.Type {
	case Start:
		t.seen([]byte(e.Time))
		return t.start(e, merged)
	case End:
		t.seen([]byte(e.Time))
		return t.end(e, merged)
	}
	if e.Body != nil {
		t.seen(recordTime(e.Body))
	} else {
		t.seen([]byte(e.Time))
	}
	t.record(e, merged)
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

// UsageOf returns the usage of the subtree of the node id, as the tree
// file shows it once the parents of the node have all started.
func (t *Tree) UsageOf(id string) Usage {
	n := t.nodes[id]
	if n == nil {
		return Usage{}
	}
	var s sum
	if id == t.id {
		// All but the ends of scopes never started, which have no place.
		for _, c := range t.nodes {
			c.addUsage(&s)
			if c.started || c == n {
				s.add(c.endUsage)
			}
		}
		return s.usage()
	}
	// Its subtree in the tree file: the scopes below it down to where the
	// tree cuts (see treeWriter.place).
	var seen map[*node]bool
	if n.depth == 0 {
		seen = map[*node]bool{} // its parents may loop, in a damaged journal
	}
	addSubtree(&s, n, jsonenc.MaxDepth-(max(n.depth, 1)-1)%jsonenc.MaxDepth, seen)
	return s.usage()
}

// addSubtree adds to s the usage of n and of the scopes below it, levels
// deep in all, each once if seen is not nil.
func addSubtree(s *sum, n *node, levels int, seen map[*node]bool) {
	if seen != nil {
		if seen[n] {
			return
		}
		seen[n] = true
	}
	n.addUsage(s)
	s.add(n.endUsage)
	if levels > 1 {
		for _, c := range n.children {
			addSubtree(s, c, levels-1, seen)
		}
	}
}

// addUsage adds to s the usage of the start and records of n.
func (n *node) addUsage(s *sum) {
	s.addSum(n.usage)
	if n.others != nil {
		s.addSum(n.others.usage)
	}
}

func (t *Tree) start(e *Event, merged bool) bool {
	n := t.node(e.ID)
	if n.started {
		return false
	}
	n.started, n.merged = true, merged
	t.unstarted--
	if merged {
		t.merged++
	}
	n.kind = e.ScopeKind()
	n.name, n.number, n.start = e.Name, e.Number, e.Time
	if n.kind == Interaction {
		n.name = e.Agent
	}
	var cut bool
	if n.name, cut = CutName(n.name); cut {
		t.loss.Truncated = addCount(t.loss.Truncated, 1) // a journal written elsewhere
	}
	n.attrs, n.input, n.named = e.Attrs, e.Input, ""
	n.from(merged).usage.add(e.Usage)
	if !merged {
		n.nameModel(e.Usage.Model)
		n.unnamed = e.Usage.Calls > 0 && e.Usage.Model == ""
	}
	if e.ID == t.id {
		return true
	}
	// Where a scope hangs in the tree file, the writer decides from the
	// final links (see treeWriter.place), so that it does not depend on
	// the order of the events.
	n.parent = e.Parent
	if n.parent == "" || n.parent == n.id {
		n.parent = t.id
	}
	p := t.node(n.parent)
	p.children = append(p.children, n)
	// The depth of a scope Apply started below one Merge started stays
	// unknown, as if the other process's journal had not been read yet.
	switch {
	case p.id == t.id:
		n.depth = 1
	case p.started && p.depth > 0 && (merged || !p.merged):
		n.depth = p.depth + 1
	}
	return true
}

func (t *Tree) end(e *Event, merged bool) bool {
	n := t.node(e.ID)
	if n.ended && (n.end < e.Time || n.end == e.Time && n.status+"\x00"+n.err <= e.Status+"\x00"+e.Error) {
		return false // the earliest end stands; between two at once, the same one whatever their order
	}
	n.ended, n.end, n.status, n.err = true, e.Time, e.Status, e.Error
	n.endAttrs, n.output, n.endUsage, n.named = e.Attrs, e.Output, e.Usage, ""
	if !merged {
		n.nameModel(e.Usage.Model)
	}
	var buf [8]string
	at := closer(t.endsAbove(buf[:0], n, false), n.start)
	return at == "" || at >= e.Time // else a scope above n ended it first
}

// endsAbove appends to ends the ends of the scopes above n in the tree
// file that ended, as their end lines say. Above n are its parents that
// started (that Apply started, when own: see Take), up to where the tree
// cuts their chain (see treeWriter.place), and the workflow, above all.
func (t *Tree) endsAbove(ends []string, n *node, own bool) []string {
	root := t.nodes[t.id]
	if n == root {
		return ends
	}
	steps := jsonenc.MaxDepth
	if n.depth > 0 {
		steps = (n.depth - 1) % jsonenc.MaxDepth
	}
	p := t.nodes[n.parent]
	for ; steps > 0 && p != nil && p.started && !(own && p.merged) && p != root; steps-- {
		if p.ended {
			ends = append(ends, p.end)
		}
		p = t.nodes[p.parent]
	}
	if root.ended {
		ends = append(ends, root.end)
	}
	return ends
}

// closer returns the end that closes a scope starting at start, of above,
// the ends of the scopes above it: the earliest at or after start, or "".
// An end before the scope started leaves it be: a child process may start
// scopes under the scope its parent passed it after the parent ended it.
func closer(above []string, start string) string {
	at := ""
	for _, end := range above {
		if end >= start && (at == "" || end < at) {
			at = end
		}
	}
	return at
}

func (t *Tree) record(e *Event, merged bool) {
	n := t.recent
	if n == nil || n.id != e.Scope {
		n = t.node(e.Scope)
		t.recent = n
	}
	p := n.from(merged)
	if !t.counting {
		body := e.Body
		if body == nil {
			t.scratch = AppendBody(t.scratch[:0], e)
			body = t.scratch
		}
		kept := t.keep(body)
		// Told as they come, while the last is at hand, so that the tree
		// file need not look at them all again.
		if last, ok := p.records.last(); ok && compareRecords(last.body, last.seq, kept, e.Seq) > 0 {
			p.unsorted = true
		}
		p.records.add(entry{kept, e.Seq})
	}
	p.counts.records++
	switch {
	case e.Level >= slog.LevelError:
		p.counts.errors++
	case e.Level >= slog.LevelWarn:
		p.counts.warnings++
	}
	if e.Semantic {
		p.counts.semantic++
	}
	p.usage.add(e.Usage)
	if !merged {
		n.nameModel(e.Usage.Model)
		if e.Usage.Calls > 0 && e.Usage.Model == "" {
			n.modelProv = notOne // a call of a model unknown
		}
	}
}

// keep copies b into the slab. Slabs grow with the tree, from a small
// one, so that a small tree stays small and a large one is a few blocks.
func (t *Tree) keep(b []byte) []byte {
	if len(b) > cap(t.slab)-len(t.slab) {
		if len(b) <= cap(t.spare) {
			t.slab, t.spare = t.spare, nil
		} else {
			t.slab = make([]byte, 0, max(t.nextSlab(), len(b)))
		}
	}
	n := len(t.slab)
	t.slab = append(t.slab, b...)
	t.kept += len(b)
	return t.slab[n:len(t.slab):len(t.slab)]
}

// nextSlab returns the size of the slab after the one being filled.
func (t *Tree) nextSlab() int { return max(min(2*cap(t.slab), 64<<10), 512) }

// SpareWanted returns the size of a slab for Spare, when the slab being
// filled is three quarters full and t has no spare; else 0.
func (t *Tree) SpareWanted() int {
	if t.spare != nil || t.counting || 4*len(t.slab) < 3*cap(t.slab) {
		return 0
	}
	return t.nextSlab()
}

// Spare gives t slab, a NewSlab of the size SpareWanted returned, for the
// bodies of the records it keeps next. Its caller makes it with no lock
// held: the first faults of a new slab's pages, taken in keep, would make
// the goroutines waiting for the lock that t is used under wait longer.
func (t *Tree) Spare(slab []byte) {
	if t.spare == nil {
		t.spare = slab[:0]
	}
}

// NewSlab returns an empty slab of size bytes for Spare, its pages
// touched.
func NewSlab(size int) []byte {
	b := make([]byte, size)
	for i := 0; i < size; i += 4096 {
		b[i] = 0
	}
	return b[:0]
}

// Clone returns a copy of t that a snapshot writes while t goes on. They
// share the bytes of records, which never change, and the chunks of
// records, to which t only appends.
func (t *Tree) Clone() *Tree {
	c := *t
	c.recent = nil // of t
	c.spare = nil  // of t: a clone keeps no records
	c.last = slices.Clone(t.last)
	c.nodes = make(map[string]*node, len(t.nodes))
	for id, n := range t.nodes {
		cn := *n // its records, a snapshot of n's
		if n.others != nil {
			others := *n.others
			cn.others = &others
		}
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

// Ended reports whether scope id has ended.
func (t *Tree) Ended(id string) bool {
	n := t.nodes[id]
	return n != nil && n.ended
}

// Name returns the name of the workflow, and whether its start said it.
func (t *Tree) Name() (string, bool) {
	n := t.nodes[t.id]
	return n.name, n.started
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

// Lose adds l to the loss of the tree.
func (t *Tree) Lose(l Loss) { t.loss.Add(l) }
