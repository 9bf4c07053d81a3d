package tree

import (
	"bytes"
	"encoding/json"

	"github.com/slogwf/slogwf/internal/jsonenc"
)

// Ended is a scope as it ended, whole: what the OpenTelemetry export makes
// a span of. The live handler takes it from its tree as the scope ends,
// `slogwf export` from the tree it rebuilds of the journals, both with
// Tree.Take, so that both send the same span. It shares its bytes with the
// tree: read only.
type Ended struct {
	Workflow string
	// TraceParent is the workflow's start attribute TraceParentKey, if any:
	// the W3C traceparent of the span whose trace the workflow continues.
	TraceParent string
	Kind        Kind
	ID          string
	Parent      string // "" for the workflow
	Name        string // the workflow's or the action's name, the interaction's agent
	Number      int64  // the iteration's
	// Start and End are RFC 3339 times; a scope that never ended ends at
	// the last event of the tree, as the tree file's duration says.
	Start, End string
	Status     string // StatusCompleted, StatusFailed or StatusIncomplete
	Error      string
	StartAttrs []byte // JSON objects, or nil; see Attrs
	EndAttrs   []byte
	Input      []byte // JSON values, or nil
	Output     []byte
	Own        Usage  // of its start, its end and the records logged in it; Model, the last model named there
	Total      Usage  // of its subtree
	Counts     Counts // of its subtree
	Loss       Loss   // of the workflow, as its tree file's "loss"; zero for other scopes
	// Provider is the GenAI provider that the LLM calls of its subtree
	// agree on (see Provider): "" when it has none, when one's is
	// unknown, or when two have two.
	Provider string
	// Records are the records of an Ended made by hand, in order (the
	// members of JSON objects, without the braces). Take leaves them nil:
	// SortedRecords reads the tree's, out of the workflow's lock.
	Records  [][]byte
	records  records // the tree's, with the sequence numbers of their lines: a snapshot
	unsorted bool    // records are not in order
}

// TraceParentKey is the attribute of a workflow's start that holds the W3C
// traceparent of the span whose trace the workflow continues.
const TraceParentKey = "traceparent"

// Counts are the records of a subtree, by severity, as the tree file's
// "counts": a failed scope counts as an error.
type Counts struct {
	Records, Warnings, Semantic, Errors int64
}

// Attrs returns the start's attributes with the end's merged in, as the
// tree file shows them.
func (e *Ended) Attrs() []byte { return mergeObjects(e.StartAttrs, e.EndAttrs) }

// SortedRecords returns the records in the tree file's order: by time,
// then in the order they were logged.
func (e *Ended) SortedRecords() [][]byte {
	if e.records.chunks == nil {
		return e.Records // an Ended made by hand
	}
	if !e.unsorted {
		return e.records.bodies()
	}
	sorted := e.records.sorted()
	return sorted.bodies()
}

// Take calls f once with each scope that has ended, of the subtree of
// scope id (of the whole tree for the workflow's ID), that Take did not
// pass before; when final, with every scope, as the final tree file shows
// them: those that never ended are incomplete. A scope ends as the tree
// file says: at its own end, or incomplete at the end of a scope above it
// that ended first, while it was open. So the live handler takes each
// scope as it ends and the rest at the workflow's end, and a replay of the
// journals takes them all at once, alike.
//
// Take shows the tree as if Merge had added nothing: it passes only the
// scopes that Apply started, with what Apply added to them, and a scope
// that Merge started is one that never started, as it is before another
// process's journal is read.
func (t *Tree) Take(id string, final bool, f func(*Ended)) {
	n := t.nodes[id]
	if n == nil {
		return
	}
	w := treeWriter{t: t, final: final, take: f, own: true}
	if id == t.id {
		w.orphans = w.orphansOf()
		w.place(n)
		var above [8]string
		w.rollup(n, above[:0])
		return
	}
	// The subtree of n as the tree file places it once the parents of n
	// have all started, as UsageOf sums it: a walk of the subtree, not of
	// the tree.
	w.kids = map[*node][]*node{}
	var seen map[*node]bool
	if n.depth == 0 {
		seen = map[*node]bool{n: true} // its parents may loop, in a damaged journal
	}
	w.placeBelow(n, jsonenc.MaxDepth-(max(n.depth, 1)-1)%jsonenc.MaxDepth, seen)
	var above [8]string // so that trees up to 8 deep allocate nothing for it
	w.rollup(n, t.endsAbove(above[:0], n, true))
}

// placeBelow places the scopes below n, levels deep with n, each once if
// seen is not nil.
func (w *treeWriter) placeBelow(n *node, levels int, seen map[*node]bool) {
	if levels <= 1 {
		return
	}
	for _, c := range n.children {
		if !c.own() || seen[c] {
			continue
		}
		if seen != nil {
			seen[c] = true
		}
		w.kids[n] = append(w.kids[n], c)
		w.placeBelow(c, levels-1, seen)
	}
}

// taken passes n to w.take, as it ended (s), if it did and was not taken.
func (w *treeWriter) taken(n *node, s rolled) {
	if !n.own() || n.taken || s.status == StatusRunning {
		return
	}
	n.taken = true
	own := n.usage
	own.add(n.endUsage)
	e := &Ended{
		Workflow: w.t.id, TraceParent: w.t.traceParent(), Kind: n.kind, ID: n.id, Name: n.name, Number: n.number,
		Start: n.start, End: s.end, Status: s.status, Error: n.err,
		StartAttrs: n.attrs, EndAttrs: n.endAttrs, Input: n.input, Output: n.output,
		Own: own.usage(), Total: s.u.usage(), Counts: Counts{s.c.records, s.c.warnings, s.c.semantic, s.c.errors},
	}
	// A snapshot of the records, shared with the tree: Take runs under
	// the workflow's lock, and copies none of them there.
	e.records, e.unsorted = w.recordsOf(n)
	e.Own.Model = n.model
	if s.provider != notOne {
		e.Provider = s.provider
	}
	if !s.ended {
		e.End = string(w.t.last)
	}
	if n.id != w.t.id {
		e.Parent = w.parentOf(n)
	} else {
		e.Loss = w.t.loss
	}
	w.take(e)
}

// parentOf returns the parent of n as the tree file places it: the
// workflow for a scope of a loop of parents (only a damaged journal says
// so) or at the cut every jsonenc.MaxDepth levels, else its own. A parent
// that never started here it keeps: another process's journal may hold it.
func (w *treeWriter) parentOf(n *node) string {
	if p := w.t.nodes[n.parent]; p == nil || !p.own() {
		return n.parent
	}
	if under := w.under[n]; under != nil { // the whole tree, as place hangs it
		return under.id
	}
	depth, loop := n.depth, false
	if depth == 0 {
		depth, loop = w.t.placedDepth(n)
	}
	if loop || depth > 1 && (depth-1)%jsonenc.MaxDepth == 0 {
		return w.t.id
	}
	return n.parent
}

// placedDepth returns how many scopes below the workflow, below a scope
// that never started, or below a loop of parents n starts (a loop's
// scopes hang under the workflow: see treeWriter.place), and whether n is
// on a loop. It walks the parents of n: for a scope whose depth is not
// known.
func (t *Tree) placedDepth(n *node) (depth int, loop bool) {
	at := map[*node]int{}
	m := n
	for i := 0; ; i++ {
		if m.id == t.id || !m.own() {
			return i, false
		}
		if j, ok := at[m]; ok {
			return j + 1, j == 0
		}
		at[m] = i
		m = t.nodes[m.parent]
	}
}

// traceParent returns the workflow's start attribute TraceParentKey, if
// it is a string.
func (t *Tree) traceParent() string {
	attrs := t.nodes[t.id].attrs
	if !bytes.Contains(attrs, []byte(`"`+TraceParentKey+`"`)) {
		return ""
	}
	var tp string
	_ = DecodeMembers(attrs, func(k string, v json.RawMessage) {
		if k == TraceParentKey {
			_ = json.Unmarshal(v, &tp)
		}
	})
	return tp
}
