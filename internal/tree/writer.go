package tree

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/slogwf/slogwf/internal/buffer"
	"github.com/slogwf/slogwf/internal/jsonenc"
)

// AppendJSON appends the tree as a tree file. A final tree shows scopes
// that never ended as incomplete; a live one shows them running.
func (t *Tree) AppendJSON(b []byte, final bool) []byte {
	b = slices.Grow(b, t.Size())
	w := treeWriter{t: t, final: final, b: b}
	w.tree()
	return w.b
}

// Size returns about how many bytes the tree file takes, a little more
// rather than less.
func (t *Tree) Size() int { return t.kept + t.kept/16 + 1024*len(t.nodes) }

// WriteJSON writes the tree as AppendJSON appends it, a part at a time.
func (t *Tree) WriteJSON(out io.Writer, final bool) error {
	buf := buffer.New()
	defer buf.Free()
	w := treeWriter{t: t, final: final, b: *buf, out: out}
	w.tree()
	w.flush(true)
	*buf = w.b
	return w.err
}

func (w *treeWriter) tree() {
	t := w.t
	root := t.nodes[t.id]
	w.rolled = make(map[*node]rolled, len(t.nodes))
	w.orphans = w.orphansOf()
	w.place(root)
	var above [8]string // so that trees up to 8 deep allocate nothing for it
	w.rollup(root, above[:0])
	w.node(root, root.number)
}

// orphansOf returns what the workflow takes in from scopes never started,
// or nil: their records and children have no place of their own, and go
// to the workflow, so that nothing is lost.
func (w *treeWriter) orphansOf() *node {
	t := w.t
	if t.unstarted == 0 && (!w.own || t.merged == 0) {
		return nil
	}
	root := t.nodes[t.id]
	orphans := &node{}
	var chunks [][]entry
	for _, n := range t.nodes {
		if w.started(n) || n == root {
			continue
		}
		p := w.partOf(n)
		chunks = p.records.appendChunks(chunks)
		orphans.counts.add(p.counts)
		orphans.usage.addSum(p.usage)
		orphans.children = append(orphans.children, n.children...)
	}
	orphans.records = chunked(chunks)
	return orphans
}

// started reports whether n started, as w shows the tree.
func (w *treeWriter) started(n *node) bool {
	if w.own {
		return n.own()
	}
	return n.started
}

// partOf returns what the events of n added to it, as w shows the tree:
// all of them in the tree file, those of Apply for Take.
func (w *treeWriter) partOf(n *node) part {
	if w.own || n.others == nil {
		return n.part
	}
	p := n.part
	p.records = n.records.concat(n.others.records)
	p.unsorted = true // the others' records come after Apply's, whatever their times
	p.usage.addSum(n.others.usage)
	p.counts.add(n.others.counts)
	return p
}

// recordsOf returns the records of n as w shows them, and whether they
// may be out of order: the workflow's include the orphans'.
func (w *treeWriter) recordsOf(n *node) (records, bool) {
	p := w.partOf(n)
	if n.id == w.t.id && w.orphans != nil {
		return p.records.concat(w.orphans.records), true
	}
	return p.records, p.unsorted
}

type treeWriter struct {
	t       *Tree
	final   bool
	b       []byte
	own     bool              // for Take: what Apply added alone (see Tree.Merge)
	orphans *node             // what the workflow takes in from scopes never started
	kids    map[*node][]*node // the children of each node in the tree file
	under   map[*node]*node   // for Take of the whole tree: where each node hangs
	rolled  map[*node]rolled
	take    func(*Ended) // for Take: rollup passes it the scopes that ended, instead of keeping rolled
	out     io.Writer    // if any, b goes there a part at a time
	err     error        // of out
}

// place decides where each scope that started hangs in the tree file:
// under its parent; but under the workflow when its parent never started,
// when it is more than jsonenc.MaxDepth scopes below the workflow (which
// keeps the file readable and every walk of it short), and when its
// parents lead back to it (only a damaged journal says so). It decides
// from the final links, iteratively, so that neither the order of the
// events nor the depth of the scopes changes the outcome.
func (w *treeWriter) place(root *node) {
	w.kids = map[*node][]*node{}
	depth := map[*node]int{root: 0}
	var todo []*node // placed, their children not yet
	if w.take != nil {
		w.under = map[*node]*node{}
	}
	hang := func(c, under *node) {
		w.kids[under] = append(w.kids[under], c)
		if w.under != nil {
			w.under[c] = under
		}
		depth[c] = depth[under] + 1
		todo = append(todo, c)
	}
	spread := func() {
		for len(todo) > 0 {
			n := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			children := n.children
			if n == root && w.orphans != nil {
				children = slices.Concat(children, w.orphans.children)
			}
			for _, c := range children {
				switch _, placed := depth[c]; {
				case placed || !w.started(c):
				case depth[n] >= jsonenc.MaxDepth:
					hang(c, root)
				default:
					hang(c, n)
				}
			}
		}
	}
	todo = append(todo, root)
	spread()
	started := len(w.t.nodes) - w.t.unstarted
	if w.own {
		started -= w.t.merged
	}
	if !w.started(root) {
		started++ // placed all the same
	}
	if len(depth) == started {
		return
	}
	// The scopes left have parents that loop: each scope of a loop hangs
	// under the workflow, and what hangs below the loop follows.
	const walking, walked = 1, 2
	state := map[*node]int{}
	for _, n := range w.t.nodes {
		if _, placed := depth[n]; placed || !w.started(n) || state[n] != 0 {
			continue
		}
		var path []*node
		for m := n; state[m] == 0; m = w.t.nodes[m.parent] {
			state[m] = walking
			path = append(path, m)
			if next := w.t.nodes[m.parent]; state[next] == walking {
				for _, c := range path[slices.Index(path, next):] {
					hang(c, root)
				}
			}
		}
		for _, m := range path {
			state[m] = walked
		}
	}
	spread()
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
	u           sum
	c           counts
	provider    string // of the calls of the subtree, for Take; see agree
}

// rollup computes how n and the nodes of its subtree ended, and their
// rolled-up usage and counts. A scope ends when it says so, unless a scope
// above it ended first while it was open: then it ended there, incomplete.
// above holds the ends of the scopes above n that ended, as their end
// lines say. Its recursion is as deep as the tree, which place bounds.
func (w *treeWriter) rollup(n *node, above []string) rolled {
	p := w.partOf(n)
	s := rolled{status: StatusRunning, u: p.usage, c: p.counts}
	switch closeAt := closer(above, n.start); {
	case n.ended && (closeAt == "" || n.end <= closeAt):
		// An end line timed before its start (a clock set back) ends it
		// as it starts.
		s.ended, s.end, s.status = true, max(n.end, n.start), n.status
	case closeAt != "":
		s.ended, s.end, s.status = true, closeAt, StatusIncomplete
	case w.final:
		s.status = StatusIncomplete
	}
	if n.ended && len(w.kids[n]) > 0 {
		above = append(above, n.end)
	}
	s.u.add(n.endUsage)
	if s.status == StatusFailed {
		s.c.errors++
	}
	if n.id == w.t.id && w.orphans != nil {
		s.u.addSum(w.orphans.usage)
		s.c.add(w.orphans.counts)
	}
	if w.take != nil {
		s.provider = n.ownProvider()
	}
	for _, c := range w.kids[n] {
		cs := w.rollup(c, above)
		s.u.addSum(cs.u)
		s.c.add(cs.c)
		s.provider = agree(s.provider, cs.provider)
	}
	if w.take != nil {
		w.taken(n, s)
	} else {
		w.rolled[n] = s
	}
	return s
}

// node appends n, whose number, if it is an iteration, is its place among
// the iterations of its parent in the tree file (see children).
func (w *treeWriter) node(n *node, number int64) {
	if w.err != nil {
		return // out failed, as a snapshot's that gives way to the final tree: nothing more goes out
	}
	b := append(w.b, '{')
	if n.id == w.t.id {
		b = append(b, `"schema":"`+Schema+`",`...)
	}
	b = append(b, `"kind":"`...)
	b = append(b, n.kind.String()...)
	b = append(b, `","id":`...)
	b = jsonenc.AppendString(b, n.id)
	switch n.kind {
	case Iteration:
		b = append(b, `,"number":`...)
		b = strconv.AppendInt(b, number, 10)
	case Interaction:
		b = append(b, `,"agent":`...)
		b = jsonenc.AppendString(b, n.name)
	default:
		b = append(b, `,"name":`...)
		b = jsonenc.AppendString(b, n.name)
	}
	s := w.rolled[n]
	b = append(b, `,"status":`...)
	b = jsonenc.AppendString(b, s.status)
	if n.start != "" {
		b = append(b, `,"start":`...)
		b = jsonenc.AppendString(b, n.start)
		last := string(w.t.last)
		if s.ended {
			b = append(b, `,"end":`...)
			b = jsonenc.AppendString(b, s.end)
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
		b = jsonenc.AppendString(b, n.err)
	}
	b = append(b, `,"usage":`...)
	b = AppendUsage(b, s.u.usage())
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
		b = AppendLoss(b, w.t.loss)
	}
	b = append(b, `,"records":[`...)
	records, unsorted := w.recordsOf(n)
	if unsorted {
		records = records.sorted()
	}
	first := true
	for k := range records.chunks {
		for _, e := range records.chunk(k) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '{')
			b = append(b, e.body...)
			b = append(b, '}')
			if len(b) >= 32<<10 {
				w.b = b
				if w.flush(false); w.err != nil {
					return
				}
				b = w.b
			}
		}
	}
	w.b = append(b, ']')
	children := w.kids[n]
	slices.SortFunc(children, func(x, y *node) int {
		return cmp.Or(cmp.Compare(x.start, y.start), cmp.Compare(x.number, y.number), cmp.Compare(x.id, y.id))
	})
	for k := Iteration; k < NKinds; k++ {
		w.children(n, k, children)
	}
	w.b = append(w.b, '}')
	w.flush(false)
}

// children appends the array of n's children of kind k, in order: always
// for the kinds n usually holds, otherwise only when there are some.
// Iterations are numbered 1, 2, … in that order, of their starts: a child
// process numbers its own from 1 in its journal, under the scope its
// parent passed it, so that two of one node could share a number. A
// process numbers its own in the order they start (see slogwf's
// StartIteration), and ties are broken by those numbers: the tree of one
// process shows them as its journal has them.
func (w *treeWriter) children(n *node, k Kind, children []*node) {
	usual := k == Iteration && n.kind == Workflow ||
		k == Interaction && n.kind != Action ||
		k == Action
	i := slices.IndexFunc(children, func(c *node) bool { return c.kind == k })
	if i < 0 && !usual {
		return
	}
	w.b = append(w.b, `,"`...)
	w.b = append(w.b, k.String()...)
	w.b = append(w.b, `s":[`...)
	number := int64(0)
	for _, c := range children {
		if c.kind != k {
			continue
		}
		if number > 0 {
			w.b = append(w.b, ',')
		}
		number++
		w.node(c, number)
	}
	w.b = append(w.b, ']')
}

// compareRecords orders two records, x of the line numbered xs and y of
// ys, as the tree file does: by time, by sequence number, by bytes.
func compareRecords(x []byte, xs uint64, y []byte, ys uint64) int {
	return cmp.Or(bytes.Compare(recordTime(x), recordTime(y)), cmp.Compare(xs, ys), bytes.Compare(x, y))
}

// AppendUsage appends u as a JSON object, as the tree and the journal
// hold it.
func AppendUsage(b []byte, u Usage) []byte {
	b = append(b, `{"llm_calls":`...)
	b = strconv.AppendInt(b, u.Calls, 10)
	b = append(b, `,"input_tokens":`...)
	b = strconv.AppendInt(b, u.In, 10)
	b = append(b, `,"cached_input_tokens":`...)
	b = strconv.AppendInt(b, u.Cached, 10)
	b = append(b, `,"cache_write_input_tokens":`...)
	b = strconv.AppendInt(b, u.CacheWrite, 10)
	b = append(b, `,"output_tokens":`...)
	b = strconv.AppendInt(b, u.Out, 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, u.Total(), 10)
	b = append(b, `,"cost_usd":`...)
	b = strconv.AppendFloat(b, u.Cost.USD(), 'g', -1, 64)
	if u.Model != "" {
		b = append(b, `,"model":`...)
		b = jsonenc.AppendString(b, u.Model)
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
	err := DecodeMembers(a, func(k string, v json.RawMessage) {
		if _, ok := later[k]; !ok {
			out = jsonenc.AppendString(out, k)
			out = append(out, ':')
			out = append(out, v...)
			out = append(out, ',')
		}
	})
	if err != nil {
		return b
	}
	if len(later) > 0 {
		return append(out, bytes.TrimSpace(b)[1:]...)
	}
	if len(out) == 1 {
		return []byte("{}")
	}
	out[len(out)-1] = '}' // the trailing comma
	return out
}

// DecodeMembers calls f on each member of the JSON object j, in order. A
// value that is not an object has none: it returns an error.
func DecodeMembers(j []byte, f func(k string, v json.RawMessage)) error {
	d := json.NewDecoder(bytes.NewReader(j))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return cmp.Or(err, errors.New("not a JSON object"))
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
