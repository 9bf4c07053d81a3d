package slogwf

import (
	"log/slog"
	"slices"
)

// The lines of the next handler (New's text and JSON consoles, or the
// handler given to NewHandler) carry where each record of a workflow went:
// WorkflowIDKey, and the innermost scope's ID under its kind's key, the
// keys that place a record. So a line that an aggregator holds is found by
// workflow or by scope, and placed again the same way if it is logged
// anew. Only the innermost scope: kinds nest (an interaction in an
// interaction), so one ID per kind would not say which one holds the
// record, and the tree knows the scopes above.
//
// The IDs are attributes of a handler made once per scope, as slog's
// WithAttrs preformats them, not of each record: a record keeps its five
// attributes inline, and the IDs come before the groups of WithGroup,
// at the top of the line, where a reader looks for them.

// keyed holds the scope-ID keys of some attributes, a bit 1<<kind each.
type keyed uint8

// placed is where a record went, as the next handler's lines say it.
type placed struct {
	wf    string // the workflow's ID
	id    string // the innermost scope's, the workflow's for a record in it
	kind  Kind   // of that scope
	keyed keyed  // keys that the record's line has already: not written twice
}

// keyedBy returns the scope-ID key that key is, if any.
func keyedBy(key string) keyed {
	for _, r := range reservedKeys {
		if r.key == key && r.what >= scopeID {
			return 1 << (r.what - scopeID)
		}
	}
	return 0
}

// keysOf returns the scope-ID keys that a puts where it is: its own, or,
// when it has none, those of its group, which slog writes inline.
func keysOf(a slog.Attr) keyed {
	if a.Key != "" {
		return keyedBy(a.Key)
	}
	var k keyed
	if v := a.Value.Resolve(); v.Kind() == slog.KindGroup {
		for _, b := range v.Group() {
			k |= keysOf(b)
		}
	}
	return k
}

// attrs returns the attributes of p.
func (p placed) attrs() []slog.Attr {
	var as []slog.Attr
	if p.keyed&(1<<KindWorkflow) == 0 {
		as = append(as, slog.String(WorkflowIDKey, p.wf))
	}
	if p.kind != KindWorkflow && p.keyed&(1<<p.kind) == 0 {
		as = append(as, slog.String(scopeIDKey(p.kind), p.id))
	}
	return as
}

// link is a WithGroup, or a WithAttrs after one, that made a Handler's
// next handler: what Handler.withIDs makes again.
type link struct {
	group string // "" for attrs
	attrs []slog.Attr
}

// placedNext is the next handler of h for the records placed at.
type placedNext struct {
	h    *Handler
	at   placed
	next slog.Handler
}

// placedAt returns where a record that went by rt was placed, whose own
// attributes have the scope-ID keys of m; ok is false outside a workflow.
func (h *Handler) placedAt(rt *route, m *meta) (p placed, ok bool) {
	if in := rt.in; in != nil {
		return placed{wf: in.wf.id, id: in.id, kind: in.kind, keyed: h.atTop(m.keyed)}, true
	}
	if rt.flow == nil {
		return placed{}, false
	}
	return placed{wf: rt.flow.id, id: rt.scope, kind: rt.kind, keyed: h.atTop(m.keyed)}, true
}

// atTop returns the scope-ID keys at the top of the lines of h of a record
// whose own attributes have the keys k: those of h's logger, and the
// record's unless a group of h holds them.
func (h *Handler) atTop(k keyed) keyed {
	if len(h.after) > 0 {
		return h.keyed
	}
	return h.keyed | k
}

// nextFor returns the next handler for a record placed at p, in scope in
// when this process holds it: one whose lines carry p's IDs. It builds it
// once per scope and Handler, for the two Handlers that logged in the
// scope last, and once per place for a Handler whose records name their
// scopes (their IDs vary, and are seldom many).
func (h *Handler) nextFor(in *Scope, p placed) slog.Handler {
	if in != nil && p.keyed == 0 {
		for i := range in.nexts {
			if e := in.nexts[i].Load(); e != nil && e.h == h {
				return e.next
			}
		}
		e := &placedNext{h: h, next: h.withIDs(p.attrs())}
		in.nexts[1].Store(in.nexts[0].Load())
		in.nexts[0].Store(e)
		return e.next
	}
	if e := h.placedNext.Load(); e != nil && e.at == p {
		return e.next
	}
	as := p.attrs()
	if len(as) == 0 {
		return h.next
	}
	e := &placedNext{h: h, at: p, next: h.withIDs(as)}
	h.placedNext.Store(e)
	return e.next
}

// withIDs returns h's next handler with ids at the top of its lines.
func (h *Handler) withIDs(ids []slog.Attr) slog.Handler {
	next := h.flat.WithAttrs(ids)
	for _, l := range h.after {
		if l.group != "" {
			next = next.WithGroup(l.group)
		} else {
			next = next.WithAttrs(l.attrs)
		}
	}
	return next
}

// chain records in h2, a clone of h being made with WithAttrs(attrs) or
// WithGroup(group), what withIDs must make again, and the scope-ID keys
// they put at the top of next's lines; h2.next is made.
func (h *Handler) chain(h2 *Handler, group string, attrs []slog.Attr) {
	if h.console != nil {
		return // the tint console shows the scope's path instead
	}
	if len(h.after) == 0 {
		h2.keyed |= keyedBy(group)
		for _, a := range attrs {
			h2.keyed |= keysOf(a)
		}
		if group == "" {
			h2.flat = h2.next
			return
		}
	}
	h2.after = append(slices.Clip(h.after), link{group: group, attrs: attrs})
}
